"""One typed JSON API for the platform, assembled from each app's router; OpenAPI at /api/openapi.json."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from opentic.ledger.api import public_router as ledger_public_router
from opentic.ledger.api import router as ledger_router
from opentic.lims.api import router as lims_router
from opentic.portal.api import router as public_router
from opentic.quality.api import router as quality_router
from opentic.registry.api import router as registry_router

api = NinjaAPI(
    title="OpenTIC API",
    version="1",
    description="The Chongqing inspection and testing platform: register, public lab finder, report ledger.",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("/public", public_router)
api.add_router("/registry", registry_router)
api.add_router("/public", ledger_public_router)
api.add_router("/ledger", ledger_router)
api.add_router("/lims", lims_router)
api.add_router("/quality/pt", quality_router)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "没有权限"}, status=403)


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": detail}, status=422)
