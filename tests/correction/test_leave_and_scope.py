from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.utils import timezone

from pingan.audit.models import AuditEvent
from pingan.correction import selectors, services
from pingan.correction.models import LeaveRequest, LeaveStatus

TODAY = timezone.localdate()


def _leave_data(days: int = 3) -> dict:
    return {
        "kind": "外出",
        "destination": "北京市",
        "reason": "探望病重亲属",
        "start": TODAY + dt.timedelta(days=days),
        "end": TODAY + dt.timedelta(days=days + 2),
    }


@pytest.fixture
def active_client(tree, officer_a1, new_client):
    return new_client(officer_a1, reported_on=TODAY)


def test_leave_state_machine(tree, officer_a1, judicial_a, leader, active_client):
    leave = services.leave_request(actor=officer_a1, client_id=active_client.pk, data=_leave_data())
    assert leave.status == LeaveStatus.PENDING and leave.kind == "travel"
    assert set(services.leave_actions(officer_a1, leave)) == {"approve", "reject", "cancel"}
    assert set(services.leave_actions(judicial_a, leave)) == {"approve", "reject", "cancel"}
    assert services.leave_actions(leader, leave) == []  # leaders read only
    with pytest.raises(PermissionDenied):
        services.leave_decide(actor=leader, leave_id=leave.pk, action="approve")
    with pytest.raises(PermissionDenied):
        services.leave_decide(actor=leader, leave_id=leave.pk, action="cancel")
    with pytest.raises(ValidationError):  # a refusal needs a reason
        services.leave_decide(actor=judicial_a, leave_id=leave.pk, action="reject")
    approved = services.leave_decide(actor=judicial_a, leave_id=leave.pk, action="approve", note="同意")
    assert approved.status == LeaveStatus.APPROVED and approved.decided_by == "judicial_a"
    with pytest.raises(services.CorrectionConflict) as exc:
        services.leave_decide(actor=judicial_a, leave_id=leave.pk, action="reject", note="不同意")
    assert "已由他人处理" in exc.value.message and "已批准" in exc.value.message
    with pytest.raises(services.CorrectionConflict):
        services.leave_decide(actor=officer_a1, leave_id=leave.pk, action="cancel")
    with pytest.raises(ValidationError):  # 销假 before the leave began
        services.leave_decide(actor=officer_a1, leave_id=leave.pk, action="return", returned_on=TODAY)
    # overlapping requests are refused
    with pytest.raises(ValidationError) as exc2:
        services.leave_request(actor=officer_a1, client_id=active_client.pk, data=_leave_data(4))
    assert "重叠" in str(exc2.value)
    assert AuditEvent.objects.filter(action="correction.leave_approve").count() == 1


def test_leave_validation(tree, officer_a1, active_client):
    bad = {**_leave_data(), "end": TODAY}
    with pytest.raises(ValidationError) as exc:
        services.leave_request(actor=officer_a1, client_id=active_client.pk, data=bad)
    assert "结束日期不能早于起始日期" in str(exc.value)
    long = {**_leave_data(), "end": TODAY + dt.timedelta(days=400)}
    with pytest.raises(ValidationError):
        services.leave_request(actor=officer_a1, client_id=active_client.pk, data=long)


def test_two_approvers_sequential_one_wins(tree, officer_a1, judicial_a, assist_a, active_client):
    leave = services.leave_request(actor=officer_a1, client_id=active_client.pk, data=_leave_data())
    # both loaded the pending request; the first decision wins, the second is a clear conflict
    services.leave_decide(actor=assist_a, leave_id=leave.pk, action="approve", note="同意")
    with pytest.raises(services.CorrectionConflict) as exc:
        services.leave_decide(actor=judicial_a, leave_id=leave.pk, action="approve", note="同意")
    assert "已由他人处理" in exc.value.message
    assert LeaveRequest.objects.get(pk=leave.pk).decided_by == "assist_a"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between two connections: PostgreSQL")
def test_two_approvers_at_once_postgresql(tree, officer_a1, judicial_a, assist_a, new_client):
    client = new_client(officer_a1, reported_on=TODAY)
    leave = services.leave_request(actor=officer_a1, client_id=client.pk, data=_leave_data())
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(user, action):
        from django.db import connections

        try:
            barrier.wait()
            services.leave_decide(actor=user, leave_id=leave.pk, action=action, note="意见意见")
            outcomes.append("ok")
        except services.CorrectionConflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=decide, args=(assist_a, "approve")),
        threading.Thread(target=decide, args=(judicial_a, "reject")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert LeaveRequest.objects.get(pk=leave.pk).status in (LeaveStatus.APPROVED, LeaveStatus.REJECTED)
    assert (
        AuditEvent.objects.filter(action__in=("correction.leave_approve", "correction.leave_reject")).count()
        == 1
    )


def test_scope_b1_cannot_see_a1(tree, officer_a1, officer_b1, active_client):
    assert selectors.client_list(user=officer_a1).count() == 1
    assert selectors.client_list(user=officer_b1).count() == 0
    with pytest.raises(Http404):
        selectors.client_get(user=officer_b1, client_id=active_client.pk)
    with pytest.raises(Http404):
        services.checkin_record(actor=officer_b1, client_id=active_client.pk, data={"date": TODAY})
    leave = services.leave_request(actor=officer_a1, client_id=active_client.pk, data=_leave_data())
    with pytest.raises(Http404):
        services.leave_decide(actor=officer_b1, leave_id=leave.pk, action="cancel")
    assert selectors.leave_list(user=officer_b1).count() == 0
    assert selectors.missing_list(user=officer_b1).count() == 0


def test_who_sees_clients(
    tree,
    active_client,
    officer_a1,
    district_admin,
    street_a,
    community_a1,
    judicial_a,
    assist_a,
    police_a1,
    leader,
    grid_a1,
    dept_handler,
    auditor,
    system_admin,
    security_admin,
):
    """Issue 6: only assistance/correction officers (and the judicial office) and leaders of the
    jurisdiction see the cases; leaders read only; the district centre sees figures only."""
    for user in (officer_a1, judicial_a, assist_a, leader):
        assert selectors.client_list(user=user).count() == 1, user.username
        selectors.client_get(user=user, client_id=active_client.pk)
    for user in (officer_a1, judicial_a, assist_a):
        assert user.has_perm("correction.manage_client", active_client), user.username
        assert user.has_perm("correction.approve_client", active_client), user.username
    assert not leader.has_perm("correction.manage_client", active_client)
    assert not leader.has_perm("correction.approve_client", active_client)
    assert not leader.has_perm("correction.import_clients")
    outsiders = (
        district_admin,
        street_a,
        community_a1,
        police_a1,
        grid_a1,
        dept_handler,
        auditor,
        system_admin,
        security_admin,
    )
    for user in outsiders:
        assert selectors.client_list(user=user).count() == 0, user.username
        assert selectors.missing_list(user=user).count() == 0, user.username
        assert selectors.leave_list(user=user).count() == 0, user.username
        assert selectors.person_tab_context(user, active_client.person) is None, user.username
        with pytest.raises(Http404):
            selectors.client_get(user=user, client_id=active_client.pk)
    # figures (no person): officers, leaders and the district centre; nobody else
    for user in (leader, district_admin, officer_a1, judicial_a):
        assert selectors.figure_base(user).count() == 1, user.username
    for user in (street_a, community_a1, police_a1, grid_a1, auditor):
        assert selectors.figure_base(user).count() == 0, user.username


@pytest.mark.parametrize("viewer", ["officer_a1", "leader"])
def test_viewing_a_client_is_an_audited_access(tree, viewer, request, active_client):
    user = request.getfixturevalue(viewer)
    before = AuditEvent.objects.filter(action="access.view").count()
    selectors.client_get(user=user, client_id=active_client.pk)
    event = AuditEvent.objects.filter(action="access.view").latest("pk")
    assert AuditEvent.objects.filter(action="access.view").count() == before + 1
    assert event.actor == user
    assert event.object_type == "correction.correctionclient" and event.subject_type == "people.person"
    assert "矫正测试" not in event.subject_label  # masked


def test_global_search(
    tree, officer_a1, officer_b1, leader, community_a1, street_a, police_a1, district_admin, new_client
):
    from pingan.core.search import global_search

    client = new_client(officer_a1, reported_on=TODAY)
    hits = [h for h in global_search(user=officer_a1, q=client.number) if h.kind == "社区矫正"]
    assert len(hits) == 1 and "矫正测试1" not in hits[0].title
    assert len([h for h in global_search(user=leader, q=client.number) if h.kind == "社区矫正"]) == 1
    for user in (officer_b1, community_a1, street_a, police_a1, district_admin):  # issue 6: no hit
        assert not [h for h in global_search(user=user, q=client.number) if h.kind == "社区矫正"], user
        assert not [h for h in global_search(user=user, q="矫正测试1") if h.kind == "社区矫正"], user
    sealed = new_client(officer_a1, seq=2, minor_at_offence=True)
    assert not [h for h in global_search(user=officer_a1, q=sealed.number) if h.kind == "社区矫正"]
