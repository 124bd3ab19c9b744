"""The figures on a crafted set, computed by hand (docs/aftercare.md, "Figures").

Period: 2025 first half [2025-01-01, 2025-06-30]. Cases in community A1 unless said:

- C1: released 2025-02-10, received, employment 2025-03-01, active member; visits 02-20 (next 03-20),
  03-18 (next 05-18), 05-25 (next 07-25); grant 1500.00 on 03-01; necessities 2024-12-31.
- C2: released 2025-04-01, hand-over pending.
- C3: released 2025-06-30, received, not resettled (reason).
- C4: released 2023-05-01, received, relief 2023-06-01, active member, visit 2024-01-01 (next 2024-03-01);
  re-offence 2025-05-05; grant 800.50 on 2025-07-01.
- C5: released 2019-01-01, received, period ended 2023-12-31.
- C6: released 2025-03-01, received — in community B1.
- C7: released 2025-03-01, received, resettled, member, visit — sealed.
- C8: released 2025-05-01, received, employment 2025-08-01, member left the group; visit 05-10 (next
  06-10); necessities 2025-05-02.

Community A1 (its officer): released in period C1 C2 C3 C8 = 4, received 3 → 衔接率 75.0%. Under assistance
(received, released by 06-30, period overlapping): C1 C3 C4 C8 = 4; resettled by 06-30: C1 C4 → 50.0%;
assisted (active member and a visit by 06-30): C1 C4 → 50.0%; re-offended in period: C4 → 25.0%.
Visits due in period: C1's 03-20 (done 03-18: on time), C1's 05-18 (next visit 05-25: late), C8's 06-10
(none since: late) → 1 of 3 = 33.3%. Grants in period: 1, 1500.00; necessities: 1.
District commander adds C6: released 5, received 4 → 80.0%; population 5 → 40.0%, 40.0%, 20.0%.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from python_calamine import CalamineWorkbook

from pingan.aftercare.exports import figures_export
from pingan.aftercare.models import AftercareCase, Aid, GroupMember, Handover, Reoffence, Visit
from pingan.aftercare.selectors import case_figures, figure_rows, period_bounds
from pingan.audit.models import AuditEvent
from pingan.people.models import Person
from tests.aftercare.conftest import make_id

D = dt.date
START, END = period_bounds(2025, "H1")


def make(
    area,
    seq,
    release,
    *,
    received=True,
    end=None,
    resettlement="",
    resettled_on=None,
    sealed=False,
    status="assisting",
):
    person = Person.objects.create(name=f"测试{seq}", id_number=make_id(seq), area=area)
    case = AftercareCase.objects.create(
        person=person,
        area=area,
        offence="0502",
        release_date=release,
        assistance_end=end or D(release.year + 5, release.month, release.day) - dt.timedelta(days=1),
        status=status if received else "pending",
        resettlement=resettlement,
        unresettled_reason="身体原因" if resettlement == "none" else "",
        resettled_on=resettled_on,
    )
    if sealed:
        AftercareCase.objects.filter(pk=case.pk).update(sealed=True)
    Handover.objects.create(
        case=case,
        expected_release_date=release,
        status="received" if received else "pending",
        received_on=release if received else None,
    )
    return case


def visit(case, on, nxt):
    Visit.objects.create(
        case=case, visited_on=on, visitors="社区", content="了解情况", next_visit_on=nxt, recorded_by="t"
    )


@pytest.fixture
def crafted(tree):
    c1 = make(tree.a1_1, 501, D(2025, 2, 10), resettlement="employment", resettled_on=D(2025, 3, 1))
    GroupMember.objects.create(case=c1, role="cadre", name="干部甲")
    visit(c1, D(2025, 2, 20), D(2025, 3, 20))
    visit(c1, D(2025, 3, 18), D(2025, 5, 18))
    visit(c1, D(2025, 5, 25), D(2025, 7, 25))
    Aid.objects.create(
        case=c1, kind="hardship_grant", amount=Decimal("1500.00"), approver="所长", disbursed_on=D(2025, 3, 1)
    )
    Aid.objects.create(case=c1, kind="necessities", items="米", disbursed_on=D(2024, 12, 31))
    make(tree.a1_1, 502, D(2025, 4, 1), received=False)
    make(tree.a1_2, 503, D(2025, 6, 30), resettlement="none")
    c4 = make(
        tree.a1_1, 504, D(2023, 5, 1), resettlement="relief", resettled_on=D(2023, 6, 1), status="reoffended"
    )
    GroupMember.objects.create(case=c4, role="police", name="民警乙")
    visit(c4, D(2024, 1, 1), D(2024, 3, 1))
    Reoffence.objects.create(case=c4, offence_date=D(2025, 5, 5), offence="0502")
    Aid.objects.create(
        case=c4, kind="hardship_grant", amount=Decimal("800.50"), approver="所长", disbursed_on=D(2025, 7, 1)
    )
    make(tree.a1_1, 505, D(2019, 1, 1), end=D(2023, 12, 31), status="ended")
    make(tree.b1_1, 506, D(2025, 3, 1))
    c7 = make(
        tree.a1_1, 507, D(2025, 3, 1), resettlement="employment", resettled_on=D(2025, 3, 2), sealed=True
    )
    GroupMember.objects.create(case=c7, role="cadre", name="干部丙")
    visit(c7, D(2025, 3, 5), D(2025, 4, 5))
    c8 = make(tree.a1_1, 508, D(2025, 5, 1), resettlement="employment", resettled_on=D(2025, 8, 1))
    GroupMember.objects.create(case=c8, role="cadre", name="干部丁", active=False)
    visit(c8, D(2025, 5, 10), D(2025, 6, 10))
    Aid.objects.create(case=c8, kind="necessities", items="被褥", disbursed_on=D(2025, 5, 2))


def test_community_figures_by_hand(crafted, officer_a1):
    f = case_figures(user=officer_a1, start=START, end=END, today=D(2026, 1, 1))
    assert (f.released, f.received, f.handover_rate) == (4, 3, Decimal("75.0"))
    assert (f.population, f.resettled, f.resettlement_rate) == (4, 2, Decimal("50.0"))
    assert (f.assisted, f.assistance_rate) == (2, Decimal("50.0"))
    assert (f.reoffended, f.reoffending_rate) == (1, Decimal("25.0"))
    assert (f.visits_due, f.visits_on_time, f.visit_on_time_rate) == (3, 1, Decimal("33.3"))
    assert (f.grants, f.grant_amount, f.necessities) == (1, Decimal("1500.00"), 1)


def test_district_figures_include_other_street(crafted, district_admin, leader):
    for user in (district_admin, leader):
        f = case_figures(user=user, start=START, end=END, today=D(2026, 1, 1))
        assert (f.released, f.received, f.handover_rate) == (5, 4, Decimal("80.0"))
        assert (f.population, f.resettlement_rate, f.assistance_rate, f.reoffending_rate) == (
            5,
            Decimal("40.0"),
            Decimal("40.0"),
            Decimal("20.0"),
        )


def test_visits_not_yet_due_do_not_count(crafted, officer_a1):
    # seen on 2025-05-20: C1's 05-18 visit is due (and late), C8's 06-10 visit is not due yet
    f = case_figures(user=officer_a1, start=START, end=END, today=D(2025, 5, 20))
    assert (f.visits_due, f.visits_on_time) == (2, 1)


def test_empty_denominator_is_none(tree, officer_a1):
    f = case_figures(user=officer_a1, start=START, end=END)
    assert f.handover_rate is None and f.visit_on_time_rate is None


def test_table_rows_and_export(crafted, tree, district_admin, today):
    rows, total = figure_rows(user=district_admin, start=START, end=END, parent=tree.district)
    assert [r.area.name for r in rows] == ["挂甲寺街", "东海街"]
    assert [r.released for r in rows] == [4, 1] and total.released == 5
    data = figures_export(actor=district_admin, start=START, end=END, parent=tree.district, title="统计表")
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert sheet[0][0] == "统计表" and sheet[2][3] == "衔接率"
    assert sheet[3][:4] == ["挂甲寺街", 4, 3, "75.0%"] and sheet[5][0] == "合计"
    assert AuditEvent.objects.filter(action="aftercare.figures_export", kind="export").exists()
