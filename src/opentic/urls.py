from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path

from opentic.api import api, docs_page, not_found, schema_document
from opentic.ledger.urls import log_urlpatterns

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", not_found),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include((log_urlpatterns, "log"))),
]
urlpatterns += i18n_patterns(
    # The API's docs in the page's language (/api/… itself is answered by the API above, in Chinese).
    path("api/docs", docs_page, name="api_docs"),
    path("api/openapi.json", schema_document, name="api_schema"),
    path("", include("opentic.core.urls")),
    path("registry/", include("opentic.registry.urls")),
    path("lims/", include("opentic.lims.urls")),
    path("reports/", include("opentic.reports.urls")),
    path("quality/", include("opentic.quality.urls")),
    path("", include("opentic.portal.urls")),
    path("", include("opentic.ledger.urls")),
    path("admin/", admin.site.urls),
    prefix_default_language=False,
)

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
