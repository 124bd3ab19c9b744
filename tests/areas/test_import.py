"""area_import from files built here (csv UTF-8 / GBK, xlsx), and the ``pingan import areas`` command."""

from __future__ import annotations

import csv
import io
import json

import pytest
import xlsxwriter
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from pingan.areas.models import Area
from pingan.areas.services import AREA_IMPORT_COLUMNS, area_import
from pingan.audit.models import AuditEvent
from pingan.core.excel import read_table

pytestmark = pytest.mark.django_db

TITLE = ["河西区辖区导入表（2024年）"]
# Columns in an unusual order, one the importer does not know (备注), children before parents.
HEADER = ["名称", "备注", "区划代码", "人口数", "上级代码"]
ROWS = [
    ["天塔第1网格", "", "120103005001001", "", ""],
    ["气象南里社区", "新建", "120103005001", "3500", ""],
    ["天塔街", "", "120103005", "", ""],
    ["天塔第2网格", "", "120103005001002", "", "120103005001"],
]
NEW_CODES = {"120103005", "120103005001", "120103005001001", "120103005001002"}


def csv_bytes(rows: list[list[object]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]], numbers_as_numbers: bool = False) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("辖区")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value in ("", None):
                continue
            if numbers_as_numbers and isinstance(value, str) and value.isdigit():
                sheet.write_number(r, c, int(value))  # what Excel does to codes typed without a quote
            else:
                sheet.write_string(r, c, str(value))
    workbook.close()
    return buffer.getvalue()


def table_of(data: bytes, filename: str):
    return read_table(data, filename, AREA_IMPORT_COLUMNS)


def run(actor, rows, *, filename="areas.csv", dry_run=False, encoding="utf-8"):
    data = xlsx_bytes(rows) if filename.endswith(".xlsx") else csv_bytes(rows, encoding)
    return area_import(actor=actor, table=table_of(data, filename), dry_run=dry_run)


def assert_new_nodes_created(tree) -> None:
    street = Area.objects.get(code="120103005")
    community = Area.objects.get(code="120103005001")
    grids = Area.objects.filter(code__in=["120103005001001", "120103005001002"])
    assert (street.level, street.parent, street.name) == ("street", tree.district, "天塔街")
    assert (community.level, community.parent, community.population) == ("community", street, 3500)
    assert {(g.level, g.parent_id) for g in grids} == {("grid", community.pk)}


@pytest.mark.parametrize(
    ("filename", "encoding"), [("areas.csv", "utf-8"), ("areas.csv", "utf-8-sig"), ("区划.csv", "gbk")]
)
def test_csv_import(tree, system_admin, filename, encoding):
    result = run(system_admin, [TITLE, HEADER, *ROWS], filename=filename, encoding=encoding)
    assert result.errors == []
    assert (result.read, result.created, result.updated, result.unchanged, result.rejected) == (4, 4, 0, 0, 0)
    assert result.unknown_columns == ["备注"]
    assert_new_nodes_created(tree)


def test_xlsx_import_with_title_row(tree, system_admin):
    data = xlsx_bytes([TITLE, [], HEADER, *ROWS])
    table = table_of(data, "areas.xlsx")
    assert table.header_row_number == 3
    result = area_import(actor=system_admin, table=table)
    assert result.errors == []
    assert result.created == 4
    assert_new_nodes_created(tree)


def test_xlsx_import_with_codes_stored_as_numbers(tree, system_admin):
    result = area_import(
        actor=system_admin,
        table=table_of(xlsx_bytes([TITLE, HEADER, *ROWS], numbers_as_numbers=True), "a.xlsx"),
    )
    assert result.errors == []
    assert result.created == 4
    assert_new_nodes_created(tree)


def test_level_column_accepts_labels_and_reports_unknown_levels(tree, system_admin):
    rows = [
        ["区划代码", "名称", "层级"],
        ["120103005", "天塔街", "街道"],
        ["120103005001", "气象南里社区", "community"],
        ["120103005002", "某村", "村"],
    ]
    result = run(system_admin, rows)
    assert result.created == 2
    assert result.errors == [{"row": 4, "column": "层级", "reason": "层级“村”无法识别"}]
    assert not Area.objects.filter(code="120103005002").exists()


def test_duplicate_code_points_to_the_first_row(tree, system_admin):
    rows = [TITLE, HEADER, ["天塔街", "", "120103005", "", ""], ["天塔街（重复）", "", "120103005", "", ""]]
    result = run(system_admin, rows)
    assert result.created == 1
    assert len(result.errors) == 1
    error = result.errors[0]
    assert (error["row"], error["column"]) == (4, "区划代码")
    assert "第 3 行" in error["reason"]
    assert Area.objects.get(code="120103005").name == "天塔街"


def test_bad_parents_are_reported_per_row(tree, system_admin):
    rows = [
        HEADER,
        ["无上级社区", "", "120103099001", "", ""],  # inferred parent 120103099 does not exist
        ["错挂社区", "", "120103005001", "", "120103004"],  # parent street A, code outside it
        ["挂错层级", "", "120103004004", "", "120103"],  # a community under the district
        ["好社区", "", "120103004003", "", ""],
    ]
    result = run(system_admin, rows)
    by_row = {e["row"]: e for e in result.errors}
    assert set(by_row) == {2, 3, 4}
    assert by_row[2]["column"] == "上级代码"
    assert "120103099" in by_row[2]["reason"]
    assert by_row[3]["column"] == "区划代码"
    assert by_row[4]["column"] == "上级代码"
    assert result.created == 1
    assert result.rejected == 3
    assert Area.objects.get(code="120103004003").name == "好社区"


def test_bad_numbers_and_names_are_reported(tree, system_admin):
    rows = [
        HEADER,
        ["天塔街", "", "120103005", "很多", ""],
        ["<b>坏</b>", "", "120103006", "", ""],
        ["", "", "1201030070", "", ""],  # 10 digits: no level
    ]
    result = run(system_admin, rows)
    assert result.created == 0
    assert {e["row"] for e in result.errors} == {2, 3, 4}
    assert next(e for e in result.errors if e["row"] == 3)["column"] == "名称"


def test_blank_rows_are_skipped(tree, system_admin):
    rows = [HEADER, ["天塔街", "", "120103005", "", ""], ["", "", "", "", ""], ["", "备注而已", "", "", ""]]
    result = run(system_admin, rows)
    assert (result.read, result.created, result.errors) == (1, 1, [])


def test_missing_required_column(tree, system_admin):
    rows = [["区划代码", "人口数"], ["120103005", "10"]]
    result = run(system_admin, rows)
    assert result.created == 0
    assert len(result.errors) == 1
    assert result.errors[0]["row"] == 1
    assert "名称" in result.errors[0]["reason"]


def test_dry_run_writes_nothing(tree, system_admin):
    areas, events = Area.objects.count(), AuditEvent.objects.count()
    result = run(system_admin, [TITLE, HEADER, *ROWS], dry_run=True)
    assert result.created == 4
    assert result.errors == []
    assert Area.objects.count() == areas
    assert AuditEvent.objects.count() == events


def test_import_is_audited(tree, system_admin):
    before = AuditEvent.objects.count()
    run(system_admin, [TITLE, HEADER, *ROWS])
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True)[before:])
    assert actions == ["area.create"] * 4 + ["area.import"]
    summary = AuditEvent.objects.get(action="area.import")
    assert summary.changes["created"] == 4
    assert summary.actor == system_admin


def test_reimport_of_the_same_file_changes_nothing(tree, system_admin):
    run(system_admin, [TITLE, HEADER, *ROWS])
    snapshot = list(
        Area.objects.order_by("code").values_list("code", "name", "parent_id", "population", "updated_at")
    )
    result = run(system_admin, [TITLE, HEADER, *ROWS])
    assert (result.created, result.updated, result.unchanged, result.errors) == (0, 0, 4, [])
    assert (
        list(
            Area.objects.order_by("code").values_list("code", "name", "parent_id", "population", "updated_at")
        )
        == snapshot
    )


def test_reimport_with_changes_updates(tree, system_admin):
    run(system_admin, [TITLE, HEADER, *ROWS])
    changed = [list(r) for r in ROWS]
    changed[1][0] = "气象南里"
    changed[1][3] = "3600"
    result = run(system_admin, [HEADER, *changed])
    assert (result.created, result.updated, result.unchanged) == (0, 1, 3)
    community = Area.objects.get(code="120103005001")
    assert (community.name, community.population) == ("气象南里", 3600)


def test_existing_node_with_a_different_parent_is_rejected(tree, system_admin):
    rows = [["区划代码", "名称", "上级代码"], [tree.a1_1.code, "改挂", tree.a2.code]]
    result = run(system_admin, rows)
    assert result.rejected == 1
    tree.a1_1.refresh_from_db()
    assert tree.a1_1.parent == tree.a1


@pytest.mark.parametrize("name", ["district_admin", "street_a", "auditor", "security_admin"])
def test_only_the_system_admin_imports(tree, persona, name):
    with pytest.raises(PermissionDenied):
        run(persona(name), [HEADER, *ROWS])
    assert not Area.objects.filter(code__in=NEW_CODES).exists()


# --- pingan import areas FILE -----------------------------------------------------------------------


@pytest.fixture
def area_file(tmp_path):
    path = tmp_path / "辖区.csv"
    path.write_bytes(csv_bytes([TITLE, HEADER, *ROWS], "gbk"))
    return path


def test_command_imports_as_system(tree, area_file, capsys):
    call_command("import", "areas", str(area_file))
    out = capsys.readouterr().out
    assert "新增 4" in out
    assert "备注" in out
    assert_new_nodes_created(tree)
    summary = AuditEvent.objects.get(action="area.import")
    assert summary.actor is None
    assert summary.actor_username == "system"


def test_command_dry_run_json(tree, area_file, capsys):
    call_command("import", "areas", str(area_file), "--dry-run", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["dry_run"] is True
    assert (data["read"], data["created"], data["rejected"]) == (4, 4, 0)
    assert data["unknown_columns"] == ["备注"]
    assert not Area.objects.filter(code__in=NEW_CODES).exists()


def test_command_as_a_user(tree, area_file, system_admin, district_admin, capsys):
    call_command("import", "areas", str(area_file), "--as", "system_admin", "--json")
    assert json.loads(capsys.readouterr().out)["created"] == 4
    assert AuditEvent.objects.get(action="area.import").actor == system_admin
    with pytest.raises(CommandError):
        call_command("import", "areas", str(area_file), "--as", "district_admin")
    with pytest.raises(CommandError):
        call_command("import", "areas", str(area_file), "--as", "nobody")


def test_command_errors(tree, tmp_path):
    with pytest.raises(CommandError):
        call_command("import", "areas", str(tmp_path / "missing.csv"))
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    with pytest.raises(CommandError):
        call_command("import", "areas", str(bad))
    with pytest.raises(CommandError):
        call_command("import", "planets", str(bad))


def test_console_script_runs_the_command(tree, area_file, capsys):
    from pingan.__main__ import main

    main(["pingan", "import", "areas", str(area_file), "--json"])
    assert json.loads(capsys.readouterr().out)["created"] == 4
