"""The generated tenancy matrix: every route of the URL resolver and every operation of the API, every method,
every persona, on lab A's and lab B's own objects.

`test_every_route_and_operation_has_its_rows` walks django.urls.get_resolver() (includes, i18n patterns) and
the ninja router: a route without a GET and a POST row, or an API operation without a row for its method,
fails the suite. `test_the_matrix` then asks every row as every persona, in one world: another institution's
private object answers 404 (the object's name does not appear in the answer), a refused method answers 405,
nothing answers 500, and a refused POST changes nothing (row counts and the objects' states, before and
after; only the row's writers may change anything, and one of them must). PUT and DELETE are swept over every
route too. Each request runs in a savepoint rolled back afterwards, so that one world serves
every row.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import translation

from tests.conftest import PERSONAS
from tests.lims.fixtures import Lab
from tests.quality.fixtures import PT, pt_round  # noqa: F401 — the fixture
from tests.tenancy_table import ROWS, Row
from tests.tenancy_world import Objects, audit_since, build, fingerprint


def _walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> list[tuple[str, URLPattern]]:
    out: list[tuple[str, URLPattern]] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            out += _walk(p.url_patterns, prefix + str(p.pattern))
        else:
            out.append((prefix + str(p.pattern), p))
    return out


def routes() -> dict[str, set[str] | None]:
    """Every route of the resolver, the admin's and static files' under one wildcard each; for the API's
    routes the methods their operations accept (None: a Django view, which must have a GET and a POST row)."""
    from ninja.operation import PathView

    found: dict[str, set[str] | None] = {}
    # In the default language: i18n_patterns print their prefix in the active one ("en/…" after a test that
    # left English active).
    with translation.override(settings.LANGUAGE_CODE):
        walked = _walk(get_resolver().url_patterns)
    for route, pattern in walked:
        if route.startswith("admin/"):
            route = "admin/*"
        elif route.startswith(("static/", "^static/")):
            route = "static/*"
        cells = [c.cell_contents for c in getattr(pattern.callback, "__closure__", None) or ()]
        views = [c for c in cells if isinstance(c, PathView)]
        found[route] = {m for op in views[0].operations for m in op.methods} if views else None
    return found


def api_operations() -> set[tuple[str, str]]:
    """Every operation of opentic.api.api, nested routers included: (method, path under /api/)."""
    from opentic.api import api

    out: set[tuple[str, str]] = set()

    def walk(router: Any, prefix: str) -> None:
        for path, view in router.path_operations.items():
            for op in view.operations:
                route = re.sub(r"\{([^}]*)\}", r"<\1>", re.sub("/+", "/", prefix + path)).strip("/")
                out.update((m, route) for m in op.methods)
        for sub_prefix, sub, *_ in router._routers:
            walk(sub, prefix + "/" + sub_prefix.strip("/"))

    for prefix, router in api._routers:
        walk(router, "/" + prefix.strip("/"))
    return out


def test_every_route_and_operation_has_its_rows() -> None:
    rows = {(r.route, r.method.upper()) for r in ROWS}
    missing = []
    for route, methods in routes().items():
        for method in sorted(methods | {"GET", "POST"} if methods else {"GET", "POST"}):
            if (route, method) not in rows:
                missing.append(f"{method} {route}")
    assert not missing, "routes without a row in tests/tenancy_table.py:\n" + "\n".join(missing)
    stale = {f"{m} {r}" for r, m in rows} - {f"{m} {r}" for r, ms in routes().items()
                                            for m in (ms or set()) | {"GET", "POST"}}
    assert not stale, f"rows for routes that no longer exist: {stale}"
    # The resolver's API routes and the router's operations are the same set: none hides from the walk.
    from_resolver = {(m, r.removeprefix("api/")) for r, ms in routes().items() if ms for m in ms}
    assert from_resolver == api_operations() and len(from_resolver) >= 23, from_resolver ^ api_operations()


def _expected(row: Row, persona: str) -> int:
    return row.expect.get(persona, row.expect.get("*", 0))


@pytest.mark.django_db
def test_the_matrix(lab: Lab, pt_round: PT, settings: Any, tmp_path: Path) -> None:  # noqa: F811
    settings.DATA_DIR = tmp_path
    objects: Objects = build(lab, pt_round)
    clients = {p: lab.world.client(p) for p in PERSONAS}
    # What only its own lab knows: a 404 (another lab's object, or none) names none of these.
    secrets = [str(objects.ids[k]) for k in ("client_b", "sample_name_b", "report_number_a", "report_number_b",
                                                  "sheet_number_a", "sheet_number_b")]
    failures = []
    for row in ROWS:
        url = row.url.format(**objects.ids)
        written = False
        for persona in PERSONAS:
            client = lab.world.client(persona) if row.fresh_client else clients[persona]
            expected = _expected(row, persona)
            with transaction.atomic():
                before = fingerprint(objects) if row.method != "get" else {}
                response = _ask(client, row, url, objects.ids)
                changed = _diff(before, fingerprint(objects)) if before else []
                if changed:
                    changed.append(str(audit_since(before["audit"])))
                transaction.set_rollback(True)
            status = response.status_code
            if status != expected:
                failures.append(f"{row.method.upper()} {url} as {persona}: {status}, expected {expected}")
            written = written or bool(changed and persona in row.writers)
            if row.method != "get" and changed and persona not in row.writers:
                failures.append(f"{row.method.upper()} {url} as {persona}: {status}, and it changed {changed}")
            if status == 404:
                told = [secret for secret in secrets if secret in _body(response)]
                if told:
                    failures.append(f"{row.method.upper()} {url} as {persona}: its 404 names {told}")
        if row.writers and not written:  # the row's data must work for its owner, or its refusals prove nothing
            failures.append(f"{row.method.upper()} {url}: none of {row.writers} changed anything")
    failures += _other_methods(objects, clients)
    assert not failures, "\n".join(failures)


def _other_methods(objects: Objects, clients: dict[str, Client]) -> list[str]:
    """PUT and DELETE, which no route serves: on every route, as lab A's admin and lab B's, they answer below
    500 and change nothing."""
    failures = []
    first = {row.route: row.url for row in reversed(ROWS)}  # one URL a route: lab A's object where there are two
    for url in (template.format(**objects.ids) for template in first.values()):
        for method in ("put", "delete"):  # (PATCH takes PUT's path through Django and ninja)
            for persona in ("a_admin", "b_admin"):
                with transaction.atomic():
                    before = fingerprint(objects)
                    status = getattr(clients[persona], method)(url).status_code
                    changed = _diff(before, fingerprint(objects))
                    transaction.set_rollback(True)
                if status >= 500 or changed:
                    failures.append(f"{method.upper()} {url} as {persona}: {status}, changed {changed}")
    return failures


def _diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [name for name in before if name != "audit" and before[name] != after[name]]


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if value == "@csv":  # an instrument's export, fresh for every request (an upload is read once)
        from django.core.files.uploadedfile import SimpleUploadedFile

        return SimpleUploadedFile("run.csv", b"Sample Name,Type,Pb\r\nX-1,Sample,0.05\r\n", "text/csv")
    if isinstance(value, str) and re.fullmatch(r"\{\w+\}", value):
        return ids[value[1:-1]]  # the id itself, a number in JSON
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _ask(client: Client, row: Row, url: str, ids: dict[str, Any]) -> Any:
    if row.json is not None:
        return getattr(client, row.method)(url, _fill(row.json, ids), content_type="application/json")
    return getattr(client, row.method)(url, _fill(row.data or {}, ids))


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return ""
    return bytes(response.content).decode("utf-8", "replace")
