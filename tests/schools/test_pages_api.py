"""The school registry's pages and API: who sees what, 404 outside the scope, Chinese errors, figures."""

from __future__ import annotations

import pytest

from pingan.schools.models import School
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db


def test_pages_for_community_staff(tree, community_a1, schools):
    client = api_client_for(community_a1)
    listing = client.get("/schools/")
    body = listing.content.decode()
    assert listing.status_code == 200 and "甲一小学" in body and "乙一幼儿园" not in body
    assert "4 个 100%" in body and "登记学校" in body
    assert client.get("/schools/", {"missing": "any"}).content.decode().count("甲一小学") == 0
    detail = client.get(f"/schools/{schools['a'].pk}/")
    assert detail.status_code == 200 and "已落实" in detail.content.decode()
    assert client.get(f"/schools/{schools['b'].pk}/").status_code == 404
    assert client.get(f"/schools/{schools['b'].pk}/edit/").status_code == 404
    assert client.get("/schools/new/").status_code == 200


def test_form_saves_and_shows_chinese_errors(tree, community_a1):
    client = api_client_for(community_a1)
    bad = client.post(
        "/schools/new/",
        {
            "name": "甲小学",
            "kind": "primary",
            "ownership": "public",
            "area": tree.a1_1.pk,
            "address": "路",
            "code": "12",
        },
    )
    assert bad.status_code == 200 and "学校标识码应为 10 位数字" in bad.content.decode()
    ok = client.post(
        "/schools/new/",
        {
            "name": "甲小学",
            "kind": "primary",
            "ownership": "public",
            "area": tree.a1_1.pk,
            "address": "路",
            "guards": "3",
            "guard_post": "on",
            "active": "on",
        },
    )
    school = School.objects.get(name="甲小学")
    assert ok.status_code == 302 and (school.guards, school.guard_post, school.active) == (3, True, True)
    edit = client.post(
        f"/schools/{school.pk}/edit/",
        {"name": "甲小学", "kind": "primary", "ownership": "public", "area": tree.a1_1.pk, "address": "新路"},
    )
    school.refresh_from_db()
    assert edit.status_code == 302 and (school.address, school.guard_post, school.active) == (
        "新路",
        False,
        False,
    )


def test_roles_without_the_registry_are_refused(dept_handler, leader, schools):
    assert api_client_for(dept_handler).get("/schools/").status_code == 403
    client = api_client_for(leader)
    assert client.get("/schools/").status_code == 200
    assert client.get("/schools/new/").status_code == 403
    assert client.get("/schools/export/").status_code == 403


def test_api_list_detail_create_patch(tree, community_a1, schools):
    client = api_client_for(community_a1)
    page = client.get("/api/v1/schools").json()
    assert page["count"] == 1 and page["items"][0]["name"] == "甲一小学" and page["items"][0]["meets_all"]
    assert client.get(f"/api/v1/schools/{schools['b'].pk}").status_code == 404
    created = client.post(
        "/api/v1/schools",
        {"area_id": tree.a1_2.pk, "name": "甲二小学", "kind": "小学", "address": "甲路 2 号"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    foreign = client.post(
        "/api/v1/schools",
        {"area_id": tree.b1_1.pk, "name": "x", "kind": "primary", "address": "y"},
        content_type="application/json",
    )
    assert foreign.status_code == 404
    invalid = client.post(
        "/api/v1/schools",
        {"area_id": tree.a1_2.pk, "name": "甲三小学", "kind": "college", "address": "y"},
        content_type="application/json",
    )
    assert invalid.status_code == 422 and "学校类别" in str(invalid.json())
    school_id = created.json()["id"]
    patched = client.patch(
        f"/api/v1/schools/{school_id}",
        {"guard_post": True, "students": None},
        content_type="application/json",
    )
    assert patched.status_code == 200 and patched.json()["guard_post"] is True
    figures = client.get("/api/v1/schools/figures").json()
    assert figures["total"]["schools"] == 2 and figures["by"] == "community"


def test_api_input_errors_are_in_chinese_and_a_street_is_refused_with_a_reason(tree, district_admin):
    client = api_client_for(district_admin)
    bad = client.post(
        "/api/v1/schools",
        {"name": "甲小学", "kind": "primary", "address": "路", "guards": -3},
        content_type="application/json",
    )
    details = {d["field"]: d["message"] for d in bad.json()["error"]["details"]}
    assert bad.status_code == 422 and details == {"area_id": "必填", "guards": "不能小于 0"}
    street = client.post(
        "/api/v1/schools",
        {"area_id": tree.street_a.pk, "name": "甲小学", "kind": "primary", "address": "路"},
        content_type="application/json",
    )
    assert street.status_code == 422 and street.json()["error"]["message"] == "请选择学校所在的社区或网格"


def test_the_import_pages_are_translated(tree, community_a1, system_admin):
    """The wizards' titles and help are marked for translation where makemessages finds them (an aliased
    gettext_lazy had kept them out of the catalogue: the English page showed them in Chinese)."""
    from django.conf import settings

    client = api_client_for(community_a1)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Import the school registry" in client.get("/schools/import/").content.decode()
    admin = api_client_for(system_admin)
    admin.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = admin.get("/calendar/holidays/import/").content.decode()
    assert "导入节假日" not in page
