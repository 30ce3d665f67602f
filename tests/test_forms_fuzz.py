"""Malformed input never answers 500 on a page: every POST form the platform renders receives garbage.

The forms are found, not listed: every route of the URL resolver is opened (with ids of real objects of lab A,
its PT round and its register) as a lab administrator and as a regulator, each POST form on the page is read
(its action and field names), and hypothesis posts huge numbers, "nan", "1e999", non-numeric text, overlong
strings and missing fields to it as that user."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from opentic.lims import services
from opentic.lims.worksheets import QC, create_worksheet
from opentic.quality.models import Round
from tests.conftest import World
from tests.lims.fixtures import Lab
from tests.quality.fixtures import PT, pt_round  # noqa: F401  (the fixture)

NASTY = ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1e999", "9" * 400, "x" * 5000, "", " ", "0", "-1",
         "1.5", "２０", "٣", "\x00", "1,5", "null", "<script>alert(1)</script>", "9223372036854775808",
         "-9223372036854775809", "1e-999", "0x10", "１．５", "%", "🙂", "2026-02-30", "9999-99-99"]
VALUES = st.one_of(st.sampled_from(NASTY), st.text(max_size=40),
                   st.integers(min_value=-(10**30), max_value=10**30).map(str))


@dataclass
class FormSpec:
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # name → input type ("file", "text", "select", …)
    values: dict[str, str] = field(default_factory=dict)  # name → the value the page fills in (or first option)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[FormSpec] = []
        self._current: FormSpec | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = FormSpec(a.get("action", "")) if a.get("method", "").lower() == "post" else None
            if self._current is not None:
                self.forms.append(self._current)
        elif self._current is not None and tag in ("input", "select", "textarea", "button") and a.get("name"):
            if a["name"] != "csrfmiddlewaretoken":
                self._current.fields[a["name"]] = a.get("type", tag) if tag == "input" else tag
                if "value" in a:
                    self._current.values.setdefault(a["name"], a["value"])
                self._select = a["name"] if tag == "select" else None
        elif self._current is not None and tag == "option" and self._select and a.get("value"):
            self._current.values.setdefault(self._select, a["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def routes(patterns: list[Any] | None = None, prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    """(name, route) of every named URL pattern."""
    found = []
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            found += routes(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern) and p.name:
            found.append((namespace + p.name, prefix + str(p.pattern)))
    return found


def _objects(lab: Lab, pt: PT) -> dict[str, dict[str, Any]]:
    """Keyword arguments for the routes that need an object: real ones, of lab A and its PT round."""
    world = lab.world
    registered = lab.register(lab.pb, lab.cd)
    received = lab.received(lab.pb, lab.cd)
    services.enter_result(world.a_analyst, received.analyses.get(service=lab.pb), "0.31")
    pending = lab.received(lab.pb)
    sheet = create_worksheet(world.a_analyst, lab.pb, lab.icp, list(pending.analyses.all()), [QC("blank")])
    analysis = received.analyses.get(service=lab.cd)
    r: Round = pt.round
    return {
        "lims:sample": {"pk": received.pk}, "lims:history": {"pk": received.pk},
        "lims:receive": {"pk": registered.pk}, "lims:verify": {"pk": received.pk},
        "lims:result": {"pk": received.pk, "analysis_pk": analysis.pk},
        "lims:retest": {"pk": received.pk, "analysis_pk": analysis.pk},
        "lims:worksheet": {"pk": sheet.pk}, "lims:worksheet_release": {"pk": sheet.pk},
        "registry:detail": {"pk": world.lab_a.pk}, "registry:history": {"pk": world.lab_a.pk},
        "registry:status": {"pk": world.lab_a.pk}, "ledger:not_accepted": {"pk": world.lab_a.pk},
        "portal:lab": {"pk": world.lab_a.pk},
        "quality:round": {"pk": r.pk}, "quality:new_round": {"pk": pt.scheme.pk},
        "quality:invite": {"pk": r.pk}, "quality:submit": {"pk": r.pk}, "quality:homogeneity": {"pk": r.pk},
        "quality:appeal": {"pk": r.pk}, "reports:approve": {"sample_pk": received.pk},
        "registered": {"pk": registered.pk}, "worksheet method": {"service": lab.pb.pk},
    }


def _page_forms(world: World, objects: dict[str, dict[str, Any]]) -> list[tuple[str, FormSpec]]:
    found: dict[tuple[str, str, frozenset[str]], FormSpec] = {}
    pages = []
    for name, route in routes():
        if "<" not in route and "(?P" not in route:
            pages.append(reverse(name))
        elif name in objects:
            pages.append(reverse(name, kwargs=objects[name]))
    pages.append(reverse("lims:sample", kwargs=objects["registered"]))  # a sample still to receive
    # The new-worksheet form appears once a method is chosen (a GET form first, since the lims merge).
    pages.append(reverse("lims:worksheets") + f"?service={objects['worksheet method']['service']}")
    for persona in ("a_admin", "regulator"):
        client = world.client(persona)
        for url in pages:
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            parser = _Forms()
            parser.feed(response.content.decode())
            for form in parser.forms:
                action = urlparse(form.action).path or urlparse(url).path
                if action.endswith(("/logout/", "/i18n/setlang/")):
                    continue  # signing out or switching language takes no input worth fuzzing
                found.setdefault((persona, action, frozenset(form.fields)),
                                 FormSpec(action, form.fields, form.values))
    return [(persona, spec) for (persona, _, _), spec in found.items()]


@pytest.mark.django_db
def test_no_form_answers_500_to_malformed_input(lab: Lab, pt_round: PT) -> None:  # noqa: F811
    world = lab.world
    forms = _page_forms(world, _objects(lab, pt_round))
    reached = {spec.action for _, spec in forms}
    # The enumeration reaches the known result-entry and worksheet forms (and does not silently find none).
    for needed in ("/lims/worksheets/", "/lims/register/", "/lims/setup/", "/registry/import/", "/verify/"):
        assert needed in reached, (needed, sorted(reached))
    assert any("/result/" in a for a in reached) and any(a.endswith("/receive/") for a in reached)
    failures: list[str] = []
    for persona, spec in forms:
        try:
            _fuzz(spec, getattr(world, persona))
        except AssertionError as exc:
            failures.append(f"{persona} {spec.action}: {exc}")
    assert not failures, "\n".join(failures)


def _fuzz(spec: FormSpec, user: Any) -> None:
    client = Client(raise_request_exception=False)
    # Each field: missing, garbage, or (so that the garbage reaches past a form selector or a chosen object) the
    # value the page itself fills in.
    strategy = st.fixed_dictionaries({
        name: st.one_of(st.none(), VALUES, *([st.just(spec.values[name])] if name in spec.values else []))
        for name in spec.fields})

    # No shrinking: a failure is reported with the first payload found, and the run stays short.
    @settings(max_examples=8, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(data=strategy, blob=st.binary(max_size=200))
    def post(data: dict[str, str | None], blob: bytes) -> None:
        client.force_login(user)
        payload: dict[str, Any] = {}
        for name, value in data.items():
            if value is None:
                continue  # a missing field
            payload[name] = SimpleUploadedFile("upload.xlsx", blob) if spec.fields[name] == "file" else value
        response = client.post(spec.action, payload)
        assert response.status_code < 500, (spec.action, payload, response.status_code)

    post()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/lims/samples/99999999999999999999/", "/registry/institutions/9223372036854775808/",
                                 "/api/lims/samples/99999999999999999999", "/reports/99999999999999999999.pdf"])
def test_an_id_beyond_a_bigint_is_not_found(world: World, url: str) -> None:
    client = world.client("a_admin")
    client.raise_request_exception = False
    response = client.get(url)
    assert response.status_code in (404, 422)  # SQLite's driver raised OverflowError: a 500
    if url.startswith("/api/"):
        assert response.json()["detail"]  # the API's refusals are JSON, as its document says


@pytest.mark.django_db
def test_an_api_address_naming_no_operation_is_a_json_404(world: World) -> None:
    for url in ("/api/lims/samples/null,null", "/api/no-such-thing"):
        response = world.client("a_admin").get(url)
        assert response.status_code == 404 and response.json() == {"detail": "Not Found"}
