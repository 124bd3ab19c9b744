"""The monthly pre-release list (预释放名单) from the prisons: xlsx, xls or csv.

Each row names a person about to be released and the community that must receive them. The import
finds the person by ID number or registers them (``people.services``, 一人一档), and creates the case
with its hand-over task (待衔接) in that community; key persons (重点/必接必送) are flagged. Re-importing
the same list changes nothing: a person's open, not yet received case is updated in place (a corrected
release date or prison), identical rows are counted as unchanged. Each row is validated with the same
rules as the form; bad rows are reported (row, column, reason) and skipped, good rows are written. A dry
run writes nothing. One audit event records the import and its counts (each case also has its own).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pingan.areas.models import Area
from pingan.areas.selectors import place_lookup
from pingan.audit.services import audit_record
from pingan.core import excel
from pingan.core.excel import (
    EXAMPLE_ID,
    EXAMPLE_NAME,
    EXAMPLE_REFUSED,
    Column,
    ColumnMatch,
    Table,
    cell_text,
    is_template_example,
    write_xlsx,
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名",),
    "id_number": ("公民身份号码", "身份证号", "身份证号码", "证件号码"),
    "sex": ("性别",),
    "offence": ("罪名", "原罪名", "原判罪名"),
    "sentence": ("原判刑罚", "刑期", "原判刑期"),
    "prison": ("服刑场所", "监狱", "服刑监狱", "执行机关"),
    "release_date": ("预计释放日期", "释放日期", "刑满日期", "刑期止日"),
    "community": ("接收社区", "所属社区", "社区", "社区编码", "户籍地社区"),
    "registered_address": ("户籍地址", "户籍地详址"),
    "key_person": ("必接必送", "重点帮教对象", "是否重点"),
    "recidivist": ("累犯", "是否累犯"),
    "remarks": ("备注",),
}
REQUIRED = ("name", "id_number", "offence", "release_date", "community")
LABELS = {key: names[0] for key, names in COLUMNS.items()}


def parse_date(value: Any) -> dt.date:
    """A date cell: a date, an ISO string, 2025/1/5, 2025.1.5, 2025年1月5日 or 20250105."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = (
        cell_text(value)
        .replace("/", "-")
        .replace(".", "-")
        .replace("年", "-")
        .replace("月", "-")
        .rstrip("日")
    )
    text = text.split(" ")[0]
    try:
        return dt.date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
    except ValueError:
        if text.isdigit() and len(text) == 8:
            try:
                return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
            except ValueError:
                pass
    raise ValidationError(_("日期格式不正确，应为 2025-12-31"))


class ImportResult(excel.ImportResult):
    labels = LABELS


def template() -> bytes:
    """The blank list with one obviously synthetic example row."""
    columns = [Column(names[0], 16, text=True) for names in COLUMNS.values()]
    example = [
        EXAMPLE_NAME,
        EXAMPLE_ID,
        "男",
        "盗窃罪",
        "有期徒刑二年",
        "天津市示例监狱",
        "2026-01-15",
        "滦水里社区",
        "天津市河西区示例路1号",
        "否",
        "否",
        "示例行，导入前请删除",
    ]
    return write_xlsx(
        columns=columns,
        rows=[example],
        title="预释放人员名单（导入模板）",
        note="必填：姓名、公民身份号码、罪名、预计释放日期、接收社区（社区名称或编码）；身份证号请以文本格式填写",
    )


def error_report(result: ImportResult, *, filename: str = "") -> bytes:
    return excel.import_error_report(
        result, title=f"预释放名单导入错误报告：{filename}" if filename else "预释放名单导入错误报告"
    )


def _messages(exc: ValidationError) -> list[tuple[str, str]]:
    if hasattr(exc, "error_dict"):
        return [(key, m) for key, messages in exc.message_dict.items() for m in messages]
    return [("", m) for m in exc.messages]


def prerelease_import(*, actor: Any, table: Table, dry_run: bool = False, filename: str = "") -> ImportResult:
    from pingan.aftercare import services

    if not actor.has_perm("aftercare.import_cases"):
        raise PermissionDenied
    match = ColumnMatch.match(table.header, COLUMNS)
    result = ImportResult(read=len(table.rows), unknown_columns=match.unknown)
    missing = [k for k in REQUIRED if k not in match.columns]
    if missing:
        result.error(
            table.header_row_number,
            "",
            _("缺少必需的列：%(c)s") % {"c": "、".join(LABELS[m] for m in missing)},
        )
        return result
    by_code, by_name = place_lookup(actor)
    seen: dict[str, int] = {}
    source = (filename or _("预释放名单"))[:120]
    with transaction.atomic():
        for row_number, raw in table.numbered_rows():
            values = match.extract(raw)
            if all(cell_text(v) == "" for v in values.values()):
                result.read -= 1
                continue
            if is_template_example(values.get("name"), values.get("id_number")):
                result.error(row_number, "name", str(EXAMPLE_REFUSED))
                continue
            number = cell_text(values.get("id_number")).replace(" ", "").upper()
            if number and number in seen:
                result.error(row_number, "id_number", _("与第 %(r)d 行的身份证号重复") % {"r": seen[number]})
                continue
            seen[number] = row_number
            community = cell_text(values.get("community")).replace(" ", "")
            area = by_code.get(community) or by_name.get(community)
            if not community:
                result.error(row_number, "community", _("接收社区不能为空"))
                continue
            if area is None:
                result.error(
                    row_number,
                    "community",
                    _("接收社区“%(v)s”不存在、名称不唯一或不在您的辖区") % {"v": community},
                )
                continue
            try:
                release = parse_date(values.get("release_date"))
            except ValidationError as exc:
                result.error(row_number, "release_date", exc.messages[0])
                continue
            person_data = {"name": cell_text(values.get("name")), "id_number": values.get("id_number")}
            if cell_text(values.get("sex")):
                person_data["sex"] = cell_text(values.get("sex"))
            if cell_text(values.get("registered_address")):
                person_data["registered_address"] = cell_text(values.get("registered_address"))
            data = {
                "offence": cell_text(values.get("offence")),
                "sentence": cell_text(values.get("sentence")),
                "prison": cell_text(values.get("prison")),
                "release_date": release,
                "is_key_person": services._bool(cell_text(values.get("key_person"))),
                "is_recidivist": services._bool(cell_text(values.get("recidivist"))),
                "remarks": cell_text(values.get("remarks")),
            }
            try:
                with transaction.atomic():
                    outcome = _upsert(
                        actor=actor, area=area, person_data=person_data, data=data, source=source
                    )
            except ValidationError as exc:
                for key, message in _messages(exc):
                    result.error(row_number, key, message)
                continue
            except PermissionDenied:
                result.error(row_number, "community", _("您不能在接收社区“%(v)s”登记") % {"v": community})
                continue
            setattr(result, outcome, getattr(result, outcome) + 1)
        if dry_run:
            transaction.set_rollback(True)
        else:
            audit_record(
                actor=actor,
                action="aftercare.prerelease_import",
                changes={k: v for k, v in result.as_dict().items() if k != "errors"},
                reason=source,
            )
    return result


def _upsert(*, actor: Any, area: Area, person_data: dict[str, Any], data: dict[str, Any], source: str) -> str:
    """created / updated / unchanged."""
    from pingan.aftercare import services
    from pingan.aftercare.models import OPEN_STATUSES, AftercareCase, Handover, HandoverStatus

    person = services.person_for_case(actor=actor, area=area, person_data=person_data)
    existing = (
        AftercareCase._base_manager.filter(person=person).filter(release_date=data["release_date"]).first()
    ) or (
        AftercareCase._base_manager.filter(person=person, status__in=OPEN_STATUSES)
        .exclude(handover__status=HandoverStatus.RECEIVED)
        .first()
    )
    if existing is None:
        services.case_register(actor=actor, area=area, person_data=person_data, data=data, source=source)
        return "created"
    if not actor.has_perm("aftercare.manage_case", existing):
        raise ValidationError({"community": [_("该人员的帮教档案在其他辖区，请联系原辖区")]})
    values, errors = services.clean_case_data(data)
    if errors:
        raise ValidationError(errors)
    handover = Handover.objects.filter(case=existing).first()
    if existing.status not in OPEN_STATUSES or (handover and handover.status == HandoverStatus.RECEIVED):
        return "unchanged"  # already received: the list cannot change a case in progress
    compared = ("offence", "sentence", "prison", "release_date", "is_key_person", "is_recidivist")
    diff = {
        k: [str(getattr(existing, k)), str(values[k])] for k in compared if getattr(existing, k) != values[k]
    }
    if not diff:
        return "unchanged"
    if "release_date" in diff and existing.assistance_end == services.default_assistance_end(
        existing.release_date
    ):
        existing.assistance_end = services.default_assistance_end(values["release_date"])
    for key in compared:
        setattr(existing, key, values[key])
    existing.version += 1
    existing.save()
    if handover is not None:
        handover.expected_release_date = existing.release_date
        handover.must_meet = existing.is_key_person
        handover.flagged_at = None
        handover.source = source
        handover.save()
    audit_record(actor=actor, action="aftercare.case_update", obj=existing, changes=diff, reason=source)
    return "updated"
