from __future__ import annotations

import json

from pingan.audit.models import AuditEvent
from pingan.people.services import person_register
from tests.people.conftest import make_id


def test_api_register_list_detail_masked(tree, community_a1, api_client_for, person_data):
    client = api_client_for(community_a1)
    body = {"area_id": tree.a1_1.pk, "name": "测试赵六", "id_number": make_id(seq=11), "phone": "13812345678"}
    response = client.post("/api/v1/persons", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    person_id = response.json()["id"]
    assert response.json()["id_number"] == make_id(seq=11)[:6] + "********" + make_id(seq=11)[-4:]
    again = client.post(
        "/api/v1/persons", json.dumps({**body, "occupation": "职员"}), content_type="application/json"
    )
    assert again.status_code == 200 and again.json()["id"] == person_id
    listing = client.get("/api/v1/persons?q=ceshizhao").json()
    assert listing["count"] == 1 and listing["items"][0]["phone"] == "138****5678"
    detail = client.get(f"/api/v1/persons/{person_id}")
    assert detail.status_code == 200 and detail.json()["name"] != "测试赵六"
    revealed = client.get(f"/api/v1/persons/{person_id}?reveal=id_number&reason=入户核实身份")
    assert revealed.json()["id_number"] == make_id(seq=11)
    assert AuditEvent.objects.filter(action="access.reveal").exists()
    patched = client.patch(
        f"/api/v1/persons/{person_id}", json.dumps({"phone": "abc"}), content_type="application/json"
    )
    assert patched.status_code in (400, 422)


def test_api_scope(tree, community_a1, community_b1, api_client_for, person_data):
    person, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data())
    client = api_client_for(community_b1)
    assert client.get("/api/v1/persons").json()["count"] == 0
    assert client.get(f"/api/v1/persons/{person.pk}").status_code == 404
    body = {"area_id": tree.a1_1.pk, "name": "测试", "id_number": make_id(seq=12)}
    assert (
        client.post("/api/v1/persons", json.dumps(body), content_type="application/json").status_code == 404
    )
    assert (
        client.patch(
            f"/api/v1/persons/{person.pk}", json.dumps({"name": "x"}), content_type="application/json"
        ).status_code
        == 404
    )


def test_api_houses(tree, community_a1, community_b1, api_client_for):
    client = api_client_for(community_a1)
    response = client.post(
        "/api/v1/houses",
        json.dumps({"area_id": tree.a1_1.pk, "compound": "测试小区", "room": "1"}),
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["address"] == "测试小区1室"
    assert client.get("/api/v1/houses").json()["count"] == 1
    assert api_client_for(community_b1).get("/api/v1/houses").json()["count"] == 0
