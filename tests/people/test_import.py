from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import xlsxwriter
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from pingan.audit.models import AuditEvent
from pingan.core.actors import SYSTEM
from pingan.core.excel import read_table
from pingan.people.importers import ROSTER_COLUMNS, error_report, people_import, roster_template
from pingan.people.models import FloatingRecord, Person
from tests.people.conftest import make_id

HEADER = [
    "姓名",
    "性别",
    "公民身份号码",
    "出生日期",
    "联系电话",
    "所属网格",
    "人员类别",
    "居住证号",
    "居住证有效期至",
]


def xlsx(rows: list[list[Any]], header: list[str] = HEADER, title: str = "花名册") -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet()
    sheet.write_string(0, 0, title)  # a title line above the header: the reader finds the header
    for c, h in enumerate(header):
        sheet.write_string(1, c, h)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row):
            if isinstance(value, (int, float)):
                sheet.write_number(r, c, value)
            elif value is not None:
                sheet.write_string(r, c, str(value))
    book.close()
    return buffer.getvalue()


def run(actor: Any, data: bytes, dry_run: bool = False):
    return people_import(
        actor=actor, table=read_table(data, "roster.xlsx", expected=ROSTER_COLUMNS), dry_run=dry_run
    )


def good(seq: int = 1, **over: Any) -> list[Any]:
    row = {
        "name": f"测试居民{seq}",
        "sex": "",
        "id": make_id(seq=seq),
        "birth": "",
        "phone": "13812345678",
        "grid": "120103004001001",
        "cat": "户籍人口",
        "permit": "",
        "valid": "",
    }
    row.update(over)
    return list(row.values())


def test_import_creates_then_is_idempotent(tree, community_a1):
    data = xlsx([good(1), good(2, name="测试居民乙", grid="滦水里第2网格", phone="022-23456789")])
    first = run(community_a1, data)
    assert (first.created, first.updated, first.unchanged, first.rejected) == (2, 0, 0, 0)
    assert Person.objects.get(name="测试居民乙").area_id == tree.a1_2.pk
    second = run(community_a1, data)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    third = run(community_a1, xlsx([good(1, phone="13900000000")]))
    assert (third.created, third.updated) == (0, 1)
    assert Person.objects.get(name="测试居民1").phone == "13900000000"
    assert Person.objects.count() == 2
    assert AuditEvent.objects.filter(action="person.import").count() == 3


def test_dry_run_writes_nothing(tree, community_a1):
    result = run(community_a1, xlsx([good(1)]), dry_run=True)
    assert result.created == 1 and not Person.objects.exists()
    assert not AuditEvent.objects.filter(action="person.import").exists()


@pytest.mark.parametrize(
    ("row", "column"),
    [
        (good(1, name=""), "姓名"),
        (good(1, id=""), "公民身份号码"),
        (good(1, id=1.20103199001011e17), "公民身份号码"),  # numeric cell: digits lost
        (good(1, id="1.20103199001011E+17"), "公民身份号码"),  # text copy of the same
        (good(1, id=make_id(seq=1)[:-1] + ("0" if make_id(seq=1)[-1] != "0" else "1")), "公民身份号码"),
        (good(1, sex="女"), "性别"),  # sequence 001 is odd: male
        (good(1, birth="1991-02-03"), "出生日期"),
        (good(1, birth="生日"), "出生日期"),
        (good(1, phone="12345"), "联系电话"),
        (good(1, grid="120103012001001"), "所属网格"),  # B1's grid: outside A1's scope
        (good(1, grid="不存在的网格"), "所属网格"),
        (good(1, cat="外星人"), "人员类别"),
        (good(1, permit="R123", valid="明年"), "居住证有效期至"),
        (good(1, permit="R123", valid="2030-01-01"), "居住证号"),  # permit without the floating category
    ],
)
def test_each_rule_rejects_the_row(tree, community_a1, row, column):
    result = run(community_a1, xlsx([row, good(2)]))
    assert result.rejected == 1, result.errors
    assert result.errors[0]["row"] == 3 and result.errors[0]["column"] == column
    assert result.created == 1  # the good row still goes in


def test_duplicate_in_file(tree, community_a1):
    result = run(community_a1, xlsx([good(1), good(1, name="测试居民重复")]))
    assert result.created == 1 and result.errors[0]["row"] == 4 and "重复" in result.errors[0]["reason"]


def test_normalised_values_accepted(tree, community_a1):
    number = make_id(birth=dt.date(1949, 12, 31), seq=2)
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in number).replace("Ｘ", "ｘ")
    legacy = "120103" + "850101" + "123"
    result = run(community_a1, xlsx([good(1, id=fullwidth, phone="+86 138 1234 5678"), good(3, id=legacy)]))
    assert result.created == 2 and result.normalised == 2
    assert Person.objects.filter_exact(id_number=number).exists()
    assert Person.objects.filter_exact(
        id_number="120103198501011236"[:17] + make_id(birth=dt.date(1985, 1, 1), seq=123)[-1]
    ).exists()


def test_floating_permit_recorded(tree, community_a1):
    data = xlsx([good(1, cat="流动人口", permit="R120103001", valid="2030-06-30")])
    run(community_a1, data)
    record = FloatingRecord.objects.get()
    assert record.permit_number == "R120103001" and record.valid_to == dt.date(2030, 6, 30)
    assert Person.objects.get().is_floating
    run(community_a1, data)
    assert FloatingRecord.objects.count() == 1


def test_b1_cannot_take_over_a1_person(tree, community_a1, community_b1):
    run(community_a1, xlsx([good(1)]))
    result = run(community_b1, xlsx([good(1, grid="120103012001001")]))
    assert result.rejected == 1 and "其他辖区" in result.errors[0]["reason"]
    assert "********" in result.errors[0]["reason"]  # the number is masked in the report
    assert Person.objects.get().area_id == tree.a1_1.pk


def test_permission(tree, leader, dept_handler):
    for user in (leader, dept_handler):
        with pytest.raises(PermissionDenied):
            run(user, xlsx([good(1)]))


def test_missing_columns(tree, community_a1):
    result = run(community_a1, xlsx([["x", "y"]], header=["姓名", "性别"]))
    assert result.rejected == 1 and "公民身份号码" in result.errors[0]["reason"]


def test_template_and_report_are_readable(tree, community_a1):
    table = read_table(roster_template(), "t.xlsx", expected=ROSTER_COLUMNS)
    assert table.header[:3] == ["姓名", "性别", "民族"]
    result = run(community_a1, xlsx([good(1, name="")]))
    report = read_table(
        error_report(result, filename="roster.xlsx"), "r.xlsx", expected={"r": ("行号",), "c": ("原因",)}
    )
    assert report.rows[0][0] == 3


def test_command(tree, tmp_path, capsys):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(xlsx([good(1), good(2, name="")]))
    report = tmp_path / "errors.xlsx"
    call_command("import", "people", str(path), "--report", str(report), "--json")
    out = capsys.readouterr().out
    assert '"created": 1' in out and '"rejected": 1' in out
    # the report is the screens' one: row, column, reason, then the rejected row in the file's columns
    table = read_table(report.read_bytes(), "r.xlsx", expected={"r": ("行号",), "c": ("原因",)})
    assert table.header[:4] == ["行号", "列", "原因", "姓名"] and table.rows[0][0] == 4
    assert SYSTEM.username == "system" and Person.objects.count() == 1


def test_the_templates_example_row_is_refused_and_errors_come_in_row_order(tree, community_a1):
    """The downloaded template imported as it is writes nothing: its example row (a valid ID number, to show
    the format) is refused with the reason; the errors are listed in the file's row order."""
    from pingan.people.importers import roster_template

    unchanged = run(community_a1, roster_template())
    assert (unchanged.created, unchanged.rejected) == (0, 1)
    assert "示例行" in unchanged.errors[0]["reason"]
    # the example shows a valid row: with a name of its own the same cells import
    table = read_table(roster_template(), "roster.xlsx", expected=ROSTER_COLUMNS)
    table.rows[0][table.header.index("姓名")] = "示例李四"
    own = people_import(actor=community_a1, table=table)
    assert (own.created, own.rejected) == (1, 0), own.errors
    mixed = run(community_a1, xlsx([good(1, grid="没有这个网格"), good(2, id="120103199001011230"), good(1)]))
    assert [e["row"] for e in mixed.errors] == sorted(e["row"] for e in mixed.errors)


def test_a_file_that_is_no_spreadsheet_gets_a_chinese_reason():
    from pingan.core.excel import TableError

    with pytest.raises(TableError) as info:
        read_table(b"not a spreadsheet at all", "roster.xlsx", expected=ROSTER_COLUMNS)
    assert "不是有效的 Excel 文件" in str(info.value) and not any(
        c.isascii() and c.isalpha()
        for c in str(info.value).replace("Excel", "").replace("WPS", "").replace("xlsx", "")
    )


def test_the_error_report_gives_back_the_original_rows(tree, community_a1):
    """Row, column and reason in Chinese, then the row as the file held it in the file's own columns (text,
    so an ID number keeps its digits; a cell starting with = defused)."""
    import io as _io

    from python_calamine import CalamineWorkbook

    from pingan.people.importers import error_report

    bad = good(2, id="120103199001011230", name="=HYPERLINK(1)")
    result = run(community_a1, xlsx([good(1), bad]))
    report = (
        CalamineWorkbook.from_filelike(_io.BytesIO(error_report(result))).get_sheet_by_index(0).to_python()
    )
    header = next(r for r in report if r and r[0] == "行号")
    assert header[:3] == ["行号", "列", "原因"] and header[3:] == HEADER
    rows = [r for r in report[report.index(header) + 1 :] if r and r[0] != ""]
    assert rows and all(r[0] == 4 for r in rows)  # the second data row, under a title and a header
    original = dict(zip(HEADER, rows[0][3:], strict=True))
    assert original["公民身份号码"] == "120103199001011230"
    assert original["姓名"].startswith("'=") or not original["姓名"].startswith("=")


def test_markup_in_a_name_is_refused_everywhere(tree, community_a1):
    """Issue 4: “no markup in names”. The rule is clean_person_data's, so the import, the form and the API
    refuse the same names."""
    from pingan.people.services import person_register

    result = run(
        community_a1,
        xlsx([good(1, name="<b>张三</b>"), good(2, name="李四&#60;"), good(3, name="王五·阿里")]),
    )
    reasons = {e["row"]: e["reason"] for e in result.errors}
    assert result.created == 1 and set(reasons) == {3, 4}
    assert all("标记字符" in r for r in reasons.values())
    with pytest.raises(ValidationError) as exc:
        person_register(
            actor=community_a1,
            area=tree.a1_1,
            data={"name": "赵六", "former_name": "<script>", "id_number": make_id(seq=9)},
        )
    assert "标记字符" in exc.value.message_dict["former_name"][0]
