from __future__ import annotations

import datetime as dt

from pingan.audit.models import AuditEvent
from pingan.core.excel import read_table
from pingan.correction import importers, services
from pingan.correction.models import CorrectionClient
from pingan.people.models import Person
from tests.correction.conftest import make_id

HEADER = (
    "姓名,公民身份号码,矫正编号,矫正类别,罪名,原判刑罚,矫正期起,矫正期止,决定机关,判决生效日期,报到日期,"
    "所属社区/网格,无用列"
)


def _csv(rows: list[str]) -> bytes:
    return ("\n".join(["社区矫正对象名单", HEADER, *rows]) + "\n").encode("utf-8")


def _row(seq: int, number: str, area: str = "120103004001001", **over: str) -> str:
    cells = {
        "name": f"导入{seq}",
        "id": make_id(seq),
        "number": number,
        "category": "缓刑",
        "offence": "盗窃罪",
        "sentence": "有期徒刑一年",
        "start": "2026/01/05",
        "end": "2027年1月4日",
        "authority": "河西区人民法院",
        "effective": "2026-01-05",
        "reported": "2026-01-08",
        "area": area,
        "junk": "",
    }
    cells.update(over)
    return ",".join(cells.values())


def _import(actor, data: bytes, dry_run: bool = False):
    table = read_table(data, "list.csv", importers.COLUMNS)
    return importers.client_import(actor=actor, table=table, dry_run=dry_run)


def test_import_idempotent_with_errors(tree, officer_a1):
    rows = [
        _row(1, "JZ-I-1"),
        _row(2, "JZ-I-2", area="滦水里第2网格", category="3", reported=""),
        _row(3, "JZ-I-3", id="120103198503041234"),  # bad check digit
        _row(4, "JZ-I-4", category="死缓"),
        _row(5, "JZ-I-5", area="120103012001001"),  # 粤江里: outside officer_a1's scope
        _row(6, "JZ-I-1"),  # duplicate number in the file
        _row(7, "JZ-I-7", end="2025-01-01"),
        "",
    ]
    preview = _import(officer_a1, _csv(rows), dry_run=True)
    assert (preview.created, preview.rejected) == (2, 5)
    assert CorrectionClient.objects.count() == 0 and Person.objects.count() == 0
    result = _import(officer_a1, _csv(rows))
    assert (result.read, result.created, result.updated, result.unchanged, result.rejected) == (7, 2, 0, 0, 5)
    assert result.unknown_columns == ["无用列"]
    by_row = {e["row"]: e for e in result.errors}
    assert by_row[5]["column"] == "公民身份号码"
    assert "矫正类别" in by_row[6]["reason"]
    assert "不在您的辖区" in by_row[7]["reason"]
    assert "重复" in by_row[8]["reason"]
    assert "矫正期止不能早于矫正期起" in by_row[9]["reason"]
    c2 = CorrectionClient.objects.get(number="JZ-I-2")
    assert c2.category == "3" and c2.status == "pending" and c2.area.name == "滦水里第2网格"
    c1 = CorrectionClient.objects.get(number="JZ-I-1")
    assert (
        c1.start_date == dt.date(2026, 1, 5) and c1.end_date == dt.date(2027, 1, 4) and c1.status == "active"
    )
    # the same file again changes nothing
    again = _import(officer_a1, _csv(rows))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    # a changed row updates
    rows[0] = _row(1, "JZ-I-1", offence="诈骗罪")
    third = _import(officer_a1, _csv(rows))
    assert (third.created, third.updated, third.unchanged) == (0, 1, 1)
    updated = CorrectionClient.objects.get(number="JZ-I-1")
    assert updated.offence == "诈骗罪"
    if services.offence_table_available():
        assert updated.offence_code == "0503"  # re-derived from the new offence
    assert CorrectionClient.objects.count() == 2 and Person.objects.count() == 2
    assert AuditEvent.objects.filter(action="correction.client_import").count() == 3


def test_import_missing_columns_and_outsider(tree, officer_a1, officer_b1):
    table = read_table("姓名,矫正编号\n张,1\n".encode(), "x.csv", importers.COLUMNS)
    result = importers.client_import(actor=officer_a1, table=table)
    assert result.rejected == 1 and "缺少必需的列" in result.errors[0]["reason"]
    _import(officer_a1, _csv([_row(1, "JZ-I-1")]))
    # community B1 cannot update (or learn about) A1's client through the import
    other = _import(officer_b1, _csv([_row(1, "JZ-I-1", area="120103012001001")]))
    assert other.created == 0 and other.updated == 0 and other.rejected == 1


def test_template_and_error_report(tree, officer_a1):
    import io

    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_filelike(io.BytesIO(importers.template())).get_sheet_by_index(0).to_python()
    assert "矫正编号" in rows[2]
    report = importers.error_report(
        importers.ImportResult(errors=[{"row": 3, "column": "罪名", "reason": "不能为空"}])
    )
    assert (
        CalamineWorkbook.from_filelike(io.BytesIO(report)).get_sheet_by_index(0).to_python()[2][2]
        == "不能为空"
    )


def test_the_templates_example_row_is_refused(tree, officer_a1):
    """The template imported as it stands writes nothing: its example row (a valid ID number, to show the
    format) is refused with the reason, as in every import (core.excel.is_template_example)."""
    result = importers.client_import(
        actor=officer_a1, table=read_table(importers.template(), "t.xlsx", importers.COLUMNS)
    )
    assert (result.created, result.rejected) == (0, 1) and "示例行" in result.errors[0]["reason"]
    assert not CorrectionClient.objects.exists()
