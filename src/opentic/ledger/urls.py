from django.urls import path, re_path

from opentic.ledger import views

app_name = "ledger"
urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("ledger/keys/", views.signing_keys, name="keys"),
    path("registry/institutions/<int:pk>/not-accepted/", views.not_accepted, name="not_accepted"),
]
# The log itself: plain paths, no language prefix, as c2sp.org/tlog-tiles clients expect.
log_urlpatterns = [
    path("ledger/key", views.key, name="key"),
    path("ledger/audit/checkpoint", views.audit_checkpoint, name="audit-checkpoint"),
    path("ledger/<int:year>/checkpoint", views.checkpoint, name="checkpoint"),
    path("ledger/<int:year>/cosign", views.cosign, name="cosign"),
    re_path(r"^ledger/(?P<year>\d{4})/tile/(?P<path>[0-9a-z./]+)$", views.tile, name="tile"),
]
