"""Households (户): removing a member, changing the householder, the household list page — services, pages
and API (docs/people.md). Each: the rule and its Chinese message, the audit row, the jurisdiction (community
B1 gets 404 on A1's household and nothing changes), and the read-only leader who may look but not act."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404

from pingan.audit.models import AuditEvent
from pingan.core.navigation import nav_for
from pingan.people import services
from pingan.people.models import Household, HouseholdMember
from pingan.people.services import (
    house_create,
    household_add_member,
    household_change_householder,
    household_create,
    household_remove_member,
    person_register,
)
from tests.accounts.test_api_auth import assert_error
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def a1(tree, community_a1, person_data):
    """A1's household H-A1 at a house: 甲户主 (householder), 甲配偶 (10) and 甲儿子 (20)."""
    house = house_create(actor=community_a1, area=tree.a1_1, data={"compound": "滦水里", "room": "301"})
    head, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=31, name="甲户主"))
    spouse, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=32, name="甲配偶"))
    son, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=33, name="甲儿子"))
    household = household_create(
        actor=community_a1, area=tree.a1_1, number="HA-0001", householder=head, house=house
    )
    household_add_member(actor=community_a1, household_id=household.pk, person_id=spouse.pk, relation="10")
    household_add_member(actor=community_a1, household_id=household.pk, person_id=son.pk, relation="20")
    return {"house": house, "head": head, "spouse": spouse, "son": son, "household": household}


@pytest.fixture
def b1(tree, community_b1, person_data):
    house = house_create(actor=community_b1, area=tree.b1_1, data={"compound": "粤江里", "room": "501"})
    person, _ = person_register(actor=community_b1, area=tree.b1_1, data=person_data(seq=41, name="乙户主"))
    household = household_create(
        actor=community_b1, area=tree.b1_1, number="HB-0001", householder=person, house=house
    )
    return {"house": house, "person": person, "household": household}


def relations(household: Household) -> dict[int, str]:
    return dict(HouseholdMember.objects.filter(household=household).values_list("person_id", "relation"))


def state(household: Household) -> tuple[Any, ...]:
    """What a refused request must leave as it was: the members, the householder and the audit trail."""
    household.refresh_from_db()
    return relations(household), household.householder_id, AuditEvent.objects.count()


def messages_of(exc: pytest.ExceptionInfo[ValidationError], field: str) -> list[str]:
    return exc.value.message_dict[field]


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


# --- services ------------------------------------------------------------------------------------------


def test_remove_member(a1, community_a1):
    household = a1["household"]
    household_remove_member(actor=community_a1, household_id=household.pk, person_id=a1["son"].pk)
    assert relations(household) == {a1["head"].pk: "02", a1["spouse"].pk: "10"}
    event = AuditEvent.objects.get(action="household.member_remove", object_id=str(household.pk))
    assert event.changes["person"] == [a1["son"].pk, None] and event.changes["relation"] == ["20", None]
    assert event.actor_id == community_a1.pk
    # the person may now join another household
    other = household_create(actor=community_a1, area=household.area, number="HA-0002")
    household_add_member(actor=community_a1, household_id=other.pk, person_id=a1["son"].pk, relation="02")
    with pytest.raises(ValidationError) as exc:  # no longer a member of the first household
        household_remove_member(actor=community_a1, household_id=household.pk, person_id=a1["son"].pk)
    assert messages_of(exc, "person") == ["该人员不是本户成员"]


def test_the_householder_goes_last(a1, community_a1):
    household = a1["household"]
    before = state(household)
    with pytest.raises(ValidationError) as exc:
        household_remove_member(actor=community_a1, household_id=household.pk, person_id=a1["head"].pk)
    assert messages_of(exc, "person") == ["户内还有其他成员，不能移出户主；请先变更户主，再移出该人员"]
    assert state(household) == before
    for person in (a1["spouse"], a1["son"]):
        household_remove_member(actor=community_a1, household_id=household.pk, person_id=person.pk)
    # the last member, the householder: allowed, and the household has no householder any more
    household_remove_member(actor=community_a1, household_id=household.pk, person_id=a1["head"].pk)
    household.refresh_from_db()
    assert household.householder_id is None and relations(household) == {}
    last = AuditEvent.objects.filter(action="household.member_remove").order_by("-seq").first()
    assert last.changes["householder"] == [a1["head"].pk, None]


def test_change_householder(a1, community_a1):
    household = a1["household"]
    changed = household_change_householder(
        actor=community_a1, household_id=household.pk, person_id=a1["spouse"].pk, former_relation="配偶"
    )
    assert changed.householder_id == a1["spouse"].pk
    household.refresh_from_db()
    assert household.householder_id == a1["spouse"].pk
    assert relations(household) == {a1["head"].pk: "10", a1["spouse"].pk: "02", a1["son"].pk: "20"}
    event = AuditEvent.objects.get(action="household.householder", object_id=str(household.pk))
    assert event.changes == {
        "householder": [a1["head"].pk, a1["spouse"].pk],
        "relation": ["10", "02"],
        "former_relation": ["02", "10"],
    }
    # now the former householder may leave
    household_remove_member(actor=community_a1, household_id=household.pk, person_id=a1["head"].pk)
    assert a1["head"].pk not in relations(household)


def test_change_householder_refusals(a1, tree, community_a1, person_data):
    household = a1["household"]
    stranger, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=39, name="甲路人"))
    before = state(household)
    cases = [
        (a1["spouse"].pk, "远亲", "former_relation", "“远亲”不是有效的与户主关系"),
        (a1["spouse"].pk, "", "former_relation", "请选择原户主与新户主的关系"),
        (a1["spouse"].pk, "02", "former_relation", "原户主与新户主的关系不能是户主"),
        (a1["spouse"].pk, "户主", "former_relation", "原户主与新户主的关系不能是户主"),
        (stranger.pk, "10", "person", "新户主须是本户成员，请先添加为户成员"),
        (a1["head"].pk, "10", "person", "该人员已是户主"),
    ]
    for person_id, former, field, message in cases:
        with pytest.raises(ValidationError) as exc:
            household_change_householder(
                actor=community_a1, household_id=household.pk, person_id=person_id, former_relation=former
            )
        assert messages_of(exc, field) == [message], (person_id, former)
    assert state(household) == before


def test_change_householder_of_a_household_without_one(a1, tree, community_a1):
    household = household_create(actor=community_a1, area=tree.a1_1, number="HA-0003")
    household_remove_member(actor=community_a1, household_id=a1["household"].pk, person_id=a1["son"].pk)
    household_add_member(actor=community_a1, household_id=household.pk, person_id=a1["son"].pk, relation="20")
    # nobody to give a former relation to: none needed
    household_change_householder(actor=community_a1, household_id=household.pk, person_id=a1["son"].pk)
    household.refresh_from_db()
    assert household.householder_id == a1["son"].pk and relations(household) == {a1["son"].pk: "02"}


def test_add_member_keeps_one_householder(a1, community_a1):
    household = a1["household"]
    before = state(household)
    with pytest.raises(ValidationError) as exc:  # a second 户主
        household_add_member(
            actor=community_a1, household_id=household.pk, person_id=a1["son"].pk, relation="02"
        )
    assert messages_of(exc, "relation") == ["本户已有户主，如需更换户主请使用“变更户主”"]
    with pytest.raises(ValidationError) as exc:  # the householder demoted without a successor
        household_add_member(
            actor=community_a1, household_id=household.pk, person_id=a1["head"].pk, relation="10"
        )
    assert messages_of(exc, "relation") == ["该人员是户主，如需更换户主请使用“变更户主”"]
    assert state(household) == before


def test_another_community_and_the_leader_change_nothing(a1, community_b1, leader, grid_a1):
    household = a1["household"]
    before = state(household)
    calls = [
        lambda actor: household_remove_member(actor=actor, household_id=household.pk, person_id=a1["son"].pk),
        lambda actor: household_change_householder(
            actor=actor, household_id=household.pk, person_id=a1["spouse"].pk, former_relation="10"
        ),
    ]
    for call in calls:
        with pytest.raises(Http404):
            call(community_b1)  # another jurisdiction: no such household
        with pytest.raises(PermissionDenied):
            call(leader)  # sees the district, reads only
    assert state(household) == before
    # a grid worker of the household's grid may act
    household_remove_member(actor=grid_a1, household_id=household.pk, person_id=a1["son"].pk)


@pytest.mark.django_db(transaction=True)
def test_two_householder_changes_at_once_keep_one_householder(postgres_only, a1, community_a1, monkeypatch):
    """Real threads on PostgreSQL: the second change waits for the first one's lock on the household and
    reads what it wrote, so the first new householder becomes the former one (never two 户主)."""
    from pingan.accounts.models import User

    real = services.audit_record

    def slow(**kwargs: Any) -> Any:  # whoever holds the lock keeps it a little longer
        time.sleep(0.3)
        return real(**kwargs)

    monkeypatch.setattr(services, "audit_record", slow)
    household = a1["household"]
    barrier = threading.Barrier(2)
    outcomes: list[Any] = [None, None]

    def run(index: int, person_id: int, former: str) -> None:
        try:
            barrier.wait()
            outcomes[index] = household_change_householder(
                actor=User.objects.get(pk=community_a1.pk),
                household_id=household.pk,
                person_id=person_id,
                former_relation=former,
            )
        except BaseException as exc:  # asserted on below
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(0, a1["spouse"].pk, "10")),
        threading.Thread(target=run, args=(1, a1["son"].pk, "20")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(o, Household) for o in outcomes), outcomes
    household.refresh_from_db()
    found = relations(household)
    assert list(found.values()).count("02") == 1 and found[household.householder_id] == "02"
    assert AuditEvent.objects.filter(action="household.householder").count() == 2


# --- pages ---------------------------------------------------------------------------------------------


def test_household_page_remove_button(a1, community_a1):
    client = api_client_for(community_a1)
    household = a1["household"]
    url = f"/people/households/{household.pk}/"
    page = client.get(url).content.decode()
    remove = f"/people/households/{household.pk}/members/remove/"
    assert remove in page and "data-confirm" in page and "csrfmiddlewaretoken" in page
    assert f'name="person" value="{a1["son"].pk}"' in page
    assert f'name="person" value="{a1["head"].pk}"' not in page  # the householder: change first
    assert "移出户主前请先变更户主" in page
    assert client.get(remove).status_code == 302  # a GET only goes back to the household page
    response = client.post(remove, {"person": a1["son"].pk})
    assert response.status_code == 302 and response["Location"] == url
    assert a1["son"].pk not in relations(household)
    assert AuditEvent.objects.filter(action="household.member_remove", object_id=str(household.pk)).exists()
    refused = client.post(remove, {"person": a1["head"].pk}, follow=True)
    assert "请先变更户主" in refused.content.decode()
    assert a1["head"].pk in relations(household)


def test_change_householder_page(a1, community_a1):
    client = api_client_for(community_a1)
    household = a1["household"]
    url = f"/people/households/{household.pk}/householder/"
    assert url in client.get(f"/people/households/{household.pk}/").content.decode()
    page = client.get(url)
    assert page.status_code == 200 and "变更户主" in page.content.decode()
    form = page.context["form"]
    choices = dict(form.fields["person"].choices)
    assert set(choices) == {"", str(a1["spouse"].pk), str(a1["son"].pk)}  # members, not the householder
    assert "甲*偶" in choices[str(a1["spouse"].pk)]  # masked
    relations_offered = dict(form.fields["former_relation"].choices)
    assert "02" not in relations_offered and relations_offered["10"] == "配偶"
    missing = client.post(url, {"person": a1["spouse"].pk, "former_relation": ""})
    assert missing.status_code == 200
    assert missing.context["form"].errors["former_relation"] == ["请选择原户主与新户主的关系"]
    no_person = client.post(url, {"person": "", "former_relation": "10"})
    assert no_person.context["form"].errors["person"] == ["请选择新户主"]
    household.refresh_from_db()
    assert household.householder_id == a1["head"].pk
    done = client.post(url, {"person": a1["spouse"].pk, "former_relation": "10"})
    assert done.status_code == 302 and done["Location"] == f"/people/households/{household.pk}/"
    household.refresh_from_db()
    assert household.householder_id == a1["spouse"].pk and relations(household)[a1["head"].pk] == "10"
    assert AuditEvent.objects.filter(action="household.householder", object_id=str(household.pk)).exists()


def test_household_pages_out_of_reach(a1, community_b1, leader):
    household = a1["household"]
    before = state(household)
    urls = [
        f"/people/households/{household.pk}/members/remove/",
        f"/people/households/{household.pk}/householder/",
    ]
    other = api_client_for(community_b1)
    for url in urls:
        assert other.get(url).status_code == 404
        assert other.post(url, {"person": a1["son"].pk, "former_relation": "10"}).status_code == 404
    reader = api_client_for(leader)
    page = reader.get(f"/people/households/{household.pk}/").content.decode()
    assert "/members/remove/" not in page and "/householder/" not in page  # no buttons for a reader
    for url in urls:
        assert reader.post(url, {"person": a1["son"].pk, "former_relation": "10"}).status_code == 403
    assert state(household) == before


def test_household_list_page(a1, b1, tree, community_a1, community_b1, leader):
    extra = household_create(actor=community_a1, area=tree.a1_2, number="HA-0100")
    client = api_client_for(community_a1)
    response = client.get("/people/households/")
    assert response.status_code == 200
    page = response.content.decode()
    rows = {h.number: h for h in response.context["page"]}
    assert set(rows) == {"HA-0001", "HA-0100"}  # B1's household is not listed
    assert "HB-0001" not in page
    assert rows["HA-0001"].member_count == 3 and rows["HA-0100"].member_count == 0
    assert "甲*主" in page and "甲户主" not in page  # the householder's name, masked
    assert a1["house"].address in page and tree.a1_1.name in page
    assert f"/people/households/{a1['household'].pk}/" in page and f"/people/households/{extra.pk}/" in page
    assert "/people/households/new/" in page  # 新建户 for a writer
    # filters: part of the number, an area (its subtree)
    assert [h.number for h in client.get("/people/households/", {"number": "0100"}).context["page"]] == [
        "HA-0100"
    ]
    by_area = client.get("/people/households/", {"area": tree.a1_1.pk}).context["page"]
    assert [h.number for h in by_area] == ["HA-0001"]
    assert len(client.get("/people/households/", {"area": tree.a1.pk}).context["page"]) == 2
    # an area outside the user's scope is not a filter they may use: ignored, still only their households
    outside = client.get("/people/households/", {"area": tree.b1.pk}).context["page"]
    assert {h.number for h in outside} == {"HA-0001", "HA-0100"}
    other = api_client_for(community_b1).get("/people/households/")
    assert [h.number for h in other.context["page"]] == ["HB-0001"]
    reader = api_client_for(leader).get("/people/households/")
    assert reader.status_code == 200 and "/people/households/new/" not in reader.content.decode()
    assert {h.number for h in reader.context["page"]} == {"HA-0001", "HA-0100", "HB-0001"}


def test_household_list_reads_a_page_in_fixed_queries(
    a1, tree, community_a1, person_data, django_assert_max_num_queries
):
    """Member counts and householder names come in two queries for the page, not one per row."""
    client = api_client_for(community_a1)
    client.get("/people/households/")  # session, scope and code tables warmed
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(conn) as few:
        client.get("/people/households/")
    for n in range(6):
        head, _ = person_register(
            actor=community_a1, area=tree.a1_1, data=person_data(seq=60 + n, name=f"甲户{n}")
        )
        household_create(actor=community_a1, area=tree.a1_1, number=f"HA-02{n:02d}", householder=head)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/people/households/")
    assert len(response.context["page"]) == 7


def test_household_list_in_navigation(community_a1, dept_handler):
    assert "/people/households/" in [
        item["url"] for section in nav_for(community_a1, "/") for item in section["items"]
    ]
    assert api_client_for(dept_handler).get("/people/households/").status_code == 403


# --- API -----------------------------------------------------------------------------------------------


def test_api_remove_member_and_change_householder(a1, community_a1):
    client = api_client_for(community_a1)
    household = a1["household"]
    base = f"/api/v1/households/{household.pk}"
    refused = _post(client, f"{base}/members/remove", {"person_id": a1["head"].pk})
    assert assert_error(refused, 422, "invalid")["details"][0]["field"] == "person"
    removed = _post(client, f"{base}/members/remove", {"person_id": a1["son"].pk})
    assert removed.status_code == 200, removed.content
    assert {m["person_id"] for m in removed.json()["members"]} == {a1["head"].pk, a1["spouse"].pk}
    bad = _post(client, f"{base}/householder", {"person_id": a1["spouse"].pk, "former_relation": "远亲"})
    assert assert_error(bad, 422, "invalid")["details"][0] == {
        "field": "former_relation",
        "message": "“远亲”不是有效的与户主关系",
    }
    non_member = _post(client, f"{base}/householder", {"person_id": a1["son"].pk, "former_relation": "10"})
    assert assert_error(non_member, 422)["details"][0]["field"] == "person"
    changed = _post(client, f"{base}/householder", {"person_id": a1["spouse"].pk, "former_relation": "配偶"})
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["householder_id"] == a1["spouse"].pk
    assert {m["person_id"]: m["relation"] for m in body["members"]} == {
        a1["head"].pk: "10",
        a1["spouse"].pk: "02",
    }
    assert all("*" in m["name"] for m in body["members"])  # masked
    assert AuditEvent.objects.filter(action="household.householder", object_id=str(household.pk)).exists()


def test_api_out_of_reach_answers_404(a1, community_b1, leader):
    household = a1["household"]
    before = state(household)
    base = f"/api/v1/households/{household.pk}"
    requests = [
        (f"{base}/members/remove", {"person_id": a1["son"].pk}),
        (f"{base}/householder", {"person_id": a1["spouse"].pk, "former_relation": "10"}),
    ]
    for user in (community_b1, leader):
        client = api_client_for(user)
        for url, body in requests:
            assert_error(_post(client, url, body), 404, "not_found")
    # an unknown household answers the same
    assert_error(
        _post(api_client_for(community_b1), "/api/v1/households/999999/householder", requests[1][1]), 404
    )
    assert state(household) == before


def test_household_list_by_householder(a1, b1, community_a1, community_b1):
    """The householder found as the person list finds people (name, pinyin, ID tail), among the people the
    user may see: A1 cannot find B1's household by its householder's name."""
    client = api_client_for(community_a1)

    def numbers(client, text):
        return [h.number for h in client.get("/people/households/", {"householder": text}).context["page"]]

    assert numbers(client, "甲户主") == ["HA-0001"]
    assert numbers(client, "甲户") == ["HA-0001"]
    assert numbers(client, "甲配偶") == []  # a member, not the householder
    assert numbers(client, a1["head"].id_number[-4:]) == ["HA-0001"]
    assert numbers(client, "乙户主") == []  # B1's
    assert numbers(api_client_for(community_b1), "乙户主") == ["HB-0001"]
    page = client.get("/people/households/", {"householder": "甲户主"}).content.decode()
    assert 'name="householder" value="甲户主"' in page


def test_api_household_list_by_householder(a1, b1, community_a1):
    client = api_client_for(community_a1)
    found = client.get("/api/v1/households", {"householder": "甲户主"}).json()
    assert [h["number"] for h in found["items"]] == ["HA-0001"]
    assert client.get("/api/v1/households", {"householder": "乙户主"}).json()["items"] == []


def test_adding_a_member_again_says_what_changed(a1, community_a1):
    """Adding someone who is already a member changes their relation: the page says so (it used to say
    “已添加户成员” whatever happened), the audit row records the old and the new relation, and adding them
    with the same relation changes nothing and writes no audit row."""
    client = api_client_for(community_a1)
    household = a1["household"]
    url = f"/people/households/{household.pk}/members/new/"
    son = a1["son"]
    changed = client.post(url, {"person": str(son.pk), "relation": "30"}, follow=True).content.decode()
    assert "与户主关系由" in changed and relations(household)[son.pk] == "30"
    audit = AuditEvent.objects.filter(action="household.member").latest("seq")
    assert audit.changes["relation"] == ["20", "30"]
    count = AuditEvent.objects.filter(action="household.member").count()
    same = client.post(url, {"person": str(son.pk), "relation": "30"}, follow=True).content.decode()
    assert "关系未变" in same
    assert AuditEvent.objects.filter(action="household.member").count() == count
