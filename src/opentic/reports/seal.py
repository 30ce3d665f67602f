"""The institution's seal image: checked as a real PNG of a sensible size before it can reach a report."""

from __future__ import annotations

import base64
import hashlib
import io
import struct
import zlib

from django.core.exceptions import ValidationError
from django.db import transaction
from PIL import Image, UnidentifiedImageError
from PIL.Image import DecompressionBombError

from opentic.core import audit
from opentic.core.models import Role, User
from opentic.core.permissions import require

from .models import Seal

MAX_BYTES = 1_000_000
MIN_SIDE, MAX_SIDE = 120, 2400
# Text chunks (tEXt, zTXt, iTXt) may hold at most this much, once decompressed, together.
MAX_TEXT = 64 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _check_png_structure(data: bytes) -> None:
    """Walk the PNG's chunks before Pillow decodes anything (issue 12, finding 8).

    The size comes from the IHDR header, so a 48 KB file claiming 20000×20000 pixels is refused without
    allocating them; compressed text chunks are inflated with a ceiling, so a zTXt/iTXt bomb is refused
    after MAX_TEXT bytes instead of filling memory.
    """
    if not data.startswith(PNG_SIGNATURE) or len(data) < 33 or data[12:16] != b"IHDR":
        raise ValidationError({"seal": "不是有效的 PNG 图片"})
    width, height = struct.unpack(">II", data[16:24])
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise ValidationError({"seal": f"图片尺寸应在 {MIN_SIDE}–{MAX_SIDE} 像素之间,上传的是 {width}×{height}"})
    position, text = 8, 0
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"tEXt":
            text += len(body)
        elif kind in (b"zTXt", b"iTXt"):
            keyword_end = body.find(b"\0")
            if kind == b"zTXt":
                compressed, payload = True, body[keyword_end + 2:]
            else:  # keyword \0 flag method language \0 translated keyword \0 text
                compressed = body[keyword_end + 1:keyword_end + 2] == b"\1"
                rest = body[keyword_end + 3:].split(b"\0", 2)
                payload = rest[2] if len(rest) == 3 else b""
            if compressed:
                inflater = zlib.decompressobj()
                try:
                    inflated = inflater.decompress(payload, MAX_TEXT - text + 1)
                except zlib.error as exc:
                    raise ValidationError({"seal": "PNG 图片中的文本块已损坏"}) from exc
                text += len(inflated)
            else:
                text += len(payload)
        if text > MAX_TEXT:
            raise ValidationError({"seal": f"PNG 图片中的文本信息超过 {MAX_TEXT // 1024} KB(可能是压缩炸弹),"
                                           "请导出不带元数据的图片"})
        if kind == b"IEND":
            break


def checked_png(data: bytes, field: str, what: str, sides: tuple[int, int, int, int]) -> tuple[int, int]:
    """The size of `data` if it is a whole PNG within (min width, max width, min height, max height);
    otherwise a ValidationError on `field` saying what is wrong."""
    min_w, max_w, min_h, max_h = sides
    if len(data) > MAX_BYTES:
        raise ValidationError({field: f"图片不能超过 {MAX_BYTES // 1000} KB"})
    _check_png_structure(data)
    try:
        image = Image.open(io.BytesIO(data))
        image.verify()  # a truncated or forged file fails here
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, DecompressionBombError) as exc:
        raise ValidationError({field: "不是有效的 PNG 图片"}) from exc
    if image.format != "PNG":
        raise ValidationError({field: f"{what}须为 PNG（透明背景），上传的是 {image.format}"})
    width, height = image.size
    if not (min_w <= width <= max_w and min_h <= height <= max_h):
        raise ValidationError({field: f"图片尺寸应为宽 {min_w}–{max_w}、高 {min_h}–{max_h} 像素，"
                                      f"上传的是 {width}×{height}"})
    return width, height


@transaction.atomic
def save_seal(actor: User, data: bytes) -> Seal:
    require(actor.is_authenticated and actor.institution_id is not None and actor.has_role(Role.INSTITUTION_ADMIN),
            "只有机构管理员可以上传检验检测专用章")
    width, height = checked_png(data, "seal", "印章图片", (MIN_SIDE, MAX_SIDE, MIN_SIDE, MAX_SIDE))
    digest = hashlib.sha256(data).hexdigest()
    seal, _ = Seal.objects.update_or_create(institution_id=actor.institution_id,
                                            defaults={"png": data, "sha256": digest, "uploaded_by": actor})
    audit.record(actor=actor, action="seal", entity=seal, institution_id=actor.institution_id,
                 changes={"sha256": digest, "size": [width, height]})
    return seal


def data_uri(credit_code: str) -> str:
    """The seal as a data URI for the report of the institution with this credit code, or ''."""
    png = Seal.objects.filter(institution__credit_code=credit_code).values_list("png", flat=True).first()
    return f"data:image/png;base64,{base64.b64encode(bytes(png)).decode()}" if png else ""
