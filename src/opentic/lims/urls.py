from django.urls import path

from opentic.lims import method_views, order_views, qc_views, views, worksheet_views

app_name = "lims"
urlpatterns = [
    path("", views.sample_list, name="list"),
    path("register/", views.register, name="register"),
    path("work/", order_views.work, name="work"),
    path("orders/", order_views.order_list, name="orders"),
    path("orders/new/", order_views.order_new, name="order_new"),
    path("orders/<int:pk>/", order_views.order, name="order"),
    path("orders/<int:pk>/samples/", order_views.register_samples, name="order_register"),
    path("samples/<int:pk>/", views.sample, name="sample"),
    path("samples/<int:pk>/receive/", views.receive, name="receive"),
    path("samples/<int:pk>/analyses/<int:analysis_pk>/result/", views.result, name="result"),
    path("samples/<int:pk>/analyses/<int:analysis_pk>/retest/", views.retest, name="retest"),
    path("samples/<int:pk>/verify/", views.verify, name="verify"),
    path("samples/<int:pk>/history/", views.history, name="history"),
    path("samples/<int:pk>/label.pdf", views.labels, name="label"),
    path("worksheets/", worksheet_views.worksheets, name="worksheets"),
    path("setup/", views.setup, name="setup"),
    path("setup/methods/<int:pk>/", method_views.method_rules, name="method_rules"),
    path("instrument-files/", views.instrument_files, name="instrument_files"),
    path("worksheets/<int:pk>/", worksheet_views.worksheet, name="worksheet"),
    path("worksheets/<int:pk>/release/", qc_views.release, name="worksheet_release"),
    path("qc/rejections/<int:pk>/corrective-action/", qc_views.corrective_action, name="corrective_action"),
    path("qc/", qc_views.charts, name="qc_charts"),
]
