"""The events API: list, detail, report, every action, errors (404 for forbidden, 409 for conflicts)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from pingan.events.models import Event
from tests.events.conftest import PNG, photo
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db


def post(client: Client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def test_report_through_the_api_with_photos(tree, grid_a1):
    client = api_client_for(grid_a1)
    response = client.post(
        "/api/v1/events",
        {
            "area_id": tree.a1_1.pk,
            "category": "0104",
            "title": "车辆占用消防通道",
            "description": "小区东门",
            "latitude": "39.100001",
            "longitude": "117.210002",
            "reporter_name": "王小明",
            "reporter_phone": "13812345678",
            "photos": [photo(), photo("b.png", PNG, "image/png")],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "reported" and body["tier"] == "on_the_spot" and body["version"] == 1
    assert body["reporter_name"] == "王*明" and body["reporter_phone"] == "138****5678"  # masked
    assert len(body["photos"]) == 2 and body["steps"][0]["action"] == "report"
    assert body["category_label"] == "乱停乱放" and body["actions"] == []
    image = client.get(body["photos"][1]["url"])
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == PNG
    assert "no-store" in image["Cache-Control"]
    # the answer is built from what the report wrote, without reading it back: the same as reading it
    again = client.get(f"/api/v1/events/{body['id']}").json()
    assert body["steps"] == again["steps"] and body["photos"] == again["photos"]
    assert [p["id"] for p in body["steps"][0]["photos"]] == [p["id"] for p in body["photos"]]


def test_report_validation_answers_422(tree, grid_a1):
    response = api_client_for(grid_a1).post(
        "/api/v1/events",
        {
            "area_id": tree.a1_1.pk,
            "category": "0104",
            "title": "t",
            "description": "情况说明",
            "photos": [photo("x.jpg", b"not an image")],
        },
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "photos"


def test_the_loop_through_the_api(tree, grid_a1, street_a, dept_handler, make_event):
    event = make_event("reported")
    centre, handler, grid = api_client_for(street_a), api_client_for(dept_handler), api_client_for(grid_a1)
    detail = centre.get(f"/api/v1/events/{event.pk}").json()
    assert detail["actions"] == ["accept", "refuse", "escalate", "supervise"]
    assert post(centre, f"/api/v1/events/{event.pk}/accept", {"version": 1}).json()["status"] == "accepted"
    body = post(
        centre,
        f"/api/v1/events/{event.pk}/dispatch",
        {"department_id": tree.law_enforcement.pk, "version": 2},
    ).json()
    assert body["status"] == "dispatched" and body["assignee_department"]["name"] == "综合执法局"
    assert handler.get(f"/api/v1/events/{event.pk}").json()["actions"] == [
        "start",
        "report_back",
        "return",
        "request_extension",
    ]
    assert post(handler, f"/api/v1/events/{event.pk}/start").json()["status"] == "handling"
    body = post(handler, f"/api/v1/events/{event.pk}/extension", {"days": 2, "reason": "协调"}).json()
    assert body["extension_requested_days"] == 2
    body = post(centre, f"/api/v1/events/{event.pk}/extension/decision", {"approve": True}).json()
    assert body["extension_days"] == 2
    response = handler.post(f"/api/v1/events/{event.pk}/report-back", {"note": "已处置", "photos": [photo()]})
    assert response.status_code == 200 and response.json()["status"] == "handled"
    response = grid.post(f"/api/v1/events/{event.pk}/verify", {"passed": "false", "note": "没处理干净"})
    assert response.json()["status"] == "handling" and response.json()["failed_verification_count"] == 1
    handler.post(f"/api/v1/events/{event.pk}/report-back", {"note": "再次处置"})
    response = grid.post(f"/api/v1/events/{event.pk}/verify", {"passed": "true", "photos": [photo()]})
    assert response.json()["status"] == "closed"
    assert post(grid, f"/api/v1/events/{event.pk}/rate", {"rating": 5}).json()["rating"] == 5
    body = post(centre, f"/api/v1/events/{event.pk}/reopen", {"reason": "复发"}).json()
    assert body["status"] == "accepted" and body["reopen_count"] == 1
    assert post(centre, f"/api/v1/events/{event.pk}/escalate", {"reason": "需区级协调"}).json()["owner"][
        "code"
    ] == ("120103")
    body = post(api_client_for(street_a), f"/api/v1/events/{event.pk}/supervise", {"note": "督办"})
    assert body.status_code == 404  # the street no longer has it: no action, as if it did not exist


def test_refuse_and_return(tree, street_a, dept_handler, make_event):
    event = make_event("reported")
    response = post(api_client_for(street_a), f"/api/v1/events/{event.pk}/refuse", {"reason": "重复"})
    assert response.json()["status"] == "refused"
    dispatched = make_event("dispatched")
    response = post(
        api_client_for(dept_handler), f"/api/v1/events/{dispatched.pk}/return", {"reason": "非本部门"}
    )
    assert response.json()["status"] == "accepted" and response.json()["return_count"] == 1


def test_conflicts_answer_409_with_the_error_body(street_a, district_admin, make_event):
    event = make_event("reported")
    assert (
        post(api_client_for(street_a), f"/api/v1/events/{event.pk}/accept", {"version": 1}).status_code == 200
    )
    stale = post(
        api_client_for(district_admin), f"/api/v1/events/{event.pk}/refuse", {"reason": "重复", "version": 1}
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict" and "已被他人更新" in stale.json()["error"]["message"]
    wrong_state = post(api_client_for(district_admin), f"/api/v1/events/{event.pk}/accept")
    assert wrong_state.status_code == 409 and "不能立案" in wrong_state.json()["error"]["message"]


def test_list_filters_and_scope(tree, street_a, community_b1, dept_handler, make_event):
    reported, closed = make_event("reported"), make_event("closed", category="0104")
    client = api_client_for(street_a)
    body = client.get("/api/v1/events").json()
    assert body["count"] == 2 and [e["id"] for e in body["items"]] == [closed.pk, reported.pk]
    assert client.get("/api/v1/events?status=closed").json()["count"] == 1
    assert client.get("/api/v1/events?status=closed&status=reported").json()["count"] == 2
    assert client.get("/api/v1/events?category=01").json()["count"] == 2
    assert client.get("/api/v1/events?category=0104").json()["count"] == 1
    assert client.get(f"/api/v1/events?q={reported.number}").json()["items"][0]["id"] == reported.pk
    assert client.get(f"/api/v1/events?area={tree.b1.pk}").json()["count"] == 0
    assert client.get("/api/v1/events?late=true").json()["count"] == 0
    assert client.get("/api/v1/events?page_size=1&page=2").json()["items"][0]["id"] == reported.pk
    assert api_client_for(community_b1).get("/api/v1/events").json()["count"] == 0
    assert api_client_for(community_b1).get(f"/api/v1/events/{reported.pk}").status_code == 404
    photo_url = f"/api/v1/events/{reported.pk}/photos/{reported.photos.first().pk}"
    assert api_client_for(community_b1).get(photo_url).status_code == 404
    assert api_client_for(dept_handler).get("/api/v1/events").json()["count"] == 1  # the closed one was its


def test_bad_input_answers_422(street_a, make_event):
    event = make_event("reported")
    client = api_client_for(street_a)
    assert post(client, f"/api/v1/events/{event.pk}/rate", {"rating": 9}).status_code == 422
    assert post(client, f"/api/v1/events/{event.pk}/refuse", {}).status_code == 422
    assert client.get("/api/v1/events?reported_from=0").status_code == 422
    assert Event.objects.get(pk=event.pk).version == 1


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_one_gets_409(make_event, street_a, district_admin, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (set DATABASE_URL)")
    import time

    from pingan.events import services

    real = services.audit_record

    def slow(**kwargs):
        time.sleep(0.3)  # the first one holds the row lock a little longer
        return real(**kwargs)

    monkeypatch.setattr(services, "audit_record", slow)
    event = make_event("reported")
    clients = [api_client_for(street_a), api_client_for(district_admin)]
    barrier = threading.Barrier(2)
    responses: list = [None, None]

    def run(index: int) -> None:
        try:
            barrier.wait()
            responses[index] = post(clients[index], f"/api/v1/events/{event.pk}/accept", {"version": 1})
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409], [r.content for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["error"]["code"] == "conflict"
    event.refresh_from_db()
    assert (event.status, event.version) == ("accepted", 2)
