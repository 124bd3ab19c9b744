from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from pingan.audit.models import AuditEvent
from pingan.correction import selectors, services
from pingan.correction.models import ClientStatus, LeaveStatus, reception_deadline_for
from pingan.people.models import Person
from tests.correction.conftest import client_data, make_id

TODAY = timezone.localdate()


def test_register_creates_person_once_and_audits(tree, officer_a1, new_client):
    client = new_client(officer_a1)
    assert client.status == ClientStatus.PENDING
    assert client.person.name == "矫正测试1"
    assert client.reception_deadline == client.judgment_effective_date + dt.timedelta(days=10)
    assert Person.objects.count() == 1
    assert AuditEvent.objects.filter(action="correction.client_register", object_id=str(client.pk)).exists()
    # the same person again: one open record per person
    with pytest.raises(ValidationError) as exc:
        services.client_register(actor=officer_a1, area=tree.a1_1, data=client_data(1, number="JZ-OTHER"))
    assert "已有未解除的社区矫正档案" in str(exc.value)
    assert Person.objects.count() == 1


def test_register_links_existing_person_and_checks_name(tree, officer_a1):
    from pingan.people.services import person_register

    person, _ = person_register(
        actor=officer_a1, area=tree.a1_1, data={"name": "已登记人", "id_number": make_id(7)}
    )
    client = services.client_register(
        actor=officer_a1, area=tree.a1_1, data=client_data(7, name="已登记人", number="JZ-7")
    )
    assert client.person_id == person.pk
    with pytest.raises(ValidationError) as exc:
        services.client_register(
            actor=officer_a1, area=tree.a1_1, data=client_data(7, name="别人", number="JZ-8")
        )
    assert "姓名与该身份证号登记的人员不一致" in str(exc.value)


def test_validation_messages_are_chinese(tree, officer_a1):
    data = client_data(2, category="死刑", end_date=TODAY - dt.timedelta(days=30), id_number="120103")
    with pytest.raises(ValidationError) as exc:
        services.client_register(actor=officer_a1, area=tree.a1_1, data=data)
    messages = exc.value.message_dict
    assert "矫正类别" in messages["category"][0]
    assert "矫正期止不能早于矫正期起" in messages["end_date"][0]
    with pytest.raises(ValidationError) as exc2:
        services.client_register(actor=officer_a1, area=tree.a1_1, data=client_data(3, id_number="123"))
    assert exc2.value.message_dict["id_number"]
    with pytest.raises(ValidationError) as exc3:
        services.client_register(
            actor=officer_a1, area=tree.a1_1, data=client_data(3, end_date=dt.date(9999, 12, 31))
        )
    assert "超出合理范围" in exc3.value.message_dict["end_date"][0]


def test_duplicate_number_refused(tree, officer_a1, new_client):
    new_client(officer_a1, seq=1)
    with pytest.raises(ValidationError) as exc:
        services.client_register(actor=officer_a1, area=tree.a1_1, data=client_data(2, number="JZ-T-0001"))
    assert "矫正编号" in str(exc.value)


def test_roles_who_may_not_register(
    tree,
    leader,
    district_admin,
    street_a,
    community_a1,
    police_a1,
    grid_a1,
    dept_handler,
    auditor,
    officer_b1,
):
    # issue 6: only assistance officers and the judicial office write; leaders read, the rest nothing
    for user in (leader, district_admin, street_a, community_a1, police_a1, grid_a1, dept_handler, auditor):
        with pytest.raises(PermissionDenied):
            services.client_register(actor=user, area=tree.a1_1, data=client_data(4))
    with pytest.raises(PermissionDenied):  # outside their community
        services.client_register(actor=officer_b1, area=tree.a1_1, data=client_data(4))


def test_judicial_handler_needs_registered_person(tree, judicial_a, officer_a1):
    with pytest.raises(ValidationError) as exc:
        services.client_register(actor=judicial_a, area=tree.a1_1, data=client_data(5))
    assert "尚未登记实有人口" in str(exc.value)
    from pingan.people.services import person_register

    person_register(actor=officer_a1, area=tree.a1_1, data={"name": "矫正测试5", "id_number": make_id(5)})
    client = services.client_register(actor=judicial_a, area=tree.a1_1, data=client_data(5))
    assert client.pk


def test_report_and_state(tree, officer_a1, new_client):
    client = new_client(officer_a1)
    client = services.client_report(actor=officer_a1, client_id=client.pk, reported_on=TODAY)
    assert client.status == ClientStatus.ACTIVE
    assert client.next_checkin_due == TODAY + dt.timedelta(days=30)
    with pytest.raises(services.CorrectionConflict):
        services.client_report(actor=officer_a1, client_id=client.pk, reported_on=TODAY)
    with pytest.raises(services.CorrectionConflict):  # stale version
        services.client_update(actor=officer_a1, client_id=client.pk, data={"remarks": "x"}, version=1)


def test_checkins_visits_on_time(tree, officer_a1, new_client):
    eff = TODAY - dt.timedelta(days=80)
    client = new_client(officer_a1, judgment_effective_date=eff, start_date=eff, reported_on=eff)
    assert client.next_checkin_due == eff + dt.timedelta(days=30)
    first = services.checkin_record(
        actor=officer_a1,
        client_id=client.pk,
        data={"date": eff + dt.timedelta(days=20), "kind": "电话报告"},
    )
    assert first.on_time and first.kind == "phone"
    late = services.checkin_record(
        actor=officer_a1, client_id=client.pk, data={"date": eff + dt.timedelta(days=60)}
    )
    assert not late.on_time and late.due_on == eff + dt.timedelta(days=50)
    client.refresh_from_db()
    assert client.next_checkin_due == eff + dt.timedelta(days=90)
    visit = services.visit_record(
        actor=officer_a1,
        client_id=client.pk,
        data={
            "date": eff + dt.timedelta(days=10),
            "visitors": "甲",
            "content": "在家",
            "next_visit_date": TODAY + dt.timedelta(days=3),
        },
    )
    assert visit.on_time
    client.refresh_from_db()
    assert client.next_visit_due == TODAY + dt.timedelta(days=3)
    with pytest.raises(ValidationError) as exc:
        services.checkin_record(
            actor=officer_a1, client_id=client.pk, data={"date": TODAY + dt.timedelta(days=1)}
        )
    assert "不能晚于今天" in str(exc.value)
    with pytest.raises(ValidationError):
        services.checkin_record(
            actor=officer_a1, client_id=client.pk, data={"date": eff - dt.timedelta(days=1)}
        )


def test_plan_group_sanction_reward_hours(tree, officer_a1, new_client):
    client = new_client(officer_a1, reported_on=TODAY - dt.timedelta(days=2))
    plan = services.plan_set(
        actor=officer_a1,
        client_id=client.pk,
        data={"level": "strict", "content": "每周报告", "checkin_every_days": 7, "visit_every_days": 14},
    )
    client.refresh_from_db()
    assert plan.level == "strict" and client.checkin_every_days == 7
    assert client.next_checkin_due == client.reported_on + dt.timedelta(days=7)
    member = services.group_member_add(
        actor=officer_a1,
        client_id=client.pk,
        data={"name": "王干部", "kind": "cadre", "phone": "13800001111"},
    )
    assert member.phone == "13800001111"
    services.group_member_remove(actor=officer_a1, member_id=member.pk)
    with pytest.raises(services.CorrectionConflict):
        services.group_member_remove(actor=officer_a1, member_id=member.pk)
    services.sanction_add(
        actor=officer_a1, client_id=client.pk, data={"kind": "警告", "date": TODAY, "reason": "未按时报告"}
    )
    services.reward_add(
        actor=officer_a1, client_id=client.pk, data={"kind": "praise", "date": TODAY, "reason": "表现良好"}
    )
    services.hours_add(
        actor=officer_a1,
        client_id=client.pk,
        data={"kind": "education", "date": TODAY, "hours": "4", "content": "学习"},
    )
    with pytest.raises(ValidationError) as exc:
        services.hours_add(
            actor=officer_a1,
            client_id=client.pk,
            data={"kind": "education", "date": TODAY, "hours": "25", "content": "x"},
        )
    assert "24" in str(exc.value)
    records = selectors.client_records(client)
    assert records["hours_total"]["education"] == 4
    assert len(records["sanctions"]) == 1 and len(records["rewards"]) == 1


def test_terminate_rules(tree, officer_a1, judicial_a, leader, new_client):
    client = new_client(officer_a1, reported_on=TODAY)
    with pytest.raises(PermissionDenied):  # leaders read, never terminate
        services.client_terminate(actor=leader, client_id=client.pk, kind="death", date=TODAY)
    with pytest.raises(ValidationError) as exc:
        services.client_terminate(actor=judicial_a, client_id=client.pk, kind="completed", date=TODAY)
    assert "不能提前办理期满解除" in str(exc.value)
    with pytest.raises(ValidationError):
        services.client_terminate(
            actor=judicial_a, client_id=client.pk, kind="revoked", date=TODAY
        )  # no note
    leave = services.leave_request(
        actor=officer_a1,
        client_id=client.pk,
        data={
            "destination": "北京",
            "reason": "探亲",
            "start": TODAY + dt.timedelta(days=3),
            "end": TODAY + dt.timedelta(days=5),
        },
    )
    done = services.client_terminate(
        actor=judicial_a, client_id=client.pk, kind="收监执行", date=TODAY, note="严重违反监管规定"
    )
    assert done.status == ClientStatus.TERMINATED and done.termination == "revoked"
    leave.refresh_from_db()
    assert leave.status == LeaveStatus.CANCELLED
    with pytest.raises(services.CorrectionConflict):
        services.checkin_record(actor=officer_a1, client_id=client.pk, data={"date": TODAY})
    # a new correction record for the same person is possible after termination
    again = services.client_register(actor=officer_a1, area=tree.a1_1, data=client_data(1, number="JZ-T-NEW"))
    assert again.person_id == client.person_id


def test_minor_offence_is_sealed(tree, officer_a1, new_client):
    client = new_client(officer_a1, minor_at_offence=True)
    client.refresh_from_db()
    assert client.sealed
    assert not selectors.client_list(user=officer_a1, filters=selectors.ClientFilter(status="all")).exists()
    with pytest.raises(Http404):
        selectors.client_get(user=officer_a1, client_id=client.pk)
    assert selectors.figure_base(officer_a1).count() == 0


def test_reception_deadline_across_month_ends():
    assert reception_deadline_for(dt.date(2026, 1, 25)) == dt.date(2026, 2, 4)
    assert reception_deadline_for(dt.date(2026, 2, 20)) == dt.date(2026, 3, 2)  # 28-day February
    assert reception_deadline_for(dt.date(2024, 2, 20)) == dt.date(2024, 3, 1)  # leap year
    assert reception_deadline_for(dt.date(2026, 12, 25)) == dt.date(2027, 1, 4)  # year end
    assert reception_deadline_for(dt.date(2026, 4, 30)) == dt.date(2026, 5, 10)


def test_ten_day_rule_missing_alert(tree, officer_a1, judicial_a, leader, new_client):
    eff = dt.date(2026, 2, 20)  # deadline 2026-03-02
    pending = new_client(officer_a1, seq=1, judgment_effective_date=eff, start_date=eff)
    on_day = new_client(
        officer_a1, seq=2, judgment_effective_date=eff, start_date=eff, reported_on=dt.date(2026, 3, 2)
    )
    late = new_client(
        officer_a1, seq=3, judgment_effective_date=eff, start_date=eff, reported_on=dt.date(2026, 3, 3)
    )
    # the deadline day itself is still in time; the day after is not
    assert not pending.is_missing(dt.date(2026, 3, 2))
    assert pending.is_missing(dt.date(2026, 3, 3))
    assert not on_day.is_missing(dt.date(2026, 12, 31))
    assert late.is_missing(dt.date(2026, 3, 3))

    def alerts(day: dt.date) -> set[str]:
        return set(selectors.missing_list(user=officer_a1, today=day).values_list("number", flat=True))

    assert alerts(dt.date(2026, 3, 2)) == {late.number}
    assert alerts(dt.date(2026, 3, 3)) == {pending.number, late.number}
    # reporting late keeps the alert until it is resolved
    services.client_report(actor=officer_a1, client_id=pending.pk, reported_on=dt.date(2026, 3, 10))
    assert pending.number in alerts(dt.date(2026, 3, 11))
    with pytest.raises(PermissionDenied):  # leaders read only
        services.missing_resolve(actor=leader, client_id=pending.pk, note="已找到并报到")
    with pytest.raises(ValidationError):
        services.missing_resolve(actor=judicial_a, client_id=pending.pk, note="好")
    services.missing_resolve(actor=judicial_a, client_id=pending.pk, note="已找到本人并补办报到")
    assert alerts(dt.date(2026, 3, 11)) == {late.number}
    with pytest.raises(services.CorrectionConflict):
        services.missing_resolve(actor=judicial_a, client_id=on_day.pk, note="没有漏管也处理")


def test_offence_code(tree, officer_a1, new_client):
    if not services.offence_table_available():  # free text plus an optional code
        client = new_client(officer_a1, offence_code="X0101")
        assert client.offence_code == "X0101" and client.offence == "盗窃罪"
        return
    # the aftercare module's code table `offence` checks codes and fills them from exact labels
    with pytest.raises(ValidationError) as exc:
        new_client(officer_a1, offence_code="NO-SUCH-CODE")
    assert "罪名代码" in str(exc.value)
    named = new_client(officer_a1, seq=1)  # 盗窃罪
    assert named.offence_code == "0502"
    by_code = new_client(officer_a1, seq=2, offence="", offence_code="0503")
    assert by_code.offence == "诈骗罪"
    free = new_client(officer_a1, seq=3, offence="非法经营的其他情形")
    assert free.offence_code == "" and free.offence == "非法经营的其他情形"
