from django.urls import path

from opentic.registry import views

app_name = "registry"
urlpatterns = [
    path("", views.institution_list, name="list"),
    path("institutions/<int:pk>/", views.institution_detail, name="detail"),
    path("institutions/<int:pk>/history/", views.institution_history, name="history"),
    path("institutions/<int:pk>/status/", views.institution_status, name="status"),
    path("institutions/<int:pk>/staff/<int:staff_pk>/account/", views.staff_account, name="staff_account"),
    path("export/<str:kind>.<str:fmt>", views.export_view, name="export"),
    path("import/", views.import_view, name="import"),
]
