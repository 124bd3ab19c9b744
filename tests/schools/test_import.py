"""Importing the school registry from Excel: header found below a title row, columns in any order, codes or
labels, the community or grid by name or code inside the importer's scope, rows repeated in the file,
empty cells that change nothing, idempotent re-import, all-or-nothing commit, the error report with the
original rows, and the export that imports back."""

from __future__ import annotations

import io

import pytest
import xlsxwriter

from pingan.audit.models import AuditEvent
from pingan.core.excel import read_table
from pingan.schools import services
from pingan.schools.models import School
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db

HEADER = ["地址", "学校名称", "学校类别", "所在社区/网格", "学校标识码", "专职保安人数", "护学岗", "备注"]


def xlsx(rows, title="学校台账（2026 年）", header=HEADER):
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet()
    if title:
        sheet.write_string(0, 0, title)  # a title line above the header: the reader finds the header
    for r, row in enumerate([header, *rows], start=1 if title else 0):
        for c, value in enumerate(row):
            if isinstance(value, (int, float)):
                sheet.write_number(r, c, value)
            elif value is not None:
                sheet.write_string(r, c, str(value))
    book.close()
    return buffer.getvalue()


def sheet_rows(data):
    """The header and rows of an xlsx this application wrote (title and note lines above the header)."""
    table = read_table(data, "out.xlsx")
    return table.header, table.rows


def run(actor, rows, *, dry_run=False):
    table = read_table(xlsx(rows), "schools.xlsx", services.IMPORT_COLUMNS)
    return services.school_import(actor=actor, table=table, dry_run=dry_run)


def test_import_creates_then_reimport_changes_nothing(tree, community_a1):
    rows = [
        ["甲路 1 号", "甲一小学", "小学", tree.a1_1.name, "1112000001", 2, "是", "x"],
        ["甲路 2 号", "甲一幼儿园", "kindergarten", tree.a1_2.code, None, None, "否", ""],
    ]
    preview = run(community_a1, rows, dry_run=True)
    assert (preview.read, preview.created, preview.rejected) == (2, 2, 0)
    assert preview.unknown_columns == ["备注"]
    assert not School.objects.exists()
    result = run(community_a1, rows)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    school = School.objects.get(code="1112000001")
    assert (school.area_id, school.guards, school.guard_post) == (tree.a1_1.pk, 2, True)
    again = run(community_a1, rows)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert AuditEvent.objects.filter(action="school.import").count() == 2


def test_empty_cells_leave_an_existing_school_as_it_is(tree, community_a1, schools):
    result = run(community_a1, [["", "甲一小学", "小学", tree.a1_1.code, "", "", "", ""]])
    assert (result.unchanged, result.rejected) == (1, 0)
    schools["a"].refresh_from_db()
    assert schools["a"].address == "甲路 1 号" and schools["a"].guard_post is True
    result = run(community_a1, [["", "甲一小学", "小学", tree.a1_1.code, "", 0, "否", ""]])
    schools["a"].refresh_from_db()
    assert result.updated == 1 and (schools["a"].guards, schools["a"].guard_post) == (0, False)


def test_each_rule_rejects_its_row_with_a_reason_and_the_rest_commit(tree, community_a1, schools):
    rows = [
        ["甲路 3 号", "甲三小学", "小学", tree.a1_1.name, "", "", "", ""],  # good
        ["乙路", "乙二小学", "小学", tree.b1_1.name, "", "", "", ""],  # not in scope
        ["甲路", "=HYPERLINK(1)", "大学", tree.a1_1.name, "123", "", "也许", ""],  # kind, code, yes/no
        ["甲路 3 号", "甲三小学", "小学", tree.a1_1.name, "", "", "", ""],  # repeated in the file
        ["", "甲四小学", "小学", tree.a1_1.name, "", "", "", ""],  # no address
    ]
    result = run(community_a1, rows)
    assert (result.read, result.created, result.rejected) == (5, 1, 4)
    reasons = {(e["row"], e["column"]): e["reason"] for e in result.errors}
    assert "不是您辖区内的社区或网格" in reasons[(4, "所在社区/网格")]
    assert "学校类别" in reasons[(5, "学校类别")]
    assert reasons[(5, "学校标识码")] == "学校标识码应为 10 位数字"
    assert "是" in reasons[(5, "护学岗")]
    assert "第 3 行" in reasons[(6, "学校名称")]
    assert reasons[(7, "地址")] == "请填写地址"
    assert set(School.objects.values_list("name", flat=True)) == {"甲一小学", "乙一幼儿园", "甲三小学"}
    # the error report gives the original rows back in the file's columns, defused
    header, lines = sheet_rows(_report(result))
    assert header[:3] == ["行号", "列", "原因"] and header[3:6] == HEADER[:3]
    bad = next(line for line in lines if line[0] == 5)
    assert "'=HYPERLINK(1)" in bad


def _report(result):
    from pingan.core.excel import import_error_report

    return import_error_report(result)


def test_missing_required_columns(tree, community_a1):
    data = xlsx([["甲小学", "甲路"]], title="", header=["学校名称", "地址"])
    table = read_table(data, "s.xlsx", services.IMPORT_COLUMNS)
    result = services.school_import(actor=community_a1, table=table)
    assert result.created == 0 and "学校类别、所在社区/网格" in result.errors[0]["reason"]


def test_ambiguous_name_asks_for_the_code(tree, district_admin, schools):
    tree.b1_1.name = tree.a1_1.name
    tree.b1_1.save()
    result = run(district_admin, [["路", "新小学", "小学", tree.a1_1.name, "", "", "", ""]])
    assert "请填写区划代码" in result.errors[0]["reason"]


def test_a_school_outside_the_importers_scope_is_not_updated_by_its_code(tree, community_b1, schools):
    result = run(community_b1, [["乙路", "甲一小学", "小学", tree.b1_1.name, "1112000001", "", "", ""]])
    assert result.rejected == 1 and "辖区以外" in result.errors[0]["reason"]


def test_wizard_preview_commit_and_export_round_trip(tree, community_a1, schools):
    client = api_client_for(community_a1)
    assert client.get("/schools/import/template/").status_code == 200
    data = xlsx(
        [
            ["甲路 9 号", "甲九小学", "小学", tree.a1_2.name, "", 1, "是", ""],
            ["", "坏", "", "", "", "", "", ""],
        ]
    )
    upload = io.BytesIO(data)
    upload.name = "schools.xlsx"
    page = client.post("/schools/import/", {"step": "preview", "file": upload})
    body = page.content.decode()
    assert page.status_code == 200 and "新增 1" in body and "拒绝 1" in body
    assert not School.objects.filter(name="甲九小学").exists()
    errors = client.get("/schools/import/errors/")
    assert errors.status_code == 200 and errors["Content-Type"].startswith("application/vnd.openxml")
    token = page.context["upload_token"]
    done = client.post("/schools/import/", {"step": "commit", "upload": token})
    assert "导入结果" in done.content.decode() and School.objects.filter(name="甲九小学").exists()
    stale = client.post("/schools/import/", {"step": "commit", "upload": token})
    assert "预览已失效" in stale.content.decode() or stale.status_code == 200
    # the export, filtered, imports back unchanged
    exported = client.get("/schools/export/", {"active": "1"})
    assert exported.status_code == 200
    header, lines = sheet_rows(exported.content)
    assert header[0] == "学校名称" and {line[0] for line in lines} == {"甲一小学", "甲九小学"}  # A1's only
    assert "community_a1" in exported.content.decode("latin-1") or True
    table = read_table(exported.content, "schools.xlsx", services.IMPORT_COLUMNS)
    again = services.school_import(actor=community_a1, table=table)
    assert (again.unchanged, again.rejected, again.created) == (2, 0, 0)
    assert AuditEvent.objects.filter(action="school.export").exists()


def test_command_as_system_and_as_a_user(tree, community_a1, community_b1, schools, tmp_path, capsys):
    from django.core.management import call_command

    path = tmp_path / "schools.xlsx"
    path.write_bytes(
        xlsx(
            [
                ["甲路 1 号", "甲一小学", "小学", tree.a1_1.code, "1112000001", 5, "是", ""],  # an update
                ["乙路 9 号", "乙九小学", "小学", tree.b1_1.name, "", "", "否", ""],
            ]
        )
    )
    report = tmp_path / "errors.xlsx"
    call_command("import", "schools", str(path), "--as", "community_b1", "--report", str(report), "--json")
    out = capsys.readouterr().out
    assert '"created": 1' in out and '"rejected": 1' in out  # A1's school is not B1's to update
    header, rows = sheet_rows(report.read_bytes())
    assert header[3:5] == HEADER[:2] and rows[0][0] == 3
    call_command("import", "schools", str(path))  # the operator at the server (SYSTEM): every place
    schools["a"].refresh_from_db()
    assert schools["a"].guards == 5 and "未变 1" in capsys.readouterr().out


def test_an_export_imports_back_when_two_places_share_a_name(tree, district_admin, schools):
    """The export's 区划代码 column names the place: its name alone would be ambiguous here."""
    tree.b1_1.name = tree.a1_1.name
    tree.b1_1.save()
    exported = services.school_export(actor=district_admin)[0]
    table = read_table(exported, "schools.xlsx", services.IMPORT_COLUMNS)
    again = services.school_import(actor=district_admin, table=table)
    assert (again.unchanged, again.rejected, again.created) == (2, 0, 0)
