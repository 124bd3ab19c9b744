"""Gate: fuzz every operation of the API with schemathesis (docs/testing.md, "API fuzzing").

The operations come from the OpenAPI document the API serves, so a new router is fuzzed as soon as it is
mounted. Each operation gets a bounded number of generated requests, valid and deliberately invalid
(schemathesis' positive and negative modes), with a fixed seed, sent in-process to the Django WSGI
application over the demo district, once per persona:

- ``commander``: the district persona (sees every business row of the district);
- ``sysadmin``: the system administrator, who may write the jurisdiction tree and accounts;
- ``auditor``: the audit administrator, the only reader of the audit trail.

Checks on every answer: no server error; the status code, content type and body are the ones the document
declares; malformed input is refused (4xx); and every error answer has the documented body
``{"error": {"code", "message", "details"}}``. A finding fails the gate and is fixed in the application,
never listed as an exception here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.gates.conftest import demo_user, report
from tests.gates.discovery import openapi_document

pytestmark = [pytest.mark.gates, pytest.mark.django_db]

# Generated requests per operation and persona (valid and invalid together), and the fixed seed.
MAX_EXAMPLES = 25
FUZZ_PERSONAS = ("commander", "sysadmin", "auditor")


def _wsgi_app() -> Any:
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


schema = schemathesis.openapi.from_dict(openapi_document())
schema.app = _wsgi_app()
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)


@schemathesis.check
def error_body_documented(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx answer of the API carries {"error": {"code", "message", "details"}}."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.status_code} is not JSON: {response.content[:200]!r}") from None
    error = body.get("error") if isinstance(body, dict) else None
    if not (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
        and isinstance(error.get("details"), list)
    ):
        raise AssertionError(f"{response.status_code} answer without the documented error body: {body!r}")
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    error_body_documented,
]


@pytest.fixture
def wsgi_requests_keep_the_test_transaction() -> Iterator[None]:
    """Django closes "old" connections around each WSGI request; inside a test's transaction that would
    end it. Django's own test client disconnects the same handlers."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def personas(demo_district: None, db: None, wsgi_requests_keep_the_test_transaction: None) -> list[Any]:
    return [demo_user(username) for username in FUZZ_PERSONAS]


def _token(user: Any) -> str:
    from pingan.accounts.services import token_issue

    return token_issue(user=user)[0]


_CALLS: dict[str, int] = {}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # one test transaction for all the examples, on purpose
    ],
)
def test_api_operation(case: Any, personas: list[Any]) -> None:
    for user in personas:
        # a fresh bearer token per request: DELETE /auth/token revokes the one it is called with
        case.call_and_validate(headers={"Authorization": f"Bearer {_token(user)}"}, checks=CHECKS)
    _CALLS[case.operation.label] = _CALLS.get(case.operation.label, 0) + len(personas)


def test_the_fuzzed_document_is_the_served_document(demo_district: None, db: None) -> None:
    """The gate fuzzes the document the API serves at /api/v1/openapi.json, not a copy that may differ."""
    from tests.gates.conftest import signed_in_client

    response = signed_in_client("commander").get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi_document()
    operations = sum(len(methods) for methods in openapi_document()["paths"].values())
    report(
        f"API fuzzing: {operations} operations × {len(FUZZ_PERSONAS)} personas "
        f"({', '.join(FUZZ_PERSONAS)}), up to {MAX_EXAMPLES} generated requests each, fixed seed"
    )
