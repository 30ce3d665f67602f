from django.urls import path

from opentic.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("find/", views.find_lab, name="find"),
    path("labs/<int:pk>/", views.lab, name="lab"),
]
