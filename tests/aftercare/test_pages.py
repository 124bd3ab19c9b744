from __future__ import annotations

import datetime as dt

from django.test import Client

from pingan.aftercare.importers import template
from pingan.aftercare.models import AftercareCase, Aid, Visit
from pingan.core.navigation import nav_for
from tests.aftercare.conftest import make_id


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_render_for_assistance_officer(tree, officer_a1, register_case, today):
    case = register_case(officer_a1, seq=701, received_on=today)
    client = signed_in(officer_a1)
    page = client.get("/aftercare/")
    assert (
        page.status_code == 200
        and "测**释" in page.content.decode()
        and "测试刑释" not in page.content.decode()
    )
    for due in ("visit_due", "visit_overdue", "handover_overdue", "ending", "unresettled"):
        assert client.get(f"/aftercare/?due={due}").status_code == 200
    detail = client.get(f"/aftercare/{case.pk}/?tab=visits")
    html = detail.content.decode()
    assert detail.status_code == 200 and "登记走访" in html and "帮教小组" in html
    assert client.get(f"/aftercare/{case.pk}/edit/").status_code == 200
    assert client.get("/aftercare/new/").status_code == 200
    assert client.get("/aftercare/figures/?year=2025&part=H1").status_code == 200
    assert client.get("/aftercare/import/").status_code == 200
    assert client.get("/aftercare/import/template/").status_code == 200
    assert client.get("/aftercare/export/").status_code == 200
    assert client.get("/aftercare/figures/export/?year=2025&part=H2").status_code == 200
    person_page = client.get(f"/people/{case.person_id}/").content.decode()
    assert "查看帮教档案" in person_page


def test_register_visit_and_grant_through_forms(tree, officer_a1, today):
    client = signed_in(officer_a1)
    response = client.post(
        "/aftercare/new/",
        {
            "area": tree.a1_1.pk,
            "name": "测试表单",
            "id_number": make_id(711),
            "offence": "0502",
            "release_date": str(today - dt.timedelta(days=2)),
            "received_on": str(today),
        },
    )
    case = AftercareCase.objects.get()
    assert response.status_code == 302 and response.url == f"/aftercare/{case.pk}/"
    r = client.post(
        f"/aftercare/{case.pk}/visits/",
        {
            "visited_on": str(today),
            "visitors": "社区干部",
            "content": "了解生活情况",
            "next_visit_on": str(today + dt.timedelta(days=30)),
        },
    )
    assert r.status_code == 302 and Visit.objects.filter(case=case).count() == 1
    r = client.post(
        f"/aftercare/{case.pk}/aid/",
        {"kind": "hardship_grant", "amount": "2000", "approver": "司法所长", "disbursed_on": str(today)},
    )
    assert r.status_code == 302 and Aid.objects.get().amount == 2000
    bad = client.post(
        f"/aftercare/{case.pk}/aid/", {"kind": "hardship_grant", "disbursed_on": str(today)}, follow=True
    )
    assert "一次性困难救助金须填写金额" in bad.content.decode()


def test_form_errors_shown(tree, officer_a1, today):
    client = signed_in(officer_a1)
    response = client.post(
        "/aftercare/new/",
        {
            "area": tree.a1_1.pk,
            "name": "测试",
            "id_number": "123",
            "offence": "0502",
            "release_date": str(today),
        },
    )
    assert response.status_code == 200 and "身份证号" in response.content.decode()


def test_import_wizard(tree, assist_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from pingan.core.excel import Column, write_xlsx

    client = signed_in(assist_a)
    header = ["姓名", "公民身份号码", "罪名", "预计释放日期", "接收社区"]
    data = write_xlsx(
        columns=[Column(h, text=True) for h in header],
        rows=[
            ["测试导入", make_id(731), "盗窃罪", "2026-01-15", "滦水里社区"],
            ["测试坏行", "123", "盗窃罪", "2026-01-15", "滦水里社区"],
            ["示例张三", "120103199001011231", "盗窃罪", "2026-01-15", "滦水里社区"],  # the template's
        ],
    )
    preview = client.post(
        "/aftercare/import/", {"step": "preview", "file": SimpleUploadedFile("list.xlsx", data)}
    )
    html = preview.content.decode()
    assert preview.status_code == 200 and "预览结果" in html and "新增 1" in html and "拒绝 2" in html
    assert "导入模板中的示例行" in html
    assert not AftercareCase.objects.exists()
    # the error report gives each rejected row back once, in the file's columns
    from pingan.core.excel import read_table

    report = client.get("/aftercare/import/errors/")
    assert report.status_code == 200
    table = read_table(report.content, "r.xlsx", expected={"r": ("行号",), "c": ("原因",)})
    assert table.header == ["行号", "列", "原因", *header]
    assert [row[3] for row in table.rows] == ["测试坏行", "示例张三"]
    committed = client.post(
        "/aftercare/import/", {"step": "commit", "upload": preview.context["upload_token"]}
    )
    assert "导入结果" in committed.content.decode()
    assert AftercareCase.objects.get().handover.source == "list.xlsx"
    assert template()[:2] == b"PK"


def test_other_jurisdiction_and_roles(
    tree,
    officer_a1,
    officer_b1,
    leader,
    grid_a1,
    community_a1,
    street_a,
    police_a1,
    district_admin,
    register_case,
    today,
):
    case = register_case(officer_a1, seq=721, received_on=today)
    b = signed_in(officer_b1)
    assert b.get(f"/aftercare/{case.pk}/").status_code == 404
    assert (
        b.post(
            f"/aftercare/{case.pk}/visits/",
            {"visited_on": str(today), "visitors": "x", "content": "了解情况"},
        ).status_code
        == 404
    )
    assert Visit.objects.count() == 0
    # leaders: the case list and page (read-only: no write page, no write link), and the figures
    lead = signed_in(leader)
    assert lead.get("/aftercare/").status_code == 200
    page = lead.get(f"/aftercare/{case.pk}/")
    assert page.status_code == 200 and f"/aftercare/{case.pk}/edit/" not in page.content.decode()
    assert lead.get(f"/aftercare/{case.pk}/edit/").status_code == 404
    assert lead.get("/aftercare/new/").status_code == 404
    assert lead.get("/aftercare/import/").status_code == 404
    assert lead.get("/aftercare/figures/").status_code == 200
    labels = [i["label"] for s in nav_for(leader, "/") for i in s["items"]]
    assert "统计报表" in labels and "刑释人员" in labels and "预释放名单导入" not in labels
    # every other role: 404 on the case pages; the commander keeps the figures (aggregates only)
    for user in (community_a1, street_a, police_a1, district_admin, grid_a1):
        client = signed_in(user)
        for url in ("/aftercare/", f"/aftercare/{case.pk}/", "/aftercare/export/", "/aftercare/new/"):
            assert client.get(url).status_code == 404, (user.username, url)
        labels = [i["label"] for s in nav_for(user, "/") for i in s["items"]]
        assert "刑释人员" not in labels and "预释放名单导入" not in labels
        person_page = client.get(f"/people/{case.person_id}/").content.decode()  # no case tab, no link
        assert "查看帮教档案" not in person_page and f"/aftercare/{case.pk}/" not in person_page
    assert signed_in(district_admin).get("/aftercare/figures/").status_code == 200
    assert "统计报表" in [i["label"] for s in nav_for(district_admin, "/") for i in s["items"]]
    for user in (grid_a1, community_a1, street_a, police_a1):
        assert signed_in(user).get("/aftercare/figures/").status_code == 404
