"""Nothing answers an anonymous caller unless it is declared public.

Every URL pattern reachable from the root URLconf (through every include, the API's patterns under
/api/v1/ too) is requested anonymously with GET and POST. A page passes when it is declared public
(``django.contrib.auth.decorators.login_not_required``, i.e. ``login_required = False`` on the
callback) or when it refuses: a redirect to the login page, or 401. For the API, only the
(method, path) pairs in ``pingan.config.api.PUBLIC_OPERATIONS`` count as public, because the API
patterns all opt out of LoginRequiredMiddleware to answer 401 themselves.

The lists are built from the URLconf and the OpenAPI schema at collection time: a new endpoint is
covered without touching this file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, converters, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

from pingan.config.api import PUBLIC_OPERATIONS, api

pytestmark = pytest.mark.django_db

API_NAMESPACE = api.urls_namespace
# ninja's anchor for computing the API's root path; it raises Http404 for every caller.
API_ROOT_NAME = "api-root"

_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_SAMPLES = ("1", "x", "00000000-0000-0000-0000-000000000001", "2024")


@dataclass(frozen=True)
class Endpoint:
    route: str  # as Django spells it: "areas/<int:area_id>/"
    path: str  # a concrete path: "/areas/1/"
    template: str  # as OpenAPI spells it: "/areas/{area_id}/"
    name: str
    is_api: bool
    public_view: bool  # login_required = False on the callback


def _sample_for(converter: Any) -> str:
    by_type = {
        converters.IntConverter: "1",
        converters.StringConverter: "x",
        converters.SlugConverter: "x",
        converters.PathConverter: "x",
        converters.UUIDConverter: _SAMPLES[2],
    }
    if type(converter) in by_type:
        return by_type[type(converter)]
    for candidate in _SAMPLES:
        if re.fullmatch(converter.regex, candidate):
            return candidate
    raise AssertionError(f"no sample value for the path converter {converter!r}: add one to _SAMPLES")


def _concrete(pattern: RoutePattern | RegexPattern) -> tuple[str, str, str]:
    if isinstance(pattern, RoutePattern):
        route = str(pattern)
        by_name = pattern.converters

        def fill(match: re.Match[str]) -> str:
            return _sample_for(by_name[match["name"]])

        return route, _PARAM.sub(fill, route), _PARAM.sub(lambda m: "{" + m["name"] + "}", route)
    regex = pattern.regex.pattern
    assert not pattern.regex.groups, f"re_path with groups is not supported by this walk yet: {regex}"
    plain = regex.removeprefix("^").removesuffix("$").replace("\\", "")
    return regex, plain, plain


def walk(
    patterns: list[Any] | None = None,
    prefix: tuple[str, str, str] = ("", "", ""),
    namespaces: tuple[str, ...] = (),
) -> list[Endpoint]:
    found: list[Endpoint] = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route, path, template = _concrete(entry.pattern)
        joined = (prefix[0] + route, prefix[1] + path, prefix[2] + template)
        if isinstance(entry, URLResolver):
            found.extend(walk(entry.url_patterns, joined, (*namespaces, entry.namespace or "")))
        else:
            assert isinstance(entry, URLPattern)
            found.append(
                Endpoint(
                    route=joined[0],
                    path="/" + joined[1],
                    template="/" + joined[2],
                    name=entry.name or "",
                    is_api=API_NAMESPACE in namespaces,
                    public_view=getattr(entry.callback, "login_required", True) is False,
                )
            )
    return found


def _unique(endpoints: list[Endpoint]) -> list[Endpoint]:
    """Several API operations share one pattern path (GET and POST /areas): request each path once."""
    seen: dict[str, Endpoint] = {}
    for endpoint in endpoints:
        seen.setdefault(endpoint.path, endpoint)
    return list(seen.values())


ENDPOINTS = _unique(walk())


def _openapi_operations() -> dict[tuple[str, str], dict[str, Any]]:
    schema = api.get_openapi_schema()
    return {
        (method.upper(), path): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


OPERATIONS = _openapi_operations()


def _is_login_redirect(response: Any) -> bool:
    if response.status_code not in (301, 302, 303, 307, 308):
        return False
    return urlparse(response["Location"]).path == resolve_url(settings.LOGIN_URL)


def test_the_walk_finds_pages_and_the_api():
    paths = {e.path for e in ENDPOINTS}
    assert {"/", "/areas/", "/areas/1/", "/accounts/login/", "/api/v1/areas", "/api/v1/areas/x"} <= paths
    assert any(e.is_api for e in ENDPOINTS)
    assert not any(e.is_api for e in ENDPOINTS if e.path.startswith("/areas/"))


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.path)
def test_concrete_paths_resolve_to_their_pattern(endpoint):
    match = resolve(endpoint.path)
    assert match.route == endpoint.route or _PARAM.sub("", match.route) == _PARAM.sub("", endpoint.route)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.path)
def test_anonymous_callers_are_refused_unless_public(endpoint, method):
    response = Client().generic(method, endpoint.path)  # an exception here fails the test (no 500s)
    assert response.status_code < 500

    if not endpoint.is_api:
        if endpoint.public_view:
            return  # declared public with login_not_required
        assert _is_login_redirect(response), (
            f"{method} {endpoint.path} answered {response.status_code} to an anonymous caller; "
            f"refuse it (LoginRequiredMiddleware) or mark the view login_not_required"
        )
        return

    if (method, endpoint.template) in PUBLIC_OPERATIONS:
        return
    if endpoint.name == API_ROOT_NAME:
        assert response.status_code == 404
        return
    operations_here = {m for (m, path) in OPERATIONS if path == endpoint.template}
    if operations_here and method not in operations_here:
        assert response.status_code in (401, 405), (method, endpoint.path, response.status_code)
        return
    assert response.status_code == 401, (
        f"{method} {endpoint.path} answered {response.status_code} to an anonymous caller; "
        f"API operations need auth unless listed in PUBLIC_OPERATIONS"
    )
    assert response.json()["error"]["code"] == "unauthenticated"
    assert not _is_login_redirect(response)


@pytest.mark.parametrize("operation", sorted(OPERATIONS), ids=lambda o: f"{o[0]} {o[1]}")
def test_every_api_operation_refuses_anonymous_callers_with_its_own_method(operation):
    method, template = operation
    path = re.sub(r"\{[^}]+\}", "1", template)
    response = Client().generic(method, path, "{}", content_type="application/json")
    if operation in PUBLIC_OPERATIONS:
        assert response.status_code < 500
    else:
        assert response.status_code == 401, (method, path, response.status_code)


def test_api_operations_have_auth_unless_listed_public():
    without_auth = {key for key, operation in OPERATIONS.items() if not operation.get("security")}
    assert without_auth <= PUBLIC_OPERATIONS, (
        f"operations without auth: {sorted(without_auth - PUBLIC_OPERATIONS)}"
    )


def test_public_operations_exist_and_are_really_public():
    missing = PUBLIC_OPERATIONS - set(OPERATIONS)
    assert not missing, f"PUBLIC_OPERATIONS lists operations that do not exist: {sorted(missing)}"
    guarded = {key for key in PUBLIC_OPERATIONS if OPERATIONS[key].get("security")}
    assert not guarded, f"PUBLIC_OPERATIONS lists operations that require auth: {sorted(guarded)}"


def test_every_api_operation_is_mounted_in_the_root_urlconf():
    templates = {e.template for e in walk() if e.is_api}
    assert {path for _, path in OPERATIONS} <= templates


def test_public_pages_are_few_and_known():
    """Not a gate (new public pages need no edit here), a record: the public surface as it stands."""
    public = sorted(e.path for e in ENDPOINTS if e.public_view and not e.is_api)
    assert "/accounts/login/" in public
    assert "/" not in public
    assert all(not p.startswith(("/areas/", "/accounts/users/", "/codes/", "/search/")) for p in public), (
        public
    )
