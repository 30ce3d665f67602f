from django.urls import path

from opentic.reports import views

app_name = "reports"
urlpatterns = [
    path("samples/<int:sample_pk>/approve/", views.approve, name="approve"),
    path("<int:pk>.pdf", views.pdf, name="pdf"),
    path("<int:pk>.json", views.twin, name="twin"),
    path("batches/", views.start, name="start"),
    path("batches/<int:pk>/", views.batch, name="batch"),
    path("seal/", views.seal_page, name="seal"),
]
