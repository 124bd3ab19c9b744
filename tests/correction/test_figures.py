"""The figures on a crafted set, computed by hand (period 2025 H1, as of 2026-01-15).

Community A1 (officer_a1's):
- C1: judgment 2025-01-05 (deadline 01-15), reported 01-10 (in time). Check-ins 02-05 (due 02-09, on time),
  03-20 (due 03-07, late), 04-15 (due 04-19, on time) → next due 05-15, passed with none (missed).
  Visits 02-15 (due 02-09, late), 03-10 (due 03-17, on time) → next due 04-09 passed (missed).
- C2: judgment 2025-02-01 (deadline 02-11), reported 02-20 (late = 漏管). Re-offence 2025-04-01; revoked
  (收监执行) 2025-04-10.
- C3: judgment 2025-06-25 (deadline 07-05: outside the period), not reported.
- C4: judgment 2024-12-20 (deadline 2024-12-30: before the period), period to 2025-03-01, completed then.
- C5: 2024, completed 2024-12-31: not in correction during the period.
Community B1: C6 judgment 2025-03-01 (deadline 03-11), never reported.

By hand, for officer_a1:
- in correction: C1, C2, C3, C4 = 4; received in period: C1, C2 = 2; terminated: revoked 1, completed 1
- reception due: C1, C2 = 2; missed: C2 = 1 → 漏管率 50.0%
- check-ins: made 3, on time 2, missed 1 → 2 / 4 = 50.0%
- visits: made 2, on time 1, missed 1 → 1 / 3 = 33.3%
- re-offending: 1 / 4 = 25.0%
For the district (C6 added): reception due 3, missed 2 → 66.7%; in correction 5 → re-offending 20.0%.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from python_calamine import CalamineWorkbook

from pingan.audit.models import AuditEvent
from pingan.correction import exports, selectors, services

D = dt.date
START, END, TODAY = D(2025, 1, 1), D(2025, 6, 30), D(2026, 1, 15)


@pytest.fixture
def crafted(tree, officer_a1, officer_b1, judicial_a, new_client):
    a = officer_a1
    c1 = new_client(
        a,
        seq=1,
        judgment_effective_date=D(2025, 1, 5),
        start_date=D(2025, 1, 5),
        end_date=D(2026, 1, 4),
        reported_on=D(2025, 1, 10),
    )
    for day in (D(2025, 2, 5), D(2025, 3, 20), D(2025, 4, 15)):
        services.checkin_record(actor=a, client_id=c1.pk, data={"date": day})
    for day in (D(2025, 2, 15), D(2025, 3, 10)):
        services.visit_record(
            actor=a, client_id=c1.pk, data={"date": day, "visitors": "甲", "content": "走访"}
        )
    c2 = new_client(
        a,
        seq=2,
        judgment_effective_date=D(2025, 2, 1),
        start_date=D(2025, 2, 1),
        end_date=D(2025, 8, 1),
        reported_on=D(2025, 2, 20),
    )
    services.reoffence_add(actor=a, client_id=c2.pk, data={"date": D(2025, 4, 1), "offence": "盗窃罪"})
    services.client_terminate(
        actor=judicial_a, client_id=c2.pk, kind="revoked", date=D(2025, 4, 10), note="重新犯罪收监"
    )
    new_client(
        a, seq=3, judgment_effective_date=D(2025, 6, 25), start_date=D(2025, 6, 25), end_date=D(2026, 6, 24)
    )
    c4 = new_client(
        a,
        seq=4,
        judgment_effective_date=D(2024, 12, 20),
        start_date=D(2024, 12, 20),
        end_date=D(2025, 3, 1),
        reported_on=D(2024, 12, 22),
    )
    services.client_terminate(actor=judicial_a, client_id=c4.pk, kind="completed", date=D(2025, 3, 1))
    c5 = new_client(
        a,
        seq=5,
        judgment_effective_date=D(2024, 1, 1),
        start_date=D(2024, 1, 1),
        end_date=D(2024, 12, 31),
        reported_on=D(2024, 1, 3),
    )
    services.client_terminate(actor=judicial_a, client_id=c5.pk, kind="completed", date=D(2024, 12, 31))
    new_client(
        officer_b1,
        area=tree.b1_1,
        seq=6,
        judgment_effective_date=D(2025, 3, 1),
        start_date=D(2025, 3, 1),
        end_date=D(2026, 3, 1),
    )


def test_figures_by_hand(crafted, officer_a1):
    f = selectors.correction_figures(user=officer_a1, start=START, end=END, today=TODAY)
    assert (f.in_correction, f.received, f.terminated) == (4, 2, {"revoked": 1, "completed": 1})
    assert (f.reception_due, f.reception_missed, f.missing_rate) == (2, 1, Decimal("50.0"))
    assert (f.checkins_made, f.checkins_on_time, f.checkins_missed) == (3, 2, 1)
    assert f.checkin_on_time_rate == Decimal("50.0")
    assert (f.visits_made, f.visits_on_time, f.visits_missed) == (2, 1, 1)
    assert f.visit_on_time_rate == Decimal("33.3")
    assert (f.reoffenders, f.reoffending_rate) == (1, Decimal("25.0"))


def test_figures_district_and_leader(crafted, district_admin, leader, officer_b1):
    f = selectors.correction_figures(user=district_admin, start=START, end=END, today=TODAY)
    assert (f.reception_due, f.reception_missed, f.missing_rate) == (3, 2, Decimal("66.7"))
    assert (f.in_correction, f.reoffending_rate) == (5, Decimal("20.0"))
    same = selectors.correction_figures(user=leader, start=START, end=END, today=TODAY)
    assert same.as_dict() == f.as_dict()  # leaders: the same figures, no client
    b = selectors.correction_figures(user=officer_b1, start=START, end=END, today=TODAY)
    assert (b.in_correction, b.reception_due, b.reception_missed) == (1, 1, 1)


def test_deadline_not_yet_passed_is_not_due(crafted, officer_a1):
    # as of 2025-01-15 (the deadline day of C1) nobody's deadline has passed yet in January
    f = selectors.correction_figures(user=officer_a1, start=START, end=D(2025, 1, 31), today=D(2025, 1, 15))
    assert (f.reception_due, f.missing_rate) == (0, None)


def test_statistics_table_rows_and_export(crafted, district_admin, tree):
    rows = selectors.statistics_rows(user=district_admin, start=START, end=END, today=TODAY)
    names = [a.name if a else "合计" for a, _ in rows]
    assert names == ["挂甲寺街", "东海街", "合计"]
    assert (
        rows[0][1].reception_missed == 1
        and rows[1][1].reception_missed == 1
        and rows[2][1].reception_missed == 2
    )
    data = exports.statistics_export(
        actor=district_admin, year=2025, half=1, start=START, end=END, today=TODAY
    )
    import io

    values = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert "2025年上半年" in values[0][0]
    header = values[2]
    total = values[-1]
    assert total[0] == "合计" and total[header.index("漏管率")] == "66.7%"
    assert total[header.index("重新犯罪率")] == "20.0%"
    assert AuditEvent.objects.filter(action="correction.statistics_export", kind="export").exists()


def test_period_bounds():
    assert selectors.period_bounds(2025, 1) == (D(2025, 1, 1), D(2025, 6, 30))
    assert selectors.period_bounds(2025, 2) == (D(2025, 7, 1), D(2025, 12, 31))
    assert selectors.period_bounds(2025, None) == (D(2025, 1, 1), D(2025, 12, 31))
