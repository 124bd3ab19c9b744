"""Open311 GeoReport v2 (/open311/v2/) in both formats, its errors, the api_keys, and the citizen's follow
page."""

from __future__ import annotations

import datetime as dt
import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from pingan.audit.models import AuditEvent
from pingan.events import services
from pingan.events.models import Event, EventCategoryRule, Open311Client
from pingan.notifications.models import Notification
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[117.20, 39.10], [117.21, 39.10], [117.21, 39.11], [117.20, 39.11], [117.20, 39.10]]],
}


@pytest.fixture
def key(tree, system_admin) -> str:
    tree.a1_1.boundary = SQUARE
    tree.a1_1.save()
    return services.open311_key_create(actor=system_admin, name="市民随手拍")[1]


def xml(response) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 — our own answer


def post(data: dict, fmt: str = "json"):
    return Client(enforce_csrf_checks=True).post(f"{BASE}/requests.{fmt}", data)


def report(key: str, **extra):
    data = {
        "api_key": key,
        "service_code": "0104",
        "lat": "39.105",
        "long": "117.205",
        "description": "小区东门车辆堵塞消防通道",
        "first_name": "小明",
        "last_name": "王",
        "phone": "13812345678",
    }
    data.update(extra)
    return post(data)


# --- discovery and services ----------------------------------------------------------------------------


def test_discovery_in_both_formats(tree):
    body = Client().get(f"{BASE}/discovery.json").json()
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["text/xml", "application/json"] and endpoint["type"] == "production"
    assert endpoint["url"].endswith("/open311/v2")
    root = xml(Client().get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]


def test_services_are_the_public_categories(tree):
    from pingan.events.services import seed_category_rules

    EventCategoryRule.objects.all().delete()
    seed_category_rules()  # as a new installation has them
    services_json = Client().get(f"{BASE}/services.json").json()
    by_code = {s["service_code"]: s for s in services_json}
    assert by_code["0104"] == {
        "service_code": "0104",
        "service_name": "乱停乱放",
        "description": "Illegal parking",
        "metadata": False,
        "type": "realtime",
        "keywords": "",
        "group": "城市管理",
    }
    assert "01" not in by_code  # a group, not a service
    assert "99" in by_code  # a top-level category without children is a service
    assert "0501" not in by_code and "0505" not in by_code  # disputes are not reported by apps…
    # …nor public-security risks or public order near schools (GET requests would show where they are)
    assert "0301" not in by_code and "0203" not in by_code and "0201" in by_code
    assert "0504" in by_code  # …except a child with a rule of its own
    root = xml(Client().get(f"{BASE}/services.xml"))
    assert root.tag == "services" and len(root.findall("service")) == len(services_json)
    assert root.find("service/metadata").text == "false"


def test_service_definition_and_its_errors(tree):
    assert Client().get(f"{BASE}/services/0104.json").json() == {"service_code": "0104", "attributes": []}
    root = xml(Client().get(f"{BASE}/services/0104.xml"))
    assert root.tag == "service_definition" and root.find("service_code").text == "0104"
    missing = Client().get(f"{BASE}/services/9999.json")
    assert missing.status_code == 404 and missing.json() == [
        {"code": 404, "description": "service_code not found"}
    ]
    missing_xml = xml(Client().get(f"{BASE}/services/9999.xml"))
    assert missing_xml.tag == "errors" and missing_xml.find("error/code").text == "404"
    assert Client().get(f"{BASE}/services.html").status_code == 404


# --- posting a request --------------------------------------------------------------------------------


def test_a_citizens_report_enters_the_loop(key, tree, street_a):
    response = report(key, media_url="https://example.org/p.jpg", **{"attribute[plate]": "津A12345"})
    assert response.status_code == 200, response.content
    (row,) = response.json()
    assert set(row) == {"service_request_id", "service_notice", "account_id"} and row["account_id"] is None
    event = Event.objects.get(number=row["service_request_id"])
    assert (event.source, event.area, event.owner, event.status) == (
        "citizen",
        tree.a1_1,
        tree.street_a,
        "reported",
    )
    assert (
        event.reporter is None and event.reporter_name == "王小明" and event.reporter_phone == "13812345678"
    )
    step = event.steps.get(action="report")
    assert step.actor_name == "Open311：市民随手拍"
    assert step.data["media_url"] == "https://example.org/p.jpg" and step.data["attributes"] == {
        "plate": "津A12345"
    }
    assert AuditEvent.objects.get(action="event.report").actor_username == "open311:市民随手拍"
    assert Notification.objects.filter(user=street_a, kind="event.reported").exists()
    assert Open311Client.objects.get().last_used_at is not None


def test_an_address_only_report_goes_to_the_district(key, tree):
    response = report(key, lat="", long="", address_string="滦水道3号")
    event = Event.objects.get(number=response.json()[0]["service_request_id"])
    assert event.area == tree.district and event.owner == tree.district and event.address == "滦水道3号"


def test_the_district_centre_places_an_address_only_report_in_a_grid(
    key, tree, district_admin, street_a, grid_a1, token_for
):
    from pingan.events.selectors import available_actions

    number = report(key, lat="", long="", address_string="滦水道3号").json()[0]["service_request_id"]
    event = Event.objects.get(number=number)
    assert "place" in available_actions(user=district_admin, event=event)
    with pytest.raises(ValidationError):  # a grid is needed, not a community
        services.event_place(actor=district_admin, event_id=event.pk, area_id=tree.a1.pk)
    wrong = api_client_for(district_admin).post(
        f"/events/{event.pk}/place/", {"version": event.version, "area": tree.a1.pk}, HTTP_HX_REQUEST="true"
    )
    assert "请选择您辖区内的网格" in wrong.content.decode()  # shown above the action buttons
    page = api_client_for(district_admin).post(
        f"/events/{event.pk}/place/", {"version": event.version, "area": tree.a1_1.pk}, HTTP_HX_REQUEST="true"
    )
    assert page.status_code == 200
    event.refresh_from_db()
    assert (event.area, event.owner) == (tree.a1_1, tree.street_a)  # the grid's street is in charge now
    step = event.steps.get(action="place")
    assert step.data == {"from": tree.district.name, "to": tree.a1_1.name}
    assert Notification.objects.filter(user=street_a, kind="event.placed").exists()
    assert "place" not in available_actions(user=street_a, event=event)  # in a grid: nothing to place
    answer = Client().post(
        f"/api/v1/events/{event.pk}/place",
        {"area_id": tree.a1_2.pk, "version": event.version},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token_for(street_a)}",
    )
    assert answer.status_code == 409


def test_the_xml_answer_to_a_post(key):
    root = xml(post({"api_key": key, "service_code": "0104", "lat": "39.105", "long": "117.205"}, "xml"))
    assert root.tag == "service_requests"
    assert root.find("request/service_request_id").text and root.find("request/account_id").text is None


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"api_key": ""}, 403, "api_key"),
        ({"api_key": "o311_wrong"}, 403, "api_key"),
        ({"service_code": ""}, 400, "service_code is required"),
        ({"service_code": "9999"}, 404, "service_code not found"),
        ({"lat": "", "long": ""}, 400, "location is required"),
        ({"long": ""}, 400, "together"),
        ({"lat": "31.2", "long": "121.4"}, 400, "outside the jurisdiction"),
        ({"lat": "north"}, 400, "lat"),
        ({"phone": "12345"}, 400, "reporter_phone"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ],
)
def test_post_errors(key, changes, status, words):
    response = report(key, **changes)
    assert response.status_code == status
    (error,) = response.json()
    assert error["code"] == status and words in error["description"]
    assert not Event.objects.exists()


def test_a_revoked_key_is_refused(key, system_admin):
    client = Open311Client.objects.get()
    services.open311_key_revoke(actor=system_admin, client_id=client.pk)
    assert report(key).status_code == 403


def test_a_wrong_jurisdiction_is_refused(key):
    response = Client().get(f"{BASE}/services.json?jurisdiction_id=310101")
    assert response.status_code == 404 and response.json()[0]["description"] == "jurisdiction_id not found"
    assert Client().get(f"{BASE}/services.json?jurisdiction_id=120103").status_code == 200


# --- reading requests ----------------------------------------------------------------------------------


def test_requests_in_both_formats_without_personal_data(key, street_a):
    number = report(key, address_string="滦水道3号楼2单元501").json()[0]["service_request_id"]
    body = Client().get(f"{BASE}/requests.json").json()
    (row,) = body
    assert row["service_request_id"] == number and row["status"] == "open"
    assert row["service_name"] == "乱停乱放" and row["agency_responsible"] == "挂甲寺街"
    assert row["lat"] == 39.105 and row["long"] == 117.205
    assert row["requested_datetime"].endswith("+08:00") and row["expected_datetime"] is None
    text = json.dumps(body, ensure_ascii=False)
    # the address only masked (滦水道****), looked for by its words: a bare "501" is in a number of 1 May
    assert "王小明" not in text and "13812345678" not in text and "3号楼" not in text and "2单元" not in text
    assert row["address"] == "滦水道****"
    root = xml(Client().get(f"{BASE}/requests/{number}.xml"))
    assert root.tag == "service_requests" and root.find("request/status").text == "open"
    event = Event.objects.get(number=number)
    services.event_refuse(actor=street_a, event_id=event.pk, reason="重复上报，已电话告知王小明")
    (row,) = Client().get(f"{BASE}/requests/{number}.json").json()
    assert row["status"] == "closed" and row["status_notes"] == "经核实，不予立案"
    assert row["description"] == ""  # the title as typed stays inside: it may name people
    assert "王小明" not in Client().get(f"/follow/{number}/").content.decode()


def test_request_filters_and_the_90_day_window(key, make_event, tree):
    recent = report(key).json()[0]["service_request_id"]
    old = make_event("reported", category="0104")
    Event.objects.filter(pk=old.pk).update(reported_at=timezone.now() - dt.timedelta(days=100))
    old.refresh_from_db()
    hidden = make_event("reported", category="0501")  # disputes: not public when the rule says so
    EventCategoryRule.objects.update_or_create(category="05", defaults={"tier": "ordinary", "public": False})

    def numbers(query: str) -> list[str]:
        return [r["service_request_id"] for r in Client().get(f"{BASE}/requests.json{query}").json()]

    assert numbers("") == [recent]  # the default window is the last 90 days
    assert numbers(f"?service_request_id={old.number},{recent},{hidden.number}") == [recent, old.number]
    assert numbers("?status=closed") == [] and numbers("?status=open") == [recent]
    assert numbers("?service_code=0102") == []
    start = (timezone.localdate() - dt.timedelta(days=120)).isoformat()
    end = (timezone.localdate() - dt.timedelta(days=60)).isoformat()
    assert numbers(f"?start_date={start}&end_date={end}") == [old.number]
    too_long = Client().get(f"{BASE}/requests.json?start_date=2026-01-01&end_date=2026-06-01")
    assert too_long.status_code == 400 and "90 days" in too_long.json()[0]["description"]
    assert Client().get(f"{BASE}/requests.json?start_date=yesterday").status_code == 400
    assert Client().get(f"{BASE}/requests.json?status=pending").status_code == 400
    assert Client().get(f"{BASE}/requests/{hidden.number}.json").status_code == 404
    assert Client().get(f"{BASE}/requests/000.xml").status_code == 404


def test_tokens_are_never_issued(tree):
    response = Client().get(f"{BASE}/tokens/abc.json")
    assert response.status_code == 404 and "realtime" in response.json()[0]["description"]


# --- keys ----------------------------------------------------------------------------------------------


def test_the_key_screen(tree, system_admin, district_admin):
    client = api_client_for(system_admin)
    response = client.post("/events/open311-keys/", {"name": "12345 市民热线 App"})
    key = response.context["new_key"]
    assert key.startswith("o311_") and key in response.content.decode()
    row = Open311Client.objects.get()
    assert row.key_hash != key and key not in json.dumps(
        list(AuditEvent.objects.values_list("changes", flat=True))
    )
    assert key not in client.get("/events/open311-keys/").content.decode()  # shown once
    client.post("/events/open311-keys/", {"revoke": row.pk})
    assert Open311Client.objects.get().revoked_at is not None
    assert api_client_for(district_admin).get("/events/open311-keys/").status_code == 403


def test_the_key_command(tree):
    out = io.StringIO()
    call_command("open311-key", "create", "随手拍", stdout=out)
    key = out.getvalue().strip()
    assert services.open311_client_for_key(key).name == "随手拍"
    call_command("open311-key", "revoke", "随手拍", stdout=io.StringIO())
    assert services.open311_client_for_key(key) is None
    listing = io.StringIO()
    call_command("open311-key", "list", stdout=listing)
    assert "随手拍" in listing.getvalue() and "revoked" in listing.getvalue()


# --- the follow page -----------------------------------------------------------------------------------


def test_a_citizen_follows_a_report_without_signing_in(key, street_a):
    number = report(key, address_string="滦水道3号楼501").json()[0]["service_request_id"]
    event = Event.objects.get(number=number)
    services.event_accept(actor=street_a, event_id=event.pk, note="内部意见：联系王小明")
    assert Client().get("/follow/").status_code == 200
    assert Client().get(f"/follow/?number={number}")["Location"] == f"/follow/{number}/"
    page = Client().get(f"/follow/{number}/")
    body = page.content.decode()
    assert page.status_code == 200 and "乱停乱放" in body and "立案" in body and "已受理" in body
    # the address is not shown (looked for as its words: a bare "501" may be in a timestamp's microseconds)
    assert (
        "王小明" not in body and "13812345678" not in body and "滦水道" not in body and "街道甲" not in body
    )
    assert Client().get("/follow/000/").status_code == 404


def test_other_methods_get_the_specs_error_list(key):
    client = Client(enforce_csrf_checks=True)
    put = client.put(f"{BASE}/requests.json")
    assert put.status_code == 405 and put.json() == [{"code": 405, "description": "method not allowed"}]
    assert put["Allow"] == "GET, POST"
    posted = client.post(f"{BASE}/services.json")  # no CSRF page: Open311 clients send no cookies
    assert posted.status_code == 405 and posted.json()[0]["code"] == 405
    deleted = client.delete(f"{BASE}/requests/202601010001.xml")
    assert deleted.status_code == 405 and xml(deleted).find("error/code").text == "405"


def test_the_login_page_leads_citizens_to_the_follow_page(db):
    page = Client().get("/accounts/login/").content.decode()
    assert 'href="/follow/"' in page
    assert 'data-bs-target="#pa-sidebar"' not in page  # no menu button without the menu it opens
