"""Reveal of sensitive values: permission by role and scope, reason, audit, page, API, output schemas."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.template import Context, Template
from django.test import RequestFactory
from ninja import Schema

from pingan.audit.models import AuditEvent, Outcome
from pingan.core.sensitive import (
    REVEAL_ROLES,
    Masked,
    RevealRateLimited,
    may_reveal,
    reveal_fields,
    sensitive_reveal,
)
from tests.factories import UserFactory, api_client_for
from tests.testapp.models import Citizen

ID = "120103199001011234"
REASON = "核实身份，办理居住证"


@pytest.fixture
def citizen(tree):
    return Citizen.objects.create(
        area=tree.a1, name="张三明", id_number=ID, phone="13812345678", address="河西区解放南路123号"
    )


@pytest.fixture
def citizen_b1(tree):
    return Citizen.objects.create(
        area=tree.b1, name="李四", id_number="120103198501012345", phone="13900001111"
    )


def reveal(user, obj, field="id_number", reason=REASON):
    return sensitive_reveal(
        actor=user, object_type="testapp.citizen", object_id=str(obj.pk), field=field, reason=reason
    )


def access_events(**filters):
    return AuditEvent.objects.filter(action="access.reveal", **filters)


def test_the_default_reveal_roles():
    assert {r.value for r in REVEAL_ROLES} == {
        "commander",
        "street_staff",
        "community_staff",
        "grid_worker",
        "police",
        "assistance_officer",
    }


@pytest.mark.parametrize("name", ["community_a1", "street_a", "grid_a1", "district_admin"])
def test_reveal_in_scope_is_audited(citizen, persona, name, tree):
    user = persona(name)
    if name == "grid_a1":  # a grid worker's scope is the grid
        Citizen.objects.filter(pk=citizen.pk).update(area=tree.a1_1)
    result = reveal(user, citizen)
    assert result.value == ID and result.masked == "120103********1234"
    event = access_events(outcome=Outcome.SUCCESS).get()
    assert event.actor_username == user.username and event.reason == REASON
    assert event.kind == "access"
    assert event.object_type == "testapp.citizen" and event.object_id == str(citizen.pk)
    assert event.changes == {"fields": ["id_number"]}
    assert ID not in str(event.changes) and ID not in event.object_repr and "张三明" not in event.object_repr


def test_reveal_needs_a_reason(citizen, community_a1):
    for reason in ("", "   ", "看看"):
        with pytest.raises(ValidationError) as info:
            reveal(community_a1, citizen, reason=reason)
        assert "reason" in info.value.message_dict
    assert not access_events().exists()


@pytest.mark.parametrize(
    "name", ["community_b1", "auditor", "system_admin", "security_admin", "leader", "dept_handler"]
)
def test_reveal_refused_answers_404_and_is_audited_as_denied(citizen, persona, name):
    user = persona(name)
    with pytest.raises(Http404):
        reveal(user, citizen)
    assert not access_events(outcome=Outcome.SUCCESS).exists()
    denied = access_events(outcome=Outcome.DENIED).get()
    assert denied.actor_username == user.username
    assert denied.changes["object_id"] == str(citizen.pk)


def test_unknown_types_fields_and_ids_look_like_missing(citizen, community_a1):
    for object_type, object_id, field in (
        ("testapp.note", citizen.pk, "body"),
        ("testapp.citizen", citizen.pk, "name_index"),
        ("testapp.citizen", "x", "id_number"),
        ("testapp.citizen", 999999, "id_number"),
        ("nonsense", 1, "a"),
    ):
        with pytest.raises(Http404):
            sensitive_reveal(
                actor=community_a1,
                object_type=object_type,
                object_id=str(object_id),
                field=field,
                reason=REASON,
            )


def test_reveal_is_rate_limited(citizen, community_a1, settings):
    settings.PINGAN_REVEAL_RATE = "3/600"
    from django.core.cache import cache

    cache.clear()
    for _ in range(3):
        reveal(community_a1, citizen)
    with pytest.raises(RevealRateLimited):
        reveal(community_a1, citizen)
    assert access_events(outcome=Outcome.DENIED, changes__refused="rate_limited").count() == 1
    cache.clear()


def test_may_reveal(citizen, citizen_b1, community_a1, leader, auditor):
    assert may_reveal(community_a1, citizen, "id_number")
    assert not may_reveal(community_a1, citizen, "area")  # not registered
    assert not may_reveal(community_a1, citizen_b1, "id_number")  # out of scope
    assert not may_reveal(leader, citizen, "id_number")
    assert not may_reveal(auditor, citizen, "id_number")
    assert not community_a1.has_perm("core.reveal_sensitive", citizen_b1)


# --- the page -------------------------------------------------------------------------------------


def render_tag(user, obj, field):
    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load masking %}{% sensitive obj field %}").render(
        Context({"request": request, "obj": obj, "field": field, "csrf_token": "tok"})
    )


def test_the_sensitive_tag_shows_the_mask_and_the_button_only_to_who_may_reveal(
    citizen, community_a1, leader
):
    html = render_tag(community_a1, citizen, "id_number")
    assert "120103********1234" in html and ID not in html
    assert 'hx-post="/sensitive/reveal/"' in html and 'name="reason"' in html and "显示" in html
    assert 'name="csrfmiddlewaretoken"' in html
    html = render_tag(leader, citizen, "id_number")
    assert "120103********1234" in html and "hx-post" not in html
    assert "138****5678" in render_tag(leader, citizen, "phone")
    assert "张*明" in render_tag(leader, citizen, "name")
    assert "河西区解放南路****" in render_tag(leader, citizen, "address")


def post_reveal(client, obj, field="id_number", reason=REASON, htmx=True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        "/sensitive/reveal/",
        {"object_type": "testapp.citizen", "object_id": obj.pk, "field": field, "reason": reason},
        headers=headers,
    )


def test_reveal_page_swaps_in_the_value(citizen, community_a1):
    client = api_client_for(community_a1)
    response = post_reveal(client, citizen)
    assert response.status_code == 200
    html = response.content.decode()
    assert ID in html and "data-sensitive-revealed" in html and 'data-masked="120103********1234"' in html
    assert "<html" not in html  # a fragment for htmx
    assert "no-store" in response["Cache-Control"]
    assert access_events(outcome=Outcome.SUCCESS, actor_username="community_a1").count() == 1
    # without JavaScript: a page
    page = post_reveal(client, citizen, field="phone", htmx=False)
    assert (
        page.status_code == 200
        and "<html" in page.content.decode()
        and "13812345678" in page.content.decode()
    )


def test_reveal_page_without_reason_shows_the_form_again(citizen, community_a1):
    response = post_reveal(api_client_for(community_a1), citizen, reason="")
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        ID not in html
        and "120103********1234" in html
        and "请填写查看原因" in html
        and "collapse show" in html
    )
    assert not access_events().exists()


def test_reveal_page_out_of_scope_is_404(citizen, community_b1, auditor):
    assert post_reveal(api_client_for(community_b1), citizen).status_code == 404
    assert post_reveal(api_client_for(community_b1), citizen, reason="").status_code == 404
    assert post_reveal(api_client_for(auditor), citizen).status_code == 404
    assert api_client_for(community_b1).get("/sensitive/reveal/").status_code == 405


def test_reveal_page_needs_csrf(citizen, community_a1):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(community_a1)
    assert post_reveal(client, citizen).status_code == 403
    assert not access_events(outcome=Outcome.SUCCESS).exists()


# --- the API --------------------------------------------------------------------------------------


def api_reveal(client, obj, field="id_number", reason=REASON, **headers):
    return client.post(
        "/api/v1/sensitive/reveal",
        {"object_type": "testapp.citizen", "object_id": str(obj.pk), "field": field, "reason": reason},
        content_type="application/json",
        headers=headers,
    )


def test_api_reveal(citizen, community_a1, community_b1, system_admin):
    response = api_reveal(api_client_for(community_a1), citizen, field="phone")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "object_type": "testapp.citizen",
        "object_id": str(citizen.pk),
        "field": "phone",
        "value": "13812345678",
        "masked": "138****5678",
    }
    assert "no-store" in response["Cache-Control"]
    assert api_reveal(api_client_for(community_b1), citizen).status_code == 404
    assert api_reveal(api_client_for(system_admin), citizen).status_code == 404
    short = api_reveal(api_client_for(community_a1), citizen, reason="看")
    assert short.status_code == 422 and short.json()["error"]["details"][0]["field"] == "reason"
    assert access_events(outcome=Outcome.SUCCESS).count() == 1


def test_api_reveal_with_a_bearer_token_is_not_cached(citizen, street_a, token_for):
    from django.test import Client

    from tests.factories import bearer

    response = Client().post(
        "/api/v1/sensitive/reveal",
        {
            "object_type": "testapp.citizen",
            "object_id": str(citizen.pk),
            "field": "id_number",
            "reason": REASON,
        },
        content_type="application/json",
        headers=bearer(token_for(street_a)),
    )
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]


class CitizenOut(Schema):
    id: int
    name: Masked("name")  # type: ignore[valid-type]
    id_number: Masked("id_number")  # type: ignore[valid-type]
    phone: Masked("phone")  # type: ignore[valid-type]


def test_output_schemas_mask_unless_revealed(citizen, community_a1, leader):
    out = CitizenOut.from_orm(citizen).model_dump()
    assert out == {
        "id": citizen.pk,
        "name": "张*明",
        "id_number": "120103********1234",
        "phone": "138****5678",
    }
    revealed = reveal_fields(actor=community_a1, obj=citizen, fields=["id_number"], reason=REASON)
    data = {
        "id": citizen.pk,
        "name": citizen.name,
        "id_number": citizen.id_number,
        "phone": citizen.phone,
        **revealed,
    }
    assert CitizenOut.model_validate(data).model_dump()["id_number"] == ID
    assert CitizenOut.model_validate(data).model_dump()["phone"] == "138****5678"
    assert access_events(outcome=Outcome.SUCCESS).count() == 1
    with pytest.raises(Http404):
        reveal_fields(actor=leader, obj=citizen, fields=["id_number"], reason=REASON)
    with pytest.raises(ValidationError):
        reveal_fields(actor=community_a1, obj=citizen, fields=["id_number"], reason="")
    assert reveal_fields(actor=community_a1, obj=citizen, fields=[], reason=None) == {}
    schema = CitizenOut.model_json_schema()
    assert schema["properties"]["id_number"]["type"] == "string"


# --- headers --------------------------------------------------------------------------------------


def test_signed_in_pages_and_api_answers_are_never_cached(tree, community_a1):
    for url in ("/", "/areas/", "/api/v1/areas", "/search/?q=%E5%BC%A0"):
        response = api_client_for(community_a1).get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"], url


def test_no_store_middleware_leaves_static_files_and_anonymous_answers_alone(rf, community_a1):
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse

    from pingan.core.middleware import NoStoreForAuthenticatedMiddleware

    middleware = NoStoreForAuthenticatedMiddleware(lambda request: HttpResponse("x"))
    request = rf.get("/static/pingan/js/pingan.js")
    request.user = community_a1
    assert "no-store" not in middleware(request).get("Cache-Control", "")
    request = rf.get("/healthz")
    request.user = AnonymousUser()
    assert "no-store" not in middleware(request).get("Cache-Control", "")
    request = rf.get("/")
    request.user = community_a1
    assert middleware(request)["Cache-Control"].startswith("no-store")


def test_a_new_user_of_a_reveal_role_may_reveal_in_their_own_scope_only(tree, citizen, citizen_b1):
    police = UserFactory(username="police_b1", role="police", areas=[tree.b1])
    assert reveal(police, citizen_b1).value == "120103198501012345"
    with pytest.raises(Http404):
        reveal(police, citizen)


def test_search_is_rate_limited_per_user(tree, community_a1, community_b1, settings):
    from django.core.cache import cache

    cache.clear()
    settings.PINGAN_SEARCH_RATE_PER_MINUTE = 3
    client = api_client_for(community_a1)
    for _ in range(3):
        assert client.get("/search/", {"q": ID}).status_code == 200
    refused = client.get("/search/", {"q": ID})
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert "操作过于频繁" in refused.content.decode()
    assert api_client_for(community_b1).get("/search/", {"q": ID}).status_code == 200  # per user
    cache.clear()
