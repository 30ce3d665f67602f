"""The institution's seal image: validated on upload, printed on the reports issued after it."""

import io
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from PIL import Image, ImageDraw

from opentic.core.models import AuditEvent
from opentic.reports import services
from opentic.reports.models import Seal
from opentic.reports.seal import save_seal
from tests.conftest import PASSWORD
from tests.lims.fixtures import Lab
from tests.reports.test_reports import make_signatory, verified_sample


def seal_png(size: int = 400, fmt: str = "PNG") -> bytes:
    image = Image.new("RGBA" if fmt == "PNG" else "RGB", (size, size), (255, 255, 255, 0) if fmt == "PNG" else "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, size - 8, size - 8), outline=(200, 0, 0, 255), width=10)
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def images_in(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "with-seal.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    return [line for line in listing.splitlines()[2:] if line.strip()]


@pytest.mark.django_db
def test_a_seal_is_checked_and_printed(lab: Lab, settings: object, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    admin = lab.world.a_admin
    with pytest.raises(PermissionDenied):
        save_seal(lab.world.a_analyst, seal_png())
    with pytest.raises(ValidationError, match="PNG"):
        save_seal(admin, seal_png(fmt="JPEG"))
    with pytest.raises(ValidationError, match="不是有效的 PNG"):
        save_seal(admin, b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with pytest.raises(ValidationError, match="尺寸"):
        save_seal(admin, seal_png(size=40))
    assert not Seal.objects.exists()
    make_signatory(lab)
    plain = services.issue_report(lab.world.a_signatory, verified_sample(lab), PASSWORD)
    save_seal(admin, seal_png())
    assert AuditEvent.objects.filter(action="seal").count() == 1
    stamped = services.issue_report(lab.world.a_signatory, verified_sample(lab), PASSWORD)
    seals = [line for line in images_in(bytes(stamped.pdf), tmp_path) if " 400   400 " in line]
    assert seals, "the seal image is not in the report"
    assert not [line for line in images_in(bytes(plain.pdf), tmp_path) if " 400   400 " in line]


@pytest.mark.django_db
def test_the_seal_page(lab: Lab) -> None:
    admin = lab.world.client("a_admin")
    assert 'id="drawn-seal" ' in admin.get("/reports/seal/").content.decode()  # what reports carry until then
    admin.post("/reports/seal/", {"seal": io.BytesIO(seal_png())})
    page = admin.get("/reports/seal/").content.decode()
    assert "data:image/png;base64," in page
    assert "data:image/png" not in lab.world.client("b_admin").get("/reports/seal/").content.decode()
    assert lab.world.client("regulator").get("/reports/seal/").status_code == 404
