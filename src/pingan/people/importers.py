"""The resident roster import (人员花名册导入).

One pass validates every row with the same rules as the forms (``services.clean_person_data``: GB 11643 ID
with the sex and birth date checked against it, phone, code tables by code or label), resolves the grid
within the actor's scope, and refuses duplicates inside the file and people registered in another
jurisdiction. Accepted rows are written together in one transaction, in bulk (``bulk_create`` /
``bulk_update`` in batches; blind indexes are computed by the fields on insert, pinyin here): new people
are created, known ones (same ID number, through the blind index) updated, identical ones left alone —
so importing the same file twice changes nothing the second time. A dry run writes nothing. One audit
event records the import and its counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pingan.areas.models import Area
from pingan.audit.services import audit_record
from pingan.core.codes import UnknownCode, code_resolve
from pingan.core.excel import Column, Table, cell_text, write_xlsx
from pingan.core.fields import index_field_for
from pingan.people.models import FloatingRecord, Person, PersonStatus, PersonStatusChange
from pingan.people.pinyin import name_pinyin
from pingan.people.services import clean_person_data

BATCH = 2000
UPDATE_BATCH = 250

ROSTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名",),
    "sex": ("性别",),
    "ethnic_group": ("民族",),
    "id_number": ("公民身份号码", "身份证号", "身份证号码", "证件号码"),
    "birth_date": ("出生日期",),
    "phone": ("联系电话", "电话", "手机号", "手机号码"),
    "registered_address": ("户籍地址", "户籍地详址"),
    "current_address": ("现住址", "现居住地址", "居住地址"),
    "grid": ("所属网格", "网格", "网格编码"),
    "category": ("人员类别",),
    "household_consistent": ("人户一致",),
    "political_status": ("政治面貌",),
    "education": ("文化程度", "学历"),
    "marital_status": ("婚姻状况",),
    "occupation": ("职业",),
    "permit_number": ("居住证号", "居住证号码"),
    "permit_valid_to": ("居住证有效期至", "居住证有效期"),
    "remarks": ("备注",),
}
REQUIRED = ("name", "id_number", "grid")
LABELS = {key: names[0] for key, names in ROSTER_COLUMNS.items()}
CATEGORY_FLAGS = {"1": "is_registered", "2": "is_floating", "3": "is_overseas", "4": "is_left_behind"}
COMPARED = (
    "name",
    "sex",
    "birth_date",
    "ethnic_group",
    "phone",
    "registered_address",
    "current_address",
    "political_status",
    "education",
    "marital_status",
    "occupation",
    "remarks",
    "household_consistent",
    "is_registered",
    "is_floating",
    "is_overseas",
    "is_left_behind",
    "area_id",
)


@dataclass
class PeopleImportResult:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    normalised: int = 0  # rows where an ID or phone was normalised (full-width, spaces, 15 → 18…)
    errors: list[dict[str, Any]] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({e["row"] for e in self.errors})

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "normalised": self.normalised,
            "errors": self.errors,
            "unknown_columns": self.unknown_columns,
        }

    def error(self, row: int, key: str, reason: str) -> None:
        self.errors.append({"row": row, "column": LABELS.get(key, key), "reason": reason})


def roster_template() -> bytes:
    """The blank roster with one obviously synthetic example row; every column is text."""
    columns = [Column(names[0], 16, text=True) for names in ROSTER_COLUMNS.values()]
    example = [
        "示例张三",
        "男",
        "汉族",
        "120103199001011231",
        "1990-01-01",
        "13800000000",
        "天津市河西区示例路1号",
        "示例小区1号楼1单元101室",
        "120103004001001",
        "户籍人口",
        "是",
        "群众",
        "大学本科毕业",
        "已婚",
        "职员",
        "",
        "",
        "示例行，导入前请删除",
    ]
    return write_xlsx(
        columns=columns,
        rows=[example],
        title="实有人口花名册（导入模板）",
        note="带 * 的列必填：姓名、公民身份号码、所属网格（网格编码或名称）；身份证号请以文本格式填写",
    )


def error_report(result: PeopleImportResult, *, filename: str = "") -> bytes:
    return write_xlsx(
        columns=[Column("行号", 8), Column("列", 16), Column("原因", 70)],
        rows=[[e["row"], e["column"], e["reason"]] for e in result.errors],
        title=f"导入错误报告：{filename}" if filename else "导入错误报告",
    )


def _grid_lookup(actor: Any) -> tuple[dict[str, Area], dict[str, Area | None]]:
    from pingan.accounts.selectors import user_scope

    qs = Area.objects.filter(level__in=("community", "grid"), active=True)
    if getattr(actor, "is_authenticated", False):
        scope = user_scope(actor)
        if not scope.everything:
            qs = qs.filter(pk__in=sorted(scope.area_ids))
    by_code = {a.code: a for a in qs}
    by_name: dict[str, Area | None] = {}
    for area in by_code.values():
        by_name[area.name] = None if area.name in by_name else area
    return by_code, by_name


def _categories(value: Any) -> dict[str, bool]:
    text = cell_text(value)
    flags = dict.fromkeys(CATEGORY_FLAGS.values(), False)
    if not text:
        return flags
    for part in text.replace("，", "、").replace(",", "、").replace("/", "、").replace(";", "、").split("、"):
        part = part.strip()
        if part:
            flags[CATEGORY_FLAGS[code_resolve("person_category", part)]] = True
    return flags


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
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
    try:
        return dt.date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
    except ValueError:
        if text.isdigit() and len(text) == 8:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        raise ValidationError(_("日期格式不正确，应为 2025-12-31")) from None


def _batched(items: list[Any], size: int = BATCH) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def people_import(*, actor: Any, table: Table, dry_run: bool = False) -> PeopleImportResult:
    from pingan.core.masking import mask_id_number

    if not actor.has_perm("people.import_people"):
        raise PermissionDenied
    from pingan.core.excel import ColumnMatch

    match = ColumnMatch.match(table.header, ROSTER_COLUMNS)
    result = PeopleImportResult(read=len(table.rows), unknown_columns=match.unknown)
    missing = [k for k in REQUIRED if k not in match.columns]
    if missing:
        result.error(
            table.header_row_number,
            "",
            _("缺少必需的列：%(c)s") % {"c": "、".join(LABELS[m] for m in missing)},
        )
        return result
    by_code, by_name = _grid_lookup(actor)
    rows: list[tuple[int, dict[str, Any], Area, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for row_number, raw in table.numbered_rows():
        values = match.extract(raw)
        if all(cell_text(v) == "" for v in values.values()):
            result.read -= 1
            continue
        data: dict[str, Any] = {}
        for key in (
            "name",
            "sex",
            "ethnic_group",
            "registered_address",
            "current_address",
            "political_status",
            "education",
            "marital_status",
            "occupation",
            "remarks",
        ):
            if key in values:
                data[key] = cell_text(values[key])
        data["id_number"] = values.get("id_number")
        if "phone" in values:
            data["phone"] = values["phone"]
        if "birth_date" in values:
            try:
                data["birth_date"] = _date(values["birth_date"])
            except ValidationError as exc:
                result.error(row_number, "birth_date", exc.messages[0])
                continue
        if "household_consistent" in values:
            data["household_consistent"] = cell_text(values["household_consistent"])
        errors_before = len(result.errors)
        try:
            data.update(_categories(values.get("category")))
        except UnknownCode as exc:
            result.error(row_number, "category", _("人员类别“%(v)s”无法识别") % {"v": exc.value})
        except KeyError:
            result.error(row_number, "category", _("人员类别无法识别"))
        grid_text = cell_text(values.get("grid")).replace(" ", "")
        area = by_code.get(grid_text) or by_name.get(grid_text)
        if not grid_text:
            result.error(row_number, "grid", _("所属网格不能为空"))
        elif area is None:
            result.error(
                row_number, "grid", _("所属网格“%(v)s”不存在、名称不唯一或不在您的辖区") % {"v": grid_text}
            )
        try:
            cleaned = clean_person_data(data)
        except ValidationError as exc:
            result.error(row_number, "household_consistent", exc.messages[0])
            continue
        for key, messages in cleaned.errors.items():
            for message in messages:
                result.error(row_number, key, message)
        if not cleaned.values.get("id_number") and "id_number" not in cleaned.errors:
            result.error(row_number, "id_number", _("公民身份号码不能为空"))
        floating: dict[str, Any] = {}
        permit = cell_text(values.get("permit_number")).replace(" ", "")
        if permit or cell_text(values.get("permit_valid_to")):
            try:
                floating = {"permit_number": permit, "valid_to": _date(values.get("permit_valid_to"))}
            except ValidationError as exc:
                result.error(row_number, "permit_valid_to", exc.messages[0])
            if (
                not cleaned.values.get("is_floating")
                and "category" in values
                and cell_text(values.get("category"))
            ):
                result.error(row_number, "permit_number", _("填写了居住证的人员，人员类别应包含“流动人口”"))
        if len(result.errors) > errors_before or area is None:
            continue
        number = cleaned.values["id_number"]
        if number in seen:
            result.error(row_number, "id_number", _("与第 %(r)d 行的身份证号重复") % {"r": seen[number]})
            continue
        seen[number] = row_number
        if cleaned.notes:
            result.normalised += 1
        if floating and not cleaned.values.get("is_floating") and "category" not in values:
            cleaned.values["is_floating"] = True
        rows.append((row_number, cleaned.values, area, floating))

    index_field = index_field_for(Person, "id_number")
    with transaction.atomic():
        existing: dict[str, Person] = {}
        indexes = {
            index_field.index_for(values["id_number"]): values["id_number"] for _r, values, _a, _f in rows
        }
        for chunk in _batched(list(indexes)):
            for found in Person._base_manager.filter(id_number_index__in=chunk):
                existing[found.id_number] = found
        scope_check = getattr(actor, "is_authenticated", False)
        from pingan.accounts.selectors import user_scope

        scope = user_scope(actor) if scope_check else None
        to_create: list[Person] = []
        to_update: list[Person] = []
        changed_fields: set[str] = set()
        floating_for: list[tuple[Person, dict[str, Any]]] = []
        for row_number, values, area, floating in rows:
            person: Person | None = existing.get(values["id_number"])
            if person is not None:
                if scope is not None and not scope.contains_area_id(person.area_id):
                    result.error(
                        row_number,
                        "id_number",
                        _("该身份证号（%(m)s）的人员已在其他辖区登记，请联系原辖区办理迁出")
                        % {"m": mask_id_number(values["id_number"])},
                    )
                    continue
                values = {**values, "area_id": area.pk}
                diff = [k for k in COMPARED if k in values and getattr(person, k) != values[k]]
                if not diff:
                    result.unchanged += 1
                else:
                    for key in diff:
                        setattr(person, key, values[key])
                    if "name" in diff:
                        person.name_pinyin, person.name_initials = name_pinyin(person.name)
                        diff += ["name_pinyin", "name_initials"]
                    changed_fields.update(diff)
                    to_update.append(person)
                    result.updated += 1
            else:
                person = Person(area=area, **values)
                person.name_pinyin, person.name_initials = name_pinyin(person.name)
                to_create.append(person)
                result.created += 1
            if floating:
                floating_for.append((person, floating))
        for chunk in _batched(to_create):
            Person.objects.bulk_create(chunk)
        if to_update:
            fields = sorted(changed_fields | {"updated_at"})
            now = dt.datetime.now(dt.UTC)
            for person in to_update:
                person.updated_at = now
            # bulk_update writes one CASE WHEN per field over the batch: cost grows with the square of the
            # batch size, so updates go in smaller batches than inserts
            for chunk in _batched(to_update, UPDATE_BATCH):
                Person.objects.bulk_update(chunk, fields)
        history = [
            PersonStatusChange(
                person=p,
                to_status=PersonStatus.ACTIVE,
                event="import",
                actor_username=str(actor.get_username()),
            )
            for p in to_create
        ]
        for chunk in _batched(history):
            PersonStatusChange.objects.bulk_create(chunk)
        _sync_floating(floating_for)
        if dry_run:
            transaction.set_rollback(True)
        else:
            audit_record(
                actor=actor,
                action="person.import",
                changes={k: v for k, v in result.as_dict().items() if k != "errors"},
            )
    return result


def _sync_floating(items: list[tuple[Person, dict[str, Any]]]) -> None:
    """One current residence-permit record per imported floating person: updated when it differs."""
    if not items:
        return
    pks = [p.pk for p, _v in items]
    latest: dict[int, FloatingRecord] = {}
    for chunk in _batched(pks):
        for found in FloatingRecord.objects.filter(person_id__in=chunk).order_by("person_id", "-pk"):
            latest.setdefault(found.person_id, found)
    create: list[FloatingRecord] = []
    update: list[FloatingRecord] = []
    today = dt.date.today()
    for person, values in items:
        record: FloatingRecord | None = latest.get(person.pk)
        if record is None:
            create.append(FloatingRecord(person=person, registered_on=today, **values))
        elif record.permit_number != values["permit_number"] or record.valid_to != values["valid_to"]:
            record.permit_number, record.valid_to = values["permit_number"], values["valid_to"]
            update.append(record)
    for chunk in _batched(create):
        FloatingRecord.objects.bulk_create(chunk)
    for chunk in _batched(update):
        FloatingRecord.objects.bulk_update(chunk, ["permit_number", "valid_to"])
