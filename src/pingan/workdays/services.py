"""Writes to the holiday table: one day at a time (the screen), a file (import), and the seeding from the
``chinese-calendar`` package. Each is atomic and audited (except the seeding, which runs after every
``migrate`` and only ever fills years that have no row yet)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pingan.audit.services import audit_record, diff_fields
from pingan.core.excel import ImportResult
from pingan.core.text import contains_markup, normalize_text
from pingan.workdays.models import DayKind, DaySource, Holiday

# chinese-calendar names its holidays in English.
PACKAGE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}

HOLIDAY_IMPORT_COLUMNS = {
    "date": ("日期", "date"),
    "kind": ("类型", "类别", "kind", "type"),
    "name": ("名称", "节日", "节假日", "name"),
}
KIND_WORDS = {
    DayKind.HOLIDAY: ("holiday", "放假", "休息", "假日", "节假日", "休"),
    DayKind.WORKDAY: ("workday", "调休上班", "上班", "补班", "工作日", "班"),
}


def _require(actor: Any) -> None:
    if not actor.has_perm("workdays.manage_holidays"):
        raise PermissionDenied


def _snapshot(day: Holiday) -> dict[str, Any]:
    return {"date": day.date.isoformat(), "kind": day.kind, "name": day.name, "source": day.source}


def _clean(*, date: Any, kind: Any, name: Any) -> tuple[dt.date, str, str]:
    errors: dict[str, str] = {}
    day: dt.date | None = None
    try:
        day = parse_date(date)
    except ValueError as exc:
        errors["date"] = str(exc)
    try:
        kind = parse_kind(kind)
    except ValueError as exc:
        errors["kind"] = str(exc)
    name = normalize_text(str(name or ""))
    if not name:
        errors["name"] = _("名称不能为空")
    elif len(name) > 40 or contains_markup(name):
        errors["name"] = _("名称不能超过 40 个字符，且不能含有 < > 等标记字符")
    if day is not None and "kind" not in errors and kind == DayKind.WORKDAY and day.weekday() < 5:
        errors["kind"] = _("调休上班日应为周六或周日（周一至周五本来就是工作日）")
    if errors:
        raise ValidationError(errors)
    assert day is not None
    return day, kind, name


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value: Any) -> dt.date:
    """A date from a form, an API or a spreadsheet cell (date, datetime, 2027-01-01, 2027/1/1,
    2027年1月1日, 20270101)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = normalize_text(str(value or "")).replace(" ", "")
    text = re.sub(r"[T ]00:00(:00)?$", "", text)
    if not text:
        raise ValueError(_("日期不能为空"))
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return dt.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                break
    raise ValueError(_("日期“%(v)s”无法识别，请写成 2027-01-01") % {"v": text[:20]})


def parse_kind(value: Any) -> str:
    text = normalize_text(str(value or "")).replace(" ", "").lower()
    for kind, words in KIND_WORDS.items():
        if text == kind.value or text in words or text == str(kind.label):
            return kind.value
    raise ValueError(_("类型应为“放假”或“调休上班”"))


@transaction.atomic
def holiday_save(*, actor: Any, date: Any, kind: Any, name: Any, holiday_id: int | None = None) -> Holiday:
    """Create a day (``holiday_id`` None) or change one."""
    _require(actor)
    day, kind, name = _clean(date=date, kind=kind, name=name)
    clash = Holiday.objects.filter(date=day)
    if holiday_id is not None:
        clash = clash.exclude(pk=holiday_id)
    if clash.exists():
        raise ValidationError({"date": _("%(d)s 已有记录，请编辑那一条") % {"d": day.isoformat()}})
    if holiday_id is None:
        holiday = Holiday.objects.create(date=day, kind=kind, name=name, source=DaySource.MANUAL)
        audit_record(
            actor=actor, action="holiday.create", obj=holiday, changes=diff_fields({}, _snapshot(holiday))
        )
        return holiday
    holiday = Holiday.objects.select_for_update().get(pk=holiday_id)
    before = _snapshot(holiday)
    holiday.date, holiday.kind, holiday.name, holiday.source = day, kind, name, DaySource.MANUAL
    holiday.save()
    audit_record(
        actor=actor, action="holiday.update", obj=holiday, changes=diff_fields(before, _snapshot(holiday))
    )
    return holiday


@transaction.atomic
def holiday_delete(*, actor: Any, holiday_id: int) -> None:
    _require(actor)
    holiday = Holiday.objects.select_for_update().get(pk=holiday_id)
    audit_record(
        actor=actor, action="holiday.delete", obj=holiday, changes=diff_fields(_snapshot(holiday), {})
    )
    holiday.delete()


# --- import -----------------------------------------------------------------------------------------


@dataclass
class HolidayImportResult(ImportResult):
    years: list[int] = field(default_factory=list)  # the years the file touches

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "years": self.years}


def holiday_import(*, actor: Any, table: Any, dry_run: bool = False) -> HolidayImportResult:
    """Create or update days from a table (``core.excel.read_table``) with the columns 日期, 类型
    (放假 / 调休上班) and 名称. Rows are matched by date; days not in the file are kept. Every accepted
    row commits together; a dry run commits none."""
    from pingan.core.excel import ColumnMatch

    _require(actor)
    match = ColumnMatch.match(table.header, HOLIDAY_IMPORT_COLUMNS)
    result = HolidayImportResult(read=len(table.rows), unknown_columns=match.unknown)
    missing = [name for name in ("date", "kind", "name") if name not in match.columns]
    if missing:
        titles = {"date": "日期", "kind": "类型", "name": "名称"}
        result.errors.append(
            {
                "row": table.header_row_number,
                "column": "、".join(titles[m] for m in missing),
                "reason": _("缺少必需的列"),
            }
        )
        return result
    accepted: dict[dt.date, tuple[int, str, str]] = {}
    for row_number, row in table.numbered_rows():
        values = match.extract(row)
        if all(str(v or "").strip() == "" for v in values.values()):
            result.read -= 1
            continue
        try:
            day, kind, name = _clean(
                date=values.get("date"), kind=values.get("kind"), name=values.get("name")
            )
        except ValidationError as exc:
            titles = {"date": "日期", "kind": "类型", "name": "名称"}
            for key, messages in exc.message_dict.items():
                result.errors.append(
                    {"row": row_number, "column": titles.get(key, key), "reason": messages[0]}
                )
            continue
        if day in accepted:
            result.errors.append(
                {
                    "row": row_number,
                    "column": "日期",
                    "reason": _("与第 %(n)d 行日期重复") % {"n": accepted[day][0]},
                }
            )
            continue
        accepted[day] = (row_number, kind, name)
    with transaction.atomic():
        existing = {h.date: h for h in Holiday.objects.select_for_update().filter(date__in=list(accepted))}
        for day, (_row, kind, name) in sorted(accepted.items()):
            current = existing.get(day)
            if current is None:
                result.created += 1
                if not dry_run:
                    Holiday.objects.create(date=day, kind=kind, name=name, source=DaySource.IMPORT)
            elif current.kind == kind and current.name == name:
                result.unchanged += 1
            else:
                result.updated += 1
                if not dry_run:
                    current.kind, current.name, current.source = kind, name, DaySource.IMPORT
                    current.save()
        result.years = sorted({day.year for day in accepted})
        if not dry_run and (result.created or result.updated):
            audit_record(
                actor=actor,
                action="holiday.import",
                changes={
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "rejected": result.rejected,
                    "years": result.years,
                },
            )
    return result


# --- seeding from the package -----------------------------------------------------------------------


def package_days() -> dict[dt.date, tuple[str, str]]:
    """Every day the installed ``chinese-calendar`` knows: date → (kind, Chinese name)."""
    from chinese_calendar import constants

    days: dict[dt.date, tuple[str, str]] = {}
    for source, kind in ((constants.holidays, DayKind.HOLIDAY), (constants.workdays, DayKind.WORKDAY)):
        for day, holiday in source.items():
            english = str(getattr(holiday, "value", holiday))
            days[day] = (kind.value, PACKAGE_NAMES.get(english, english))
    return days


@transaction.atomic
def sync_from_package() -> dict[int, int]:
    """Fill every year the package knows and the table has no row for (idempotent). A year that has rows
    is never touched: once present, the table is the authority (an administrator's corrections and
    deletions stay). Returns {year: rows added}."""
    from django.db.models.functions import ExtractYear

    present = set(
        Holiday.objects.order_by()
        .annotate(year=ExtractYear("date"))
        .values_list("year", flat=True)
        .distinct()
    )
    added: dict[int, int] = {}
    rows: list[Holiday] = []
    for day, (kind, name) in sorted(package_days().items()):
        if day.year in present:
            continue
        rows.append(Holiday(date=day, kind=kind, name=name, source=DaySource.PACKAGE))
        added[day.year] = added.get(day.year, 0) + 1
    Holiday.objects.bulk_create(rows, ignore_conflicts=True)
    return added


def sync_after_migrate(**kwargs: Any) -> None:
    sync_from_package()
