from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from pingan.audit.models import AuditEvent
from pingan.core.actors import SYSTEM
from pingan.people.models import House, Occupancy, Person, PersonStatus
from pingan.people.selectors import (
    PersonFilter,
    house_get,
    person_duplicates,
    person_get,
    person_list,
)
from pingan.people.services import (
    house_create,
    household_add_member,
    household_create,
    occupancy_start,
    person_merge,
    person_move_in,
    person_move_out,
    person_register,
    person_update,
)
from tests.people.conftest import make_id


def test_register_encrypts_and_derives_from_id(tree, community_a1, person_data):
    person, created = person_register(actor=community_a1, area=tree.a1_1, data=person_data())
    assert created
    person.refresh_from_db()
    assert person.sex == "1" and person.birth_date == dt.date(1990, 1, 1)
    assert person.name_pinyin == "ceshizhangsan" and person.name_initials == "cszs"
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT id_number, phone FROM people_person WHERE id = %s", [person.pk])
        raw_id, raw_phone = cur.fetchone()
    assert "120103" not in raw_id and "1381234" not in raw_phone
    assert AuditEvent.objects.filter(action="person.register").exists()
    assert person.status_changes.filter(event="register").exists()


def test_register_same_id_updates_same_record(tree, community_a1, person_data):
    first, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data())
    lower_x_variant = person_data(phone="022-23456789")
    again, created = person_register(actor=community_a1, area=tree.a1_2, data=lower_x_variant)
    assert not created and again.pk == first.pk
    again.refresh_from_db()
    assert again.phone == "022-23456789" and again.area_id == tree.a1_2.pk
    assert Person.objects.count() == 1


def test_sex_and_birth_checked_against_id(tree, community_a1, person_data):
    with pytest.raises(ValidationError) as exc:
        person_register(
            actor=community_a1, area=tree.a1_1, data=person_data(sex="女", birth_date="1991-01-01")
        )
    assert "sex" in exc.value.message_dict and "birth_date" in exc.value.message_dict


def test_other_jurisdiction_cannot_register_or_read(tree, community_a1, community_b1, person_data):
    person, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data())
    with pytest.raises(PermissionDenied):
        person_register(actor=community_b1, area=tree.a1_1, data=person_data(seq=125))
    with pytest.raises(ValidationError):  # same ID, registered in A1: refused without revealing it
        person_register(actor=community_b1, area=tree.b1_1, data=person_data())
    assert not person_list(user=community_b1).exists()
    with pytest.raises(Http404):
        person_get(user=community_b1, person_id=person.pk)
    with pytest.raises(Http404):
        person_update(actor=community_b1, person_id=person.pk, data={"name": "改名"})


def test_admin_and_department_see_nothing(tree, community_a1, dept_handler, auditor, person_data):
    person_register(actor=community_a1, area=tree.a1_1, data=person_data())
    assert not person_list(user=dept_handler).exists()
    assert not person_list(user=auditor).exists()


def test_leader_reads_but_cannot_write(tree, leader, community_a1, person_data):
    person_register(actor=community_a1, area=tree.a1_1, data=person_data())
    assert person_list(user=leader).count() == 1
    with pytest.raises(PermissionDenied):
        person_register(actor=leader, area=tree.a1_1, data=person_data(seq=125))


def test_view_is_access_audited(tree, community_a1, person_data):
    person, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data())
    person_get(user=community_a1, person_id=person.pk)
    assert AuditEvent.objects.filter(action="access.view", object_id=str(person.pk)).count() == 1


def test_sealed_excluded(tree, community_a1, person_data):
    from pingan.core.sensitive import apply_seal

    person, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data())
    apply_seal(person, actor=SYSTEM, reason="未成年人犯罪记录封存")
    assert not person_list(user=community_a1).exists()
    assert not person_list(user=community_a1, filters=PersonFilter(q="测试")).exists()
    with pytest.raises(Http404):
        person_get(user=community_a1, person_id=person.pk)


def test_move_out_and_in_keep_history(tree, community_a1, person_data):
    house = house_create(
        actor=community_a1,
        area=tree.a1_1,
        data={"compound": "测试小区", "building": "1", "unit": "2", "room": "301"},
    )
    assert house.address == "测试小区1号楼2单元301室"
    person, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data(), house=house)
    person_move_out(actor=community_a1, person_id=person.pk, note="迁往外省")
    person.refresh_from_db()
    assert person.status == PersonStatus.MOVED_OUT and person.current_house_id is None
    assert not Occupancy.objects.filter(person=person, end__isnull=True).exists()
    assert not person_list(user=community_a1).exists()
    assert person_list(user=community_a1, filters=PersonFilter(status="all")).count() == 1
    with pytest.raises(ValidationError):
        person_move_out(actor=community_a1, person_id=person.pk)
    person_move_in(actor=community_a1, person_id=person.pk, area=tree.a1_2, house=house)
    events = list(person.status_changes.order_by("pk").values_list("event", flat=True))
    assert events == ["register", "move_out", "move_in"]


def test_house_scope(tree, community_a1, community_b1):
    house = house_create(actor=community_a1, area=tree.a1_1, data={"compound": "测试小区"})
    with pytest.raises(Http404):
        house_get(user=community_b1, house_id=house.pk)
    with pytest.raises(ValidationError):
        house_create(actor=community_a1, area=tree.a1_1, data={"compound": "测试小区"})


def test_household_and_occupancy(tree, community_a1, person_data):
    house = house_create(actor=community_a1, area=tree.a1_1, data={"compound": "测试小区", "room": "101"})
    head, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data())
    spouse, _ = person_register(
        actor=community_a1, area=tree.a1_1, data=person_data(seq=124, name="测试李四")
    )
    hh = household_create(actor=community_a1, area=tree.a1_1, number="H0001", householder=head, house=house)
    household_add_member(actor=community_a1, household_id=hh.pk, person_id=spouse.pk, relation="配偶")
    assert sorted(hh.members.values_list("relation", flat=True)) == ["02", "10"]
    occupancy_start(actor=community_a1, person_id=spouse.pk, house_id=house.pk, role="owner")
    house.refresh_from_db()
    assert house.owner_id == spouse.pk
    hh2 = household_create(actor=community_a1, area=tree.a1_1, number="H0002")
    with pytest.raises(ValidationError):
        household_add_member(actor=community_a1, household_id=hh2.pk, person_id=spouse.pk, relation="10")


def test_duplicates_and_merge(tree, community_a1, person_data):
    house = house_create(actor=community_a1, area=tree.a1_1, data={"compound": "测试小区", "room": "101"})
    with_id, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data())
    no_id, _ = person_register(
        actor=community_a1,
        area=tree.a1_1,
        data={"name": "测试张三", "birth_date": "1990-01-01", "workplace": "测试单位"},
        house=house,
    )
    assert list(person_duplicates(user=community_a1, person=no_id)) == [with_id]
    hh = household_create(actor=community_a1, area=tree.a1_1, number="H0003", householder=no_id)
    kept = person_merge(actor=community_a1, keep_id=with_id.pk, merge_id=no_id.pk, reason="同一人重复登记")
    kept.refresh_from_db()
    assert kept.workplace == "测试单位" and kept.current_house_id == house.pk
    assert Occupancy.objects.filter(person=kept, house=house).exists()
    hh.refresh_from_db()
    assert hh.householder_id == kept.pk and hh.members.get().person_id == kept.pk
    assert Person.objects.get(pk=no_id.pk).merged_into_id == kept.pk
    assert person_list(user=community_a1).count() == 1
    assert AuditEvent.objects.filter(action="person.merge").exists()
    assert set(kept.status_changes.values_list("event", flat=True)) >= {"register", "merge"}


@pytest.mark.parametrize(
    ("q", "hits"),
    [
        ("测试", 2),
        ("张", 1),
        ("ceshizh", 1),
        ("cszs", 1),
        ("CSLS", 1),
        (make_id(seq=234)[-4:], 1),
        ("5678", 2),
        (make_id(seq=123), 1),
        (make_id(seq=123)[-6:], 1),
        ("13812345678", 1),
        ("滦水", 1),
        ("nobody", 0),
    ],
)
def test_search_shapes(tree, community_a1, person_data, q, hits):
    house = house_create(actor=community_a1, area=tree.a1_1, data={"compound": "滦水园", "room": "101"})
    person_register(actor=community_a1, area=tree.a1_1, data=person_data(), house=house)
    person_register(
        actor=community_a1, area=tree.a1_1, data=person_data(seq=234, name="测试李四", phone="022-12345678")
    )
    assert person_list(user=community_a1, filters=PersonFilter(q=q)).count() == hits


def test_house_created_by_system(tree):
    house = house_create(actor=SYSTEM, area=tree.a1_1, data={"compound": "系统小区"})
    assert House.objects.filter(pk=house.pk).exists()


def test_moves_carry_their_dates(tree, community_a1, person_data):
    """A move out or in happened on a day (recorded later): never in the future, never before the stay it ends
    began (the database refuses such an occupancy: it was a server error); the history keeps the day."""
    today = timezone.localdate()
    house = house_create(actor=community_a1, area=tree.a1_1, data={"compound": "测试小区", "room": "101"})
    other = house_create(actor=community_a1, area=tree.a1_1, data={"compound": "测试小区", "room": "102"})
    person, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data(), house=house)
    Occupancy.objects.filter(person=person).update(start=today - dt.timedelta(days=30))
    for on, message in (
        (today + dt.timedelta(days=1), "注销日期不能晚于今天"),
        (today - dt.timedelta(days=31), f"注销日期不能早于入住日期 {today - dt.timedelta(days=30)}"),
    ):
        with pytest.raises(ValidationError) as caught:
            person_move_out(actor=community_a1, person_id=person.pk, on=on)
        assert caught.value.message_dict == {"on": [message]}
    person.refresh_from_db()
    assert person.status == PersonStatus.ACTIVE and person.status_changes.count() == 1  # nothing changed
    with pytest.raises(ValidationError, match="迁入日期不能早于入住日期"):  # it would end the stay in 101
        person_move_in(
            actor=community_a1,
            person_id=person.pk,
            area=tree.a1_1,
            house=other,
            on=today - dt.timedelta(days=40),
        )
    moved = today - dt.timedelta(days=10)
    person_move_in(actor=community_a1, person_id=person.pk, area=tree.a1_1, house=other, on=moved)
    left = today - dt.timedelta(days=3)
    person_move_out(actor=community_a1, person_id=person.pk, on=left, note="迁往外省")
    stays = dict(Occupancy.objects.filter(person=person).values_list("house_id", "end"))
    assert stays == {house.pk: moved, other.pk: left}
    history = list(person.status_changes.order_by("pk"))
    assert [(h.event_label, h.effective_on) for h in history] == [
        ("登记", None),
        ("迁入", moved),
        ("迁出", left),
    ]
    assert (history[-1].from_label, history[-1].to_label) == ("在册", "已迁出")
    # a return is not dated before the person left: the stays would overlap
    with pytest.raises(ValidationError) as caught:
        person_move_in(actor=community_a1, person_id=person.pk, area=tree.a1_1, house=house, on=moved)
    assert caught.value.message_dict == {"on": [f"迁入日期不能早于注销日期 {left.isoformat()}"]}
    person_move_in(actor=community_a1, person_id=person.pk, area=tree.a1_1, house=house, on=left)


def test_a_house_typed_with_or_without_its_suffixes_is_one_house(tree, community_a1):
    """1号楼 / 1单元 / 101室 and 1 / 1 / 101 are the same standard address: the second is refused."""
    first = house_create(
        actor=community_a1,
        area=tree.a1_1,
        data={"compound": "示例小区", "building": "1", "unit": "1", "room": "101"},
    )
    with pytest.raises(ValidationError, match="该地址的房屋已登记"):
        house_create(
            actor=community_a1,
            area=tree.a1_1,
            data={"compound": "示例小区", "building": "1号楼", "unit": "1单元", "room": "101室"},
        )
    other = house_create(
        actor=community_a1, area=tree.a1_1, data={"compound": "示例小区", "building": "A座", "room": "101室"}
    )
    assert (other.building, other.room) == ("A座", "101")  # only a bare number loses its suffix
    assert first.compose_address() == "示例小区1号楼1单元101室"
