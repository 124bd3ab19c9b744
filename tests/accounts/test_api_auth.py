"""The API's authentication (bearer token, session), its error body and pagination, and the
scoping of /api/v1/areas."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from pingan.accounts.models import ApiToken, hash_token
from pingan.areas.models import Area
from pingan.audit.models import AuditEvent
from tests.factories import PASSWORD, api_client_for, bearer, totp_now

pytestmark = pytest.mark.django_db

JSON = "application/json"


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(JSON)
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], list)
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]


# --- tokens -------------------------------------------------------------------------------------


def test_token_with_good_credentials(street_a):
    response = Client().post(
        "/api/v1/auth/token",
        {"username": "street_a", "password": PASSWORD, "otp": totp_now(street_a)},
        content_type=JSON,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["token"].startswith("pa_")
    token = ApiToken.objects.get(user=street_a)
    assert token.key_hash == hash_token(body["token"])  # only the hash is stored
    assert body["token"] not in str(ApiToken.objects.values_list("key_hash", flat=True))
    assert dt.datetime.fromisoformat(body["expires_at"]) > timezone.now()
    assert AuditEvent.objects.filter(action="auth.token_issue", actor=street_a).count() == 1


@pytest.mark.parametrize(
    ("username", "password"), [("street_a", "wrong-password"), ("nobody", PASSWORD), ("STREET_A ", "x")]
)
def test_token_with_bad_credentials(street_a, username, password):
    response = Client().post(
        "/api/v1/auth/token", {"username": username, "password": password}, content_type=JSON
    )
    assert_error(response, 401, "invalid_credentials")
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.filter(action="auth.token_failed", outcome="failure").count() == 1


def test_token_for_inactive_user_is_refused(street_a):
    street_a.is_active = False
    street_a.save()
    response = Client().post(
        "/api/v1/auth/token", {"username": "street_a", "password": PASSWORD}, content_type=JSON
    )
    assert_error(response, 401)


def test_token_request_validation(db):
    response = Client().post("/api/v1/auth/token", {"username": "x"}, content_type=JSON)
    error = assert_error(response, 422, "invalid_input")
    assert any(d["field"] == "password" for d in error["details"])
    response = Client().post("/api/v1/auth/token", "not json", content_type=JSON)
    assert response.status_code in (400, 422)


def test_bearer_token_works(street_a, token_for):
    key = token_for(street_a)
    client = Client()
    me = client.get("/api/v1/auth/me", headers=bearer(key))
    assert me.status_code == 200
    assert me.json() == {
        "id": street_a.pk,
        "username": "street_a",
        "full_name": "街道甲",
        "role": "street_staff",
        "role_label": "街道综治办",
        "scope_all": False,
        "scope_codes": ["120103004"],
    }
    areas = client.get("/api/v1/areas", headers=bearer(key))
    assert areas.status_code == 200
    assert {a["code"] for a in areas.json()["items"]} == {
        "120103004",
        "120103004001",
        "120103004001001",
        "120103004001002",
        "120103004002",
    }


def test_me_for_district_admin(district_admin, token_for):
    body = Client().get("/api/v1/auth/me", headers=bearer(token_for(district_admin))).json()
    assert body["scope_all"] is True


@pytest.mark.parametrize(
    "header", ["Bearer pa_not-a-real-token", "Bearer ", "Basic c3RyZWV0X2E6eA==", "pa_x"]
)
def test_bad_authorization_headers(street_a, header):
    response = Client().get("/api/v1/auth/me", headers={"Authorization": header})
    assert_error(response, 401, "unauthenticated")


def test_expired_token_is_refused(street_a, token_for):
    key = token_for(street_a)
    ApiToken.objects.filter(user=street_a).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert_error(Client().get("/api/v1/auth/me", headers=bearer(key)), 401, "unauthenticated")


def test_revoked_token_is_refused(street_a, token_for):
    key = token_for(street_a)
    ApiToken.objects.filter(user=street_a).update(revoked_at=timezone.now())
    assert_error(Client().get("/api/v1/areas", headers=bearer(key)), 401)


def test_token_of_a_deactivated_user_is_refused(street_a, token_for):
    key = token_for(street_a)
    street_a.is_active = False
    street_a.save()
    assert_error(Client().get("/api/v1/auth/me", headers=bearer(key)), 401)


def test_delete_token_revokes_it(street_a, token_for):
    key = token_for(street_a)
    other = token_for(street_a)
    client = Client()
    response = client.delete("/api/v1/auth/token", headers=bearer(key))
    assert response.status_code == 204
    assert ApiToken.objects.get(key_hash=hash_token(key)).revoked_at is not None
    assert_error(client.get("/api/v1/auth/me", headers=bearer(key)), 401)
    # Only that token: the user's other token still works.
    assert client.get("/api/v1/auth/me", headers=bearer(other)).status_code == 200
    assert AuditEvent.objects.filter(action="auth.token_revoke").count() == 1


def test_delete_token_anonymous_is_401(db):
    assert_error(Client().delete("/api/v1/auth/token"), 401)


# --- sessions and anonymous callers ---------------------------------------------------------------


def test_session_auth_works_for_the_api(community_b1):
    client = api_client_for(community_b1)
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 200
    assert response.json()["scope_codes"] == ["120103012001"]


def test_session_login_with_password(community_b1):
    client = Client()
    assert client.login(username="community_b1", password=PASSWORD)
    assert client.get("/api/v1/areas").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/auth/me",
        "/api/v1/areas",
        "/api/v1/areas/1",
        "/api/v1/departments",
        "/api/v1/codes",
        "/api/v1/codes/sex",
    ],
)
def test_anonymous_gets_401_json_not_a_redirect(db, path):
    response = Client().get(path)
    assert_error(response, 401, "unauthenticated")
    assert "Location" not in response


def test_anonymous_post_is_401(db):
    response = Client().post("/api/v1/areas", {"code": "120103004003"}, content_type=JSON)
    assert_error(response, 401)


def test_session_writes_need_the_csrf_token(tree, system_admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(system_admin)
    payload = {"code": "120103004003", "name": "新社区", "level": "community", "parent_id": tree.street_a.pk}
    response = client.post("/api/v1/areas", payload, content_type=JSON)
    assert response.status_code == 403
    assert_error(response, 403, "csrf_failed")
    assert not Area.objects.filter(code="120103004003").exists()

    # With the token from the cookie (as htmx sends it), the write goes through.
    client.get("/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = client.post("/api/v1/areas", payload, content_type=JSON, headers={"X-CSRFToken": token})
    assert response.status_code == 201, response.content


def test_bearer_writes_need_no_csrf_token(tree, system_admin, token_for):
    client = Client(enforce_csrf_checks=True)
    payload = {"code": "120103004003", "name": "新社区", "level": "community", "parent_id": tree.street_a.pk}
    response = client.post(
        "/api/v1/areas", payload, content_type=JSON, headers=bearer(token_for(system_admin))
    )
    assert response.status_code == 201, response.content


def test_session_reads_need_no_csrf_token(street_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(street_a)
    assert client.get("/api/v1/areas").status_code == 200


# --- pagination and scoping of /api/v1/areas --------------------------------------------------------


def test_pagination_shape(tree, district_admin):
    client = api_client_for(district_admin)
    body = client.get("/api/v1/areas?page=1&page_size=4").json()
    assert set(body) == {"items", "count", "count_capped", "page", "page_size"} and not body["count_capped"]
    assert (body["count"], body["page"], body["page_size"], len(body["items"])) == (9, 1, 4, 4)
    codes = [a["code"] for a in body["items"]]
    last = client.get("/api/v1/areas?page=3&page_size=4").json()
    assert len(last["items"]) == 1
    everything = client.get("/api/v1/areas").json()
    assert everything["page_size"] == 50
    assert [a["code"] for a in everything["items"]][:4] == codes
    assert client.get("/api/v1/areas?page=99").json()["items"] == []
    assert client.get("/api/v1/areas?page_size=200").json()["page_size"] == 200
    # out-of-range paging is refused with the error body, never a failing query
    for query in ("page_size=100000", "page_size=0", "page=0", "page=99999999999999999999"):
        assert_error(client.get(f"/api/v1/areas?{query}"), 422, "invalid_input")


def test_a_list_counts_up_to_the_cap_and_says_more_match(tree, district_admin, monkeypatch):
    from pingan.core.pagination import CappedPaginator

    client = api_client_for(district_admin)
    monkeypatch.setattr(CappedPaginator, "CAP", 5)
    body = client.get("/api/v1/areas?page=2&page_size=4").json()
    assert (body["count"], body["count_capped"], len(body["items"])) == (5, True, 4)  # pages go on past it
    monkeypatch.setattr(CappedPaginator, "CAP", 9)
    body = client.get("/api/v1/areas").json()
    assert (body["count"], body["count_capped"]) == (9, False)


def test_area_items_shape(tree, district_admin):
    item = api_client_for(district_admin).get("/api/v1/areas?level=district").json()["items"][0]
    assert item == {
        "id": tree.district.pk,
        "code": "120103",
        "name": "河西区",
        "level": "district",
        "parent_id": None,
        "population": None,
        "households": None,
        "active": True,
    }


def test_list_grids_of_a_parent(tree, street_a, community_b1):
    url = f"/api/v1/areas?level=grid&parent={tree.a1.pk}"
    body = api_client_for(street_a).get(url).json()
    assert {a["code"] for a in body["items"]} == {tree.a1_1.code, tree.a1_2.code}
    assert body["count"] == 2
    # B1 never sees A1's ids, whatever it asks for.
    b1 = api_client_for(community_b1)
    assert b1.get(url).json() == {"items": [], "count": 0, "count_capped": False, "page": 1, "page_size": 50}
    seen = {a["id"] for a in b1.get("/api/v1/areas?page_size=200").json()["items"]}
    assert seen == {tree.b1.pk, tree.b1_1.pk}
    assert {a["id"] for a in b1.get("/api/v1/areas?q=滦水").json()["items"]} == set()


def test_area_detail_in_and_out_of_scope(tree, community_b1):
    client = api_client_for(community_b1)
    body = client.get(f"/api/v1/areas/{tree.b1_1.pk}").json()
    assert body["path"] == ["河西区", "东海街", "粤江里社区", "粤江里第1网格"]
    assert body["boundary"] is None
    assert_error(client.get(f"/api/v1/areas/{tree.a1.pk}"), 404, "not_found")
    assert_error(client.get("/api/v1/areas/999999999"), 404, "not_found")


def test_area_filter_validation(tree, district_admin):
    client = api_client_for(district_admin)
    error = assert_error(client.get("/api/v1/areas?level=village"), 422, "invalid_input")
    assert error["details"][0]["field"] == "level"
    assert_error(client.get("/api/v1/areas?parent=abc"), 422)
    assert_error(client.get("/api/v1/areas/abc"), 422)


def test_departments_api_scoping(tree, community_b1, street_a):
    assert api_client_for(community_b1).get("/api/v1/departments").json()["count"] == 0
    body = api_client_for(street_a).get("/api/v1/departments").json()
    assert {d["code"] for d in body["items"]} == {"hx-law", "gjs-judicial"}
    law = next(d for d in body["items"] if d["code"] == "hx-law")
    assert law["serves"] == [tree.street_a.pk]
    assert_error(api_client_for(community_b1).get(f"/api/v1/departments/{tree.law_enforcement.pk}"), 404)


def test_codes_api(street_a):
    client = api_client_for(street_a)
    assert "ethnic_group" in {t["key"] for t in client.get("/api/v1/codes").json()}
    items = client.get("/api/v1/codes/ethnic_group").json()
    assert len(items) == 58
    assert items[0] == {"code": "01", "label": "汉族", "label_en": "Han", "parent_code": ""}
    assert_error(client.get("/api/v1/codes/no_such_table"), 404)


# --- writes through the API -------------------------------------------------------------------------


def new_community(tree) -> dict:
    return {
        "code": "120103004003",
        "name": "大沽南路社区",
        "level": "community",
        "parent_id": tree.street_a.pk,
        "population": 3000,
    }


@pytest.mark.parametrize("name", ["district_admin", "street_a", "community_a1", "auditor", "security_admin"])
def test_create_area_as_non_sysadmin_looks_missing(tree, persona, name):
    response = api_client_for(persona(name)).post("/api/v1/areas", new_community(tree), content_type=JSON)
    assert_error(response, 404, "not_found")
    assert not Area.objects.filter(code="120103004003").exists()


def test_create_area_as_sysadmin(tree, system_admin):
    response = api_client_for(system_admin).post("/api/v1/areas", new_community(tree), content_type=JSON)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"] == "120103004003"
    assert body["parent_id"] == tree.street_a.pk
    assert body["path"] == ["河西区", "挂甲寺街", "大沽南路社区"]
    assert AuditEvent.objects.filter(action="area.create", object_id=str(body["id"])).count() == 1


@pytest.mark.parametrize(
    "change",
    [{"code": "12010300400x"}, {"level": "village"}, {"name": ""}, {"population": -1}, {"code": None}],
)
def test_create_area_invalid_payload(tree, system_admin, change):
    payload = new_community(tree) | change
    response = api_client_for(system_admin).post("/api/v1/areas", payload, content_type=JSON)
    error = assert_error(response, 422)
    assert error["details"]


def test_create_area_rejected_by_the_service(tree, system_admin):
    payload = new_community(tree) | {"code": "120103012003"}  # outside the parent
    error = assert_error(
        api_client_for(system_admin).post("/api/v1/areas", payload, content_type=JSON), 422, "invalid"
    )
    assert error["details"][0]["field"] == "code"


def test_update_area(tree, system_admin, district_admin):
    url = f"/api/v1/areas/{tree.a2.pk}"
    response = api_client_for(system_admin).patch(url, {"name": "庆建南里"}, content_type=JSON)
    assert response.status_code == 200
    assert response.json()["name"] == "庆建南里"
    assert_error(api_client_for(district_admin).patch(url, {"name": "x"}, content_type=JSON), 404)
    assert_error(api_client_for(system_admin).patch(url, {"population": -5}, content_type=JSON), 422)


def test_a_bug_answers_the_error_body_and_is_logged(district_admin, token_for, monkeypatch, caplog):
    from pingan.accounts import api

    def broken(user):
        raise RuntimeError("secret internals: id_number=110101199003071234")

    monkeypatch.setattr(api, "user_scope", broken)
    with caplog.at_level("ERROR", logger="django.request"):
        response = Client(raise_request_exception=False).get(
            "/api/v1/auth/me", headers=bearer(token_for(district_admin))
        )
    assert response.status_code == 500 and response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "error": {"code": "server_error", "message": "服务器内部错误，已记录，请稍后重试", "details": []}
    }
    assert "110101199003071234" not in response.content.decode()
    assert any(r.exc_info and "secret internals" in str(r.exc_info[1]) for r in caplog.records)
