"""The forms of the house, household and person pages beyond register/edit: residents of a house (以房管人),
households and their members, floating-population and overseas records, moving in. Each: the happy path
through the test client, a Chinese validation message next to the field, the scope (community B1 gets 404
on A1's objects and cannot pick A1's people), the audit event, and who sees the buttons."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from pingan.audit.models import AuditEvent
from pingan.people.models import FloatingRecord, Household, HouseholdMember, Occupancy, OverseasRecord, Person
from pingan.people.services import (
    house_create,
    household_create,
    occupancy_end,
    occupancy_start,
    overseas_register,
    person_register,
)
from tests.factories import api_client_for
from tests.people.conftest import make_id

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def a1(tree, community_a1, person_data):
    """A1's house, two residents (one with a household) and a household at the house."""
    house = house_create(
        actor=community_a1, area=tree.a1_1, data={"compound": "滦水里", "building": "1", "room": "101"}
    )
    head, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=11, name="甲户主"))
    lodger, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=13, name="甲租客"))
    household = household_create(
        actor=community_a1, area=tree.a1_1, number="A0001", householder=head, house=house
    )
    return {"house": house, "head": head, "lodger": lodger, "household": household}


@pytest.fixture
def b1(tree, community_b1, person_data):
    house = house_create(actor=community_b1, area=tree.b1_1, data={"compound": "粤江里", "room": "201"})
    person, _ = person_register(actor=community_b1, area=tree.b1_1, data=person_data(seq=21, name="乙居民"))
    household = household_create(actor=community_b1, area=tree.b1_1, number="B0001", house=house)
    return {"house": house, "person": person, "household": household}


def _errors(response, field):
    return [str(e) for e in response.context["form"].errors.get(field, [])]


# --- 以房管人: residents of a house ---------------------------------------------------------------------


def test_add_resident_to_house_by_id_number(a1, community_a1):
    client = api_client_for(community_a1)
    url = f"/people/houses/{a1['house'].pk}/occupants/new/"
    page = client.get(url)
    assert page.status_code == 200 and "登记居住人员" in page.content.decode()
    response = client.post(url, {"person": make_id(seq=13), "role": "tenant", "start": "2025-03-01"})
    assert response.status_code == 302 and response["Location"] == f"/people/houses/{a1['house'].pk}/"
    occupancy = Occupancy.objects.get(person=a1["lodger"], house=a1["house"])
    assert occupancy.role == "tenant" and occupancy.start == dt.date(2025, 3, 1) and occupancy.end is None
    a1["lodger"].refresh_from_db()
    assert a1["lodger"].current_house_id == a1["house"].pk
    assert AuditEvent.objects.filter(action="occupancy.start", object_id=str(a1["lodger"].pk)).exists()
    house_page = client.get(f"/people/houses/{a1['house'].pk}/").content.decode()
    assert f"/people/occupancies/{occupancy.pk}/end/" in house_page


def test_add_resident_by_archive_number_from_search(a1, community_a1):
    client = api_client_for(community_a1)
    url = f"/people/houses/{a1['house'].pk}/occupants/new/"
    assert "请至少输入 2 个字再查找" in client.get(url, {"q": "甲"}).content.decode()  # 1 character: a hint
    found = client.get(url, {"q": "甲租客"})
    picks = found.context["picker"]["candidates"]
    assert [c["person"].pk for c in picks] == [a1["lodger"].pk]
    assert f"person={a1['lodger'].pk}" in picks[0]["url"]
    chosen = client.get(url + picks[0]["url"])
    assert chosen.context["form"].initial["person"] == str(a1["lodger"].pk)
    response = client.post(url, {"person": f"#{a1['lodger'].pk}", "role": "resident", "start": "2025-01-01"})
    assert response.status_code == 302
    assert Occupancy.objects.filter(person=a1["lodger"], house=a1["house"], role="resident").exists()


def test_the_person_picker_counts_as_a_search(a1, community_a1, settings):
    settings.PINGAN_SEARCH_RATE_PER_MINUTE = 2
    client = api_client_for(community_a1)
    url = f"/people/houses/{a1['house'].pk}/occupants/new/"
    assert client.get(url).status_code == 200  # the form without a search is not counted
    for _ in range(2):
        assert client.get(url, {"q": "甲租客"}).status_code == 200
    assert client.get(url, {"q": "甲租客"}).status_code == 429
    household = f"/people/households/{a1['household'].pk}/members/new/"
    assert client.get(household, {"q": "甲"}).status_code == 429  # one budget for every person search


def test_add_resident_messages_in_chinese(a1, community_a1):
    client = api_client_for(community_a1)
    url = f"/people/houses/{a1['house'].pk}/occupants/new/"
    missing = client.post(url, {"person": "", "role": "tenant", "start": "2025-13-01"})
    assert missing.status_code == 200
    assert _errors(missing, "person") == ["请填写身份证号或档案号"]
    assert _errors(missing, "start") == ["请输入有效的日期"]
    unchosen = client.post(url, {"person": make_id(seq=13), "role": "", "start": "2025-03-01"})
    assert _errors(unchosen, "role") == ["请选择居住关系"]  # no relation is preselected
    assert "请填写身份证号或档案号" in missing.content.decode()  # shown next to the field
    unknown = client.post(url, {"person": make_id(seq=99), "role": "tenant", "start": "2025-01-01"})
    assert _errors(unknown, "person") == ["辖区内没有该人员，请核对身份证号或档案号"]
    assert not Occupancy.objects.filter(house=a1["house"], role="tenant").exists()
    occupancy_start(actor=community_a1, person_id=a1["lodger"].pk, house_id=a1["house"].pk)
    twice = client.post(url, {"person": make_id(seq=13), "role": "owner", "start": "2025-01-01"})
    assert _errors(twice, "person") == ["该人员已登记在此房屋，如需变更请先办理迁出"]
    assert Occupancy.objects.get(person=a1["lodger"], house=a1["house"]).role == "resident"


def test_end_occupancy(a1, community_a1):
    occupancy = occupancy_start(
        actor=community_a1,
        person_id=a1["lodger"].pk,
        house_id=a1["house"].pk,
        role="tenant",
        start=dt.date(2025, 3, 1),
    )
    client = api_client_for(community_a1)
    url = f"/people/occupancies/{occupancy.pk}/end/"
    early = client.post(url, {"end": "2025-02-01"})
    assert _errors(early, "end") == [
        "迁出日期不能早于入住日期 2025-03-01"
    ]  # the same rule as 注销: names the day
    occupancy.refresh_from_db()
    assert occupancy.end is None
    response = client.post(url, {"end": "2025-06-30"})
    assert response.status_code == 302
    occupancy.refresh_from_db()
    a1["lodger"].refresh_from_db()
    assert occupancy.end == dt.date(2025, 6, 30) and a1["lodger"].current_house_id is None
    assert AuditEvent.objects.filter(action="occupancy.end", object_id=str(a1["lodger"].pk)).exists()
    again = client.post(url, {"end": "2025-07-01"})
    assert _errors(again, "end") == ["该居住关系已结束"]


def test_end_occupancy_service_answers_404_for_missing_or_foreign(a1, b1, community_a1, community_b1):
    occupancy = occupancy_start(actor=community_a1, person_id=a1["lodger"].pk, house_id=a1["house"].pk)
    with pytest.raises(Http404):
        occupancy_end(actor=community_b1, occupancy_id=occupancy.pk)
    with pytest.raises(Http404):
        occupancy_end(actor=community_a1, occupancy_id=occupancy.pk + 1000)


# --- households -----------------------------------------------------------------------------------------


def test_create_household_from_house_page(a1, tree, community_a1):
    client = api_client_for(community_a1)
    house = a1["house"]
    page = client.get("/people/households/new/", {"house": house.pk})
    assert page.status_code == 200
    assert page.context["form"].initial["house"] == str(house.pk)
    areas = [int(pk) for pk, _label in page.context["form"].fields["area"].choices]
    assert tree.b1_1.pk not in areas and tree.a1_1.pk in areas
    response = client.post(
        f"/people/households/new/?house={house.pk}",
        {"number": "A0002", "area": tree.a1_1.pk, "householder": make_id(seq=13), "house": str(house.pk)},
    )
    household = Household.objects.get(number="A0002")
    assert response.status_code == 302 and response["Location"] == f"/people/households/{household.pk}/"
    assert household.householder == a1["lodger"] and household.house == house
    assert HouseholdMember.objects.get(household=household).relation == "02"
    assert AuditEvent.objects.filter(action="household.create", object_id=str(household.pk)).exists()


def test_create_household_messages_in_chinese(a1, tree, community_a1):
    client = api_client_for(community_a1)
    blank = client.post("/people/households/new/", {"number": "", "area": tree.a1_1.pk})
    assert _errors(blank, "number") == ["请填写户号"]
    taken = client.post("/people/households/new/", {"number": "A0001", "area": tree.a1_1.pk})
    assert _errors(taken, "number") == ["户号已存在"]
    no_house = client.post(
        "/people/households/new/", {"number": "A0009", "area": tree.a1_1.pk, "house": "X-1"}
    )
    assert _errors(no_house, "house") == ["辖区内没有该房屋，请核对房屋编码"]
    assert not Household.objects.filter(number="A0009").exists()


def test_add_member_to_household(a1, community_a1):
    client = api_client_for(community_a1)
    household = a1["household"]
    detail = client.get(f"/people/households/{household.pk}/").content.decode()
    assert f"/people/households/{household.pk}/members/new/" in detail
    url = f"/people/households/{household.pk}/members/new/"
    relations = dict(client.get(url).context["form"].fields["relation"].choices)
    assert relations["10"] == "配偶"
    response = client.post(url, {"person": make_id(seq=13), "relation": "10"})
    assert response.status_code == 302
    assert HouseholdMember.objects.get(person=a1["lodger"]).relation == "10"
    assert AuditEvent.objects.filter(action="household.member", object_id=str(household.pk)).count() == 2
    page = client.get(f"/people/households/{household.pk}/").content.decode()
    assert "配偶" in page


def test_add_member_messages_in_chinese(a1, tree, community_a1):
    client = api_client_for(community_a1)
    url = f"/people/households/{a1['household'].pk}/members/new/"
    no_relation = client.post(url, {"person": make_id(seq=13), "relation": ""})
    assert _errors(no_relation, "relation") == ["请选择与户主关系"]
    other = household_create(actor=community_a1, area=tree.a1_1, number="A0003")
    elsewhere = client.post(
        f"/people/households/{other.pk}/members/new/", {"person": make_id(seq=11), "relation": "10"}
    )
    assert _errors(elsewhere, "person") == ["该人员已属于另一户，请先从原户移出"]


# --- floating-population and overseas records ------------------------------------------------------------


def test_floating_register_and_update(a1, community_a1):
    client = api_client_for(community_a1)
    person = a1["lodger"]
    detail = client.get(f"/people/{person.pk}/").content.decode()
    assert f"/people/{person.pk}/floating/new/" in detail
    response = client.post(
        f"/people/{person.pk}/floating/new/",
        {
            "permit_type": "residence",
            "permit_number": " jz 1201 0001 ",
            "valid_from": "2025-01-01",
            "valid_to": "2026-01-01",
            "inflow_reason": "务工",
            "registered_on": "2025-01-02",
            "landlord": make_id(seq=11),
        },
    )
    assert response.status_code == 302
    record = FloatingRecord.objects.get(person=person)
    assert record.permit_number == "JZ12010001" and record.landlord == a1["head"]
    person.refresh_from_db()
    assert person.is_floating
    assert AuditEvent.objects.filter(action="person.floating_register", object_id=str(person.pk)).exists()

    url = f"/people/{person.pk}/floating/{record.pk}/"
    page = client.get(url)
    form = page.context["form"]
    assert form.initial["permit_number"] == "JZ12010001" and form.initial["landlord"] == str(a1["head"].pk)
    # <input type="date"> reads ISO dates only: a localised "2025/01/01" would show an empty field
    assert 'name="valid_from" value="2025-01-01"' in page.content.decode()
    renewed = client.post(
        url,
        {
            "permit_type": "residence",
            "permit_number": "JZ12010001",
            "valid_from": "2026-01-01",
            "valid_to": "2027-01-01",
            "inflow_reason": "务工",
            "registered_on": "2025-01-02",
            "last_verified_on": str(TODAY),
            "landlord": "",
        },
    )
    assert renewed.status_code == 302
    record.refresh_from_db()
    assert record.valid_to == dt.date(2027, 1, 1) and record.landlord is None
    event = AuditEvent.objects.get(action="person.floating_update")
    assert "valid_to" in event.changes and FloatingRecord.objects.filter(person=person).count() == 1


def test_floating_messages_in_chinese(a1, b1, community_a1):
    client = api_client_for(community_a1)
    person = a1["lodger"]
    response = client.post(
        f"/people/{person.pk}/floating/new/",
        {
            "permit_type": "residence",
            "valid_from": "2025-06-01",
            "valid_to": "2025-01-01",
            "registered_on": "2025-01-02",
            "landlord": make_id(seq=21),  # B1's resident: not in A1's sight
        },
    )
    assert response.status_code == 200
    assert _errors(response, "permit_number") == ["已办理居住证的，请填写居住证号"]
    assert _errors(response, "landlord") == ["辖区内没有该人员，请核对身份证号或档案号"]
    reversed_dates = client.post(
        f"/people/{person.pk}/floating/new/",
        {
            "permit_type": "temporary",
            "valid_from": "2025-06-01",
            "valid_to": "2025-01-01",
            "registered_on": "2025-01-02",
        },
    )
    assert _errors(reversed_dates, "valid_to") == ["有效期至不能早于有效期起"]
    assert not FloatingRecord.objects.exists()


def test_overseas_register_and_update(a1, community_a1):
    client = api_client_for(community_a1)
    person = a1["lodger"]
    page = client.get(f"/people/{person.pk}/overseas/new/")
    nationalities = dict(page.context["form"].fields["nationality"].choices)
    assert "CHN" not in nationalities and nationalities["HKG"] == "中国香港"
    response = client.post(
        f"/people/{person.pk}/overseas/new/",
        {
            "nationality": "USA",
            "foreign_surname": "smith",
            "foreign_given_name": "john  paul",
            "document_number": "e1234 5678",
            "visa_type": "Z",
            "entry_date": "2025-09-01",
            "stay_until": "2026-09-01",
            "expected_departure": "2026-06-30",
            "purpose": "工作",
        },
    )
    assert response.status_code == 302
    record = OverseasRecord.objects.get(person=person)
    assert (record.foreign_surname, record.foreign_given_name) == ("SMITH", "JOHN PAUL")
    assert record.document_number == "E12345678" and record.expected_departure == dt.date(2026, 6, 30)
    person.refresh_from_db()
    assert person.is_overseas
    assert AuditEvent.objects.filter(action="person.overseas_register", object_id=str(person.pk)).exists()
    assert "美国" in client.get(f"/people/{person.pk}/").content.decode()

    url = f"/people/{person.pk}/overseas/{record.pk}/"
    data = {**client.get(url).context["form"].initial, "expected_departure": "2026-08-31"}
    data = {k: (v.isoformat() if isinstance(v, dt.date) else v or "") for k, v in data.items()}
    assert client.post(url, data).status_code == 302
    record.refresh_from_db()
    assert record.expected_departure == dt.date(2026, 8, 31)
    event = AuditEvent.objects.get(action="person.overseas_update")
    assert list(event.changes) == ["record", "expected_departure"]


def test_overseas_messages_in_chinese(a1, community_a1):
    client = api_client_for(community_a1)
    url = f"/people/{a1['lodger'].pk}/overseas/new/"
    response = client.post(
        url, {"nationality": "", "entry_date": "2025-09-01", "expected_departure": "2025-08-01"}
    )
    assert _errors(response, "nationality") == ["请选择国籍或地区"]
    response = client.post(
        url, {"nationality": "JPN", "entry_date": "2025-09-01", "expected_departure": "2025-08-01"}
    )
    assert _errors(response, "expected_departure") == ["预计离开日期不能早于入境日期"]
    assert not OverseasRecord.objects.exists()


def test_overseas_register_service_rules(a1, community_a1, community_b1):
    with pytest.raises(ValidationError) as exc:
        overseas_register(actor=community_a1, person_id=a1["lodger"].pk, data={"nationality": "CHN"})
    assert exc.value.message_dict == {"nationality": ["境外人员的国籍或地区不能是中国内地"]}
    with pytest.raises(ValidationError) as exc:
        overseas_register(
            actor=community_a1,
            person_id=a1["lodger"].pk,
            data={"nationality": "日本", "entry_date": TODAY + dt.timedelta(days=3)},
        )
    assert exc.value.message_dict == {"entry_date": ["入境日期不能晚于今天"]}
    with pytest.raises(Http404):
        overseas_register(actor=community_b1, person_id=a1["lodger"].pk, data={"nationality": "JPN"})
    record = overseas_register(actor=community_a1, person_id=a1["lodger"].pk, data={"nationality": "日本"})
    assert record.nationality == "JPN"
    assert not AuditEvent.objects.filter(
        action="person.overseas_register", actor_username="community_b1"
    ).exists()


# --- moving in ---------------------------------------------------------------------------------------------


def test_move_in_to_another_grid_and_house(a1, tree, community_a1):
    client = api_client_for(community_a1)
    person = a1["lodger"]
    new_house = house_create(
        actor=community_a1, area=tree.a1_2, data={"compound": "新居小区", "room": "305", "code": "FW-305"}
    )
    page = client.get(f"/people/{person.pk}/move-in/")
    areas = [int(pk) for pk, _label in page.context["form"].fields["area"].choices]
    assert tree.a1_2.pk in areas and tree.b1_1.pk not in areas
    response = client.post(
        f"/people/{person.pk}/move-in/",
        {"area": tree.a1_2.pk, "house": "FW-305", "on": "2025-05-01", "note": "从第1网格迁入"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.area == tree.a1_2 and person.current_house == new_house and person.status == "active"
    assert Occupancy.objects.get(person=person, house=new_house).start == dt.date(2025, 5, 1)
    assert AuditEvent.objects.filter(action="person.move_in", object_id=str(person.pk)).exists()
    assert person.status_changes.filter(event="move_in", note="从第1网格迁入").exists()


def test_move_in_messages_in_chinese(a1, b1, tree, community_a1):
    client = api_client_for(community_a1)
    url = f"/people/{a1['lodger'].pk}/move-in/"
    response = client.post(url, {"area": tree.b1_1.pk, "house": str(b1["house"].pk), "on": ""})
    assert response.status_code == 200
    assert _errors(response, "area") and "选择" in _errors(response, "area")[0]  # Django's own, in Chinese
    assert _errors(response, "house") == ["辖区内没有该房屋，请核对房屋编码"]
    assert _errors(response, "on") == ["请填写日期"]
    a1["lodger"].refresh_from_db()
    assert a1["lodger"].area == tree.a1_1


# --- scope and who sees the buttons -------------------------------------------------------------------


def test_b1_gets_404_on_a1_forms(a1, community_a1, community_b1):
    occupancy = occupancy_start(actor=community_a1, person_id=a1["lodger"].pk, house_id=a1["house"].pk)
    floating = FloatingRecord.objects.create(person=a1["lodger"], registered_on=TODAY)
    overseas = overseas_register(actor=community_a1, person_id=a1["head"].pk, data={"nationality": "JPN"})
    person, head, house, household = a1["lodger"], a1["head"], a1["house"], a1["household"]
    urls = [
        f"/people/houses/{house.pk}/occupants/new/",
        f"/people/occupancies/{occupancy.pk}/end/",
        f"/people/households/new/?house={house.pk}",
        f"/people/households/{household.pk}/members/new/",
        f"/people/{person.pk}/floating/new/",
        f"/people/{person.pk}/floating/{floating.pk}/",
        f"/people/{head.pk}/overseas/new/",
        f"/people/{head.pk}/overseas/{overseas.pk}/",
        f"/people/{person.pk}/move-in/",
    ]
    client = api_client_for(community_b1)
    before = AuditEvent.objects.filter(actor_username="community_b1").count()
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert (
            client.post(
                url, {"end": "2025-01-01", "nationality": "JPN", "person": str(person.pk)}
            ).status_code
            == 404
        ), url
    occupancy.refresh_from_db()
    assert occupancy.end is None
    assert AuditEvent.objects.filter(actor_username="community_b1").count() == before


def test_record_of_another_person_is_404(a1, community_a1):
    floating = FloatingRecord.objects.create(person=a1["lodger"], registered_on=TODAY)
    client = api_client_for(community_a1)
    assert client.get(f"/people/{a1['head'].pk}/floating/{floating.pk}/").status_code == 404


def test_b1_cannot_add_a1_person_to_b1_household(a1, b1, community_b1):
    client = api_client_for(community_b1)
    url = f"/people/households/{b1['household'].pk}/members/new/"
    searched = client.get(url, {"q": "甲租客"})
    assert searched.context["picker"]["candidates"] == []
    for text in (make_id(seq=13), str(a1["lodger"].pk)):
        response = client.post(url, {"person": text, "relation": "10"})
        assert response.status_code == 200
        assert _errors(response, "person") == ["辖区内没有该人员，请核对身份证号或档案号"]
    assert not HouseholdMember.objects.filter(household=b1["household"]).exists()
    taken = client.post(
        "/people/households/new/",
        {"number": "B0002", "area": b1["house"].area_id, "house": str(a1["house"].pk)},
    )
    assert _errors(taken, "house") == ["辖区内没有该房屋，请核对房屋编码"]


def test_services_refuse_a_house_outside_the_scope(a1, b1, tree, community_b1):
    from pingan.people.services import person_move_in

    with pytest.raises(Http404):
        household_create(actor=community_b1, area=tree.b1_1, number="B0003", house=a1["house"])
    assert not Household.objects.filter(number="B0003").exists()
    with pytest.raises(Http404):
        person_move_in(actor=community_b1, person_id=b1["person"].pk, area=tree.b1_1, house=a1["house"])
    assert not Occupancy.objects.filter(house=a1["house"]).exists()


def test_buttons_only_for_those_who_may_act(a1, community_a1, leader):
    house_url = f"/people/houses/{a1['house'].pk}/"
    person_url = f"/people/{a1['lodger'].pk}/"
    household_url = f"/people/households/{a1['household'].pk}/"
    worker = api_client_for(community_a1)
    for url, link in (
        (house_url, "/occupants/new/"),
        (person_url, "/move-in/"),
        (person_url, "/overseas/new/"),
        (household_url, "/members/new/"),
    ):
        assert link in worker.get(url).content.decode(), (url, link)
    reader = api_client_for(leader)  # the leader reads the whole district, writes nothing
    for url in (house_url, person_url, household_url):
        page = reader.get(url)
        assert page.status_code == 200
        body = page.content.decode()
        assert "/occupants/new/" not in body and "/move-in/" not in body and "/members/new/" not in body
        assert "/floating/new/" not in body and "/overseas/new/" not in body
    assert reader.get(f"/people/houses/{a1['house'].pk}/occupants/new/").status_code == 403
    assert reader.post(f"/people/{a1['lodger'].pk}/move-in/", {}).status_code == 403
    assert Person.objects.get(pk=a1["lodger"].pk).area_id == a1["lodger"].area_id


def test_floating_service_checks_the_landlord(a1, b1, community_a1):
    from pingan.people.services import floating_register

    for landlord, message in ((b1["person"], "辖区内没有该人员"), (a1["lodger"], "房东不能是本人")):
        with pytest.raises(ValidationError) as exc:
            floating_register(
                actor=community_a1,
                person_id=a1["lodger"].pk,
                data={"permit_type": "temporary", "landlord": landlord},
            )
        assert exc.value.message_dict == {"landlord": [message]}
    with pytest.raises(ValidationError) as exc:
        floating_register(
            actor=community_a1,
            person_id=a1["lodger"].pk,
            data={"permit_type": "permit", "registered_on": TODAY + dt.timedelta(days=1)},
        )
    assert exc.value.message_dict == {
        "permit_type": ["无效的证件类别"],
        "registered_on": ["日期不能晚于今天"],
    }
    assert not FloatingRecord.objects.exists()


def test_person_edit_form_shows_the_birth_date(a1, community_a1):
    """The edit form's date field is rendered in ISO form, the only one <input type="date"> reads (it
    was rendered "1990/01/01", which browsers show as an empty field)."""
    page = api_client_for(community_a1).get(f"/people/{a1['lodger'].pk}/edit/")
    assert 'name="birth_date" value="1990-01-01"' in page.content.decode()


def test_the_person_page_shows_the_whole_record(tree, community_a1, person_data, a1):
    """一人一档: every field of the record on the first tab; names and addresses masked with their "显示"."""
    person, _ = person_register(
        actor=community_a1,
        area=tree.a1_1,
        data=person_data(
            seq=21,
            name="乙某某",
            former_name="乙曾用",
            native_place="河北省沧州市",
            religion="10",
            occupation="厨师",
            workplace="滦水里饭店",
            current_address="滦水里3号楼2单元301",
        ),
    )
    page = api_client_for(community_a1).get(f"/people/{person.pk}/").content.decode()
    basic = page.split('id="pa-tab-house"')[0]
    for label, value in (
        ("曾用名", "乙*用"),
        ("国籍", "中国"),
        ("籍贯", "河北省沧州市"),
        ("宗教信仰", "佛教"),
        ("服务处所", "滦水里饭店"),
        ("人户一致", "—"),
    ):
        assert f">{label}</dt>" in basic and value in basic.split(f">{label}</dt>")[1].split("</dd>")[0], (
            label
        )
    assert "乙曾用" not in page and "滦水里3号楼2单元301" not in page
    assert '"field": "former_name"' in page or 'value="former_name"' in page  # its reveal control


def test_move_out_on_the_page_takes_its_date(a1, community_a1):
    """The 注销 form on the person page has the date (at most today); the history names steps in Chinese."""
    client = api_client_for(community_a1)
    person = a1["lodger"]
    page = client.get(f"/people/{person.pk}/").content.decode()
    assert f'type="date" name="on" value="{TODAY:%Y-%m-%d}" max="{TODAY:%Y-%m-%d}"' in page
    future = client.post(
        f"/people/{person.pk}/move-out/",
        {"status": "moved_out", "on": f"{TODAY + dt.timedelta(days=1)}"},
        follow=True,
    )
    assert "注销日期不能晚于今天" in future.content.decode()
    assert client.post(f"/people/{person.pk}/move-out/", {"on": "2026-13-01"}, follow=True).status_code == 200
    person.refresh_from_db()
    assert person.status == "active"
    day = TODAY - dt.timedelta(days=2)
    client.post(
        f"/people/{person.pk}/move-out/", {"status": "moved_out", "on": day.isoformat(), "note": "回老家"}
    )
    person.refresh_from_db()
    assert person.status == "moved_out"
    history = client.get(f"/people/{person.pk}/").content.decode().split('id="pa-tab-history"')[1]
    assert f"{day:%Y-%m-%d}</td>" in history and "迁出" in history and "在册 → 已迁出" in history
    assert "move_out" not in history


def test_occupancy_start_not_in_the_future_nor_twice(a1, community_a1, monkeypatch):
    """A stay begins today or earlier; a second open stay in the same house is the Chinese message, also when
    two registrations pass the check at once (the database's constraint, not a server error)."""
    from django.db.models import QuerySet

    person, house = a1["lodger"], a1["house"]
    with pytest.raises(ValidationError) as caught:
        occupancy_start(
            actor=community_a1, person_id=person.pk, house_id=house.pk, start=TODAY + dt.timedelta(days=1)
        )
    assert caught.value.message_dict == {"start": ["入住日期不能晚于今天"]}
    occupancy_start(actor=community_a1, person_id=person.pk, house_id=house.pk)
    monkeypatch.setattr(QuerySet, "exists", lambda self: False)  # as if the other one had not committed yet
    with pytest.raises(ValidationError) as caught:
        occupancy_start(actor=community_a1, person_id=person.pk, house_id=house.pk)
    assert caught.value.message_dict == {"person": ["该人员已登记在此房屋，如需变更请先办理迁出"]}
    monkeypatch.undo()
    assert Occupancy.objects.filter(person=person, house=house, end__isnull=True).count() == 1
