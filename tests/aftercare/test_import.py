"""The pre-release list import: crafted xlsx and csv files, bad rows, idempotent re-import."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied
from python_calamine import CalamineWorkbook

from pingan.aftercare.importers import COLUMNS, error_report, prerelease_import, template
from pingan.aftercare.models import AftercareCase, HandoverStatus
from pingan.audit.models import AuditEvent
from pingan.core.excel import Column, read_table, write_xlsx
from pingan.people.models import Person
from pingan.people.services import person_register
from tests.aftercare.conftest import make_id

HEADER = [
    "姓名",
    "公民身份号码",
    "罪名",
    "原判刑期",
    "服刑场所",
    "预计释放日期",
    "接收社区",
    "必接必送",
    "备注",
]


def xlsx(rows, header=HEADER, preamble=True):
    data = write_xlsx(
        columns=[Column(h, text=True) for h in header],
        rows=rows,
        title="天津市示例监狱2026年1月预释放人员名单" if preamble else "",
    )
    return read_table(data, "list.xlsx", COLUMNS)


def test_good_and_bad_rows(tree, assist_a):
    rows = [
        ["测试甲", make_id(301), "盗窃罪", "二年", "示例监狱", "2026-01-15", "滦水里社区", "是", ""],
        ["测试乙", make_id(302), "0503", "一年", "示例监狱", "2026/1/20", "120103004002", "否", ""],
        [
            "测试丙",
            "120103198503011234",
            "盗窃罪",
            "",
            "",
            "2026-01-15",
            "滦水里社区",
            "",
            "",
        ],  # bad check digit
        ["测试丁", make_id(304), "飞行罪", "", "", "2026-01-15", "滦水里社区", "", ""],  # unknown offence
        ["测试戊", make_id(305), "盗窃罪", "", "", "2026-02-30", "滦水里社区", "", ""],  # no such date
        ["测试己", make_id(306), "盗窃罪", "", "", "2026-01-15", "粤江里社区", "", ""],  # outside the scope
        ["测试庚", make_id(301), "盗窃罪", "", "", "2026-01-15", "滦水里社区", "", ""],  # duplicate in file
        ["", "", "", "", "", "", "", "", ""],  # blank line: ignored
        ["测试辛", make_id(308), "盗窃罪", "", "", "2026-01-15", "", "", ""],  # no community
    ]
    table = xlsx(rows)
    assert table.header_row_number == 2  # the title line above the header is skipped
    result = prerelease_import(actor=assist_a, table=table, filename="list.xlsx")
    assert (result.read, result.created, result.rejected) == (8, 2, 6)
    reasons = {e["row"]: (e["column"], e["reason"]) for e in result.errors}
    assert reasons[5][0] == "公民身份号码" and "校验" in reasons[5][1]
    assert reasons[6] == ("罪名", "罪名“飞行罪”不在罪名代码表中")
    assert reasons[7][0] == "预计释放日期"
    assert "不在您的辖区" in reasons[8][1]
    assert "与第 3 行的身份证号重复" in reasons[9][1]
    assert reasons[11] == ("接收社区", "接收社区不能为空")
    first = AftercareCase.objects.get(person__name="测试甲")
    assert (
        first.handover.must_meet and first.is_key_person and first.handover.status == HandoverStatus.PENDING
    )
    assert first.area == tree.a1 and first.handover.source == "list.xlsx"
    assert AftercareCase.objects.get(person__name="测试乙").area == tree.a2
    assert AuditEvent.objects.filter(action="aftercare.prerelease_import").count() == 1
    report = (
        CalamineWorkbook.from_filelike(io.BytesIO(error_report(result))).get_sheet_by_index(0).to_python()
    )
    assert len(report) == 2 + 6


def test_reimport_is_idempotent_and_updates(tree, assist_a):
    rows = [["测试甲", make_id(311), "盗窃罪", "二年", "示例监狱", "2026-01-15", "滦水里社区", "否", ""]]
    prerelease_import(actor=assist_a, table=xlsx(rows))
    again = prerelease_import(actor=assist_a, table=xlsx(rows))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    rows[0][5] = "2026-01-20"  # the prison corrected the date
    rows[0][7] = "是"
    changed = prerelease_import(actor=assist_a, table=xlsx(rows))
    assert (changed.created, changed.updated) == (0, 1)
    case = AftercareCase.objects.get()
    assert case.release_date == dt.date(2026, 1, 20) and case.handover.expected_release_date == dt.date(
        2026, 1, 20
    )
    assert case.handover.must_meet
    assert Person.objects.count() == 1 and AftercareCase.objects.count() == 1


def test_existing_person_is_reused(tree, officer_a1):
    person, _ = person_register(
        actor=officer_a1, area=tree.a1_1, data={"name": "测试甲", "id_number": make_id(321)}
    )
    rows = [["测试甲", make_id(321), "盗窃罪", "", "", "2026-01-15", "滦水里社区", "", ""]]
    result = prerelease_import(actor=officer_a1, table=xlsx(rows))
    assert result.created == 1
    assert AftercareCase.objects.get().person == person and AftercareCase.objects.get().area == tree.a1_1


def test_csv_gbk_and_dry_run(tree, assist_a):
    number = make_id(331)
    text = f"姓名,身份证号,罪名,释放日期,所属社区,外部编号\n测试甲,{number},诈骗罪,20260115,滦水里社区,X1\n"
    table = read_table(text.encode("gbk"), "list.csv", COLUMNS)
    result = prerelease_import(actor=assist_a, table=table, dry_run=True)
    assert result.created == 1 and result.unknown_columns == ["外部编号"]
    assert not AftercareCase.objects.exists() and not Person.objects.exists()
    assert not AuditEvent.objects.filter(action="aftercare.prerelease_import").exists()


def test_missing_columns_and_permission(tree, assist_a, grid_a1, leader):
    result = prerelease_import(
        actor=assist_a, table=xlsx([["测试甲", make_id(341)]], header=["姓名", "身份证号"])
    )
    assert result.created == 0 and "缺少必需的列" in result.errors[0]["reason"]
    for user in (grid_a1, leader):
        with pytest.raises(PermissionDenied):
            prerelease_import(actor=user, table=xlsx([]))


def test_template_reads_back():
    table = read_table(template(), "t.xlsx", COLUMNS)
    assert table.header[:2] == ["姓名", "公民身份号码"] and len(table.rows) == 1
