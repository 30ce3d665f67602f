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


@transaction.atomic
def save_seal(actor: User, data: bytes) -> Seal:
    require(actor.is_authenticated and actor.institution_id is not None and actor.has_role(Role.INSTITUTION_ADMIN),
            "只有机构管理员可以上传检验检测专用章")
    if len(data) > MAX_BYTES:
        raise ValidationError({"seal": f"图片不能超过 {MAX_BYTES // 1000} KB"})
    try:
        image = Image.open(io.BytesIO(data))
        image.verify()  # a truncated or forged file fails here
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValidationError({"seal": "不是有效的 PNG 图片"}) from exc
    if image.format != "PNG":
        raise ValidationError({"seal": f"印章图片须为 PNG(透明背景),上传的是 {image.format}"})
    width, height = image.size
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise ValidationError({"seal": f"图片尺寸应在 {MIN_SIDE}–{MAX_SIDE} 像素之间,上传的是 {width}×{height}"})
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
