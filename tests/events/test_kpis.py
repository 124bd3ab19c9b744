"""The KPI definitions on a crafted set of eight events, every figure computed by hand.

    #  grid   category dept      reported   state      on time verif/failed ext  handling rating
    E1 A1-1   0102     law       2026-09    closed     yes     1/0          no   10 h     5
    E2 A1-1   0104     law       2026-09    closed     no      2/1          yes  30 h     3
    E3 A1-2   0102     judicial  2026-10    closed     yes     1/0          no   20 h     —
    E4 A1-2   0501     judicial  2026-10    handling   —       1/1          yes  —        —
    E5 B1-1   0501     —         2026-10    reported   —       —            —    —        —
    E6 B1-1   0104     —         2026-10    refused    —       —            —    —        —
    E7 B1-1   0102     judicial  2026-10    closed     yes     1/0          no   8 h      4
    E8 A1-1   0102     —         2026-09    accepted   —       —            —    —        —

Whole district: 8 events, 6 accepted (E1–E4, E7, E8), 4 closed → 结案率 4/6; 3 on time → 按期结案率 3/4;
verifications 6, failed 2 → 返工率 2/6; extended 2 → 延期率 2/6; handling (10+30+20+8)/4 = 17 h;
3 rated, mean (5+3+4)/3 = 4.0, satisfied (4 or 5) 2/3.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from pingan.events.models import Event
from pingan.events.selectors import EventFilter, event_kpis

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
HOUR = 3600


@pytest.fixture
def crafted(tree):
    law, judicial = tree.law_enforcement, tree.judicial_a

    def make(
        n, grid, category, dept, month, status, *, on_time=None, verif=(0, 0), ext=0, hours=None, rating=None
    ):
        reported = dt.datetime(2026, month, 10 + n, 9, 0, tzinfo=SHANGHAI)
        accepted = None if status in ("reported", "refused") else reported + dt.timedelta(hours=1)
        working = status in ("dispatched", "handling", "handled", "closed")
        closed = accepted + dt.timedelta(hours=hours) if status == "closed" else None
        return Event.objects.create(
            number=f"E{n}",
            title=f"E{n}",
            description="-",
            category=category,
            source="grid_worker",
            area=grid,
            owner=tree.street_a if grid.code.startswith(tree.street_a.code) else tree.street_b,
            status=status,
            reported_at=reported,
            accepted_at=accepted,
            closed_at=closed,
            assignee_department=dept,
            deadline=(reported + dt.timedelta(days=30)) if working else None,
            closed_on_time=on_time,
            verification_count=verif[0],
            failed_verification_count=verif[1],
            extension_count=ext,
            extension_days=2 * ext,
            handling_seconds=None if hours is None else hours * HOUR,
            rating=rating,
        )

    return {
        1: make(1, tree.a1_1, "0102", law, 9, "closed", on_time=True, verif=(1, 0), hours=10, rating=5),
        2: make(
            2, tree.a1_1, "0104", law, 9, "closed", on_time=False, verif=(2, 1), ext=1, hours=30, rating=3
        ),
        3: make(3, tree.a1_2, "0102", judicial, 10, "closed", on_time=True, verif=(1, 0), hours=20),
        4: make(4, tree.a1_2, "0501", judicial, 10, "handling", verif=(1, 1), ext=1),
        5: make(5, tree.b1_1, "0501", None, 10, "reported"),
        6: make(6, tree.b1_1, "0104", None, 10, "refused"),
        7: make(7, tree.b1_1, "0102", judicial, 10, "closed", on_time=True, verif=(1, 0), hours=8, rating=4),
        8: make(8, tree.a1_1, "0102", None, 9, "accepted"),
    }


def figures(row) -> dict:
    data = row.as_dict()
    return {
        k: data[k]
        for k in (
            "count",
            "accepted",
            "closed",
            "closed_on_time",
            "verifications",
            "failed_verifications",
            "extended",
            "rated",
            "satisfied",
            "closure_rate",
            "on_time_rate",
            "rework_rate",
            "extension_rate",
            "avg_handling_hours",
            "avg_rating",
            "satisfaction_rate",
        )
    }


def test_district_totals(crafted, district_admin):
    total = event_kpis(user=district_admin).total
    assert figures(total) == {
        "count": 8,
        "accepted": 6,
        "closed": 4,
        "closed_on_time": 3,
        "verifications": 6,
        "failed_verifications": 2,
        "extended": 2,
        "rated": 3,
        "satisfied": 2,
        "closure_rate": 0.6667,
        "on_time_rate": 0.75,
        "rework_rate": 0.3333,
        "extension_rate": 0.3333,
        "avg_handling_hours": 17.0,
        "avg_rating": 4.0,
        "satisfaction_rate": 0.6667,
    }
    assert total.open == 3  # E4, E5, E8


def test_by_street(crafted, district_admin):
    result = event_kpis(user=district_admin, group_by="area")
    rows = {r.label: figures(r) for r in result.rows}
    assert set(rows) == {"挂甲寺街", "东海街"}
    assert rows["挂甲寺街"] == {
        "count": 5,
        "accepted": 5,
        "closed": 3,
        "closed_on_time": 2,
        "verifications": 5,
        "failed_verifications": 2,
        "extended": 2,
        "rated": 2,
        "satisfied": 1,
        "closure_rate": 0.6,
        "on_time_rate": 0.6667,
        "rework_rate": 0.4,
        "extension_rate": 0.4,
        "avg_handling_hours": 20.0,
        "avg_rating": 4.0,
        "satisfaction_rate": 0.5,
    }
    assert rows["东海街"] == {
        "count": 3,
        "accepted": 1,
        "closed": 1,
        "closed_on_time": 1,
        "verifications": 1,
        "failed_verifications": 0,
        "extended": 0,
        "rated": 1,
        "satisfied": 1,
        "closure_rate": 1.0,
        "on_time_rate": 1.0,
        "rework_rate": 0.0,
        "extension_rate": 0.0,
        "avg_handling_hours": 8.0,
        "avg_rating": 4.0,
        "satisfaction_rate": 1.0,
    }


def test_by_community_below_a_chosen_street(crafted, district_admin, tree):
    result = event_kpis(user=district_admin, filters=EventFilter(area_id=tree.street_a.pk), group_by="area")
    assert [(r.label, r.count) for r in result.rows] == [("滦水里社区", 5)]
    result = event_kpis(user=district_admin, filters=EventFilter(area_id=tree.a1.pk), group_by="area")
    assert [(r.label, r.count, r.closed) for r in result.rows] == [
        ("滦水里第1网格", 3, 2),
        ("滦水里第2网格", 2, 1),
    ]


def test_by_department(crafted, district_admin):
    rows = {r.label: r for r in event_kpis(user=district_admin, group_by="department").rows}
    assert {k: (r.count, r.closed, r.closed_on_time) for k, r in rows.items()} == {
        "综合执法局": (2, 2, 1),
        "挂甲寺街司法所": (3, 2, 2),
        "非部门办理（派往社区、网格，或未派遣）": (3, 0, 0),
    }
    assert rows["综合执法局"].avg_handling_hours == 20.0 and rows["综合执法局"].rework_rate == pytest.approx(
        1 / 3, 1e-3
    )


def test_by_category_and_period(crafted, district_admin):
    by_category = {r.label: r.count for r in event_kpis(user=district_admin, group_by="category").rows}
    assert by_category == {"城市管理": 6, "矛盾纠纷": 2}
    by_month = {r.label: (r.count, r.closed) for r in event_kpis(user=district_admin, group_by="period").rows}
    assert by_month == {"2026-09": (3, 2), "2026-10": (5, 2)}


def test_filters_and_scope(crafted, street_a, community_b1, district_admin):
    assert event_kpis(user=street_a).total.count == 5
    assert figures(event_kpis(user=community_b1).total)["closure_rate"] == 1.0
    october = EventFilter(reported_from=dt.date(2026, 10, 1), reported_to=dt.date(2026, 10, 31))
    total = event_kpis(user=district_admin, filters=october).total
    assert (total.count, total.accepted, total.closed) == (5, 3, 2)
    assert event_kpis(user=district_admin, filters=EventFilter(category="0102")).total.count == 4


def test_empty_sets_have_no_rates(tree, district_admin):
    total = event_kpis(user=district_admin).total
    assert total.count == 0 and total.closure_rate is None and total.avg_rating is None


def test_unknown_grouping(district_admin):
    with pytest.raises(ValueError):
        event_kpis(user=district_admin, group_by="weather")
