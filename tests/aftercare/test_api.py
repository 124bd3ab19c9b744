from __future__ import annotations

import datetime as dt
import json

from pingan.aftercare.models import AftercareCase
from pingan.audit.models import AuditEvent
from tests.aftercare.conftest import make_id


def post(client, url, body):
    return client.post(url, json.dumps(body, default=str), content_type="application/json")


def test_create_list_detail_actions(tree, officer_a1, api_client_for, today):
    client = api_client_for(officer_a1)
    body = {
        "area_id": tree.a1_1.pk,
        "name": "测试刑释",
        "id_number": make_id(601),
        "offence": "盗窃罪",
        "release_date": str(today - dt.timedelta(days=3)),
        "is_key_person": True,
    }
    created = post(client, "/api/v1/aftercare/cases", body)
    assert created.status_code == 201, created.content
    data = created.json()
    case_id = data["id"]
    assert data["name"] == "测**释" and data["id_number"].startswith("120103********")
    assert data["handover"]["status"] == "pending" and data["handover"]["overdue"] is True
    again = post(client, "/api/v1/aftercare/cases", body)
    assert again.status_code == 422 and again.json()["error"]["details"]

    listing = client.get("/api/v1/aftercare/cases?due=handover_overdue").json()
    assert listing["count"] == 1 and listing["items"][0]["id"] == case_id
    assert client.get("/api/v1/aftercare/cases?due=visit_due").json()["count"] == 0

    received = post(
        client,
        f"/api/v1/aftercare/cases/{case_id}/receive",
        {"received_on": str(today), "met_at_release": True, "expected_version": data["version"]},
    )
    assert received.status_code == 200 and received.json()["status"] == "assisting"
    stale = post(
        client,
        f"/api/v1/aftercare/cases/{case_id}/reoffences",
        {"offence_date": str(today), "offence": "0502", "expected_version": data["version"]},
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"

    r = client.put(
        f"/api/v1/aftercare/cases/{case_id}/resettlement",
        json.dumps({"kind": "employment", "detail": "示例公司"}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["resettlement"] == "employment"
    m = post(
        client,
        f"/api/v1/aftercare/cases/{case_id}/members",
        {"role": "family", "name": "测试家属", "phone": "13900001111"},
    )
    assert m.status_code == 201 and m.json()["phone"] == "139****1111" and m.json()["name"] == "测**属"
    v = post(
        client,
        f"/api/v1/aftercare/cases/{case_id}/visits",
        {
            "visited_on": str(today),
            "visitors": "社区干部",
            "content": "了解就业情况",
            "next_visit_on": str(today + dt.timedelta(days=5)),
        },
    )
    assert v.status_code == 201
    assert client.get("/api/v1/aftercare/cases?due=visit_due").json()["count"] == 1
    a = post(
        client,
        f"/api/v1/aftercare/cases/{case_id}/aid",
        {"kind": "hardship_grant", "amount": "1500.00", "approver": "所长", "disbursed_on": str(today)},
    )
    assert a.status_code == 201 and a.json()["amount"] == "1500.00"
    bad = post(
        client,
        f"/api/v1/aftercare/cases/{case_id}/aid",
        {"kind": "hardship_grant", "disbursed_on": str(today)},
    )
    assert bad.status_code == 422 and "一次性困难救助金须填写金额" in json.dumps(
        bad.json(), ensure_ascii=False
    )

    detail = client.get(f"/api/v1/aftercare/cases/{case_id}")
    assert detail.status_code == 200
    d = detail.json()
    assert len(d["members"]) == 1 and len(d["visits"]) == 1 and len(d["aid"]) == 1
    assert AuditEvent.objects.filter(action="access.view", object_id=str(case_id)).count() == 1

    figures = client.get(f"/api/v1/aftercare/figures?start={today.year}-01-01&end={today}").json()
    assert figures["released"] == 1 and figures["handover_rate"] == "100.0"


def test_scope_and_roles(
    tree,
    officer_a1,
    officer_b1,
    leader,
    grid_a1,
    community_a1,
    street_a,
    police_a1,
    district_admin,
    api_client_for,
    register_case,
    today,
):
    case = register_case(officer_a1, seq=611, received_on=today)
    b = api_client_for(officer_b1)
    assert b.get("/api/v1/aftercare/cases").json()["count"] == 0
    assert b.get(f"/api/v1/aftercare/cases/{case.pk}").status_code == 404
    assert b.get("/api/v1/aftercare/cases/999999").status_code == 404
    r = post(
        b,
        f"/api/v1/aftercare/cases/{case.pk}/visits",
        {"visited_on": str(today), "visitors": "x", "content": "了解情况"},
    )
    assert r.status_code == 404
    r = post(b, f"/api/v1/aftercare/cases/{case.pk}/receive", {"received_on": str(today)})
    assert r.status_code == 404
    body = {
        "area_id": tree.a1_1.pk,
        "name": "测试",
        "id_number": make_id(612),
        "offence": "0502",
        "release_date": str(today),
    }
    assert post(b, "/api/v1/aftercare/cases", body).status_code == 404
    # leaders of the jurisdiction read cases (read-only); every other role: 404, not an empty list
    lead = api_client_for(leader)
    assert lead.get("/api/v1/aftercare/cases").json()["count"] == 1
    assert lead.get(f"/api/v1/aftercare/cases/{case.pk}").status_code == 200
    visit = {"visited_on": str(today), "visitors": "x", "content": "了解情况"}
    assert post(lead, f"/api/v1/aftercare/cases/{case.pk}/visits", visit).status_code == 404
    assert post(lead, "/api/v1/aftercare/cases", {**body, "id_number": make_id(613)}).status_code == 404
    for user in (community_a1, street_a, police_a1, district_admin, grid_a1):
        client = api_client_for(user)
        assert client.get("/api/v1/aftercare/cases").status_code == 404, user.username
        assert client.get(f"/api/v1/aftercare/cases/{case.pk}").status_code == 404, user.username
        assert post(client, f"/api/v1/aftercare/cases/{case.pk}/visits", visit).status_code == 404
    assert api_client_for(leader).get("/api/v1/aftercare/figures").status_code == 200
    assert api_client_for(district_admin).get("/api/v1/aftercare/figures").status_code == 200
    for user in (grid_a1, community_a1, street_a, police_a1):
        assert api_client_for(user).get("/api/v1/aftercare/figures").status_code == 404
    assert AftercareCase.objects.get(pk=case.pk).visits.count() == 0
