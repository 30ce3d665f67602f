"""The institution's seal image: checked as a real PNG of a sensible size before it can reach a report."""

from __future__ import annotations

import base64
import hashlib
import io

from django.core.exceptions import ValidationError
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from opentic.core import audit
from opentic.core.models import Role, User
from opentic.core.permissions import require

from .models import Seal

MAX_BYTES = 1_000_000
MIN_SIDE, MAX_SIDE = 120, 2400


def checked_png(data: bytes, field: str, what: str, sides: tuple[int, int, int, int]) -> tuple[int, int]:
    """The size of `data` if it is a whole PNG within (min width, max width, min height, max height);
    otherwise a ValidationError on `field` saying what is wrong."""
    min_w, max_w, min_h, max_h = sides
    if len(data) > MAX_BYTES:
        raise ValidationError({field: f"图片不能超过 {MAX_BYTES // 1000} KB"})
    try:
        image = Image.open(io.BytesIO(data))
        image.verify()  # a truncated or forged file fails here
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
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
