"""schemathesis over every operation of /api/openapi.json, with a bearer token of lab A's administrator and
of a regulator: no 5xx, and every response (422 refusals included) conforms to what the document publishes.

Short by design (max_examples per operation): it runs in every `make test`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from opentic.core.api_auth import issue_token
from tests.conftest import World

schema = schemathesis.openapi.from_wsgi("/en/api/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """schemathesis calls the WSGI app directly, whose request signals close the database connection
    (Django's test client disconnects them too): on PostgreSQL that closed the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(params=["a_admin", "regulator"])
def token(world: World, request: pytest.FixtureRequest) -> str:
    """A laboratory's administrator (the LIMS, PT and ledger operations) and a regulator (the register's)."""
    return issue_token(getattr(world, request.param), "schemathesis")[1]


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api(case: schemathesis.Case, token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                           checks=[schemathesis.checks.not_a_server_error, response_schema_conformance,
                                   content_type_conformance])
