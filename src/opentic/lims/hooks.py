"""Hooks through which higher floors show their rows on the LIMS's pages. The LIMS sits below reports and
cannot import them, so the reports app registers its lookup here at start-up (reports/apps.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .models import Sample

# The reports of a sample, oldest first; None until the reports app is loaded.
sample_reports: Callable[[Sample], Sequence[Any]] | None = None


def reports_of(sample: Sample) -> Sequence[Any]:
    return sample_reports(sample) if sample_reports is not None else []
