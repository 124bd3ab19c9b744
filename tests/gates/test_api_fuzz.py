"""Gate: fuzz every operation of the API with schemathesis (docs/testing.md, "API fuzzing").

The operations come from the OpenAPI document the API serves, so a new router is fuzzed as soon as it is
mounted. Each operation gets a bounded number of generated requests, valid and deliberately invalid
(schemathesis' positive and negative modes), with a fixed seed, encoded by ``requests`` as on the wire and
handed in-process to Django's test client over the demo district, each as one of these personas (chosen
from the request, so the same request always goes out as the same persona):

- ``commander``: the district persona (sees every business row of the district);
- ``sysadmin``: the system administrator, who may write the jurisdiction tree and accounts;
- ``auditor``: the audit administrator, the only reader of the audit trail.

Checks on every answer: no server error; the status code, content type and body are the ones the document
declares; malformed input is refused (4xx); and every error answer has the documented body
``{"error": {"code", "message", "details"}}``. A finding fails the gate and is fixed in the application,
never listed as an exception here.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import requests.adapters
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, settings
from requests.structures import CaseInsensitiveDict
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from urllib3 import HTTPHeaderDict, HTTPResponse

from tests.gates.conftest import demo_user
from tests.gates.discovery import openapi_document
from tests.gates.summary import record

pytestmark = [pytest.mark.gates, pytest.mark.django_db]

# Generated requests per operation (valid and invalid together; the personas share them), fixed seed.
MAX_EXAMPLES = 25
FUZZ_PERSONAS = ("commander", "sysadmin", "auditor")


BASE_URL = "http://testserver"

schema = schemathesis.openapi.from_dict(openapi_document())
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)


class DjangoClientAdapter(requests.adapters.BaseAdapter):
    """Sends requests' requests through Django's test client, in the test's thread and transaction.

    The request is encoded by ``requests`` exactly as on the wire (query parameters, bodies, cookies), so
    what the application parses is what an HTTP client would send; Django's test client then runs it
    in-process (no server thread, so the demo district loaded in the test's transaction is visible on SQLite
    and PostgreSQL alike) and returns server errors as 500 answers instead of raising."""

    def send(self, request: Any, *args: Any, **kwargs: Any) -> requests.Response:
        client = Client(
            raise_request_exception=False
        )  # fresh: no cookie carried from one request to the next
        url = urlsplit(request.url)
        body = request.body or b""
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("content-length", "host")}
        content_type = headers.pop("Content-Type", "application/octet-stream")
        answer = client.generic(
            request.method,
            url.path + (f"?{url.query}" if url.query else ""),
            data=body.encode() if isinstance(body, str) else body,
            content_type=content_type,
            headers=headers,
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(answer.items())
        response.raw = HTTPResponse(  # schemathesis reads the headers from here
            body=io.BytesIO(answer.content),
            headers=HTTPHeaderDict(answer.items()),
            status=answer.status_code,
            version=11,
            preload_content=False,
        )
        response._content = answer.content
        response.url = request.url
        response.request = request
        response.reason = answer.reason_phrase
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


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


@pytest.fixture(autouse=True)
def _fixed_constants(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixed seed fixes the requests only if Hypothesis draws from the same constants each run. Besides
    its own, Hypothesis draws from the literals of every module of this project loaded so far
    (``hypothesis.internal.conjecture.providers``), and which are loaded depends on the tests the process ran
    before (pytest-xdist hands them out as workers finish): a run of the whole suite generated requests
    that a run of this file did not. The gate draws from Hypothesis's own constants only."""
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.constants_ast import Constants

    monkeypatch.setattr(providers, "_get_local_constants", Constants)


@pytest.fixture
def personas(demo_district: None, db: None) -> list[Any]:
    return [demo_user(username) for username in FUZZ_PERSONAS]


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        http.mount(BASE_URL, DjangoClientAdapter())
        yield http


def _token(user: Any) -> str:
    from pingan.accounts.services import token_issue

    return token_issue(user=user)[0]


# status codes seen per operation and persona (var/gates/api-fuzz.txt, written by tests/gates/summary.py)
_STATUSES: dict[str, dict[str, set[int]]] = {}


def record_status(operation: str, persona: str, status: int) -> None:
    _STATUSES.setdefault(operation, {}).setdefault(persona, set()).add(status)
    record("api-fuzz", "", {"personas": list(FUZZ_PERSONAS), "max_examples": MAX_EXAMPLES})
    record("api-fuzz", operation, {p: sorted(codes) for p, codes in _STATUSES[operation].items()})


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
def test_api_operation(case: Any, personas: list[Any], session: requests.Session) -> None:
    user = persona_for(case, personas)
    # a fresh bearer token per request: DELETE /auth/token revokes the one it is called with
    response = case.call_and_validate(
        base_url=BASE_URL,
        session=session,
        headers={"Authorization": f"Bearer {_token(user)}"},
        checks=CHECKS,
    )
    record_status(case.operation.label, user.username, response.status_code)


def persona_for(case: Any, personas: list[Any]) -> Any:
    """Each generated request goes out as one of the personas, chosen from the request itself: the same
    request always as the same persona (Hypothesis replays a failure to shrink it), and the personas
    share each operation's examples."""
    body = None if isinstance(case.body, NotSet) else case.body
    key = json.dumps([case.path_parameters, case.query, body], sort_keys=True, default=repr)
    return personas[zlib.crc32(key.encode()) % len(personas)]


def test_the_fuzzed_document_is_the_served_document(demo_district: None, db: None) -> None:
    """The gate fuzzes the document the API serves at /api/v1/openapi.json, not a copy that may differ."""
    from tests.gates.conftest import signed_in_client

    response = signed_in_client("commander").get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi_document()


def test_every_schema_name_in_the_document_is_one_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-ninja files every schema under its class name and lets a later one replace an earlier one
    with the same name (two modules' ``EventOut``): the document then describes the wrong body for one of
    the operations. Each name must stand for one schema."""
    from collections import defaultdict

    from ninja.openapi.schema import OpenAPISchema

    from pingan.config.api import api

    seen: dict[str, set[str]] = defaultdict(set)
    original = OpenAPISchema.add_schema_definitions

    def recording(self: OpenAPISchema, definitions: dict[str, Any]) -> None:
        for name, definition in definitions.items():
            seen[name].add(json.dumps(definition, sort_keys=True, default=str))
        original(self, definitions)

    monkeypatch.setattr(OpenAPISchema, "add_schema_definitions", recording)
    api.get_openapi_schema()
    clashes = sorted(name for name, variants in seen.items() if len(variants) > 1)
    assert not clashes, f"several schemas share these names (rename one of each): {clashes}"
