"""The scope tally: per institution, how many scope lines name each parameter, object and standard.

Always recounted from the scope lines themselves (never incremented), inside the transaction that
changed them, so it cannot drift: an import recounts the institutions it touched, the demo loader
recounts everything. `check()` recomputes and compares; the tests use it after every kind of change.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db import connection

from .models import ScopeLine, ScopeTally

DIMENSIONS = {
    ScopeTally.Dimension.PARAMETER: "parameter_id",
    ScopeTally.Dimension.OBJECT: "test_object_id",
    ScopeTally.Dimension.STANDARD: "standard_id",
}


def _where(institution_ids: Collection[int] | None) -> tuple[str, list[Any]]:
    if institution_ids is None:
        return "", []
    return f"WHERE institution_id IN ({', '.join(['%s'] * len(institution_ids))})", list(institution_ids)


def rebuild(institution_ids: Collection[int] | None = None) -> int:
    """Recount the tally of these institutions (all when None); returns the number of tally rows."""
    if institution_ids is not None and not institution_ids:
        return 0
    tally, lines = ScopeTally._meta.db_table, ScopeLine._meta.db_table
    where, params = _where(institution_ids)
    written = 0
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {tally} {where}", params)
        for dimension, column in DIMENSIONS.items():
            cursor.execute(
                f"INSERT INTO {tally} (institution_id, dimension, key, valid_from, valid_until, lines) "
                f"SELECT institution_id, %s, {column}, valid_from, valid_until, COUNT(*) FROM {lines} {where} "
                f"GROUP BY institution_id, {column}, valid_from, valid_until",
                [dimension.value, *params],
            )
            written += cursor.rowcount
    return written


def check(institution_ids: Collection[int] | None = None) -> list[str]:
    """Differences between the stored tally and a fresh count of the scope lines; empty when they agree."""
    stored = ScopeTally.objects.all()
    if institution_ids is not None:
        stored = stored.filter(institution_id__in=institution_ids)
    have = {(t.institution_id, t.dimension, t.key, t.valid_from, t.valid_until): t.lines for t in stored}
    want: dict[tuple[Any, ...], int] = {}
    lines = ScopeLine.objects.all()
    if institution_ids is not None:
        lines = lines.filter(institution_id__in=institution_ids)
    for row in lines.values_list("institution_id", "parameter_id", "test_object_id", "standard_id",
                                 "valid_from", "valid_until"):
        institution, *keys, valid_from, valid_until = row
        for dimension, key in zip(DIMENSIONS, keys, strict=True):
            k = (institution, dimension.value, key, valid_from, valid_until)
            want[k] = want.get(k, 0) + 1
    return [f"{k}: stored {have.get(k)}, counted {want.get(k)}"
            for k in sorted(set(have) | set(want), key=str) if have.get(k) != want.get(k)]
