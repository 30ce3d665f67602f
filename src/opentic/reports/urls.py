from django.urls import path

from opentic.reports import views

app_name = "reports"
urlpatterns = [
    path("samples/<int:sample_pk>/approve/", views.approve, name="approve"),
    path("samples/<int:sample_pk>/preview/", views.preview, name="preview"),
    path("samples/<int:sample_pk>/preview.pdf", views.preview_file, name="preview-pdf"),
    path("<int:pk>.pdf", views.pdf, name="pdf"),
    path("<int:pk>.json", views.twin, name="twin"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("batches/", views.start, name="start"),
    path("batches/<int:pk>/", views.batch, name="batch"),
    path("seal/", views.seal_page, name="seal"),
    path("signature/", views.signature_page, name="signature"),
]
