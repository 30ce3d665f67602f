"""Issue 12, finding 10: uploads refused by Content-Length before reading, while streaming, and over rate."""

from __future__ import annotations

import io

import pytest
from django.test import Client, RequestFactory

from opentic.core.uploads import LimitedUploadHandler, UploadTooLarge
from tests.conftest import World


class CountingStream(io.BytesIO):
    """A request body that remembers how much of it the server read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk

    def readline(self, size: int | None = -1) -> bytes:
        chunk = super().readline(size)
        self.consumed += len(chunk)
        return chunk


def multipart(size: int) -> tuple[bytes, str]:
    boundary = "BoUnDaRy"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"pdf\"; filename=\"r.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n").encode()
    return body + b"%PDF" + b"0" * size + f"\r\n--{boundary}--\r\n".encode(), content_type(boundary)


def content_type(boundary: str) -> str:
    return f"multipart/form-data; boundary={boundary}"


def raw_post(path: str, body: bytes, content_type: str, length: int | None = None, **extra: str
             ) -> tuple[int, CountingStream]:
    from django.core.handlers.wsgi import WSGIHandler

    stream = CountingStream(body)
    environ = RequestFactory()._base_environ(  # a real WSGI request, as gunicorn hands it over
        PATH_INFO=path, REQUEST_METHOD="POST", CONTENT_TYPE=content_type,
        CONTENT_LENGTH=str(len(body) if length is None else length), **extra)
    environ["wsgi.input"] = stream
    statuses: list[str] = []
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    for signal in (request_started, request_finished):  # as Django's test client does: keep the test's connection
        signal.disconnect(close_old_connections)
    try:
        WSGIHandler()(environ, lambda status, headers, exc_info=None: statuses.append(status))
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)
    return int(statuses[0].split()[0]), stream


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/verify/", "/api/public/verify/pdf"])
def test_an_anonymous_upload_over_the_limit_is_refused_unread(world: World, settings: object, path: str) -> None:
    settings.OPENTIC_PUBLIC_UPLOAD_MAX_BYTES = 1024 * 1024  # type: ignore[attr-defined]
    body, content_type = multipart(3 * 1024 * 1024)
    status, stream = raw_post(path, body, content_type)
    assert status == 413
    assert stream.consumed == 0  # not one byte of the body was read
    response = Client().post(path, {"pdf": io.BytesIO(b"%PDF" + b"0" * 2 * 1024 * 1024)})
    assert response.status_code == 413
    if path.startswith("/api/"):
        assert response.json()["detail"] == "上传内容超过 1 MB"
    else:
        assert "上传的内容过大" in response.content.decode()


@pytest.mark.django_db
def test_the_streaming_limit_stops_the_parser_early(settings: object) -> None:
    from django.http.multipartparser import MultiPartParser

    body, content_type = multipart(8 * 1024 * 1024)
    stream = CountingStream(body)
    request = RequestFactory().post("/verify/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    settings.OPENTIC_PUBLIC_UPLOAD_MAX_BYTES = 1024 * 1024  # type: ignore[attr-defined]
    handler = LimitedUploadHandler(request)
    meta = {"CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(512 * 1024)}  # it lies about its length
    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    parser = MultiPartParser(meta, stream, [handler, TemporaryFileUploadHandler(request)])
    handler.limit = 256 * 1024
    with pytest.raises(UploadTooLarge):
        parser.parse()
    assert stream.consumed < 2 * 1024 * 1024  # stopped near the limit, not at the end of 8 MB


@pytest.mark.django_db
def test_a_signed_in_user_may_upload_more(world: World, settings: object) -> None:
    settings.OPENTIC_PUBLIC_UPLOAD_MAX_BYTES = 1024 * 1024  # type: ignore[attr-defined]
    client = world.client("a_admin")
    body, content_type = multipart(2 * 1024 * 1024)
    response = client.generic("POST", "/registry/import/", body, content_type=content_type)
    assert response.status_code != 413


@pytest.mark.django_db
@pytest.mark.ratelimit
def test_the_rate_limit_is_checked_before_the_body_is_read(world: World, settings: object) -> None:
    settings.OPENTIC_PUBLIC_RATE = "2/m"  # type: ignore[attr-defined]
    body, content_type = multipart(100 * 1024)
    statuses = []
    consumed = []
    for _ in range(4):
        status, stream = raw_post("/verify/", body, content_type, REMOTE_ADDR="203.0.113.50")
        statuses.append(status)
        consumed.append(stream.consumed)
    assert statuses[-1] == 429
    assert consumed[-1] == 0
    assert Client().get("/find/", REMOTE_ADDR="198.51.100.1").status_code == 200  # another client is served
