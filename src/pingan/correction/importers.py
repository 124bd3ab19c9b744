"""Import of correction clients from xlsx/xls/csv (矫正对象导入).

Columns are matched by name in any order (``core.excel.ColumnMatch``). Every row is validated with the
service rules (``services.clean_client_data``; ID number GB 11643; category by code or label; the
community/grid by code or unique name inside the actor's scope). Idempotent by correction number: a new
number registers a client through ``services.client_register`` (which finds or registers the person by ID
number); a known number in the actor's scope is updated when it differs, left alone when identical. Each
row runs in its own savepoint, so a row refused by the database does not take the others with it; a dry
run writes nothing. One audit event records the import and its counts (plus one per created/updated
client, from the services).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

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
from pingan.correction import services
from pingan.correction.models import CorrectionClient

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名",),
    "id_number": ("公民身份号码", "身份证号", "身份证号码", "证件号码"),
    "number": ("矫正编号", "社区矫正编号"),
    "category": ("矫正类别", "类别"),
    "offence": ("罪名", "犯罪类型"),
    "offence_code": ("罪名代码",),
    "sentence": ("原判刑罚", "原判刑种"),
    "sentence_months": ("原判刑期（月）", "原判刑期(月)", "原判刑期"),
    "start_date": ("矫正期起", "矫正起始日期", "矫正开始日期"),
    "end_date": ("矫正期止", "矫正结束日期", "矫正期满日期"),
    "authority": ("决定机关", "裁判机关"),
    "judgment_effective_date": ("判决生效日期", "裁判生效日期"),
    "reported_on": ("报到日期",),
    "area": ("所属社区/网格", "所属社区", "所属网格", "社区编码", "网格编码"),
    "phone": ("联系电话", "电话"),
    "remarks": ("备注",),
}
REQUIRED = (
    "name",
    "id_number",
    "number",
    "category",
    "offence",
    "start_date",
    "end_date",
    "authority",
    "judgment_effective_date",
    "area",
)
LABELS = {key: names[0] for key, names in COLUMNS.items()}
COMPARED = tuple(f for f in services.EDITABLE)


class ImportResult(excel.ImportResult):
    labels = LABELS


def template() -> bytes:
    columns = [Column(names[0], 16, text=True) for names in COLUMNS.values()]
    example = [
        EXAMPLE_NAME,
        EXAMPLE_ID,
        "JZ-示例-0001",
        "缓刑",
        "盗窃罪",
        "",
        "有期徒刑一年，缓刑二年",
        "24",
        "2026-01-10",
        "2028-01-09",
        "天津市河西区人民法院",
        "2026-01-10",
        "2026-01-15",
        "120103004001",
        "",
        "示例行，导入前请删除",
    ]
    return write_xlsx(
        columns=columns,
        rows=[example],
        title="社区矫正对象（导入模板）",
        note="必填：姓名、公民身份号码、矫正编号、矫正类别、罪名、矫正期起止、决定机关、判决生效日期、所属社区/网格",
    )


def error_report(result: ImportResult, *, filename: str = "") -> bytes:
    return excel.import_error_report(
        result, title=f"导入错误报告：{filename}" if filename else "导入错误报告"
    )


def _messages(exc: ValidationError) -> list[tuple[str, str]]:
    if hasattr(exc, "error_dict"):
        return [(k, m) for k, ms in exc.message_dict.items() for m in ms]
    return [("", m) for m in exc.messages]


def client_import(*, actor: Any, table: Table, dry_run: bool = False) -> ImportResult:
    if not actor.has_perm("correction.import_clients"):
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
    seen_numbers: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    with transaction.atomic():
        for row_number, raw in table.numbered_rows():
            values = match.extract(raw)
            if all(cell_text(v) == "" for v in values.values()):
                result.read -= 1
                continue
            if is_template_example(values.get("name"), values.get("id_number")):
                result.error(row_number, "name", str(EXAMPLE_REFUSED))
                continue
            data: dict[str, Any] = {
                k: (
                    v
                    if k in ("start_date", "end_date", "judgment_effective_date", "reported_on")
                    else cell_text(v)
                )
                for k, v in values.items()
            }
            data["id_number"] = values.get("id_number")
            area_text = cell_text(values.get("area")).replace(" ", "")
            area = by_code.get(area_text) or by_name.get(area_text)
            errors_before = len(result.errors)
            if area is None:
                result.error(
                    row_number,
                    "area",
                    _("所属社区/网格“%(v)s”不存在、名称不唯一或不在您的辖区") % {"v": area_text}
                    if area_text
                    else _("所属社区/网格不能为空"),
                )
            try:
                cleaned = services.clean_client_data(data)
            except ValidationError as exc:
                for key, message in _messages(exc):
                    result.error(row_number, key, message)
                continue
            if len(result.errors) > errors_before or area is None:
                continue
            number = cleaned["number"]
            if number in seen_numbers:
                result.error(
                    row_number, "number", _("与第 %(r)d 行的矫正编号重复") % {"r": seen_numbers[number]}
                )
                continue
            seen_numbers[number] = row_number
            id_text = cell_text(values.get("id_number")).upper()
            if id_text in seen_ids:
                result.error(
                    row_number, "id_number", _("与第 %(r)d 行的身份证号重复") % {"r": seen_ids[id_text]}
                )
                continue
            seen_ids[id_text] = row_number
            existing = CorrectionClient._base_manager.filter(number=number).select_related("person").first()
            try:
                with transaction.atomic():
                    if existing is None:
                        services.client_register(actor=actor, area=area, data=data)
                        result.created += 1
                        continue
                    if not actor.has_perm("correction.manage_client", existing):
                        raise ValidationError({"number": [_("该矫正编号已在其他辖区登记")]})
                    if (
                        cell_text(values.get("name"))
                        and cell_text(values.get("name")) != existing.person.name
                    ):
                        raise ValidationError({"name": [_("姓名与该矫正编号登记的对象不一致")]})
                    changed = {k: cleaned[k] for k in COMPARED if getattr(existing, k) != cleaned[k]}
                    if not changed:
                        result.unchanged += 1
                        continue
                    services.client_update(actor=actor, client_id=existing.pk, data=changed)
                    result.updated += 1
            except ValidationError as exc:
                for key, message in _messages(exc):
                    result.error(row_number, key, message)
            except services.CorrectionConflict as exc:
                result.error(row_number, "number", exc.message)
        if dry_run:
            transaction.set_rollback(True)
        else:
            audit_record(
                actor=actor,
                action="correction.client_import",
                changes={k: v for k, v in result.as_dict().items() if k != "errors"},
            )
    return result
