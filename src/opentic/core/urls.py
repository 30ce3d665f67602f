from django.contrib.auth import views as auth_views
from django.urls import path

from opentic.core import job_views, views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("jobs/<int:pk>/", job_views.job_page, name="job"),
    path("jobs/<int:pk>/download", job_views.job_download, name="job-download"),
]
