from __future__ import annotations

import datetime as dt
import json

from django.utils import timezone

from pingan.audit.models import AuditEvent
from pingan.correction.models import CorrectionClient
from tests.correction.conftest import make_id

TODAY = timezone.localdate()


def _post(client, url, body):
    return client.post(url, json.dumps(body, default=str), content_type="application/json")


def test_api_create_list_detail_actions(tree, officer_a1, judicial_a, leader, api_client_for):
    api = api_client_for(officer_a1)
    body = {
        "area_id": tree.a1_1.pk,
        "name": "接口矫正",
        "id_number": make_id(31),
        "number": "JZ-API-1",
        "category": "假释",
        "offence": "诈骗罪",
        "start_date": TODAY - dt.timedelta(days=3),
        "end_date": TODAY + dt.timedelta(days=365),
        "authority": "河西区人民法院",
        "judgment_effective_date": TODAY - dt.timedelta(days=3),
    }
    created = _post(api, "/api/v1/correction/clients", body)
    assert created.status_code == 201, created.content
    data = created.json()
    client_id = data["id"]
    assert data["category"] == "3" and data["status"] == "pending" and data["missing"] is False
    assert data["name"] != "接口矫正" and data["id_number"].count("*") >= 8  # masked
    again = _post(api, "/api/v1/correction/clients", {**body, "number": "JZ-API-2"})
    assert again.status_code == 422 and "已有未解除" in again.json()["error"]["message"]
    listing = api.get("/api/v1/correction/clients").json()
    assert listing["count"] == 1 and listing["items"][0]["area_id"] == tree.a1_1.pk
    before = AuditEvent.objects.filter(action="access.view").count()
    assert api.get(f"/api/v1/correction/clients/{client_id}").status_code == 200
    assert AuditEvent.objects.filter(action="access.view").count() == before + 1

    reported = _post(
        api, f"/api/v1/correction/clients/{client_id}/report", {"reported_on": TODAY, "version": 1}
    )
    assert reported.status_code == 200 and reported.json()["status"] == "active"
    stale = _post(api, f"/api/v1/correction/clients/{client_id}/report", {"reported_on": TODAY, "version": 1})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    checkin = _post(api, f"/api/v1/correction/clients/{client_id}/checkins", {"date": TODAY, "kind": "phone"})
    assert checkin.status_code == 201 and checkin.json()["on_time"] is True
    visit = _post(
        api,
        f"/api/v1/correction/clients/{client_id}/visits",
        {"date": TODAY, "visitors": "甲", "content": "在家"},
    )
    assert visit.status_code == 201
    leave = _post(
        api,
        f"/api/v1/correction/clients/{client_id}/leaves",
        {
            "destination": "上海",
            "reason": "就医",
            "start": TODAY + dt.timedelta(days=2),
            "end": TODAY + dt.timedelta(days=4),
        },
    )
    assert leave.status_code == 201 and leave.json()["status"] == "pending"
    leave_id = leave.json()["id"]
    assert api.get("/api/v1/correction/leaves").json()["count"] == 1
    # leaders read but may not decide: the same 404 as a missing record
    reader = api_client_for(leader)
    assert reader.get("/api/v1/correction/leaves").json()["count"] == 1
    assert (
        _post(reader, f"/api/v1/correction/leaves/{leave_id}/decide", {"action": "approve"}).status_code
        == 404
    )
    approver = api_client_for(judicial_a)
    ok = _post(
        approver, f"/api/v1/correction/leaves/{leave_id}/decide", {"action": "approve", "note": "同意"}
    )
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    conflict = _post(
        approver, f"/api/v1/correction/leaves/{leave_id}/decide", {"action": "reject", "note": "不同意"}
    )
    assert conflict.status_code == 409 and "已由他人处理" in conflict.json()["error"]["message"]
    detail = api.get(f"/api/v1/correction/clients/{client_id}").json()
    assert len(detail["checkins"]) == 1 and detail["leaves"][0]["status"] == "approved"
    bad = _post(
        approver, f"/api/v1/correction/clients/{client_id}/terminate", {"kind": "completed", "date": TODAY}
    )
    assert bad.status_code == 422 and "不能提前办理期满解除" in bad.json()["error"]["message"]


def test_api_scope_and_roles(
    tree,
    leader,
    officer_a1,
    officer_b1,
    community_a1,
    street_a,
    police_a1,
    district_admin,
    grid_a1,
    dept_handler,
    auditor,
    api_client_for,
    new_client,
):
    c = new_client(officer_a1, reported_on=TODAY)
    # issue 6: another jurisdiction's officer, and every role but officers and leaders (community staff,
    # street office, police, the district centre included) see nothing: empty lists, 404 on the client
    for user in (
        officer_b1,
        community_a1,
        street_a,
        police_a1,
        district_admin,
        grid_a1,
        dept_handler,
        auditor,
    ):
        api = api_client_for(user)
        assert api.get("/api/v1/correction/clients").json()["count"] == 0, user
        assert api.get("/api/v1/correction/alerts").json()["count"] == 0, user
        assert api.get("/api/v1/correction/leaves").json()["count"] == 0, user
        assert api.get(f"/api/v1/correction/clients/{c.pk}").status_code == 404, user
        assert _post(api, f"/api/v1/correction/clients/{c.pk}/checkins", {"date": TODAY}).status_code == 404
        assert (
            _post(
                api, f"/api/v1/correction/clients/{c.pk}/terminate", {"kind": "death", "date": TODAY}
            ).status_code
            == 404
        )
    assert api_client_for(officer_b1).get("/api/v1/correction/clients/999999").status_code == 404
    # leaders of the jurisdiction read the client, and nothing more
    boss = api_client_for(leader)
    assert boss.get("/api/v1/correction/clients").json()["count"] == 1
    assert boss.get(f"/api/v1/correction/clients/{c.pk}").status_code == 200
    assert _post(boss, f"/api/v1/correction/clients/{c.pk}/checkins", {"date": TODAY}).status_code == 404
    assert CorrectionClient.objects.get(pk=c.pk).status == "active"
    assert api_client_for(None).get("/api/v1/correction/clients").status_code == 401


def test_api_alerts_and_figures(
    tree, officer_a1, leader, district_admin, community_a1, auditor, api_client_for, new_client
):
    old = TODAY - dt.timedelta(days=15)
    c = new_client(officer_a1, judgment_effective_date=old, start_date=old)
    alerts = api_client_for(officer_a1).get("/api/v1/correction/alerts").json()
    assert alerts["count"] == 1 and alerts["items"][0]["id"] == c.pk and alerts["items"][0]["missing"] is True
    assert api_client_for(leader).get("/api/v1/correction/alerts").json()["count"] == 1  # read-only
    assert api_client_for(district_admin).get("/api/v1/correction/alerts").json()["count"] == 0
    url = f"/api/v1/correction/figures?start={TODAY.replace(month=1, day=1)}&end={TODAY}"
    for user in (leader, district_admin):  # figures (no person): leaders and the district centre too
        figures = api_client_for(user).get(url)
        assert figures.status_code == 200
        assert figures.json()["reception_due"] == 1 and figures.json()["missing_rate"] in ("100.0", 100.0)
    for user in (auditor, community_a1):
        assert api_client_for(user).get(url).status_code == 404
    assert (
        api_client_for(leader).get(f"/api/v1/correction/figures?start={TODAY}&end=2000-01-01").status_code
        == 400
    )
