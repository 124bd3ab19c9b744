"""Gate: the cross-jurisdiction matrix (object-level authorization), on the demo district.

Personas: A = ``community1`` (滦水里社区, 挂甲寺街), B = ``community2`` (粤江里社区, 东海街 — another street),
D = ``handler1`` (a department, 河西区综合执法局). The matrix runs both ways (A's objects against B and D,
then B's against A and D), and the same for the assistance officers ``assist1`` (挂甲寺街 and its judicial
office) and ``assist2`` (东海街), the only business role besides leaders that sees the casework modules
(安置帮教, 社区矫正).

For every list operation of the API (GET without path parameters answering ``{"items", ...}``; see
tests/gates/discovery.py) and every persona, the whole list is fetched. Then:

1. **B's lists hold none of A's objects.** An object of A's list is A's when it lies in A's street (its
   ``area_id``/``area_code``, or the node itself for the jurisdiction tree) or, when it names no area,
   always. Reference data (``pingan.core.reference.REFERENCE_OPERATIONS``) is exempt.
2. **Every object A sees that B or D does not** answers 404 to B and D on every object operation of
   the list (detail, update, delete, actions; each with the simplest body its schema accepts, so that it
   reaches the object lookup), and those requests change nothing in the database. Reads are tried on up
   to ``MAX_READS`` such objects, writes and actions on up to ``MAX_WRITES`` (spread over the list). An
   operation that refuses before looking the object up passes when its answer is exactly the one an id
   that does not exist gets (nothing leaks); var/gates/matrix.txt lists those.
3. **Lists and details agree**: every object in a persona's list opens (200) for that persona.
4. **HTML pages** with one ``<int:...>`` parameter: the ids A sees (from the API list whose object
   parameter has the same name, and from the links on A's navigable pages) answer 404 to B and D — or
   the same refusal they give for an id that does not exist (a page B may not use at all) — to GET and
   POST, and change nothing.

The count of (operation × persona) pairs checked is printed at the end of the run and written with the
details to var/gates/matrix.txt.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.test import Client

from pingan.core.reference import REFERENCE_OPERATIONS
from tests.gates.conftest import ASSIST_B, COMMUNITY_B, demo_user, signed_in_client
from tests.gates.discovery import (
    NO_BODY,
    ListOperation,
    Operation,
    PagePattern,
    api_list_for_page,
    body_for,
    list_operations,
    object_page_patterns,
    page_pattern_for,
)
from tests.gates.summary import record

pytestmark = [pytest.mark.gates, pytest.mark.matrix, pytest.mark.django_db]

A, B, D = "community1", COMMUNITY_B[0], "handler1"
# Both directions: community1's objects against community2, and community2's against community1.
DIRECTIONS = [(A, B), (B, A), ("assist1", ASSIST_B[0]), (ASSIST_B[0], "assist1")]
MISSING_ID = 2**31 - 7  # an id no demo row has
PAGE_SIZE = 200
MAX_ITEMS = 5000  # per list and persona
MAX_CONSISTENCY = 15  # details opened per list and persona for check 3
# Objects requested per object operation and persona (spread over the list): every read on up to
# MAX_READS of the other community's objects, every write or action on up to MAX_WRITES.
MAX_READS = 40
MAX_WRITES = 8

# Bookkeeping a refused request may write (the audit trail records refusals; sessions and tokens
# are touched by every request). Everything else must be byte-for-byte unchanged.
VOLATILE_MODELS = {
    "audit.*",
    "sessions.Session",
    "accounts.UserSession",
    "accounts.LoginAttempt",
    "accounts.ApiToken",
    "django_tasks_database.DBTaskResult",
}
VOLATILE_FIELDS = {"accounts.User": {"last_login"}}


# --- the database snapshot -------------------------------------------------------------------------


def _volatile(label: str) -> bool:
    app_label = label.split(".")[0]
    return label in VOLATILE_MODELS or f"{app_label}.*" in VOLATILE_MODELS


def snapshot() -> dict[str, str]:
    """A digest per model of every row (volatile bookkeeping excluded)."""
    digests = {}
    for model in apps.get_models():
        label = model._meta.label
        if _volatile(label) or not model._meta.managed or model._meta.proxy:
            continue
        skip = VOLATILE_FIELDS.get(label, set())
        fields = [f.attname for f in model._meta.concrete_fields if f.name not in skip]
        rows = model._default_manager.order_by("pk").values_list(*fields)
        digest = hashlib.sha256()
        for row in rows.iterator():
            digest.update(repr(row).encode())
        digests[label] = digest.hexdigest()
    return digests


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(label for label in before.keys() | after.keys() if before.get(label) != after.get(label))


# --- answers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What a response tells: its status and where it redirects (the requested id taken out)."""

    status: int
    location: str


def answer(response: Any, object_id: Any) -> Answer:
    location = response.get("Location", "") if response.status_code in (301, 302, 303, 307, 308) else ""
    return Answer(response.status_code, location.replace(f"/{object_id}/", "/{id}/"))


def spread(ids: list[Any], limit: int) -> list[Any]:
    """Up to ``limit`` ids taken evenly across the list (first and last included)."""
    if len(ids) <= limit:
        return ids
    step = (len(ids) - 1) / (limit - 1)
    return [ids[round(i * step)] for i in range(limit)]


# --- personas and their lists ----------------------------------------------------------------------


@dataclass
class Tally:
    pairs: set[tuple[str, str]] = field(default_factory=set)
    requests: int = 0
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # object operations that answered the same refusal for other's objects as for a missing id (they
    # refuse before looking the object up: nothing leaks, but the lookup itself was not exercised)
    refused_before_lookup: set[str] = field(default_factory=set)

    def checked(self, operation: str, persona: str, requests: int = 1) -> None:
        self.pairs.add((operation, persona))
        self.requests += requests

    def fail(self, message: str) -> None:
        self.problems.append(message)


def fetch_list(client: Client, op: Operation) -> tuple[int, list[dict[str, Any]]]:
    """All items of a list (every page); (status, items). 404: the persona may not use this list."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        response = client.get(op.path, {"page": page, "page_size": PAGE_SIZE})
        if response.status_code != 200:
            return response.status_code, items
        body = response.json()
        items.extend(body["items"])
        counted = len(items) >= body["count"] and not body.get("count_capped")  # a capped count: read on
        if counted or not body["items"] or len(items) >= MAX_ITEMS:
            return 200, items
        page += 1


def street_codes(username: str) -> set[str]:
    """The streets (9-digit codes) of the persona's area memberships and departments' areas."""
    from pingan.accounts.selectors import user_scope

    return {code[:9] for code in user_scope(demo_user(username)).root_codes if len(code) >= 9}


_AREA_CODES: dict[int, str] = {}


def area_code(area_id: Any) -> str | None:
    from pingan.areas.models import Area

    if not isinstance(area_id, int):
        return None
    if area_id not in _AREA_CODES:
        _AREA_CODES[area_id] = Area.objects.filter(pk=area_id).values_list("code", flat=True).first() or ""
    return _AREA_CODES[area_id] or None


def location(entry: ListOperation, item: dict[str, Any]) -> str | None:
    """The area code an object lies in, when the item says."""
    if entry.object_param == "area_id" and "code" in item:
        return str(item["code"])  # the jurisdiction tree: the node itself
    if isinstance(item.get("area_code"), str) and item["area_code"]:
        return str(item["area_code"])
    if "area_id" in item:
        return area_code(item["area_id"])
    area = item.get("area")
    if isinstance(area, dict):
        return str(area["code"]) if "code" in area else area_code(area.get("id"))
    if isinstance(area, int):
        return area_code(area)
    return None


def is_own_object(entry: ListOperation, item: dict[str, Any], streets: set[str]) -> bool:
    """An object of A's list that is A's own: in A's street, or naming no area at all."""
    code = location(entry, item)
    return code is None or any(code.startswith(street) for street in streets)


def object_request(client: Client, op: Operation, object_id: Any) -> Any:
    """The operation on one object, with the simplest body its schema accepts (so that the request gets
    past input validation to the object lookup)."""
    url = op.url(**{op.path_params[0]: object_id})
    body = body_for(op)
    if body is NO_BODY:
        return client.generic(op.method, url)
    return client.generic(op.method, url, json.dumps(body), content_type="application/json")


# --- the matrix ------------------------------------------------------------------------------------


def check_api(clients: dict[str, Client], a: str, b: str, tally: Tally) -> dict[str, dict[str, set[Any]]]:
    """Checks 1–3; returns the ids each persona sees per list operation (for the pages)."""
    seen: dict[str, dict[str, set[Any]]] = defaultdict(lambda: defaultdict(set))
    others_hidden: dict[str, list[tuple[ListOperation, list[Any]]]] = {b: [], D: []}
    a_streets = street_codes(a)
    for entry in list_operations():
        label = entry.label
        reference = label in REFERENCE_OPERATIONS
        lists: dict[str, list[dict[str, Any]]] = {}
        for persona, client in clients.items():
            status, items = fetch_list(client, entry.list_op)
            tally.checked(label, persona, requests=max(1, -(-len(items) // PAGE_SIZE)))
            if status not in (200, 404):
                tally.fail(f"{label} as {persona}: {status} (expected 200, or 404: a list not for the role)")
            lists[persona] = items
            if entry.object_param:
                seen[label][persona].update(item.get("id") for item in items)
        ids = {persona: {item.get("id") for item in items} for persona, items in lists.items()}
        own = [item for item in lists[a] if is_own_object(entry, item, a_streets)]
        tally.lines.append(
            f"{label}: {a} sees {len(lists[a])} ({len(own)} of its own), "
            f"{b} {len(lists[b])}, {D} {len(lists[D])}"
            + (" — reference data" if reference else "")
            + ("" if entry.object_ops else " — no object operations")
        )

        # 1. B's list holds none of A's own objects
        if not reference:
            leaked = sorted({item.get("id") for item in own} & ids[b], key=str)
            if leaked:
                tally.fail(f"{label}: {b} (another street) lists objects of {a}'s street: ids {leaked[:20]}")

        for persona in (b, D):
            hidden = sorted({item.get("id") for item in lists[a]} - ids[persona], key=str)
            if hidden and not reference:
                others_hidden[persona].append((entry, hidden))

        # 3. what a persona lists, it can open
        detail = next((op for op in entry.object_ops if op.method == "GET" and op.path.endswith("}")), None)
        if detail is None:
            continue
        for persona, items in lists.items():
            sample = [item.get("id") for item in items[:MAX_CONSISTENCY]]
            for object_id in sample:
                response = object_request(clients[persona], detail, object_id)
                if response.status_code != 200:
                    tally.fail(
                        f"{detail.label} as {persona}: listed object {object_id} gives {response.status_code}"
                    )
            if sample:
                tally.checked(detail.label, persona, requests=len(sample))

    # 2. objects A sees and another persona does not: 404 everywhere, nothing changes
    for persona, batches in others_hidden.items():
        before = snapshot()
        for entry, hidden in batches:
            check_object_operations(clients[persona], persona, a, entry, hidden, tally)
        changed = changed_tables(before, snapshot())
        if changed:
            tally.fail(f"API requests of {persona} on {a}'s objects changed {', '.join(changed)}")
    return seen


def check_object_operations(
    client: Client, persona: str, a: str, entry: ListOperation, hidden: list[Any], tally: Tally
) -> None:
    for op in entry.object_ops:
        sample = spread(hidden, MAX_READS if op.method == "GET" else MAX_WRITES)
        missing: Answer | None = None  # the answer for an id that does not exist, when needed
        for object_id in sample:
            response = object_request(client, op, object_id)
            if response.status_code == 404:
                if response.json().get("error", {}).get("code") != "not_found":
                    tally.fail(f"{op.label} as {persona}: 404 without the not_found error body")
                continue
            missing = missing or answer(object_request(client, op, MISSING_ID), MISSING_ID)
            if answer(response, object_id) == missing and missing.status >= 400:
                tally.refused_before_lookup.add(f"{op.label} as {persona}: {missing.status}")
                continue
            tally.fail(
                f"{op.label} as {persona} on {a}'s object {object_id}: {response.status_code}, "
                f"expected 404 (a missing id answers {missing.status})"
            )
        tally.checked(op.label, persona, requests=len(sample))


_HREF = re.compile(r'href="(/[^"#?]*)')


def linked_objects(client: Client, username: str) -> dict[PagePattern, set[int]]:
    """Object pages linked from the persona's home page and navigable pages."""
    from pingan.core.navigation import nav_for

    urls = ["/"] + [item["url"] for section in nav_for(demo_user(username), "/") for item in section["items"]]
    found: dict[PagePattern, set[int]] = defaultdict(set)
    for url in dict.fromkeys(urls):
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for href in _HREF.findall(response.content.decode()):
            match = page_pattern_for(href)
            if match:
                found[match[0]].add(match[1])
    return found


def check_pages(
    clients: dict[str, Client], a: str, b: str, api_seen: dict[str, dict[str, set[Any]]], tally: Tally
) -> None:
    links = {persona: linked_objects(client, persona) for persona, client in clients.items()}
    before = {persona: snapshot() for persona in (b, D)}
    for pattern in object_page_patterns():
        listing = api_list_for_page(pattern)
        from_api = api_seen.get(listing.label, {}) if listing else {}

        def visible(persona: str, pattern: PagePattern = pattern, from_api: Any = from_api) -> set[Any]:
            return from_api.get(persona, set()) | links[persona].get(pattern, set())

        a_ids = visible(a)
        source = f"{listing.label} and links" if listing else "links"
        tally.lines.append(
            f"page {pattern.route} ({pattern.name}): {a} sees {len(a_ids)} ids"
            + (f" via {source}" if a_ids else " — not exercised (no ids)")
        )
        for persona in (b, D):
            hidden = sorted(a_ids - visible(persona), key=str)
            if not hidden:
                continue
            client = clients[persona]
            missing = {
                m: answer(client.generic(m, pattern.url(MISSING_ID)), MISSING_ID) for m in ("GET", "POST")
            }
            for method, limit in (("GET", MAX_READS), ("POST", MAX_WRITES)):
                sample = spread(hidden, limit)
                for object_id in sample:
                    got = answer(client.generic(method, pattern.url(object_id)), object_id)
                    # 404, or exactly what a missing id gets (a page the role may not use at all: 403; a
                    # POST-only action sending a GET back to the detail page: the same redirect)
                    if got.status != 404 and got != missing[method]:
                        tally.fail(
                            f"{method} /{pattern.route} as {persona} on {a}'s object {object_id}: "
                            f"{got.status}, expected 404 (a missing id answers {missing[method].status})"
                        )
                tally.checked(f"{method} /{pattern.route}", persona, requests=len(sample) + 1)
    for persona, digest in before.items():
        changed = changed_tables(digest, snapshot())
        if changed:
            tally.fail(f"page requests of {persona} on {a}'s objects changed {', '.join(changed)}")


def record_tally(a: str, b: str, tally: Tally) -> None:
    """The direction's results for the summary and var/gates/matrix.txt (tests/gates/summary.py)."""
    record(
        "matrix",
        f"{a}-vs-{b}",
        {
            "a": a,
            "b": b,
            "d": D,
            "pairs": sorted(tally.pairs),
            "requests": tally.requests,
            "lines": tally.lines,
            "problems": tally.problems,
            "refused": sorted(tally.refused_before_lookup),
        },
    )


@pytest.mark.parametrize(("a", "b"), DIRECTIONS, ids=[f"{a}-vs-{b}" for a, b in DIRECTIONS])
def test_cross_jurisdiction_matrix(demo_district: None, a: str, b: str) -> None:
    _AREA_CODES.clear()
    clients = {persona: signed_in_client(persona) for persona in (a, b, D)}
    assert street_codes(a).isdisjoint(street_codes(b)), "the community personas must be in different streets"
    tally = Tally()
    api_seen = check_api(clients, a, b, tally)
    check_pages(clients, a, b, api_seen, tally)
    record_tally(a, b, tally)
    assert tally.pairs, "the matrix found nothing to check"
    assert not tally.problems, "\n".join(tally.problems)


def test_the_matrix_sees_the_demo_jurisdiction(demo_district: None) -> None:
    """The gate is only as good as its data: A must see objects of its own in the jurisdiction tree,
    and the discovery must find the list operations and object pages."""
    _AREA_CODES.clear()
    entries = {entry.label: entry for entry in list_operations()}
    assert "GET /api/v1/areas" in entries and entries["GET /api/v1/areas"].object_param == "area_id"
    assert any(p.name == "areas:detail" for p in object_page_patterns())
    status, items = fetch_list(signed_in_client(A), entries["GET /api/v1/areas"].list_op)
    assert status == 200 and items
    assert all(is_own_object(entries["GET /api/v1/areas"], item, street_codes(A)) for item in items)
