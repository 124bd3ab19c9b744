"""Who sees released-person cases (issue 6, "Access"): assistance officers and leaders of the
jurisdiction, inside their scope (leaders read-only); every other role sees nothing (no list, no case,
no search hit, no tab, no export); the commander sees the figures only. B1's officer never sees A1's
cases; sealed cases are hidden from list, search, count, export."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from python_calamine import CalamineWorkbook

from pingan.aftercare import selectors
from pingan.aftercare.exports import case_export
from pingan.audit.models import AuditEvent
from pingan.core.search import global_search
from pingan.core.sensitive import sealed_access_grant


@pytest.fixture
def cases(tree, officer_a1, officer_b1, register_case, today):
    a = register_case(officer_a1, seq=201, received_on=today)
    b = register_case(officer_b1, seq=202, area=tree.b1_1, name="测试乙方", received_on=today)
    return a, b


def test_officer_b1_cannot_see_a1s_cases(cases, officer_a1, officer_b1):
    a, b = cases
    assert list(selectors.case_list(user=officer_a1)) == [a]
    assert list(selectors.case_list(user=officer_b1)) == [b]
    with pytest.raises(Http404):
        selectors.case_get(user=officer_b1, case_id=a.pk)
    assert (
        selectors.case_figures(user=officer_b1, start=dt.date(2000, 1, 1), end=dt.date(2100, 1, 1)).population
        == 1
    )


@pytest.mark.parametrize(
    ("name", "sees"),
    [
        ("officer_a1", {"a"}),
        ("officer_b1", {"b"}),
        ("assist_a", {"a"}),
        ("leader", {"a", "b"}),
        ("leader_a", {"a"}),
        ("district_admin", set()),
        ("street_a", set()),
        ("community_a1", set()),
        ("community_b1", set()),
        ("police_a1", set()),
        ("grid_a1", set()),
        ("dept_handler", set()),
        ("auditor", set()),
        ("system_admin", set()),
        ("security_admin", set()),
    ],
)
def test_who_sees_cases(cases, request, name, sees):
    a, b = cases
    user = request.getfixturevalue(name)
    seen = {("a" if c.pk == a.pk else "b") for c in selectors.case_list(user=user)}
    assert seen == sees
    hits = {h.url for h in global_search(user=user, q="测试") if h.kind == "安置帮教"}
    assert hits == {f"/aftercare/{c.pk}/" for c in (a, b) if ("a" if c.pk == a.pk else "b") in sees}
    if not sees:
        with pytest.raises(Http404):
            selectors.case_get(user=user, case_id=a.pk)
        assert not user.has_perm("aftercare.view_cases")
        assert not [t for t in _tabs(user, a.person) if t["key"] == "aftercare"]
        with pytest.raises(PermissionDenied):
            case_export(actor=user, filters=selectors.CaseFilter(status="all"))


def _tabs(user, person):
    from pingan.people.tabs import tabs_for

    return tabs_for(user, person)


@pytest.mark.parametrize(
    ("name", "writes"),
    [
        ("officer_a1", True),
        ("assist_a", True),
        ("leader", False),
        ("leader_a", False),
        ("district_admin", False),
        ("street_a", False),
        ("community_a1", False),
        ("police_a1", False),
    ],
)
def test_only_assistance_officers_write(cases, request, name, writes):
    from pingan.aftercare.services import visit_add

    a, _b = cases
    user = request.getfixturevalue(name)
    assert user.has_perm("aftercare.write_cases") is writes
    assert user.has_perm("aftercare.manage_case", a) is writes
    assert user.has_perm("aftercare.import_cases") is writes
    data = {"visited_on": a.release_date, "visitors": "x", "content": "了解情况"}
    if writes:
        assert visit_add(actor=user, case_id=a.pk, **data).pk
    else:
        with pytest.raises((Http404, PermissionDenied)):
            visit_add(actor=user, case_id=a.pk, **data)
        assert not a.visits.exists()


def test_leader_reads_in_scope_and_sees_figures(cases, leader, leader_a, officer_b1):
    a, b = cases
    figures = selectors.case_figures(user=leader, start=dt.date(2000, 1, 1), end=dt.date(2100, 1, 1))
    assert figures.population == 2
    assert selectors.case_get(user=leader_a, case_id=a.pk).pk == a.pk
    with pytest.raises(Http404):
        selectors.case_get(user=leader_a, case_id=b.pk)
    assert [t["key"] for t in _tabs(leader, a.person) if t["key"] == "aftercare"] == ["aftercare"]
    data = case_export(actor=leader_a, filters=selectors.CaseFilter(status="all"))
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert len(rows) == 3 + 1  # title, note, header, A1's case only


def test_commander_sees_figures_only(cases, district_admin):
    figures = selectors.case_figures(user=district_admin, start=dt.date(2000, 1, 1), end=dt.date(2100, 1, 1))
    assert figures.population == 2
    assert district_admin.has_perm("aftercare.view_figures")
    assert not district_admin.has_perm("aftercare.view_cases")
    # the home figures link to the figures page, never to the case list
    assert all("/aftercare/figures/" in f.url for f in selectors.aftercare_home_figures(district_admin))


def test_others_get_no_figures(cases, grid_a1, dept_handler, community_a1, street_a, police_a1):
    for user in (grid_a1, dept_handler, community_a1, street_a, police_a1):
        assert (
            selectors.case_figures(user=user, start=dt.date(2000, 1, 1), end=dt.date(2100, 1, 1)).population
            == 0
        )
        assert selectors.aftercare_home_figures(user) == []


def test_viewing_a_case_is_an_audited_access(cases, officer_a1):
    a, _b = cases
    selectors.case_get(user=officer_a1, case_id=a.pk)
    event = AuditEvent.objects.get(action="access.view", object_type="aftercare.aftercarecase")
    assert event.actor_username == "officer_a1" and event.object_id == str(a.pk)
    assert "测试刑释" not in event.object_repr


def test_sealed_case_invisible_in_list_search_count_export(
    tree, officer_a1, security_admin, register_case, today
):
    visible = register_case(officer_a1, seq=203, received_on=today)
    sealed = register_case(officer_a1, seq=204, name="测试封存", received_on=today, offence_under_18=True)
    assert [c.pk for c in selectors.case_list(user=officer_a1)] == [visible.pk]
    assert not [h for h in global_search(user=officer_a1, q="测试封存") if h.kind == "安置帮教"]
    with pytest.raises(Http404):
        selectors.case_get(user=officer_a1, case_id=sealed.pk)
    figures = selectors.case_figures(user=officer_a1, start=dt.date(2000, 1, 1), end=dt.date(2100, 1, 1))
    assert figures.population == 1
    data = case_export(actor=officer_a1, filters=selectors.CaseFilter(status="all"))
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert len(rows) == 3 + 1  # title, note, header, one case
    # with the sealed grant and a reason: visible, and the load is audited
    sealed_access_grant(actor=security_admin, user=officer_a1, allowed=True)
    got = selectors.case_get(user=officer_a1, case_id=sealed.pk, reason="依法查询封存记录", audit=False)
    assert got.pk == sealed.pk
    assert AuditEvent.objects.filter(action="access.sealed", object_id=str(sealed.pk)).exists()


def test_export_is_masked_and_audited(cases, officer_a1):
    data = case_export(actor=officer_a1, filters=selectors.CaseFilter())
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert rows[3][0] == "测**释" and "********" in rows[3][1]
    assert AuditEvent.objects.filter(action="aftercare.export", kind="export").exists()


def test_person_tab_only_for_allowed(cases, officer_a1, grid_a1, community_a1, police_a1, leader):
    a, _b = cases
    assert [t["key"] for t in _tabs(officer_a1, a.person) if t["key"] == "aftercare"] == ["aftercare"]
    for user in (grid_a1, community_a1, police_a1):
        assert not [t for t in _tabs(user, a.person) if t["key"] == "aftercare"]


def test_group_member_phone_reveal_is_scoped_and_audited(cases, officer_a1, officer_b1, grid_a1):
    from pingan.aftercare.services import member_add
    from pingan.core.sensitive import may_reveal, sensitive_reveal

    a, _b = cases
    member = member_add(actor=officer_a1, case_id=a.pk, role="family", name="测试家属", phone="13900002222")
    assert may_reveal(officer_a1, member, "phone")
    assert not may_reveal(officer_b1, member, "phone") and not may_reveal(grid_a1, member, "phone")
    shown = sensitive_reveal(
        actor=officer_a1,
        object_type="aftercare.groupmember",
        object_id=member.pk,
        field="phone",
        reason="联系家属核实",
    )
    assert shown.value == "13900002222"
    assert AuditEvent.objects.filter(action="access.reveal", object_type="aftercare.groupmember").exists()
    for user in (officer_b1, grid_a1):
        with pytest.raises(Http404):
            sensitive_reveal(
                actor=user,
                object_type="aftercare.groupmember",
                object_id=member.pk,
                field="phone",
                reason="联系家属核实",
            )
