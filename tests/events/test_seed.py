"""``pingan seed_events``: synthetic events for the benchmarks satisfy every constraint of the table."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from pingan.events.models import Event
from pingan.events.selectors import event_kpis

pytestmark = pytest.mark.django_db


def test_seed_events_builds_consistent_rows(tree, district_admin):
    out = io.StringIO()
    call_command("seed_events", events=500, stdout=out)
    call_command("seed_events", events=100, stdout=out)  # numbers continue
    events = list(Event.objects.all())
    assert len(events) == 600 and len({e.number for e in events}) == 600
    now = timezone.now()
    for e in events:
        assert e.reported_at <= now
        if e.accepted_at:
            assert e.reported_at <= e.accepted_at <= now
        if e.closed_at:
            assert e.accepted_at <= e.handled_at <= e.closed_at <= now and e.handling_seconds >= 0
    kpis = event_kpis(user=district_admin).total
    assert kpis.count == 600 and 0 < kpis.closed < 600
