"""How a result is written on a report: rounded once per GB/T 8170, with its unit, or as below the LOQ.

Pure Python, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from opentic.numerics.rounding import round_to_places


class BelowLoq(StrEnum):
    LESS_THAN = "lt_loq"  # "<0.010"
    NOT_DETECTED = "nd"  # "未检出", with the detection limit stated


@dataclass(frozen=True)
class Reporting:
    places: int  # decimal places of the reported value
    loq: Decimal | None = None
    lod: Decimal | None = None
    below_loq: BelowLoq = BelowLoq.LESS_THAN


def limit_text(limit: Decimal, places: int) -> str:
    """A quantitation or detection limit as written: to the reported places when that keeps its value
    (0.0100000000 stored → "0.010"), else with its own significant digits (0.0025 → "0.0025")."""
    exponent = Decimal(1).scaleb(-places)
    if limit == limit.quantize(exponent):
        return f"{limit.quantize(exponent):f}"
    return f"{limit.normalize():f}"


def formatted(value: Decimal, reporting: Reporting) -> str:
    """The text printed for a raw result; the raw value itself is kept unrounded."""
    if reporting.loq is not None and value < reporting.loq:
        if reporting.below_loq is BelowLoq.NOT_DETECTED:
            limit = reporting.lod if reporting.lod is not None else reporting.loq
            return f"未检出（<{limit_text(limit, reporting.places)}）"
        return f"<{limit_text(reporting.loq, reporting.places)}"
    return f"{round_to_places(value, reporting.places):f}"
