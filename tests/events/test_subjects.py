"""Persons and houses an event concerns (EventSubject): set when reporting (page and API) within the
reporter's scope — an out-of-scope id gives the same error as a missing one, the search never offers one —
edited by the centre in charge (timeline row, audit), shown masked on the event page, and listed on the
person and house pages among the events the user may see."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from pingan.audit.models import AuditEvent
from pingan.events import services
from pingan.events.models import Event, EventSubject
from pingan.people.services import house_create, person_register
from tests.events.conftest import photo
from tests.factories import api_client_for
from tests.people.conftest import make_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(tree, community_a1, community_b1):
    """A person and a house in grid A1-1, another pair in grid B1-1."""
    house_a = house_create(actor=community_a1, area=tree.a1_1, data={"compound": "甲小区", "room": "101"})
    house_b = house_create(actor=community_b1, area=tree.b1_1, data={"compound": "乙小区", "room": "202"})
    person_a, _ = person_register(
        actor=community_a1,
        area=tree.a1_1,
        house=house_a,
        data={"name": "张小明", "id_number": make_id(seq=11)},
    )
    person_b, _ = person_register(
        actor=community_b1,
        area=tree.b1_1,
        house=house_b,
        data={"name": "李大华", "id_number": make_id(seq=12)},
    )
    return {"person_a": person_a, "house_a": house_a, "person_b": person_b, "house_b": house_b}


def report(actor, area, **extra):
    return services.event_report(
        actor=actor,
        area_id=area.pk,
        category="0102",
        title="楼道堆物",
        description="楼道堆放杂物，存在消防隐患",
        **extra,
    )


def test_report_links_persons_and_houses_in_scope(tree, grid_a1, places):
    event = report(
        grid_a1, tree.a1_1, person_ids=[places["person_a"].pk], house_ids=[str(places["house_a"].pk)]
    )
    links = {(s.kind, s.person_id or s.house_id) for s in event.subjects.all()}
    assert links == {("person", places["person_a"].pk), ("house", places["house_a"].pk)}
    audit = AuditEvent.objects.filter(action="event.report").latest("id")
    assert audit.changes["persons"] == [places["person_a"].pk]


@pytest.mark.parametrize("kind", ["person", "house"])
def test_out_of_scope_id_is_refused_like_a_missing_one(tree, grid_a1, places, kind):
    key = "person_ids" if kind == "person" else "house_ids"
    field = "persons" if kind == "person" else "houses"
    with pytest.raises(ValidationError) as foreign:
        report(grid_a1, tree.a1_1, **{key: [places[f"{kind}_b"].pk]})
    with pytest.raises(ValidationError) as missing:
        report(grid_a1, tree.a1_1, **{key: [999999]})
    assert foreign.value.message_dict[field] == missing.value.message_dict[field]
    assert "不在您的辖区内" in foreign.value.message_dict[field][0]
    assert not Event.objects.exists() and not EventSubject.objects.exists()


def test_api_report_with_subjects_and_out_of_scope_422(tree, grid_a1, places):
    client = api_client_for(grid_a1)
    base = {
        "area_id": tree.a1_1.pk,
        "category": "0102",
        "title": "楼道堆物",
        "description": "楼道堆放杂物",
        "photos": [photo()],
    }
    ok = client.post(
        "/api/v1/events", {**base, "person_ids": [places["person_a"].pk], "house_ids": [places["house_a"].pk]}
    )
    assert ok.status_code == 201, ok.content
    subjects = ok.json()["subjects"]
    labels = {s["kind"]: s["label"] for s in subjects}
    assert labels["person"] == "张*明" and labels["house"] != places["house_a"].address
    foreign = client.post("/api/v1/events", {**base, "person_ids": [places["person_b"].pk]})
    missing = client.post("/api/v1/events", {**base, "person_ids": [987654]})
    assert foreign.status_code == missing.status_code == 422
    assert foreign.json()["error"]["details"] == missing.json()["error"]["details"]


def test_search_offers_only_people_in_scope(tree, grid_a1, places):
    client = api_client_for(grid_a1)
    mine = client.get("/events/subjects/search/", {"q": "张小明"})
    assert mine.status_code == 200 and f'value="{places["person_a"].pk}"' in mine.content.decode()
    assert "张小明" not in mine.content.decode()  # masked
    other = client.get("/events/subjects/search/", {"q": "李大华"}).content.decode()
    assert f'value="{places["person_b"].pk}"' not in other and "没有找到" in other
    houses = client.get("/events/subjects/search/", {"q": "乙小区"}).content.decode()
    assert f'value="{places["house_b"].pk}"' not in houses
    # a house in scope by its full address, as the house list shows it: masked, a compound's rooms read alike
    own = client.get("/events/subjects/search/", {"q": "甲小区"}).content.decode()
    assert places["house_a"].address in own
    assert "至少输入 2 个字" in client.get("/events/subjects/search/", {"q": "张"}).content.decode()


def test_report_page_links_the_ticked_subjects(tree, grid_a1, places):
    client = api_client_for(grid_a1)
    page = client.get("/events/report/")
    assert "涉及人员、房屋" in page.content.decode()
    response = client.post(
        "/events/report/",
        {
            "area": tree.a1_1.pk,
            "category": "0102",
            "title": "楼道堆物",
            "description": "楼道堆放杂物",
            "urgency": "normal",
            "person": [places["person_a"].pk],
            "house": [places["house_b"].pk],  # not theirs: refused, nothing saved
        },
    )
    assert response.status_code == 200 and "房屋不存在或不在您的辖区内" in response.content.decode()
    assert not Event.objects.exists()


def test_centre_edits_subjects_with_timeline_and_audit(tree, grid_a1, street_a, places):
    event = report(grid_a1, tree.a1_1, person_ids=[places["person_a"].pk])
    client = api_client_for(street_a)
    body = client.post(
        f"/api/v1/events/{event.pk}/subjects",
        {"house_ids": [places["house_a"].pk], "version": event.version, "note": "补充房屋"},
        content_type="application/json",
    )
    assert body.status_code == 200, body.content
    data = body.json()
    assert [s["kind"] for s in data["subjects"]] == ["house"] and data["version"] == event.version + 1
    step = data["steps"][-1]
    assert step["action"] == "link" and step["data"]["added"] == [["house", places["house_a"].pk]]
    assert step["data"]["removed"] == [["person", places["person_a"].pk]]
    assert AuditEvent.objects.filter(action="event.link").count() == 1
    # a stale version: 409; outside the centre's scope (street A cannot link B1's person): 422
    stale = client.post(
        f"/api/v1/events/{event.pk}/subjects",
        {"person_ids": [], "version": 1},
        content_type="application/json",
    )
    assert stale.status_code == 409
    foreign = client.post(
        f"/api/v1/events/{event.pk}/subjects",
        {"person_ids": [places["person_b"].pk], "house_ids": [places["house_a"].pk]},
        content_type="application/json",
    )
    assert foreign.status_code == 422


def test_only_the_centre_in_charge_edits_subjects(tree, grid_a1, community_a1, community_b1, places):
    event = report(grid_a1, tree.a1_1)
    for user in (grid_a1, community_a1, community_b1):
        response = api_client_for(user).post(
            f"/api/v1/events/{event.pk}/subjects",
            {"person_ids": [places["person_a"].pk]},
            content_type="application/json",
        )
        assert response.status_code == 404, user
    assert not EventSubject.objects.exists()


def test_event_page_shows_masked_subjects_and_edit_form_for_the_centre(tree, grid_a1, street_a, places):
    event = report(grid_a1, tree.a1_1, person_ids=[places["person_a"].pk], house_ids=[places["house_a"].pk])
    page = api_client_for(street_a).get(f"/events/{event.pk}/").content.decode()
    assert "张*明" in page and "张小明" not in page and "修改关联" in page
    assert reverse("people:detail", args=[places["person_a"].pk]) in page
    reporter_page = api_client_for(grid_a1).get(f"/events/{event.pk}/").content.decode()
    assert "张*明" in reporter_page and "修改关联" not in reporter_page
    # the page form: untick the person, keep the house
    response = api_client_for(street_a).post(
        f"/events/{event.pk}/subjects/", {"version": event.version, "house": [places["house_a"].pk]}
    )
    assert response.status_code == 302
    assert list(event.subjects.values_list("kind", flat=True)) == ["house"]


def test_person_and_house_pages_list_linked_events_the_user_may_see(
    tree, grid_a1, grid_b1, district_admin, places
):
    mine = report(grid_a1, tree.a1_1, person_ids=[places["person_a"].pk], house_ids=[places["house_a"].pk])
    elsewhere = report(grid_b1, tree.b1_1)
    services.event_subjects_set(
        actor=district_admin,
        event_id=elsewhere.pk,
        person_ids=[places["person_a"].pk],
        house_ids=[places["house_a"].pk],
    )
    person_url = reverse("people:detail", args=[places["person_a"].pk])
    house_url = reverse("people:house", args=[places["house_a"].pk])
    grid_page = api_client_for(grid_a1).get(person_url).content.decode()
    assert "事件" in grid_page and mine.number in grid_page and elsewhere.number not in grid_page
    grid_house = api_client_for(grid_a1).get(house_url).content.decode()
    assert mine.number in grid_house and elsewhere.number not in grid_house
    district_page = api_client_for(district_admin).get(person_url).content.decode()
    assert mine.number in district_page and elsewhere.number in district_page


# --- schools ---------------------------------------------------------------------------------------------


@pytest.fixture
def school_pair(tree, community_a1, community_b1):
    from pingan.schools.services import school_create

    a = school_create(
        actor=community_a1, area=tree.a1_1, data={"name": "甲一小学", "kind": "primary", "address": "甲路"}
    )
    b = school_create(
        actor=community_b1, area=tree.b1_1, data={"name": "乙一小学", "kind": "primary", "address": "乙路"}
    )
    return {"a": a, "b": b}


def test_report_links_a_school_in_scope_and_refuses_one_outside(tree, grid_a1, school_pair):
    event = report(grid_a1, tree.a1_1, school_ids=[school_pair["a"].pk])
    assert [(s.kind, s.target_id) for s in event.subjects.all()] == [("school", school_pair["a"].pk)]
    assert AuditEvent.objects.filter(action="event.report").latest("id").changes["schools"] == [
        school_pair["a"].pk
    ]
    with pytest.raises(ValidationError) as foreign:
        report(grid_a1, tree.a1_1, school_ids=[school_pair["b"].pk])
    with pytest.raises(ValidationError) as missing:
        report(grid_a1, tree.a1_1, school_ids=[987654])
    assert (
        foreign.value.message_dict["schools"]
        == missing.value.message_dict["schools"]
        == ["学校不存在或不在您的辖区内"]
    )


def test_school_links_by_api_page_search_and_the_school_page(
    tree, grid_a1, street_a, community_b1, school_pair
):
    client = api_client_for(grid_a1)
    created = client.post(
        "/api/v1/events",
        {
            "area_id": tree.a1_1.pk,
            "category": "0201",
            "title": "校门口小卖部售卖三无食品",
            "description": "学生反映",
            "photos": [photo()],
            "school_ids": [school_pair["a"].pk],
        },
    )
    assert created.status_code == 201, created.content
    assert created.json()["subjects"] == [
        {
            "kind": "school",
            "kind_label": "学校",
            "id": school_pair["a"].pk,
            "label": "甲一小学",
        }
    ]
    event_id = created.json()["id"]
    found = client.get("/events/subjects/search/", {"q": "小学"}).content.decode()
    assert f'name="school" value="{school_pair["a"].pk}"' in found
    assert f'value="{school_pair["b"].pk}"' not in found
    # the centre replaces the school by none; the school page lists the event while it is linked
    school_page = api_client_for(street_a).get(f"/schools/{school_pair['a'].pk}/").content.decode()
    assert "校门口小卖部售卖三无食品" in school_page
    assert (
        "校门口小卖部"
        not in api_client_for(community_b1).get(f"/schools/{school_pair['b'].pk}/").content.decode()
    )
    version = Event.objects.get(pk=event_id).version
    cleared = api_client_for(street_a).post(
        f"/api/v1/events/{event_id}/subjects",
        {"school_ids": [], "version": version},
        content_type="application/json",
    )
    assert cleared.status_code == 200 and cleared.json()["subjects"] == []


def test_merge_moves_school_links(tree, grid_a1, street_a, school_pair):
    keep = report(grid_a1, tree.a1_1)
    dup = report(grid_a1, tree.a1_1, school_ids=[school_pair["a"].pk])
    services.event_merge(actor=street_a, event_id=dup.pk, into_id=keep.pk, reason="重复")
    assert [(s.kind, s.target_id) for s in keep.subjects.all()] == [("school", school_pair["a"].pk)]


def test_report_form_with_an_error_keeps_the_ticked_subjects(tree, grid_a1, places, school_pair):
    """A report that comes back with an error keeps the persons, houses and schools that were ticked (in
    the user's scope only), so they need not be searched for again; the picked list is outside the search
    results, which a new search replaces."""
    page = (
        api_client_for(grid_a1)
        .post(
            "/events/report/",
            {
                "area": tree.a1_1.pk,
                "category": "0102",
                "title": "",  # the error
                "description": "楼道堆放杂物",
                "urgency": "normal",
                "person": [places["person_a"].pk],
                "school": [school_pair["a"].pk, school_pair["b"].pk],
            },
        )
        .content.decode()
    )
    picked = page.split('id="pa-subject-picked"')[1].split('id="pa-subject-candidates"')[0]
    assert f'name="school" value="{school_pair["a"].pk}"' in picked and "甲一小学" in picked
    assert f'name="person" value="{places["person_a"].pk}"' in picked and "张小明" not in picked  # masked
    assert f'value="{school_pair["b"].pk}"' not in picked  # another community's: not offered back
    assert not Event.objects.exists()
