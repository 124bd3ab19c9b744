"""Fixtures for the event loop: photos, an extra grid worker in community B1, and ``make_event`` which
walks an event through the loop to the state a test needs, as the personas who would do it:

    grid_a1 reports in grid A1-1 → street_a accepts and dispatches to 综合执法局 (dept_handler) →
    dept_handler signs and reports back → grid_a1 verifies → grid_a1 rates
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pingan.accounts.models import User
from pingan.accounts.roles import Role
from pingan.events import services
from pingan.events.models import Event
from tests.conftest import Tree
from tests.factories import UserFactory

# A real 1×1 PNG, and the start of a JPEG (the services recognise images by their first bytes).
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200 + b"\xff\xd9"

STATES = ("reported", "accepted", "refused", "dispatched", "handling", "handled", "closed")


def photo(
    name: str = "scene.jpg", data: bytes = JPEG, content_type: str = "image/jpeg"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def grid_b1(tree: Tree) -> User:
    return UserFactory(username="grid_b1", full_name="网格员乙", role=Role.GRID_WORKER, areas=[tree.b1_1])


@pytest.fixture
def make_event(request: pytest.FixtureRequest, tree: Tree) -> Callable[..., Event]:
    def make(
        state: str = "reported",
        *,
        category: str = "0102",
        area: Any = None,
        reporter: Any = None,
        department: Any = None,
        **report: Any,
    ) -> Event:
        grid_a1 = request.getfixturevalue("grid_a1")
        street_a = request.getfixturevalue("street_a")
        handler = request.getfixturevalue("dept_handler")
        data = {"title": "人行道无证摊贩", "description": "早市摊贩占用人行道，影响通行", "photos": [photo()]}
        data.update(report)
        event = services.event_report(
            actor=reporter or grid_a1, area_id=(area or tree.a1_1).pk, category=category, **data
        )
        if state == "reported":
            return event
        if state == "refused":
            return services.event_refuse(actor=street_a, event_id=event.pk, reason="重复上报")
        services.event_accept(actor=street_a, event_id=event.pk)
        if state == "accepted":
            return Event.objects.get(pk=event.pk)
        services.event_dispatch(
            actor=street_a, event_id=event.pk, department_id=(department or tree.law_enforcement).pk
        )
        if state == "dispatched":
            return Event.objects.get(pk=event.pk)
        services.event_start(actor=handler, event_id=event.pk)
        if state == "handling":
            return Event.objects.get(pk=event.pk)
        services.event_report_back(actor=handler, event_id=event.pk, note="已清理", photos=[photo()])
        if state == "handled":
            return Event.objects.get(pk=event.pk)
        services.event_verify(actor=grid_a1, event_id=event.pk, passed=True, photos=[photo()])
        assert state == "closed", state
        return Event.objects.get(pk=event.pk)

    return make
