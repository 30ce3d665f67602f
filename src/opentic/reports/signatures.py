"""A person's own signature image: uploaded by that person only, checked as a real PNG, audited."""

from __future__ import annotations

import base64
import hashlib

from django.db import transaction

from opentic.core import audit
from opentic.core.models import User
from opentic.core.permissions import require

from .models import Signature
from .seal import checked_png

# A signature is a wide strip: 2:1 to 8:1 at a scan resolution that prints sharp at 12 mm high.
SIDES = (120, 2400, 40, 1200)


@transaction.atomic
def save_signature(actor: User, data: bytes) -> Signature:
    """The signing person's own image; nobody uploads a signature for someone else."""
    require(actor.is_authenticated and actor.institution_id is not None, "只有机构人员可以上传本人签名")
    width, height = checked_png(data, "signature", "签名图片", SIDES)
    digest = hashlib.sha256(data).hexdigest()
    before = Signature.objects.filter(user=actor).values_list("sha256", flat=True).first()
    signature, _ = Signature.objects.update_or_create(user=actor, defaults={"png": data, "sha256": digest})
    audit.record(actor=actor, action="signature", entity=signature, institution_id=actor.institution_id,
                 changes={"sha256": [before, digest], "size": [width, height]})
    return signature


def images(user_ids: list[int]) -> dict[int, str]:
    """Each user's signature as a data URI, for those who uploaded one."""
    return {user: f"data:image/png;base64,{base64.b64encode(bytes(png)).decode()}"
            for user, png in Signature.objects.filter(user__in=user_ids).values_list("user_id", "png")}
