"""The server-rendered pages, as each persona."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from pingan.areas.models import Area, Department
from pingan.audit.models import AuditEvent
from pingan.core.excel import read_table
from tests.conftest import PERSONAS, Tree
from tests.factories import PASSWORD, api_client_for, totp_now

pytestmark = pytest.mark.django_db

# persona → (an area id attribute inside the scope, one outside it); None where there is none.
SCOPE_PROBES: dict[str, tuple[str | None, str | None]] = {
    "district_admin": ("b1_1", None),
    "leader": ("district", None),
    "street_a": ("a1", "b1"),
    "community_a1": ("a1_1", "b1"),
    "community_b1": ("b1", "a1"),
    "grid_a1": ("a1_1", "a1"),
    "dept_handler": ("a2", "b1"),
    "auditor": (None, "district"),
    "system_admin": ("b1", None),
    "security_admin": (None, "district"),
}
SEES_A1 = {"district_admin", "leader", "street_a", "community_a1", "dept_handler", "system_admin"}


def assert_no_store(response) -> None:
    assert "no-store" in response["Cache-Control"]


def lang_of(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "no lang attribute"
    return match.group(1)


@pytest.mark.parametrize("name", PERSONAS)
def test_pages_per_persona(tree: Tree, persona, name):
    user = persona(name)
    client = api_client_for(user)

    for url in (
        "/",
        "/areas/",
        "/areas/departments/",
        "/codes/",
        "/codes/?table=ethnic_group",
        "/search/?q=滦水",
        "/search/",
        "/api/v1/docs",
        "/api/v1/openapi.json",
    ):
        response = client.get(url)
        assert response.status_code == 200, (name, url, response.status_code)
        assert_no_store(response)

    inside, outside = SCOPE_PROBES[name]
    if inside:
        area = getattr(tree, inside)
        response = client.get(f"/areas/{area.pk}/")
        assert response.status_code == 200
        assert area.name in response.content.decode()
    if outside:
        response = client.get(f"/areas/{getattr(tree, outside).pk}/")
        assert response.status_code == 404
        assert_no_store(response)

    search = client.get("/search/?q=滦水").content.decode()
    assert ("滦水里社区" in search) == (name in SEES_A1)


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("system_admin", 200),
        ("district_admin", 200),
        ("street_a", 200),
        ("community_b1", 200),
        ("auditor", 403),
        ("security_admin", 403),
    ],
)
def test_user_list_page(tree, persona, name, status):
    response = api_client_for(persona(name)).get("/accounts/users/")
    assert response.status_code in ((403, 404) if status == 403 else (status,))


def test_user_list_of_community_b1_hides_a1_users(tree, community_b1, community_a1):
    content = api_client_for(community_b1).get("/accounts/users/").content.decode()
    assert "community_b1" in content
    assert "community_a1" not in content


def test_area_tree_page_lists_only_the_scope(tree, community_b1):
    response = api_client_for(community_b1).get("/areas/")
    assert {a.code for a in response.context["areas"]} == {tree.b1.code, tree.b1_1.code}
    assert "滦水里" not in response.content.decode()


def test_area_tree_filters(tree, district_admin):
    client = api_client_for(district_admin)
    assert {a.level for a in client.get("/areas/?level=grid").context["areas"]} == {"grid"}
    assert len(client.get("/areas/?level=nonsense").context["areas"]) == len(tree.areas)
    assert [a.code for a in client.get("/areas/?q=粤江").context["areas"]] == [tree.b1.code, tree.b1_1.code]


def test_area_options_fragment_is_scoped(tree, street_a, community_b1):
    assert (
        "滦水里第1网格"
        in api_client_for(street_a).get(f"/areas/options/?parent={tree.a1.pk}").content.decode()
    )
    assert (
        "滦水里"
        not in api_client_for(community_b1).get(f"/areas/options/?parent={tree.a1.pk}").content.decode()
    )
    assert api_client_for(street_a).get("/areas/options/?parent=abc").status_code == 200


def test_department_page_is_scoped(tree, community_b1, street_a):
    assert "综合执法局" in api_client_for(street_a).get("/areas/departments/").content.decode()
    assert "综合执法局" not in api_client_for(community_b1).get("/areas/departments/").content.decode()


def test_home_page_shows_real_counts_for_the_district(tree, district_admin):
    response = api_client_for(district_admin).get("/")
    figures = {str(f.label): f.value for f in response.context["figures"]}
    assert figures["街道"] == 2
    assert figures["社区"] == 3
    assert figures["网格"] == 3
    assert figures["登记人口（社区合计）"] == 5200 + 4100 + 3900
    assert figures["职能部门"] == 2
    assert figures["在岗用户"] == 1
    assert response.context["overview"] == [
        {"name": "挂甲寺街", "communities": 2, "grids": 2},
        {"name": "东海街", "communities": 1, "grids": 1},
    ]
    content = response.content.decode()
    assert "13,200" in content or "13200" in content


def test_home_page_counts_follow_the_scope(tree, community_b1):
    figures = {str(f.label): f.value for f in api_client_for(community_b1).get("/").context["figures"]}
    assert (figures["街道"], figures["社区"], figures["网格"], figures["职能部门"]) == (0, 1, 1, 0)
    assert figures["登记人口（社区合计）"] == 3900


def test_home_page_for_an_administrator_shows_no_business_figures(tree, auditor):
    response = api_client_for(auditor).get("/")
    labels = {str(f.label) for f in response.context["figures"]}
    assert not labels & {"街道", "社区", "网格", "登记人口（社区合计）", "职能部门", "在岗用户"}
    assert response.context["overview"] == []


def test_anonymous_pages_redirect_to_login(db):
    for url in ("/", "/areas/", "/codes/", "/search/?q=x", "/accounts/users/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", ["/api/v1/docs", "/api/v1/openapi.json"])
def test_api_docs_need_a_user(db, url, street_a, token_for):
    response = Client().get(url)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert Client().get(url, headers={"Authorization": f"Bearer {token_for(street_a)}"}).status_code == 200


def test_openapi_lists_the_operations(street_a):
    schema = api_client_for(street_a).get("/api/v1/openapi.json").json()
    assert {"/api/v1/areas", "/api/v1/auth/token", "/api/v1/codes/{key}"} <= set(schema["paths"])


def test_login_and_logout(street_a):
    client = Client()
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    wrong = client.post("/accounts/login/", {"username": "street_a", "password": "nope"})
    assert wrong.status_code == 200
    assert "用户名、密码或验证码不正确" in wrong.content.decode()  # one generic message (accounts.security)
    response = client.post("/accounts/login/?next=/areas/", {"username": "street_a", "password": PASSWORD})
    assert response.status_code == 302  # street staff may reveal personal data: the second factor follows
    assert response["Location"] == "/accounts/login/verify/"
    response = client.post("/accounts/login/verify/", {"code": totp_now(street_a)})
    assert response["Location"] == "/areas/"
    assert client.get("/areas/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/areas/").status_code == 302


def test_health_is_public(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_switch_language(tree, street_a):
    client = api_client_for(street_a)
    assert lang_of(client.get("/")) == "zh-hans"
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/areas/"})
    assert response.status_code == 302
    assert response["Location"] == "/areas/"
    page = client.get("/areas/")
    assert lang_of(page) == "en"
    mo = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES" / "django.mo"
    if mo.exists():
        with translation.override("en"):
            english = translation.gettext("辖区网格")
        if english != "辖区网格":
            assert english in page.content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert lang_of(client.get("/")) == "zh-hans"


def test_switch_language_anonymously(db):
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert lang_of(client.get("/accounts/login/")) == "en"


# --- management pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["district_admin", "street_a", "auditor", "security_admin"])
def test_management_pages_need_the_system_admin(tree, persona, name):
    client = api_client_for(persona(name))
    for url in (
        "/areas/new/",
        "/areas/import/",
        f"/areas/{tree.a1.pk}/edit/",
        "/areas/departments/new/",
        f"/areas/departments/{tree.judicial_a.pk}/",
        "/accounts/users/new/",
    ):
        assert client.get(url).status_code in (403, 404), url


def test_area_create_page(tree, system_admin):
    client = api_client_for(system_admin)
    form = client.get(f"/areas/new/?parent={tree.street_a.pk}")
    assert form.status_code == 200
    assert form.context["form"].initial["level"] == "community"
    response = client.post(
        "/areas/new/",
        {"parent": tree.street_a.pk, "level": "community", "code": "120103004003", "name": "大沽南路社区"},
    )
    created = Area.objects.get(code="120103004003")
    assert response.status_code == 302
    assert response["Location"] == f"/areas/{created.pk}/"
    bad = client.post(
        "/areas/new/",
        {"parent": tree.street_a.pk, "level": "community", "code": "120103012009", "name": "错社区"},
    )
    assert bad.status_code == 200
    assert "code" in bad.context["form"].errors


def test_area_edit_page(tree, system_admin):
    client = api_client_for(system_admin)
    assert client.get(f"/areas/{tree.a2.pk}/edit/").status_code == 200
    response = client.post(
        f"/areas/{tree.a2.pk}/edit/",
        {"code": tree.a2.code, "name": "庆建南里", "population": "4300", "active": "on"},
    )
    assert response.status_code == 302
    tree.a2.refresh_from_db()
    assert (tree.a2.name, tree.a2.population) == ("庆建南里", 4300)


def test_department_create_page(tree, system_admin):
    client = api_client_for(system_admin)
    response = client.post(
        "/areas/departments/new/",
        {
            "code": "hx-police",
            "name": "河西公安分局",
            "kind": "police",
            "area": tree.district.pk,
            "serves": [tree.street_a.pk, tree.street_b.pk],
            "active": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    assert set(Department.objects.get(code="hx-police").serves.all()) == {tree.street_a, tree.street_b}


def test_user_create_page(tree, system_admin):
    client = api_client_for(system_admin)
    response = client.post(
        "/accounts/users/new/",
        {
            "username": "grid_b1",
            "full_name": "网格员乙",
            "role": "grid_worker",
            "is_active": "on",
            "areas": [tree.b1_1.pk],
            "password": "Yuejiang-2024!",
        },
    )
    assert response.status_code == 302
    assert Client().login(username="grid_b1", password="Yuejiang-2024!")


# --- the area import page: upload → preview → commit -----------------------------------------------


IMPORT_CSV = (
    "河西区辖区导入表\n"
    "名称,区划代码,人口数,备注\n"
    "天塔第1网格,120103005001001,,\n"
    "气象南里社区,120103005001,3500,新建\n"
    "天塔街,120103005,,\n"
    "坏网格,12010300500100,,\n"
)


def test_area_import_page_flow(tree, system_admin):
    client = api_client_for(system_admin)
    assert client.get("/areas/import/").status_code == 200
    areas, events = Area.objects.count(), AuditEvent.objects.count()

    upload = SimpleUploadedFile("辖区.csv", IMPORT_CSV.encode("gbk"), content_type="text/csv")
    preview = client.post("/areas/import/", {"step": "preview", "file": upload})
    assert preview.status_code == 200
    result = preview.context["result"]
    assert (result.read, result.created, result.rejected) == (4, 3, 1)
    assert result.unknown_columns == ["备注"]
    assert preview.context["committed"] is False
    content = preview.content.decode()
    assert "新增 3" in content
    assert "备注" in content
    assert Area.objects.count() == areas  # the preview writes nothing
    assert AuditEvent.objects.count() == events
    # the shared wizard's error report: the rejected row in the file's own columns
    report = client.get("/areas/import/errors/")
    table = read_table(report.content, "r.xlsx", expected={"r": ("行号",), "c": ("原因",)})
    assert table.header[:3] == ["行号", "列", "原因"] and "备注" in table.header
    assert len(table.rows) == 1

    token = preview.context["upload_token"]
    assert f'name="upload" value="{token}"' in content
    commit = client.post("/areas/import/", {"step": "commit", "upload": token})
    assert commit.status_code == 200
    assert commit.context["committed"] is True
    assert commit.context["result"].created == 3
    assert Area.objects.count() == areas + 3
    assert Area.objects.get(code="120103005001").population == 3500
    assert AuditEvent.objects.filter(action="area.import").count() == 1
    assert "area_import" not in client.session

    # A second commit without a new upload does nothing.
    again = client.post("/areas/import/", {"step": "commit", "upload": token})
    assert again.status_code == 200 and "预览已失效" in again.content.decode()
    assert Area.objects.count() == areas + 3


def test_area_import_page_rejects_bad_files(tree, system_admin):
    client = api_client_for(system_admin)
    response = client.post("/areas/import/", {"file": SimpleUploadedFile("notes.txt", b"hello")})
    assert response.status_code == 200
    assert response.context["form"].errors
    response = client.post("/areas/import/", {"file": SimpleUploadedFile("a.csv", "甲,乙\n1,2\n".encode())})
    assert response.context["form"].errors["file"]
    assert "area_import" not in client.session
