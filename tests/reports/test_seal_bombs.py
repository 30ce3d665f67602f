"""Issue 12, finding 8: a pixel bomb and a text bomb in a seal upload are refused with a message, not 500."""

from __future__ import annotations

import io
import struct
import time
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from opentic.reports.models import Seal
from opentic.reports.seal import save_seal
from tests.lims.fixtures import Lab
from tests.reports.test_seal import seal_png


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def pixel_bomb(side: int = 20000) -> bytes:
    """A 1-bit grey PNG of side×side pixels, all black: tens of kilobytes on disk, 400 million pixels."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def text_bomb(kind: bytes = b"zTXt", megabytes: int = 200) -> bytes:
    """A sound 400×400 seal with a compressed text chunk that inflates to `megabytes` MB."""
    png = seal_png()
    packer = zlib.compressobj(9)
    block = b"A" * (1024 * 1024)
    text = b"".join(packer.compress(block) for _ in range(megabytes)) + packer.flush()
    body = b"Comment\x00\x00" + text if kind == b"zTXt" else b"Comment\x00\x01\x00\x00\x00" + text
    return png[:33] + chunk(kind, body) + png[33:]


def test_the_bombs_are_small_on_disk() -> None:
    assert len(pixel_bomb()) < 100_000
    assert len(text_bomb()) < 1_000_000


@pytest.mark.django_db
@pytest.mark.parametrize("make", [pixel_bomb, text_bomb, lambda: text_bomb(b"iTXt")],
                         ids=["20000x20000", "zTXt", "iTXt"])
def test_a_bomb_is_refused_fast_with_a_message(lab: Lab, make: object) -> None:
    data = make()  # type: ignore[operator]
    started = time.perf_counter()
    with pytest.raises(ValidationError) as caught:
        save_seal(lab.world.a_admin, data)
    assert time.perf_counter() - started < 1
    message = " ".join(caught.value.messages)
    assert "20000×20000" in message or "文本信息超过" in message
    assert not Seal.objects.exists()


@pytest.mark.django_db
def test_the_seal_page_answers_a_bomb_with_its_message(lab: Lab) -> None:
    client = lab.world.client("a_admin")
    upload = SimpleUploadedFile("seal.png", pixel_bomb(), content_type="image/png")
    response = client.post("/reports/seal/", {"seal": upload}, follow=True)
    assert response.status_code == 200
    assert "20000×20000" in response.content.decode()


@pytest.mark.django_db
def test_a_sound_seal_with_a_little_text_is_still_accepted(lab: Lab) -> None:
    png = seal_png()
    with_text = png[:33] + chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress("检验检测专用章".encode())) + png[33:]
    assert save_seal(lab.world.a_admin, with_text).sha256
    assert io.BytesIO(with_text).read(8) == b"\x89PNG\r\n\x1a\n"
