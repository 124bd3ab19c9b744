"""What the gates test, found from the application itself: the OpenAPI document of the API and the
URLconf. Nothing here names a module: a new router or URL pattern is picked up as soon as it is
mounted.

Conventions the discovery relies on (docs/testing.md):

- a *list operation* is a GET without path parameters whose 200 answer is the paginated body
  ``{"items", "count", "count_capped", "page", "page_size"}`` (``core.api.Page``);
- its *object operations* are the operations on ``<list path>/{<param>}`` and below it with that single
  path parameter (detail, update, delete, actions such as ``POST /x/{id}/close``);
- an HTML page with a single ``<int:...>`` converter shows the object of the list operation whose object
  path parameter has the same name (``areas/<int:area_id>/`` ↔ ``/api/v1/areas/{area_id}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter
from django.urls.resolvers import RoutePattern

_PATH_PARAM = re.compile(r"\{([^}]+)\}")


@cache
def openapi_document() -> dict[str, Any]:
    """The document /api/v1/openapi.json serves, as JSON (status codes are strings there), built in-process
    so that collection needs no database; tests/gates/test_api_fuzz.py checks the two are equal."""
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    from pingan.config.api import api

    return json.loads(json.dumps(api.get_openapi_schema(), cls=DjangoJSONEncoder))


def resolve_ref(document: dict[str, Any], node: Any) -> Any:
    """Follow ``$ref`` (and one level of ``anyOf``/``allOf`` with a single ``$ref``) to the schema."""
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].split("/")[-1]
        node = document["components"]["schemas"][name]
    return node


@dataclass(frozen=True)
class Operation:
    method: str  # "GET"
    path: str  # "/api/v1/areas/{area_id}"
    operation_id: str
    path_params: tuple[str, ...]
    has_body: bool

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def url(self, **params: Any) -> str:
        return _PATH_PARAM.sub(lambda m: str(params[m.group(1)]), self.path)


@dataclass
class ListOperation:
    list_op: Operation
    object_param: str | None = None  # "area_id" when object operations exist
    object_ops: list[Operation] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.list_op.label


@cache
def operations() -> tuple[Operation, ...]:
    document = openapi_document()
    found = []
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            params = tuple(p["name"] for p in spec.get("parameters", []) if p.get("in") == "path")
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    operation_id=spec.get("operationId", ""),
                    path_params=params,
                    has_body="requestBody" in spec,
                )
            )
    return tuple(sorted(found, key=lambda o: (o.path, o.method)))


def _is_paginated(operation: Operation) -> bool:
    document = openapi_document()
    spec = document["paths"][operation.path][operation.method.lower()]
    content = spec.get("responses", {}).get("200", {}).get("content", {})
    schema = resolve_ref(document, content.get("application/json", {}).get("schema"))
    properties = (schema or {}).get("properties", {})
    return {"items", "count", "page", "page_size"} <= set(properties)


@cache
def list_operations() -> tuple[ListOperation, ...]:
    result = []
    for op in operations():
        if op.method != "GET" or op.path_params or not _is_paginated(op):
            continue
        entry = ListOperation(list_op=op)
        prefix = op.path.rstrip("/") + "/{"
        for other in operations():
            if other.path.startswith(prefix) and len(other.path_params) == 1:
                param = other.path_params[0]
                if not other.path.startswith(prefix + param + "}"):
                    continue
                entry.object_param = param
                entry.object_ops.append(other)
        result.append(entry)
    return tuple(result)


# --- the URLconf ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PagePattern:
    route: str  # "areas/<int:area_id>/edit/"
    name: str  # "areas:edit"
    param: str  # "area_id"

    def url(self, value: int) -> str:
        return "/" + re.sub(r"<int:" + re.escape(self.param) + ">", str(value), self.route)


def _walk(patterns: list[Any], prefix: str, namespace: str, converters: dict[str, Any]) -> list[PagePattern]:
    found: list[PagePattern] = []
    for entry in patterns:
        pattern = entry.pattern
        route = str(pattern) if isinstance(pattern, RoutePattern) else None
        if route is None:
            continue  # re_path patterns: none with an object id today
        joined_converters = {**converters, **getattr(pattern, "converters", {})}
        if isinstance(entry, URLResolver):
            ns = ":".join(filter(None, [namespace, entry.namespace or ""]))
            found.extend(_walk(entry.url_patterns, prefix + route, ns, joined_converters))
        elif isinstance(entry, URLPattern):
            full = prefix + route
            if full.startswith("api/"):
                continue  # the API is covered through the OpenAPI document
            ints = [name for name, conv in joined_converters.items() if isinstance(conv, IntConverter)]
            if len(joined_converters) == 1 and len(ints) == 1:
                name = ":".join(filter(None, [namespace, entry.name or ""]))
                found.append(PagePattern(route=full, name=name, param=ints[0]))
    return found


@cache
def object_page_patterns() -> tuple[PagePattern, ...]:
    """Every HTML URL pattern whose only parameter is one ``<int:...>``."""
    return tuple(_walk(get_resolver().url_patterns, "", "", {}))


def page_pattern_for(path: str) -> tuple[PagePattern, int] | None:
    """The object page pattern a link points to, with the id in it."""
    for pattern in object_page_patterns():
        regex = "^/" + re.escape(pattern.route).replace(re.escape(f"<int:{pattern.param}>"), r"(\d+)") + "$"
        match = re.match(regex, path)
        if match:
            return pattern, int(match.group(1))
    return None


# --- request bodies ---------------------------------------------------------------------------------


@cache
def _fuzzing_schema() -> Any:
    import schemathesis

    return schemathesis.openapi.from_dict(openapi_document())


_NO_BODY = object()


@cache
def valid_body(method: str, path: str) -> Any:
    """The simplest body the operation's schema accepts (``_NO_BODY`` when it takes none): the matrix sends
    it so that a request gets past input validation to the object lookup. Drawn by schemathesis with
    Hypothesis' ``find`` (deterministic: derandomized)."""
    from hypothesis import HealthCheck, Phase, find, settings
    from schemathesis.core import NotSet
    from schemathesis.generation import GenerationMode

    operation = _fuzzing_schema()[path][method]
    if "requestBody" not in openapi_document()["paths"][path][method.lower()]:
        return _NO_BODY
    strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    case = find(
        strategy,
        lambda c: True,
        # the first example found, not shrunk (shrinking takes seconds per operation)
        settings=settings(
            database=None, derandomize=True, phases=[Phase.generate], suppress_health_check=list(HealthCheck)
        ),
    )
    return _NO_BODY if isinstance(case.body, NotSet) else case.body


def body_for(op: Operation) -> Any:
    return valid_body(op.method, op.path)


NO_BODY = _NO_BODY


def api_list_for_page(pattern: PagePattern) -> ListOperation | None:
    """The list operation whose objects a page shows: same parameter name, and among several (``event_id``
    of the audit trail and of the grid events) the one whose path shares most words with the page's route."""
    candidates = [entry for entry in list_operations() if entry.object_param == pattern.param]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    words = set(re.findall(r"[a-z]+", pattern.route.split("<")[0]))

    def score(entry: ListOperation) -> int:  # shared words, less the API's words the page lacks
        api_words = set(re.findall(r"[a-z]+", entry.list_op.path.removeprefix("/api/v1")))
        return len(words & api_words) - len(api_words - words)

    ranked = sorted(candidates, key=score, reverse=True)
    return ranked[0] if score(ranked[0]) > score(ranked[1]) else None
