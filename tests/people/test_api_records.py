"""The API of the record services (docs/people.md, "Screens and API"): moving in and out, merging, houses
and who lives there (以房管人), households, floating and overseas records. Every rule is the service's (the
same as the record screens); these tests show the API reaches it, answers in its shapes, masks, and keeps
to the caller's jurisdiction."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from pingan.audit.models import AuditEvent
from pingan.people.models import FloatingRecord, Occupancy, Person, PersonStatus
from pingan.people.services import house_create, person_register
from tests.accounts.test_api_auth import assert_error
from tests.factories import api_client_for


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def _patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def a1(tree, community_a1, person_data):
    """Two people and a house in grid A1-1."""
    house = house_create(actor=community_a1, area=tree.a1_1, data={"compound": "滦水园", "room": "101"})
    zhang, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=1, name="张一"))
    li, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=2, name="李二"))
    return house, zhang, li


def test_occupancy_start_list_end(a1, community_a1, community_b1):
    house, zhang, _li = a1
    client = api_client_for(community_a1)
    started = _post(
        client, f"/api/v1/houses/{house.pk}/occupancies", {"person_id": zhang.pk, "role": "tenant"}
    )
    assert started.status_code == 201, started.content
    occupancy = started.json()
    assert occupancy["person_id"] == zhang.pk and occupancy["role"] == "tenant" and occupancy["end"] is None
    assert Person.objects.get(pk=zhang.pk).current_house_id == house.pk
    again = _post(client, f"/api/v1/houses/{house.pk}/occupancies", {"person_id": zhang.pk})
    assert "已登记在此房屋" in assert_error(again, 422, "invalid")["details"][0]["message"]
    listed = client.get(f"/api/v1/houses/{house.pk}/occupancies").json()
    assert [o["id"] for o in listed] == [occupancy["id"]]
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    later = _post(client, f"/api/v1/occupancies/{occupancy['id']}/end", {"end": tomorrow})
    assert assert_error(later, 422)["details"] == [{"field": "end", "message": "迁出日期不能晚于今天"}]
    early = _post(client, f"/api/v1/occupancies/{occupancy['id']}/end", {"end": "2000-01-01"})
    assert "不能早于入住日期" in json.dumps(assert_error(early, 422)["details"], ensure_ascii=False)
    ended = _post(client, f"/api/v1/occupancies/{occupancy['id']}/end", {})
    assert ended.status_code == 200 and ended.json()["end"] == timezone.localdate().isoformat()
    assert Person.objects.get(pk=zhang.pk).current_house_id is None
    # another community's staff: the house, its occupancies and the occupancy do not exist for them
    other = api_client_for(community_b1)
    assert_error(other.get(f"/api/v1/houses/{house.pk}/occupancies"), 404)
    assert_error(_post(other, f"/api/v1/houses/{house.pk}/occupancies", {"person_id": zhang.pk}), 404)
    assert_error(_post(other, f"/api/v1/occupancies/{occupancy['id']}/end", {}), 404)
    # every occupancy in sight, and the current ones (this one has ended)
    assert [o["id"] for o in client.get("/api/v1/occupancies").json()["items"]] == [occupancy["id"]]
    assert client.get("/api/v1/occupancies?current=true").json()["count"] == 0
    assert other.get("/api/v1/occupancies").json()["count"] == 0


def test_house_update(a1, community_a1, leader):
    house, _zhang, _li = a1
    client = api_client_for(community_a1)
    updated = _patch(client, f"/api/v1/houses/{house.pk}", {"room": "102", "rented": True})
    assert (
        updated.status_code == 200 and updated.json()["address"] == "滦水园102室" and updated.json()["rented"]
    )
    assert_error(_patch(client, f"/api/v1/houses/{house.pk}", {"compound": " "}), 422, "invalid")
    # a leader reads but does not write: answered like a missing record (core.api: nothing is disclosed)
    assert_error(_patch(api_client_for(leader), f"/api/v1/houses/{house.pk}", {"room": "9"}), 404)


def test_move_out_and_back_in(a1, tree, community_a1, community_b1):
    house, zhang, _li = a1
    client = api_client_for(community_a1)
    _post(client, f"/api/v1/houses/{house.pk}/occupancies", {"person_id": zhang.pk})
    out = _post(client, f"/api/v1/persons/{zhang.pk}/move-out", {"status": "deceased", "note": "病故"})
    assert out.status_code == 200 and out.json()["status"] == PersonStatus.DECEASED
    assert not Occupancy.objects.filter(person=zhang, end__isnull=True).exists()
    assert "已不在册" in json.dumps(
        assert_error(_post(client, f"/api/v1/persons/{zhang.pk}/move-out", {}), 422)["details"],
        ensure_ascii=False,
    )
    assert_error(_post(client, f"/api/v1/persons/{zhang.pk}/move-out", {"status": "vanished"}), 422)
    # a date before the stay began: a clear 422 (it was a server error: the database refused the occupancy)
    Occupancy.objects.filter(person=zhang).update(end=None)
    Person.objects.filter(pk=zhang.pk).update(status=PersonStatus.ACTIVE)
    early = _post(client, f"/api/v1/persons/{zhang.pk}/move-out", {"on": "2000-01-01"})
    assert assert_error(early, 422)["details"][0]["field"] == "on"
    _post(client, f"/api/v1/persons/{zhang.pk}/move-out", {"status": "deceased"})
    back = _post(
        client, f"/api/v1/persons/{zhang.pk}/move-in", {"area_id": tree.a1_2.pk, "house_id": house.pk}
    )
    assert back.status_code == 200 and back.json()["status"] == PersonStatus.ACTIVE
    assert back.json()["area_id"] == tree.a1_2.pk and back.json()["current_house_id"] == house.pk
    assert [e.event for e in Person.objects.get(pk=zhang.pk).status_changes.order_by("pk")][-2:] == [
        PersonStatus.DECEASED,
        "move_in",
    ]
    # into a grid outside the caller's jurisdiction: no such grid for them
    assert_error(_post(client, f"/api/v1/persons/{zhang.pk}/move-in", {"area_id": tree.b1_1.pk}), 404)
    assert_error(_post(api_client_for(community_b1), f"/api/v1/persons/{zhang.pk}/move-out", {}), 404)


def test_merge(a1, community_a1, person_data, tree):
    _house, zhang, _li = a1
    dup, _ = person_register(
        actor=community_a1, area=tree.a1_1, data={"name": "张一", "phone": "13900001111", "id_number": ""}
    )
    client = api_client_for(community_a1)
    assert_error(_post(client, f"/api/v1/persons/{zhang.pk}/merge", {"merge_id": dup.pk, "reason": " "}), 422)
    merged = _post(
        client, f"/api/v1/persons/{zhang.pk}/merge", {"merge_id": dup.pk, "reason": "同一人重复登记"}
    )
    assert merged.status_code == 200 and merged.json()["id"] == zhang.pk
    assert Person.objects.get(pk=dup.pk).merged_into_id == zhang.pk
    assert AuditEvent.objects.filter(action__startswith="person.merge").exists()


def test_households(a1, tree, community_a1, community_b1):
    house, zhang, li = a1
    client = api_client_for(community_a1)
    body = {"area_id": tree.a1_1.pk, "number": "H-0001", "householder_id": zhang.pk, "house_id": house.pk}
    created = _post(client, "/api/v1/households", body)
    assert created.status_code == 201, created.content
    household = created.json()
    assert household["householder_id"] == zhang.pk and household["house_id"] == house.pk
    assert household["members"] == [{"person_id": zhang.pk, "name": "张*", "relation": "02"}]  # masked
    assert_error(_post(client, "/api/v1/households", body), 422, "invalid")  # the number exists
    bad = _post(
        client, f"/api/v1/households/{household['id']}/members", {"person_id": li.pk, "relation": "远亲"}
    )
    assert "不是有效的与户主关系" in json.dumps(assert_error(bad, 422)["details"], ensure_ascii=False)
    added = _post(
        client, f"/api/v1/households/{household['id']}/members", {"person_id": li.pk, "relation": "配偶"}
    )
    assert added.status_code == 201
    assert {m["person_id"]: m["relation"] for m in added.json()["members"]} == {zhang.pk: "02", li.pk: "10"}
    assert client.get(f"/api/v1/households/{household['id']}").json() == added.json()
    missing = _post(client, "/api/v1/households", {**body, "number": "H-0002", "householder_id": 10**9})
    assert assert_error(missing, 422)["details"][0]["field"] == "householder_id"
    listed = client.get("/api/v1/households?number=H-").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == household["id"]
    assert client.get(f"/api/v1/households?house_id={house.pk}").json()["count"] == 1
    other = api_client_for(community_b1)
    assert other.get("/api/v1/households").json()["count"] == 0
    assert_error(other.get(f"/api/v1/households/{household['id']}"), 404)
    b1_member = _post(
        other, f"/api/v1/households/{household['id']}/members", {"person_id": li.pk, "relation": "10"}
    )
    assert_error(b1_member, 404)
    assert_error(_post(other, "/api/v1/households", {**body, "number": "H-0003"}), 404)


def test_floating_records(a1, tree, community_a1, community_b1, person_data):
    _house, zhang, li = a1
    client = api_client_for(community_a1)
    body = {
        "permit_type": "residence",
        "permit_number": "jzz 1201 0300 1234",
        "valid_from": "2026-01-01",
        "valid_to": "2027-01-01",
        "inflow_reason": "务工",
        "landlord_id": li.pk,
    }
    created = _post(client, f"/api/v1/persons/{zhang.pk}/floating", body)
    assert created.status_code == 201, created.content
    record = created.json()
    assert record["landlord_id"] == li.pk and record["permit_number"] != "JZZ120103001234"  # masked
    assert FloatingRecord.objects.get(pk=record["id"]).permit_number == "JZZ120103001234"  # normalised
    assert Person.objects.get(pk=zhang.pk).is_floating
    # a new end of validity is checked against the kept start
    early = _patch(client, f"/api/v1/floating/{record['id']}", {"valid_to": "2025-12-31"})
    assert assert_error(early, 422)["details"][0]["field"] == "valid_to"
    renewed = _patch(client, f"/api/v1/floating/{record['id']}", {"valid_to": "2028-01-01"})
    assert renewed.status_code == 200 and renewed.json()["valid_to"] == "2028-01-01"
    assert renewed.json()["valid_from"] == "2026-01-01" and renewed.json()["landlord_id"] == li.pk
    assert (
        _patch(client, f"/api/v1/floating/{record['id']}", {"landlord_id": None}).json()["landlord_id"]
        is None
    )
    # a landlord outside the caller's sight answers as one that does not exist
    b1_person, _ = person_register(actor=community_b1, area=tree.b1_1, data=person_data(seq=9, name="王九"))
    for landlord_id in (b1_person.pk, 10**9):
        hidden = _patch(client, f"/api/v1/floating/{record['id']}", {"landlord_id": landlord_id})
        assert assert_error(hidden, 422)["details"][0] == {
            "field": "landlord_id",
            "message": "辖区内没有该人员",
        }
    self_landlord = _patch(client, f"/api/v1/floating/{record['id']}", {"landlord_id": zhang.pk})
    assert "房东不能是本人" in json.dumps(assert_error(self_landlord, 422)["details"], ensure_ascii=False)
    assert [r["id"] for r in client.get(f"/api/v1/persons/{zhang.pk}/floating").json()] == [record["id"]]
    other = api_client_for(community_b1)
    assert_error(other.get(f"/api/v1/persons/{zhang.pk}/floating"), 404)
    assert_error(_patch(other, f"/api/v1/floating/{record['id']}", {"inflow_reason": "x"}), 404)
    # every record in sight, and the permits ending before a day (valid to 2028-01-01 now)
    listed = client.get("/api/v1/floating").json()
    assert [r["id"] for r in listed["items"]] == [record["id"]]
    assert listed["items"][0]["permit_number"] != "JZZ120103001234"  # masked in the list too
    assert client.get("/api/v1/floating?valid_to_before=2028-01-02").json()["count"] == 1
    assert client.get("/api/v1/floating?valid_to_before=2028-01-01").json()["count"] == 0
    assert other.get("/api/v1/floating").json()["count"] == 0


def test_overseas_records(a1, community_a1, community_b1, leader):
    _house, zhang, _li = a1
    client = api_client_for(community_a1)
    body = {
        "nationality": "美国",
        "foreign_surname": "SMITH",
        "document_number": "E12345678",
        "purpose": "工作",
    }
    created = _post(client, f"/api/v1/persons/{zhang.pk}/overseas", body)
    assert created.status_code == 201, created.content
    record = created.json()
    assert record["nationality"] == "USA" and record["document_number"] != "E12345678"
    assert_error(_post(client, f"/api/v1/persons/{zhang.pk}/overseas", {**body, "nationality": "火星"}), 422)
    departure = _patch(
        client,
        f"/api/v1/overseas/{record['id']}",
        {"entry_date": "2026-03-01", "expected_departure": "2026-02-01"},
    )
    assert_error(departure, 422)
    fixed = _patch(client, f"/api/v1/overseas/{record['id']}", {"purpose": "探亲"})
    assert (
        fixed.status_code == 200
        and fixed.json()["purpose"] == "探亲"
        and fixed.json()["nationality"] == "USA"
    )
    assert len(api_client_for(leader).get(f"/api/v1/persons/{zhang.pk}/overseas").json()) == 1  # reads
    other = api_client_for(community_b1)
    assert_error(other.get(f"/api/v1/persons/{zhang.pk}/overseas"), 404)
    assert_error(_patch(other, f"/api/v1/overseas/{record['id']}", {"purpose": "x"}), 404)
    assert (
        _patch(client, f"/api/v1/overseas/{record['id']}", {}).json()["purpose"] == "探亲"
    )  # B1 changed nothing
    assert_error(_post(api_client_for(leader), f"/api/v1/persons/{zhang.pk}/overseas", body), 404)
    # every record in sight (the leader reads them too), and those leaving before a day
    assert [r["id"] for r in client.get("/api/v1/overseas").json()["items"]] == [record["id"]]
    assert api_client_for(leader).get("/api/v1/overseas").json()["count"] == 1
    assert other.get("/api/v1/overseas").json()["count"] == 0
    _patch(client, f"/api/v1/overseas/{record['id']}", {"expected_departure": "2026-06-01"})
    assert client.get("/api/v1/overseas?departure_before=2026-06-02").json()["count"] == 1
    assert client.get("/api/v1/overseas?departure_before=2026-06-01").json()["count"] == 0


def test_person_history(a1, tree, community_a1, community_b1):
    """The lifecycle through the API: labelled steps, the day each happened; 404 from another community."""
    _house, zhang, _li = a1
    client = api_client_for(community_a1)
    day = timezone.localdate() - dt.timedelta(days=1)
    _post(client, f"/api/v1/persons/{zhang.pk}/move-out", {"status": "moved_out", "on": day.isoformat()})
    steps = client.get(f"/api/v1/persons/{zhang.pk}/history").json()
    assert [(s["event"], s["event_label"], s["effective_on"]) for s in steps] == [
        ("move_out", "迁出", day.isoformat()),
        ("register", "登记", None),
    ]
    assert steps[0]["from_status"] == "active" and steps[0]["to_status"] == "moved_out"
    assert AuditEvent.objects.filter(object_id=str(zhang.pk), kind="access").exists()
    assert_error(api_client_for(community_b1).get(f"/api/v1/persons/{zhang.pk}/history"), 404)
