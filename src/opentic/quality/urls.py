from django.urls import path

from opentic.quality import follow_ups, views

app_name = "quality"
urlpatterns = [
    path("pt/", views.home, name="pt"),
    path("pt/schemes/<int:pk>/rounds/", views.new_round, name="new_round"),
    path("pt/rounds/<int:pk>/", views.round_detail, name="round"),
    path("pt/rounds/<int:pk>/invite/", views.invite, name="invite"),
    path("pt/rounds/<int:pk>/submit/", views.submit, name="submit"),
    path("pt/rounds/<int:pk>/homogeneity/", views.homogeneity, name="homogeneity"),
    path("pt/rounds/<int:pk>/appeal/", views.appeal, name="appeal"),
    path("pt/rounds/<int:pk>/report.pdf", views.round_report, name="round_report"),
    path("pt/rounds/<int:pk>/my-report.pdf", views.participant_report, name="participant_report"),
    path("pt/rounds/<int:pk>/<slug:action>/", views.round_action, name="round_action"),
    path("pt/appeals/<int:pk>/decide/", views.decide, name="decide"),
    path("pt/follow-ups/", follow_ups.follow_ups, name="follow_ups"),
    path("pt/follow-ups/<int:pk>/close/", views.close_follow_up, name="close_follow_up"),
]
