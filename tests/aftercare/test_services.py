from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import override_settings

from pingan.aftercare import services
from pingan.aftercare.models import AftercareCase, Aid, CaseStatus, HandoverStatus
from pingan.audit.models import AuditEvent
from pingan.people.models import Person
from pingan.people.services import person_register
from tests.aftercare.conftest import make_id


def test_register_creates_person_case_and_handover(tree, officer_a1, register_case, today):
    case = register_case(officer_a1, seq=101, is_key_person=True)
    assert case.status == CaseStatus.PENDING
    assert case.offence == "0502"  # label resolved to the code table's code
    assert case.handover.status == HandoverStatus.PENDING and case.handover.must_meet
    assert Person.objects.filter_exact(id_number=make_id(101)).count() == 1
    # default assistance period: 5 years from release (the day before the fifth anniversary)
    release = case.release_date
    assert case.assistance_end == release.replace(year=release.year + 5) - dt.timedelta(days=1)
    assert AuditEvent.objects.filter(action="aftercare.case_register", object_id=str(case.pk)).exists()


@override_settings(PINGAN_AFTERCARE_ASSISTANCE_YEARS=3)
def test_assistance_period_is_configurable(officer_a1, register_case):
    case = register_case(officer_a1, seq=102, release_date=dt.date(2024, 2, 29))
    assert case.assistance_end == dt.date(2027, 2, 27)


def test_one_person_one_record(tree, officer_a1, register_case, today):
    person, _ = person_register(
        actor=officer_a1, area=tree.a1_2, data={"name": "测试刑释", "id_number": make_id(103)}
    )
    case = register_case(officer_a1, seq=103, area=tree.a1)
    assert case.person_id == person.pk
    assert case.area_id == tree.a1_2.pk  # the person's own grid inside the given community
    assert Person.objects.count() == 1
    with pytest.raises(ValidationError) as exc:
        register_case(officer_a1, seq=103, release_date=today - dt.timedelta(days=5))
    assert "未结束的帮教档案" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        register_case(officer_a1, seq=103, name="别人")
    assert "姓名与该身份证号" in str(exc.value)


def test_person_in_other_jurisdiction_refused(tree, officer_a1, officer_b1, register_case):
    person_register(actor=officer_b1, area=tree.b1_1, data={"name": "测试刑释", "id_number": make_id(104)})
    with pytest.raises(ValidationError) as exc:
        register_case(officer_a1, seq=104)
    assert "其他辖区" in str(exc.value)


def test_validation_messages_in_chinese(officer_a1, register_case, today):
    with pytest.raises(ValidationError) as exc:
        register_case(officer_a1, seq=105, offence="不存在的罪", release_date="2025-13-01")
    messages = exc.value.message_dict
    assert "不在罪名代码表中" in messages["offence"][0]
    assert "日期格式不正确" in messages["release_date"][0]


def test_roles_that_may_not_write(tree, leader, grid_a1, dept_handler, register_case):
    for user in (leader, grid_a1, dept_handler):
        with pytest.raises(PermissionDenied):
            register_case(user, seq=106)


def test_under_18_offence_seals_the_case(officer_a1, register_case):
    case = register_case(officer_a1, seq=107, offence_under_18=True)
    case.refresh_from_db()
    assert case.sealed and "未满十八周岁" in case.sealed_reason
    from pingan.aftercare.selectors import case_list

    assert not case_list(user=officer_a1).filter(pk=case.pk).exists()


def test_handover_receive_and_conflict(officer_a1, assist_a, register_case, today):
    case = register_case(officer_a1, seq=108)
    version = case.version
    with pytest.raises(ValidationError) as exc:
        services.handover_receive(
            actor=officer_a1, case_id=case.pk, received_on=case.release_date - dt.timedelta(days=1)
        )
    assert "不能早于释放日期" in str(exc.value)
    services.handover_receive(
        actor=officer_a1,
        case_id=case.pk,
        received_on=case.release_date,
        met_at_release=True,
        expected_version=version,
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.ASSISTING and case.handover.status == HandoverStatus.RECEIVED
    assert case.version == version + 1
    # a second person acting on the version they loaded before: refused
    with pytest.raises(services.CaseConflict):
        services.resettlement_set(
            actor=assist_a, case_id=case.pk, kind="employment", expected_version=version
        )
    with pytest.raises(services.CaseConflict):
        services.handover_receive(actor=assist_a, case_id=case.pk, received_on=today)


def test_receive_with_actual_release_date_moves_default_end(officer_a1, register_case, today):
    case = register_case(officer_a1, seq=109, release_date=today + dt.timedelta(days=10))
    with pytest.raises(ValidationError) as exc:
        services.handover_receive(actor=officer_a1, case_id=case.pk, received_on=today)
    assert "尚未到释放日期" in str(exc.value)
    actual = today - dt.timedelta(days=2)
    services.handover_receive(actor=officer_a1, case_id=case.pk, received_on=today, release_date=actual)
    case.refresh_from_db()
    assert case.release_date == actual and case.handover.expected_release_date == today + dt.timedelta(
        days=10
    )
    assert case.assistance_end == services.default_assistance_end(actual)


def test_not_received_needs_reason(officer_a1, register_case):
    case = register_case(officer_a1, seq=110)
    with pytest.raises(ValidationError):
        services.handover_not_received(actor=officer_a1, case_id=case.pk, reason="")
    services.handover_not_received(actor=officer_a1, case_id=case.pk, reason="未按时报到")
    case.refresh_from_db()
    assert case.handover.status == HandoverStatus.NOT_RECEIVED and case.status == CaseStatus.PENDING


def test_resettlement_rules(officer_a1, register_case, today):
    case = register_case(officer_a1, seq=111, received_on=today)
    with pytest.raises(ValidationError) as exc:
        services.resettlement_set(actor=officer_a1, case_id=case.pk, kind="none")
    assert "未安置的，请填写原因" in str(exc.value)
    services.resettlement_set(actor=officer_a1, case_id=case.pk, kind="未安置", reason="身体原因暂不能就业")
    services.resettlement_set(actor=officer_a1, case_id=case.pk, kind="就业", detail="示例物流公司")
    case.refresh_from_db()
    assert case.resettlement == "employment" and case.resettled_on == today and case.unresettled_reason == ""


def test_group_visits_aid_reoffence(officer_a1, register_case, today):
    case = register_case(officer_a1, seq=112, received_on=today)
    member = services.member_add(
        actor=officer_a1, case_id=case.pk, role="民警", name="王警官", phone="13800001111"
    )
    assert member.role == "police" and member.phone == "13800001111"
    with pytest.raises(ValidationError):
        services.member_add(actor=officer_a1, case_id=case.pk, role="police", name="王警官")
    with pytest.raises(ValidationError) as exc:
        services.member_add(actor=officer_a1, case_id=case.pk, role="boss", name="x", phone="12")
    assert "成员类别" in str(exc.value)
    services.member_remove(actor=officer_a1, case_id=case.pk, member_id=member.pk)
    member.refresh_from_db()
    assert not member.active

    with pytest.raises(ValidationError) as exc:
        services.visit_add(
            actor=officer_a1,
            case_id=case.pk,
            visited_on=today,
            visitors="社区",
            content="了解情况",
            next_visit_on=today,
        )
    assert "下次走访日期应晚于" in str(exc.value)
    with pytest.raises(ValidationError):
        services.visit_add(
            actor=officer_a1,
            case_id=case.pk,
            visited_on=today + dt.timedelta(days=1),
            visitors="社区",
            content="了解情况",
        )
    visit = services.visit_add(
        actor=officer_a1,
        case_id=case.pk,
        visited_on=today,
        visitors="社区干部",
        content="了解就业情况",
        next_visit_on=today + dt.timedelta(days=30),
    )
    assert visit.recorded_by == "officer_a1"

    with pytest.raises(ValidationError) as exc:
        services.aid_add(
            actor=officer_a1, case_id=case.pk, kind="hardship_grant", disbursed_on=today, amount="0"
        )
    assert set(exc.value.message_dict) == {"amount", "approver"}
    with pytest.raises(ValidationError) as exc:
        services.aid_add(
            actor=officer_a1,
            case_id=case.pk,
            kind="hardship_grant",
            disbursed_on=today,
            amount="12.345",
            approver="李",
        )
    assert "两位小数" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        services.aid_add(
            actor=officer_a1,
            case_id=case.pk,
            kind="hardship_grant",
            disbursed_on=today,
            amount="20000.01",
            approver="李",
        )
    assert "不能超过" in str(exc.value)
    grant = services.aid_add(
        actor=officer_a1,
        case_id=case.pk,
        kind="一次性困难救助金",
        disbursed_on=today,
        amount="2000",
        approver="街道司法所长",
    )
    assert grant.amount == Decimal("2000.00") and Aid.objects.count() == 1
    with pytest.raises(ValidationError):
        services.aid_add(actor=officer_a1, case_id=case.pk, kind="necessities", disbursed_on=today)

    with pytest.raises(ValidationError):
        services.reoffence_add(
            actor=officer_a1,
            case_id=case.pk,
            offence_date=case.release_date - dt.timedelta(days=1),
            offence="盗窃罪",
        )
    services.reoffence_add(actor=officer_a1, case_id=case.pk, offence_date=today, offence="0503")
    case.refresh_from_db()
    assert case.status == CaseStatus.REOFFENDED
    # a closed case takes no more visits (but the ledger of help stays open)
    with pytest.raises(ValidationError) as exc:
        services.visit_add(
            actor=officer_a1, case_id=case.pk, visited_on=today, visitors="社区", content="了解情况"
        )
    assert "重新犯罪" in str(exc.value)
    actions = set(
        AuditEvent.objects.filter(object_id=str(case.pk), object_type="aftercare.aftercarecase").values_list(
            "action", flat=True
        )
    )
    assert {
        "aftercare.member_add",
        "aftercare.member_remove",
        "aftercare.visit_add",
        "aftercare.aid_add",
        "aftercare.reoffence_add",
    } <= actions


def test_close(officer_a1, register_case, today):
    case = register_case(officer_a1, seq=113, received_on=today)
    with pytest.raises(ValidationError) as exc:
        services.case_close(actor=officer_a1, case_id=case.pk, status="ended")
    assert "才届满" in str(exc.value)
    with pytest.raises(ValidationError):
        services.case_close(actor=officer_a1, case_id=case.pk, status="closed")
    services.case_close(actor=officer_a1, case_id=case.pk, status="closed", note="迁往外省")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED


def test_writes_outside_scope_are_404(officer_a1, officer_b1, register_case, today):
    case = register_case(officer_a1, seq=114, received_on=today)
    with pytest.raises(Http404):
        services.visit_add(
            actor=officer_b1, case_id=case.pk, visited_on=today, visitors="x", content="了解情况"
        )
    with pytest.raises(Http404):
        services.handover_receive(actor=officer_b1, case_id=case.pk, received_on=today)
    assert AftercareCase.objects.get(pk=case.pk).version == case.version
