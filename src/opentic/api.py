"""One typed JSON API for the platform, assembled from each app's router; OpenAPI at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext
from ninja import NinjaAPI
from ninja.errors import ValidationError as RequestInvalid
from ninja.openapi.docs import Swagger
from ninja.openapi.schema import OpenAPISchema
from ninja.responses import Response

from opentic.core.api_schemas import ErrorOut
from opentic.ledger.api import public_router as ledger_public_router
from opentic.ledger.api import router as ledger_router
from opentic.lims.api import router as lims_router
from opentic.lims.order_api import router as lims_order_router
from opentic.portal.api import router as public_router
from opentic.quality.api import router as quality_router
from opentic.registry.api import router as registry_router

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


class OpenTicAPI(NinjaAPI):
    """Every operation that takes input may answer 422, one that needs a token 401, one with an id in its path
    404, each with an ErrorOut: the published document says so, so that clients (and schemathesis) can rely on
    the shape of a refusal."""

    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        _translate(schema)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ErrorOut", ErrorOut.model_json_schema())
        for methods in schema["paths"].values():
            for operation in methods.values():
                responses = operation["responses"]
                if operation.get("parameters") or operation.get("requestBody"):
                    responses.setdefault(422, _error(gettext("Unprocessable Entity")))
                if operation.get("security"):
                    responses.setdefault(401, _error(gettext("Unauthorized")))
                if any(p.get("in") == "path" for p in operation.get("parameters", [])):
                    responses.setdefault(404, _error(gettext("Not Found")))
        return schema


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def _translate(node: Any) -> None:
    """Summaries and descriptions are written in English in the code and published in the request's language
    (the zh-Hans catalogue translates them), as the pages are."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("summary", "description") and isinstance(value, str) and value:
                node[key] = gettext(value)
            else:
                _translate(value)
    elif isinstance(node, list):
        for item in node:
            _translate(item)


class LocalizedSwagger(Swagger):
    """Swagger UI pointed at the document in the page's language: /api/openapi.json in Chinese, the default,
    /en/api/openapi.json in English (URLs outside i18n_patterns always speak the default language)."""

    def get_openapi_url(self, api: NinjaAPI, path_params: dict[str, Any]) -> str:
        return reverse("api_schema")


api = OpenTicAPI(
    title="OpenTIC API",
    version="1",
    description="The Chongqing inspection and testing platform: register, public lab finder, report ledger.",
    docs_url="/docs",
    openapi_url="/openapi.json",
    docs=LocalizedSwagger(),
)


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any /api/ address that names no operation (an id that is not a number, a path that does not exist):
    the API's own 404, in JSON as its document says, not the site's HTML page."""
    return JsonResponse({"detail": "Not Found"}, status=404)


def docs_page(request: HttpRequest) -> HttpResponse:
    """/api/docs, and /en/api/docs in English."""
    return api.docs.render_page(request, api)


def schema_document(request: HttpRequest) -> HttpResponse:
    """/api/openapi.json, and /en/api/openapi.json in English."""
    return Response(api.get_openapi_schema(path_params={}))
api.add_router("/public", public_router)
api.add_router("/registry", registry_router)
api.add_router("/public", ledger_public_router)
api.add_router("/ledger", ledger_router)
api.add_router("/lims", lims_router)
# Mounted here, not nested in lims_router: the API's list of routers (which the tests walk) holds only the
# routers added to it, and a nested one was missing from it and its document tests.
api.add_router("/lims", lims_order_router)
api.add_router("/quality/pt", quality_router)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "没有权限"}, status=403)


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(RequestInvalid)
def malformed(request: HttpRequest, exc: RequestInvalid) -> HttpResponse:
    """A request that does not fit the operation's schema: messages per field, the same shape as a refusal
    by a service (ErrorOut), instead of pydantic's error list."""
    detail: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())]
        # loc is (source, parameter, field, …); a flattened parameter (a Query or Form schema) names its field
        field = ".".join(loc[2:]) or (loc[-1] if loc else "__all__")
        detail.setdefault(field, []).append(str(error.get("msg", "")))
    return api.create_response(request, {"detail": detail}, status=422)
