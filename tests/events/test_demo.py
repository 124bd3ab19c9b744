"""The demo events (``pingan demo``): a few hundred events in every state, consistent timelines, work waiting
for the persona accounts, deterministic and loaded once."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.utils import timezone

from pingan.accounts.models import User
from pingan.core.demo import DemoContext
from pingan.events import selectors
from pingan.events.demo import load_events
from pingan.events.models import Event, EventStep, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db, demo_only):
    demo_only("areas", "accounts", "people", "events")
    call_command("demo", "--no-serve", stdout=io.StringIO(), stderr=io.StringIO())


def fingerprint() -> list[tuple]:
    return list(
        Event.objects.order_by("number").values_list(
            "number", "title", "category", "status", "area__code", "reported_at", "deadline", "rating"
        )
    )


def test_demo_events(demo):
    events = list(Event.objects.all())
    assert 300 <= len(events) <= 400
    statuses = Counter(e.status for e in events)
    assert set(statuses) == set(Status.values), statuses
    assert statuses[Status.CLOSED] > len(events) / 2
    assert len({e.area_id for e in events}) >= 30
    oldest = min(e.reported_at for e in events)
    assert timezone.now() - oldest <= dt.timedelta(days=183)
    assert len({e.number for e in events}) == len(events)
    for event in events:
        steps = list(EventStep.objects.filter(event=event).order_by("at", "id"))
        assert steps[0].action == "report"
        assert steps[-1].to_status == event.status or steps[-1].action in ("overdue", "rate"), event.number
        assert [s.at for s in steps] == sorted(s.at for s in steps)
        if event.status == Status.CLOSED:
            assert event.closed_at and event.closed_on_time is not None and event.handling_seconds is not None
            assert {"verify_pass", "close"} <= {s.action for s in steps}
    assert any(e.overdue for e in events) and any(e.rating for e in events)
    assert any(e.failed_verification_count for e in events) and any(e.extension_count for e in events)


def test_the_personas_have_work_waiting(demo):
    street1, handler1, grid1 = (User.objects.get(username=n) for n in ("street1", "handler1", "grid1"))
    assert selectors.triage_queue(user=street1).exists()
    assert selectors.department_queue(user=handler1).exists()
    assert selectors.my_tasks(user=grid1).exists()
    kpis = selectors.event_kpis(user=User.objects.get(username="commander")).total
    assert 0.5 < kpis.closure_rate < 1 and 0.5 < kpis.on_time_rate < 1 and kpis.avg_rating


def test_loaded_once_and_deterministic(demo):
    before = fingerprint()
    call_command("demo", "--no-serve", stdout=io.StringIO(), stderr=io.StringIO())
    assert fingerprint() == before  # a second run changes nothing
    Event.objects.all().delete()
    load_events(DemoContext(stdout=io.StringIO()))
    first = fingerprint()
    Event.objects.all().delete()
    load_events(DemoContext(stdout=io.StringIO()))
    assert fingerprint() == first
