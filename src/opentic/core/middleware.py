"""Request guards shared by every page and endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

# Ids are bigint columns on every database; Django's <int:…> converter takes any run of digits, and a
# larger number reaches the driver, which raises OverflowError (a 500). No row has such an id: 404.
LARGEST_ID = 2**63 - 1


class BoundedIdsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Callable[..., Any], args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> HttpResponse | None:
        if any(isinstance(v, int) and v > LARGEST_ID for v in (*args, *kwargs.values())):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "Not Found"}, status=404)  # the API answers in JSON
            raise Http404("没有这条记录")
        return None
