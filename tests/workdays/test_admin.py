"""The holiday table: services (permission, validation, audit), import (file and command), the screen and
the administrators' warning on the home page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import xlsxwriter
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from pingan.audit.models import AuditEvent
from pingan.core.excel import read_table
from pingan.workdays.models import Holiday
from pingan.workdays.selectors import add_working_days, calendar_missing_years
from pingan.workdays.services import HOLIDAY_IMPORT_COLUMNS, holiday_delete, holiday_import, holiday_save
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db
D = dt.date

# The State Council's kind of notice, as an administrator would type it (title row, any column order).
ROWS_2027 = [
    ["2027年部分节假日安排"],
    ["名称", "日期", "类型", "备注"],
    ["元旦", "2027-01-01", "放假", ""],
    ["春节", "2027/2/6", "放假", ""],
    ["春节", "2027年2月7日", "放假", ""],
    ["春节", "2027-02-20", "调休上班", "周六上班"],
]


def csv_bytes(rows, encoding="utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
            elif value != "":
                sheet.write_string(r, c, str(value))
    workbook.close()
    return buffer.getvalue()


def test_only_the_system_administrator_edits(tree, system_admin, district_admin, security_admin):
    for user in (district_admin, security_admin):
        with pytest.raises(PermissionDenied):
            holiday_save(actor=user, date="2027-01-01", kind="放假", name="元旦")
    day = holiday_save(actor=system_admin, date="2027-01-01", kind="放假", name="元旦")
    assert (day.kind, day.source) == ("holiday", "manual")
    event = AuditEvent.objects.get(action="holiday.create")
    assert event.actor_username == "system_admin"
    assert event.changes["date"] == [None, "2027-01-01"]
    with pytest.raises(PermissionDenied):
        holiday_delete(actor=district_admin, holiday_id=day.pk)
    holiday_delete(actor=system_admin, holiday_id=day.pk)
    assert not Holiday.objects.filter(date=D(2027, 1, 1)).exists()
    assert AuditEvent.objects.filter(action="holiday.delete").count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        # 22 February 2027 is a Monday: a working day anyway
        ({"date": "2027-02-22", "kind": "调休上班", "name": "春节"}, "kind"),
        ({"date": "2027-13-01", "kind": "放假", "name": "春节"}, "date"),
        ({"date": "2027-02-06", "kind": "休假吧", "name": "春节"}, "kind"),
        ({"date": "2027-02-06", "kind": "放假", "name": " "}, "name"),
        ({"date": "2027-02-06", "kind": "放假", "name": "<b>春节</b>"}, "name"),
        ({"date": "2026-10-01", "kind": "放假", "name": "国庆节"}, "date"),  # the day already has a row
    ],
)
def test_validation_messages(tree, system_admin, data, field):
    with pytest.raises(ValidationError) as info:
        holiday_save(actor=system_admin, **data)
    assert field in info.value.message_dict


def test_an_edited_day_changes_deadlines(tree, system_admin):
    assert add_working_days(D(2027, 9, 30), 1) == D(2027, 10, 1)
    holiday_save(actor=system_admin, date=D(2027, 10, 1), kind="holiday", name="国庆节")
    assert add_working_days(D(2027, 9, 30), 1) == D(2027, 10, 4)


@pytest.mark.parametrize("filename", ["days.csv", "days.xlsx", "days-gbk.csv"])
def test_import_a_year(tree, system_admin, filename):
    if filename.endswith(".xlsx"):
        rows = [list(r) for r in ROWS_2027]
        rows[2][1] = D(2027, 1, 1)  # a real date cell
        data = xlsx_bytes(rows)
    else:
        data = csv_bytes(ROWS_2027, "gbk" if "gbk" in filename else "utf-8")
    table = read_table(data, filename.replace("-gbk", ""), HOLIDAY_IMPORT_COLUMNS)
    preview = holiday_import(actor=system_admin, table=table, dry_run=True)
    assert (preview.created, preview.rejected, preview.unknown_columns) == (4, 0, ["备注"])
    assert not Holiday.objects.filter(date__year=2027).exists()
    result = holiday_import(actor=system_admin, table=table)
    assert (result.created, result.updated, result.years) == (4, 0, [2027])
    assert Holiday.objects.get(date=D(2027, 2, 20)).kind == "workday"
    assert Holiday.objects.get(date=D(2027, 2, 7)).source == "import"
    assert calendar_missing_years(D(2026, 11, 28)) == []
    again = holiday_import(actor=system_admin, table=table)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert AuditEvent.objects.filter(action="holiday.import").count() == 1  # nothing changed the second time


def test_import_reports_bad_rows_and_keeps_the_good_ones(tree, system_admin):
    rows = [
        ["日期", "类型", "名称"],
        ["2027-01-01", "放假", "元旦"],
        ["2027-01-01", "放假", "元旦"],  # duplicate
        ["2027-02-30", "放假", "春节"],  # no such day
        ["2027-02-22", "上班", "春节"],  # a Monday
        ["", "", ""],  # blank lines are skipped
    ]
    table = read_table(csv_bytes(rows), "x.csv", HOLIDAY_IMPORT_COLUMNS)
    result = holiday_import(actor=system_admin, table=table)
    assert result.created == 1 and result.read == 4
    assert [(e["row"], e["column"]) for e in result.errors] == [(3, "日期"), (4, "日期"), (5, "类型")]


def test_import_without_the_required_columns(tree, system_admin):
    table = read_table(csv_bytes([["日期", "名称"], ["2027-01-01", "元旦"]]), "x.csv", HOLIDAY_IMPORT_COLUMNS)
    result = holiday_import(actor=system_admin, table=table)
    assert result.created == 0 and result.errors[0]["column"] == "类型"


def test_import_command(tree, tmp_path, capsys):
    path = tmp_path / "holidays-2027.csv"
    path.write_bytes(csv_bytes(ROWS_2027))
    call_command("import", "holidays", str(path), "--json")
    data = json.loads(capsys.readouterr().out)
    assert (data["created"], data["rejected"], data["years"]) == (4, 0, [2027])
    assert Holiday.objects.filter(date__year=2027).count() == 4
    event = AuditEvent.objects.get(action="holiday.import")
    assert event.actor_username == "system"


def test_import_command_as_a_user_without_the_permission(tree, tmp_path, district_admin):
    path = tmp_path / "h.csv"
    path.write_bytes(csv_bytes(ROWS_2027))
    with pytest.raises(CommandError):
        call_command("import", "holidays", str(path), "--as", district_admin.username)


def test_the_screen_for_the_system_administrator(tree, system_admin):
    client = api_client_for(system_admin)
    page = client.get("/calendar/holidays/?year=2026")
    assert page.status_code == 200
    body = page.content.decode()
    assert "国庆节" in body and "2026-10-10" in body and "2027 年尚无放假安排数据" in body
    response = client.post(
        "/calendar/holidays/new/", {"date": "2027-01-01", "kind": "holiday", "name": "元旦"}
    )
    assert response.status_code == 302 and response["Location"] == "/calendar/holidays/?year=2027"
    day = Holiday.objects.get(date=D(2027, 1, 1))
    response = client.post(
        f"/calendar/holidays/{day.pk}/", {"date": "2027-01-01", "kind": "holiday", "name": "新年"}
    )
    assert response.status_code == 302
    day.refresh_from_db()
    assert day.name == "新年"
    bad = client.post("/calendar/holidays/new/", {"date": "2027-01-04", "kind": "workday", "name": "x"})
    assert bad.status_code == 200 and "调休上班日应为周六或周日" in bad.content.decode()
    assert client.post(f"/calendar/holidays/{day.pk}/delete/").status_code == 302
    assert not Holiday.objects.filter(date=D(2027, 1, 1)).exists()
    export = client.get("/calendar/holidays/export/?year=2026")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    table = read_table(export.content, "x.xlsx", HOLIDAY_IMPORT_COLUMNS)  # the export reads back as an import
    assert len(table.rows) == Holiday.objects.filter(date__year=2026).count()


def test_the_import_screen_previews_then_commits(tree, system_admin):
    client = api_client_for(system_admin)
    upload = SimpleUploadedFile("h.csv", csv_bytes(ROWS_2027), content_type="text/csv")
    preview = client.post("/calendar/holidays/import/", {"step": "preview", "file": upload})
    assert preview.status_code == 200 and preview.context["result"].created == 4
    assert not Holiday.objects.filter(date__year=2027).exists()
    done = client.post(
        "/calendar/holidays/import/", {"step": "commit", "upload": preview.context["upload_token"]}
    )
    assert done.status_code == 200 and done.context["committed"]
    assert Holiday.objects.filter(date__year=2027).count() == 4


def test_business_users_read_but_do_not_edit(tree, district_admin, auditor):
    client = api_client_for(district_admin)
    page = client.get("/calendar/holidays/")
    assert page.status_code == 200 and not page.context["can_manage"]
    assert client.get("/calendar/holidays/new/").status_code == 403
    assert client.post("/calendar/holidays/import/").status_code == 403
    day = Holiday.objects.get(date=D(2026, 10, 1))
    assert client.post(f"/calendar/holidays/{day.pk}/delete/").status_code == 403
    assert api_client_for(auditor).get("/calendar/holidays/").status_code == 403


def test_home_page_warns_the_administrator_about_a_missing_year(
    tree, system_admin, district_admin, monkeypatch
):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: D(2026, 11, 28))
    figures = {str(f.label): f for f in api_client_for(system_admin).get("/").context["figures"]}
    assert figures["节假日安排缺失"].value == "2027"
    assert figures["节假日安排缺失"].url == "/calendar/holidays/"
    others = {str(f.label) for f in api_client_for(district_admin).get("/").context["figures"]}
    assert "节假日安排缺失" not in others
    Holiday.objects.create(date=D(2027, 1, 1), kind="holiday", name="元旦")
    figures = {str(f.label) for f in api_client_for(system_admin).get("/").context["figures"]}
    assert "节假日安排缺失" not in figures
