from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from python_calamine import CalamineWorkbook

from pingan.audit.models import AuditEvent
from pingan.people.exports import person_export
from pingan.people.selectors import PersonFilter
from pingan.people.services import house_create, household_create, person_register
from tests.people.conftest import make_id


@pytest.fixture
def resident(tree, community_a1, person_data):
    house = house_create(actor=community_a1, area=tree.a1_1, data={"compound": "测试小区", "room": "101"})
    person, _ = person_register(
        actor=community_a1,
        area=tree.a1_1,
        house=house,
        data=person_data(name='=HYPERLINK("x")', remarks="+cmd|' /C calc'!A0"),
    )
    household_create(actor=community_a1, area=tree.a1_1, number="H1", householder=person, house=house)
    return person


def cells(data: bytes) -> list[list[object]]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def test_export_masks_defuses_and_audits(resident, community_a1):
    rows = cells(person_export(actor=community_a1, filters=PersonFilter()))
    assert "community_a1" in str(rows[1][0]) or community_a1.username in str(rows[1][0])
    row = rows[3]
    assert row[3] == make_id()[:6] + "********" + make_id()[-4:]
    assert row[5] == "138****5678"
    assert str(row[0]).startswith("=") is False
    assert str(row[16]).startswith("'+")
    assert AuditEvent.objects.filter(action="person.export").count() == 1


def test_export_reveal_needs_reason_and_role(resident, community_a1, leader):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        person_export(actor=community_a1, filters=PersonFilter(), reveal=True, reason="")
    rows = cells(
        person_export(actor=community_a1, filters=PersonFilter(), reveal=True, reason="入户走访核对")
    )
    assert rows[3][3] == make_id() and isinstance(rows[3][3], str)
    with pytest.raises(PermissionDenied):
        person_export(actor=leader, filters=PersonFilter())


def test_export_scoped(resident, community_b1):
    rows = cells(person_export(actor=community_b1, filters=PersonFilter()))
    assert len(rows) == 3  # title, note, header: nothing of A1


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_render(resident, community_a1):
    client = login(community_a1)
    from pingan.people.models import Household

    hh = Household.objects.get()
    for url in (
        "/people/",
        "/people/?q=ceshi",
        f"/people/{resident.pk}/",
        f"/people/{resident.pk}/edit/",
        "/people/new/",
        "/people/houses/",
        f"/people/houses/{resident.current_house_id}/",
        f"/people/households/{hh.pk}/",
        "/people/import/",
        "/people/houses/new/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert client.get("/people/import/template/")["Content-Type"].startswith("application/vnd.openxml")
    assert AuditEvent.objects.filter(action="access.view", object_id=str(resident.pk)).exists()


def test_other_community_gets_404(resident, community_b1):
    client = login(community_b1)
    assert client.get(f"/people/{resident.pk}/").status_code == 404
    assert client.get(f"/people/houses/{resident.current_house_id}/").status_code == 404
    assert "测试" not in client.get("/people/?status=all").content.decode()


def test_register_form_chinese_errors(tree, community_a1):
    client = login(community_a1)
    response = client.post(
        "/people/new/", {"name": "测试王五", "id_number": "120103199001011230", "area": tree.a1_1.pk}
    )
    assert response.status_code == 200
    assert "校验位" in response.content.decode()
    response = client.post(
        "/people/new/",
        {"name": "测试王五", "id_number": make_id(seq=77), "area": tree.a1_1.pk, "phone": "13812345678"},
    )
    assert response.status_code == 302


def test_registering_a_known_number_opens_no_overwrite(resident, tree, community_a1):
    """登记 with the ID number of someone already in the user's care is refused with the record's number:
    an almost empty form would otherwise overwrite the record (phone, address, grid) through the upsert."""
    from pingan.people.models import Person

    before = Person.objects.get(pk=resident.pk)
    response = login(community_a1).post(
        "/people/new/", {"name": before.name, "id_number": before.id_number, "area": tree.a1_2.pk}
    )
    assert response.status_code == 200
    assert f"已有档案（档案号 #{resident.pk}）" in response.content.decode()
    after = Person.objects.get(pk=resident.pk)
    assert (after.phone, after.current_address, after.area_id) == (
        before.phone,
        before.current_address,
        before.area_id,
    )


def test_import_wizard(tree, community_a1):
    from tests.people.test_import import good, xlsx

    client = login(community_a1)
    upload = io.BytesIO(xlsx([good(1), good(2, name="")]))
    upload.name = "roster.xlsx"
    response = client.post("/people/import/", {"step": "preview", "file": upload})
    assert response.status_code == 200 and "拒绝 1" in response.content.decode()
    # the preview's error report gives the rejected row back in the file's own columns
    from pingan.core.excel import read_table

    report = client.get("/people/import/errors/")
    assert report.status_code == 200
    table = read_table(report.content, "r.xlsx", expected={"r": ("行号",), "c": ("原因",)})
    assert table.header[:4] == ["行号", "列", "原因", "姓名"]
    assert table.rows[0][0] == 4 and table.rows[0][5] == good(2)[2]  # its ID number, as in the file
    token = response.context["upload_token"]
    response = client.post("/people/import/", {"step": "commit", "upload": token})
    assert "新增 1" in response.content.decode()


def test_import_commits_the_file_previewed_on_its_page(tree, community_a1):
    """A preview in a second window replaces the stored file: 确认导入 on the first page is refused (the
    file shown there is not written in place of the other), the second page's commits its own file."""
    from pingan.people.models import Person
    from tests.people.test_import import good, xlsx

    client = login(community_a1)

    def preview(*rows):
        upload = io.BytesIO(xlsx(list(rows)))
        upload.name = "roster.xlsx"
        return client.post("/people/import/", {"step": "preview", "file": upload}).context["upload_token"]

    first = preview(good(1))
    second = preview(good(2), good(3))
    before = Person.objects.count()
    stale = client.post("/people/import/", {"step": "commit", "upload": first})
    assert "预览已失效" in stale.content.decode() and Person.objects.count() == before
    assert "这个字段是必填项" not in stale.content.decode()
    done = client.post("/people/import/", {"step": "commit", "upload": second})
    assert "新增 2" in done.content.decode() and Person.objects.count() == before + 2
    again = client.post("/people/import/", {"step": "commit", "upload": second})
    assert "预览已失效" in again.content.decode() and Person.objects.count() == before + 2


def test_actions_answer_404_outside_scope(resident, community_b1, dept_handler):
    for user in (community_b1,):
        client = login(user)
        for suffix in ("move-out/", "merge/", "edit/"):
            assert client.get(f"/people/{resident.pk}/{suffix}").status_code == 404, suffix
            assert client.post(f"/people/{resident.pk}/{suffix}", {"merge_id": "1"}).status_code == 404, (
                suffix
            )
    assert login(dept_handler).get(f"/people/{resident.pk}/move-out/").status_code == 403


def test_the_list_shows_a_typed_address_masked(tree, community_a1, person_data):
    """现住址 in the list: the house's address when one is linked, else the address typed in or imported,
    masked as on the person page."""
    from pingan.core.masking import mask_address

    person_register(
        actor=community_a1, area=tree.a1_1, data=person_data(seq=31, current_address="滦水道18号3单元502室")
    )
    html = login(community_a1).get("/people/").content.decode()
    assert mask_address("滦水道18号3单元502室") in html and "滦水道18号3单元502室" not in html


def test_a_house_is_edited_on_its_page(tree, community_a1, community_b1, leader):
    """编辑 on the house page: the grid stays, another house's address is refused in Chinese (the database's
    constraint was a server error through the API), B1 gets 404, a leader 403."""
    from pingan.people.models import House

    house = house_create(actor=community_a1, area=tree.a1_1, data={"compound": "测试小区", "room": "101"})
    house_create(actor=community_a1, area=tree.a1_1, data={"compound": "测试小区", "room": "102"})
    client = login(community_a1)
    page = client.get(f"/people/houses/{house.pk}/edit/")
    assert page.status_code == 200 and "编辑房屋" in page.content.decode()
    form = {"compound": "测试小区", "room": "102室", "area": tree.a1_2.pk, "use": "residential"}
    refused = client.post(f"/people/houses/{house.pk}/edit/", form)
    assert refused.status_code == 200 and "该地址的房屋已登记" in refused.content.decode()
    saved = client.post(f"/people/houses/{house.pk}/edit/", {**form, "room": "103室", "floor_area": "56.5"})
    assert saved.status_code == 302
    house = House.objects.get(pk=house.pk)
    assert (house.room, str(house.floor_area), house.area_id) == ("103", "56.50", tree.a1_1.pk)
    assert login(community_b1).get(f"/people/houses/{house.pk}/edit/").status_code == 404
    assert login(leader).get(f"/people/houses/{house.pk}/edit/").status_code == 403
