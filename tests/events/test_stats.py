"""The day statistics (events/stats.py) give exactly the live figures: on the crafted set of test_kpis, for
every grouping and the filters they accept, after a rebuild, and after changes made since (their days are
computed live until the next refresh)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from pingan.events import services, stats
from pingan.events.models import EventDayStat, EventStatsState
from pingan.events.selectors import EventFilter, event_kpis
from tests.events.test_kpis import crafted, figures  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db

CASES = [
    (None, EventFilter()),
    ("area", EventFilter()),
    ("department", EventFilter()),
    ("category", EventFilter()),
    ("period", EventFilter()),
    (None, EventFilter(reported_from=dt.date(2026, 10, 1))),
    ("period", EventFilter(reported_to=dt.date(2026, 9, 30))),
]


def snapshot(user, group_by, filters) -> dict:
    result = event_kpis(user=user, filters=filters, group_by=group_by)
    rows = {
        (r.key.strftime("%Y-%m") if hasattr(r.key, "strftime") else r.key): (
            r.label,
            figures(r),
            r.open,
            r.late,
        )
        for r in result.rows
    }
    return {"total": (figures(result.total), result.total.open, result.total.late), "rows": rows}


def used_stats(user, group_by, filters) -> bool:
    qs = event_kpis.__globals__["event_list"](user=user, filters=filters).exclude(status="merged")
    return (
        stats.kpi_values(base=qs, filters=filters, group_by=group_by, user_everything=True, area_length=9)
        is not None
    )


def test_statistics_equal_the_live_figures(crafted, district_admin, tree):  # noqa: F811
    live = {i: snapshot(district_admin, g, f) for i, (g, f) in enumerate(CASES)}
    live_area = snapshot(district_admin, "area", EventFilter(area_id=tree.street_a.pk))
    result = stats.refresh(now=timezone.now() + stats.MARGIN + dt.timedelta(seconds=5))
    assert result["rows"] > 0 and EventDayStat.objects.filter(dim="area").exists()
    for i, (g, f) in enumerate(CASES):
        assert used_stats(district_admin, g, f), (g, f)
        assert snapshot(district_admin, g, f) == live[i], (g, f)
    assert snapshot(district_admin, "area", EventFilter(area_id=tree.street_a.pk)) == live_area


def test_changes_since_the_refresh_are_counted_live(crafted, district_admin, street_a, tree):  # noqa: F811
    stats.refresh(now=timezone.now() + stats.MARGIN + dt.timedelta(seconds=5))
    EventStatsState.objects.filter(pk=1).update(watermark=timezone.now() - dt.timedelta(seconds=1))
    services.event_accept(actor=district_admin, event_id=crafted[5].pk)  # E5: reported → accepted
    with_stats = {i: snapshot(district_admin, g, f) for i, (g, f) in enumerate(CASES)}
    assert with_stats[0]["total"][0]["accepted"] == 7  # 6 + E5
    EventStatsState.objects.all().delete()  # the live path
    for i, (g, f) in enumerate(CASES):
        assert snapshot(district_admin, g, f) == with_stats[i], (g, f)
    assert stats.refresh()["days"] == -1  # no state: a full rebuild


def test_not_used_when_it_could_differ(crafted, street_a, district_admin):  # noqa: F811
    stats.refresh(now=timezone.now() + stats.MARGIN + dt.timedelta(seconds=5))
    assert not stats._usable(False, EventFilter(), None)  # a street user (scope, reporter, department)
    assert not stats._usable(True, EventFilter(status=["closed"]), None)
    assert not stats._usable(True, EventFilter(category="01"), "area")
    assert not stats._usable(True, EventFilter(area_id=1), "department")
    assert stats._usable(True, EventFilter(area_id=1), "area")
    # a street user's figures are still right (live)
    assert event_kpis(user=street_a).total.count == 5
