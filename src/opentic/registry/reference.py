"""Load the plan's reference data (districts, zones, layout, domains) from the CSV copies in data/reference/.

Used by a data migration, so it takes the app registry the migration gives it.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

from opentic.core.hanzi import to_simplified

REFERENCE_DIR = Path(__file__).resolve().parent / "data" / "reference"

LAYOUT_KINDS = {"两区": "zone", "五群": "cluster", "多基地": "base"}


def read_csv(name: str) -> list[dict[str, str]]:
    """Rows of a reference table, in Simplified Chinese without the source's pinyin annotations."""
    with (REFERENCE_DIR / name).open(encoding="utf-8") as f:
        return [{k: to_simplified(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _decimal(value: str) -> Decimal | None:
    return Decimal(value) if value.strip() else None


def load(apps: Any) -> None:
    District = apps.get_model("registry", "District")
    FunctionalZone = apps.get_model("registry", "FunctionalZone")
    SpatialUnit = apps.get_model("registry", "SpatialUnit")
    Domain = apps.get_model("registry", "Domain")

    for row in read_csv("districts.csv"):
        District.objects.update_or_create(
            code=row["code"], defaults={"name": row["name_zh"], "kind": row["kind"], "region": row["region"]}
        )
    for row in read_csv("functional_zones.csv"):
        FunctionalZone.objects.update_or_create(
            code=row["code"], defaults={"name": row["name_zh"], "note": row["note"]}
        )
    for row in read_csv("domains.csv"):
        if row["code"] == "TOTAL":
            continue
        Domain.objects.update_or_create(
            code=row["code"],
            defaults={
                "stage": row["stage"], "name": row["name_zh"], "note": row["note"],
                "revenue_2022": _decimal(row["revenue_2022_yi"]),
                "revenue_2027_target": _decimal(row["revenue_2027_target_yi"]),
                "institutions_2022": int(row["institutions_2022"]) if row["institutions_2022"] else None,
            },
        )
    for row in read_csv("spatial_layout.csv"):
        unit, _ = SpatialUnit.objects.update_or_create(
            code=row["code"],
            defaults={
                "kind": LAYOUT_KINDS[row["kind"]], "name": row["name_zh"], "focus": row["focus"],
                "note": row["note"], "revenue_2022": _decimal(row["revenue_2022_yi"]),
                "revenue_2027_target": _decimal(row["revenue_2027_target_yi"]),
            },
        )
        members = [m.strip() for m in row["members"].split(";") if m.strip()]
        unit.districts.set([m for m in members if m.isdigit()])
        unit.zones.set([m for m in members if not m.isdigit()])
