"""Upload limits enforced before a body is read (issue 12, finding 10).

`UploadGuardMiddleware` runs before CSRF (which reads the form) and before any view: a request whose
Content-Length exceeds the limit for its sender is answered 413 without reading a byte of it, and an
anonymous upload is counted against the public rate limit first, so a client over its rate is refused
before its file reaches the temporary directory. `LimitedUploadHandler` counts the bytes as they stream, so
a body longer than it announced is stopped at the limit, not at its end.

The limits: OPENTIC_UPLOAD_MAX_BYTES for a signed-in user or a valid API token, and
OPENTIC_PUBLIC_UPLOAD_MAX_BYTES for everyone else (the PDF a reader uploads to verify).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited

from opentic.core import ratelimit

# Room for the multipart boundaries and the small fields that travel with the file.
ENVELOPE = 64 * 1024


class UploadTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"上传内容超过 {limit // (1024 * 1024)} MB")
        self.limit = limit


def _trusted(request: HttpRequest) -> bool:
    """Signed in, or carrying a live API token: such senders get the larger limit and no public rate."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:7].lower() == "bearer ":
        from opentic.core.models import ApiToken

        return ApiToken.objects.filter(digest=ApiToken.hash(header[7:].strip()), revoked_at__isnull=True,
                                       user__is_active=True).exists()
    return False


def limit_for(request: HttpRequest) -> int:
    cached = getattr(request, "_opentic_upload_limit", None)
    if cached is None:
        cached = int(settings.OPENTIC_UPLOAD_MAX_BYTES if _trusted(request)
                     else settings.OPENTIC_PUBLIC_UPLOAD_MAX_BYTES) + ENVELOPE
        request._opentic_upload_limit = cached  # type: ignore[attr-defined]  # memo on the request object
    return int(cached)


def _api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def too_large(request: HttpRequest, limit: int) -> HttpResponse:
    megabytes = limit // (1024 * 1024)
    if _api(request):  # the API answers in its own shape: {"detail": …}
        return JsonResponse({"detail": f"上传内容超过 {megabytes} MB"}, status=413)
    return render(request, "core/too_large.html", {"megabytes": megabytes}, status=413)


def too_many(request: HttpRequest) -> HttpResponse:
    if not _api(request):
        return ratelimit.too_many(request)  # the page the rate limit of the views shows (core/limited.html)
    response = JsonResponse({"detail": "请求过于频繁，请稍后再试"}, status=429)
    response["Retry-After"] = "60"
    return response


class UploadGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in {"POST", "PUT", "PATCH"}:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
            if multipart and not _trusted(request) and is_ratelimited(
                    request, group="public-upload", key="ip", rate=settings.OPENTIC_PUBLIC_RATE, increment=True):
                return too_many(request)
            limit = limit_for(request)
            if length > limit:
                return too_large(request, limit)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, UploadTooLarge):
            return too_large(request, exception.limit)
        return None


class LimitedUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: passes every chunk on, and stops the upload once it exceeds the limit."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.received = 0
        self.limit = limit_for(request) if request is not None else int(settings.OPENTIC_UPLOAD_MAX_BYTES)

    def handle_raw_input(self, input_data: Any, META: dict[str, Any], content_length: int, boundary: Any,
                         encoding: str | None = None) -> None:
        if content_length > self.limit:
            raise UploadTooLarge(self.limit)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            raise UploadTooLarge(self.limit)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
