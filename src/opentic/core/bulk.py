"""Bulk insert of already validated rows: COPY on PostgreSQL, executemany on SQLite.

The ORM's bulk_create builds a model instance per row and prepares each value through the field;
for 100,000 rows that costs more than the insert itself. Callers validate first (imports) or generate
valid data (the demo generator), then hand plain tuples here inside their own transaction.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models.base import ModelState

M = TypeVar("M", bound=models.Model)

BATCH = 5000


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a bulk operation builds its tens of thousands of rows and model
    instances: each collection walks every one of them again, which was a fifth of a 10,000-result import.
    Reference counting still frees what is dropped; the collector runs again when the operation ends. The
    operations that use this are bounded (an import has a row limit)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def update_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Set `columns` on many rows by primary key: each row is (pk, *values). The ORM's bulk_update builds
    one CASE expression per field and row, which cost 4 ms a row at 10,000 rows; this is one statement
    per row on SQLite (executemany, prepared once) and a COPY into a temporary table on PostgreSQL."""
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    names = [connection.ops.quote_name(c) for c in columns]
    rows = list(rows)
    if not rows:
        return 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TEMPORARY TABLE _bulk_update ON COMMIT DROP AS "
                           f"SELECT {pk}, {', '.join(names)} FROM {table} WITH NO DATA")
            with cursor.cursor.copy(f"COPY _bulk_update ({pk}, {', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            assignments = ", ".join(f"{n} = u.{n}" for n in names)
            cursor.execute(f"UPDATE {table} t SET {assignments} FROM _bulk_update u WHERE t.{pk} = u.{pk}")
            count = int(cursor.rowcount)
            cursor.execute("DROP TABLE _bulk_update")
            return count
        assignments = ", ".join(f"{n} = %s" for n in names)
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", [(*r[1:], r[0]) for r in rows])
    return len(rows)


def load_rows(queryset: models.QuerySet[M]) -> list[M]:
    """The queryset's rows as complete model instances, built as the ORM builds them from the database
    (every concrete field, converted by the same converters, the instance marked as loaded from `db`) but
    without Model.__init__, whose per-field descriptor calls cost more than the query when an import locks
    and reads 20,000 rows. For bulk operations on models without init signals or custom __init__."""
    model = queryset.model
    names = [f.attname for f in model._meta.concrete_fields]
    db = queryset.db
    loaded = []
    for values in queryset.values_list(*names):
        instance = model.__new__(model)
        instance.__dict__.update(zip(names, values, strict=True))
        state = ModelState()
        state.adding, state.db = False, db
        instance._state = state
        loaded.append(instance)
    return loaded

