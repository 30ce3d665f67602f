"""Importing 100,000 scope lines from XLSX takes at most 3× a raw bulk insert of the same rows (issue 2).

Baseline, in the same run on the same database: read the same XLSX (python-calamine, as the import
does) and insert its rows with one executemany of plain INSERTs, the ids already resolved: the least
work that gets those rows from that file into the table. The import adds what makes it safe: every
cell parsed and checked, catalogue look-ups and creation, natural-key matching against what is
registered, the audit trail, one transaction.

    python benchmarks/bench_import.py              # SQLite
    python benchmarks/bench_import.py --postgres
"""

from __future__ import annotations

import argparse
import datetime as dt

from _common import report, timed, use_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    label = use_database("opentic_bench_import", args.postgres)

    from django.db import connection, transaction

    from opentic.core.models import Role, User
    from opentic.core.tabular import read_table, write_xlsx
    from opentic.registry import demo
    from opentic.registry.models import Institution, Parameter, ScopeLine, Standard, TestObject
    from opentic.registry.sheets import SHEETS, run_import

    if not Institution.objects.exists():
        demo.generate("tiny", institutions=500)
    regulator = User.objects.filter(username="bench-regulator").first() or User.objects.create(
        username="bench-regulator", roles=[Role.REGULATOR])
    institutions = list(Institution.objects.order_by("pk").values_list("pk", "credit_code"))
    catalogue = list(ScopeLine.objects.values_list("field", "category", "test_object__name", "parameter__name",
                                                   "standard__code", "standard__year", "standard__title")
                     .distinct()[:400])
    rows = []
    per = -(-args.rows // len(institutions))
    for n in range(args.rows):
        _pk, code = institutions[n // per]
        f, c, obj, par, scode, year, title = catalogue[n % len(catalogue)]
        rows.append([code, 10_000 + n % per, f, c, obj, par, f"{scode}-{year}" if year else scode, title,
                     "", "", "2024-01-01", ""])
    data = write_xlsx([col.header for col in SHEETS["scope"].columns], rows)
    print(f"{label}: {len(rows)} scope lines over {len(institutions)} institutions, XLSX {len(data) / 1e6:.1f} MB")

    def clear() -> None:
        ScopeLine.objects.filter(seq__gte=10_000).delete()

    def baseline() -> None:
        _, body = read_table("scope.xlsx", data)
        ids = dict((c, pk) for pk, c in institutions)
        objects = dict(TestObject.objects.values_list("name", "pk"))
        parameters = dict(Parameter.objects.values_list("name", "pk"))
        standards = {f"{s.code}-{s.year}" if s.year else s.code: s.pk for s in Standard.objects.all()}
        values = [(ids[r[0]], int(r[1]), r[2], r[3], objects[r[4]], parameters[r[5]], standards[r[6]], "", "",
                   dt.date.fromisoformat(r[10]), None) for r in body]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO registry_scopeline (institution_id, seq, field, category, test_object_id, parameter_id,"
                " standard_id, restriction, note, valid_from, valid_until) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                values)

    def imported() -> None:
        result = run_import(regulator, "scope", "scope.xlsx", data)
        assert result.created == len(rows), result

    clear()
    base = timed(baseline)
    clear()
    ours = timed(imported)
    again = timed(lambda: run_import(regulator, "scope", "scope.xlsx", data))
    clear()
    print(f"baseline (calamine read + executemany INSERT): {base:.2f} s; import: {ours:.2f} s "
          f"({len(rows) / ours:,.0f} rows/s); the same file again (all unchanged): {again:.2f} s")
    report(f"import_scope_xlsx_{connection.vendor}", ours, "s", base, "ratio <= 3", ours / base <= 3)


if __name__ == "__main__":
    main()
