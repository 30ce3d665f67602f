"""`manage.py check --deploy`: a production platform must not sign a demo verification address into reports."""

from __future__ import annotations

from typing import Any

from django.core import checks

from .twin import public_base


@checks.register(checks.Tags.security, deploy=True)
def public_url(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    base, demo = public_base()
    if not demo:
        return []
    return [checks.Error(
        f"OPENTIC_PUBLIC_URL is {base}, an address nobody outside this machine can open; reports issued now "
        "would print it beside their QR code, marked 演示环境, for good.",
        hint="Set OPENTIC_PUBLIC_URL to the platform's public https address before issuing real reports.",
        id="opentic.reports.E001")]
