from django.contrib.auth import views as auth_views
from django.urls import path

from opentic.core import account_views, job_views, views

app_name = "core"
urlpatterns = [
    path("start/", views.start, name="start"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/tokens/", account_views.tokens, name="tokens"),
    path("account/tokens/<int:pk>/revoke/", account_views.revoke, name="revoke_token"),
    path("account/password/", account_views.PasswordChange.as_view(), name="password_change"),
    path("account/password/done/", auth_views.PasswordChangeDoneView.as_view(
        template_name="core/account/password_change_done.html"), name="password_change_done"),
    path("jobs/<int:pk>/", job_views.job_page, name="job"),
    path("jobs/<int:pk>/download", job_views.job_download, name="job-download"),
]
