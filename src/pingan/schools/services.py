"""Writing the school registry: register, edit, import from Excel, export. Every write checks the actor's
permission and scope, validates with Chinese messages and is audited; an import commits all its accepted
rows together or none (a dry run commits none)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.areas.models import Area
from pingan.audit.services import audit_record, diff_fields
from pingan.core.excel import Column, ColumnMatch, ImportResult, Table, cell_text, write_xlsx
from pingan.core.text import contains_markup, normalize_text
from pingan.core.validators import LATITUDE_RANGE, LONGITUDE_RANGE, parse_phone
from pingan.schools.models import School

SCHOOL_FIELDS = (
    "name",
    "code",
    "kind",
    "ownership",
    "address",
    "latitude",
    "longitude",
    "students",
    "staff",
    "principal",
    "safety_lead",
    "phone",
    "guards",
    "closed_campus",
    "alarm_linked",
    "guard_post",
    "active",
)
BOOLEAN_FIELDS = ("closed_campus", "alarm_linked", "guard_post", "active")
COUNT_FIELDS = ("students", "staff", "guards")
MAX_COUNT = 100_000
# mainland China, with a margin: a coordinate outside it is a typing error (or latitude and longitude swapped)
TRUE_WORDS = {"是", "有", "已", "√", "✓", "y", "yes", "true", "1", "已落实", "已设立"}
FALSE_WORDS = {"否", "无", "未", "×", "✗", "n", "no", "false", "0", "未落实", "未设立", ""}


def _require(actor: Any, perm: str, obj: Any = None) -> None:
    allowed = actor.has_perm(perm, obj) if obj is not None else actor.has_perm(perm)
    if not allowed:
        raise PermissionDenied


def _choice(value: Any, choices: Any, message: str) -> str:
    """A choice given by its code (primary) or its label (小学)."""
    text = normalize_text(str(value or ""))
    for code, label in choices.choices:
        if text in (code, str(label)):
            return str(code)
    raise ValidationError(message)


def _short_text(value: Any, label: str, max_length: int, *, required: bool = False) -> str:
    text = normalize_text(str(value or ""))
    if required and not text:
        raise ValidationError(_("请填写%(label)s") % {"label": label})
    if len(text) > max_length:
        raise ValidationError(_("%(label)s不能超过 %(n)d 个字") % {"label": label, "n": max_length})
    if contains_markup(text):
        raise ValidationError(_("%(label)s不能含有 < > 等标记字符") % {"label": label})
    return text


def _count(value: Any, label: str) -> int | None:
    if value in (None, ""):
        return None
    text = normalize_text(str(value)).replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValidationError(_("%(label)s必须是整数") % {"label": label}) from None
    if number != number.to_integral_value():
        raise ValidationError(_("%(label)s必须是整数") % {"label": label})
    if not 0 <= number <= MAX_COUNT:
        raise ValidationError(_("%(label)s应在 0 到 %(n)d 之间") % {"label": label, "n": MAX_COUNT})
    return int(number)


def _coordinate(value: Any, label: str, bounds: tuple[Decimal, Decimal]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(normalize_text(str(value)))
    except InvalidOperation:
        raise ValidationError(_("%(label)s必须是数字（度，如 39.1234）") % {"label": label}) from None
    if not bounds[0] <= number <= bounds[1]:
        raise ValidationError(
            _("%(label)s应在 %(a)s 到 %(b)s 之间（请检查是否填反了经纬度）")
            % {"label": label, "a": bounds[0], "b": bounds[1]}
        )
    return number.quantize(Decimal("0.000001"))


def parse_yes_no(value: Any, label: str) -> bool:
    """是/否 as a spreadsheet has it (是, 否, √, ×, 1, 0, Y, N; an empty cell is 否)."""
    if isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValidationError(_("%(label)s应填“是”或“否”") % {"label": label})


def _label(field: str) -> str:
    return str(getattr(School._meta.get_field(field), "verbose_name", field))


def clean_school(data: Mapping[str, Any], existing: School | None = None) -> dict[str, Any]:
    """The registry's fields from ``data`` (codes or labels, text or numbers), validated; every field's
    problem at once, keyed by field. A field missing from ``data`` keeps the existing school's value."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}

    def take(field: str, parse: Any) -> None:
        if field not in data:
            if existing is None and field in ("name", "kind", "address"):
                data_missing = _("请填写%(label)s") % {"label": _label(field)}
                errors[field] = data_missing
            return
        try:
            values[field] = parse(data[field])
        except ValidationError as exc:
            errors[field] = exc.messages[0]

    take("name", lambda v: _short_text(v, _label("name"), 80, required=True))
    take("kind", lambda v: _choice(v, School.Kind, _("请选择学校类别（幼儿园、小学、初级中学……）")))
    take(
        "ownership",
        lambda v: _choice(v or School.Ownership.PUBLIC, School.Ownership, _("办学性质应为公办或民办")),
    )
    take("address", lambda v: _short_text(v, _label("address"), 200, required=True))
    take("code", _school_code)
    take("latitude", lambda v: _coordinate(v, _label("latitude"), LATITUDE_RANGE))
    take("longitude", lambda v: _coordinate(v, _label("longitude"), LONGITUDE_RANGE))
    for field in COUNT_FIELDS:
        take(field, lambda v, f=field: _count(v, _label(f)))
    take("principal", lambda v: _short_text(v, _label("principal"), 30))
    take("safety_lead", lambda v: _short_text(v, _label("safety_lead"), 30))
    take("phone", lambda v: parse_phone(v).number if cell_text(v) else "")
    for field in BOOLEAN_FIELDS:
        take(field, lambda v, f=field: parse_yes_no(v, _label(f)))
    if "guards" in values and values["guards"] is None:
        values["guards"] = 0
    if "active" in values and data.get("active") in (None, "") and existing is None:
        values["active"] = True
    lat = values.get("latitude", existing.latitude if existing else None)
    lng = values.get("longitude", existing.longitude if existing else None)
    if (lat is None) != (lng is None) and "latitude" not in errors and "longitude" not in errors:
        errors["latitude" if lat is None else "longitude"] = _("经度和纬度应同时填写或同时留空")
    if errors:
        raise ValidationError(errors)
    return values


def _school_code(value: Any) -> str | None:
    text = cell_text(value).replace(" ", "")
    if not text:
        return None
    if not (text.isdigit() and text.isascii() and len(text) == 10):
        raise ValidationError(_("学校标识码应为 10 位数字"))
    return text


def _check_area(actor: Any, area: Area | None) -> Area:
    if area is None or area.level not in ("community", "grid") or not area.active:
        raise ValidationError({"area": _("请选择学校所在的社区或网格")})
    probe = School(area=area)
    if not actor.has_perm("schools.manage_school", probe):
        raise ValidationError({"area": _("所选社区或网格不在您的辖区内")})
    return area


def _check_unique(values: Mapping[str, Any], area: Area, exclude: int | None = None) -> None:
    others = School.objects.exclude(pk=exclude or 0)
    if values.get("code") and others.filter(code=values["code"]).exists():
        raise ValidationError({"code": _("学校标识码 %(c)s 已登记") % {"c": values["code"]}})
    if "name" in values and others.filter(area=area, name=values["name"]).exists():
        raise ValidationError({"name": _("该社区（网格）已登记同名学校")})


@transaction.atomic
def school_create(*, actor: Any, area: Area | None, data: Mapping[str, Any]) -> School:
    _require(actor, "schools.write_schools")
    area = _check_area(actor, area)
    values = clean_school(data)
    _check_unique(values, area)
    school = School(area=area, **values)
    try:
        with transaction.atomic():  # two registrations at once: the constraints keep one
            school.save()
    except IntegrityError:
        raise ValidationError({"name": _("该学校已登记")}) from None
    audit_record(
        actor=actor,
        action="school.create",
        obj=school,
        changes={k: [None, str(v)] for k, v in values.items() if v not in (None, "")},
    )
    return school


@transaction.atomic
def school_update(*, actor: Any, school_id: int, data: Mapping[str, Any], area: Area | None = None) -> School:
    """Change a school's fields (those in ``data``) and, with ``area``, move it to another community or
    grid of the actor's scope. The row is locked: two edits at once apply one after the other."""
    from pingan.schools.selectors import school_get

    school = school_get(user=actor, school_id=school_id)
    _require(actor, "schools.manage_school", school)
    school = School.objects.select_for_update().select_related("area").get(pk=school.pk)
    values = clean_school(data, existing=school)
    target = _check_area(actor, area) if area is not None and area.pk != school.area_id else school.area
    _check_unique({"name": values.get("name", school.name), "code": values.get("code")}, target, school.pk)
    before = {k: getattr(school, k) for k in values} | {"area": school.area.code}
    for key, value in values.items():
        setattr(school, key, value)
    school.area = target
    school.save()
    after = {k: getattr(school, k) for k in values} | {"area": target.code}
    changes = diff_fields({k: str(v) for k, v in before.items()}, {k: str(v) for k, v in after.items()})
    if changes:
        audit_record(actor=actor, action="school.update", obj=school, changes=changes)
    return school


# --- Excel import and export -----------------------------------------------------------------------------

IMPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("学校名称", "名称", "学校"),
    "code": ("学校标识码", "标识码", "学校代码"),
    "kind": ("学校类别", "类别", "学段"),
    "ownership": ("办学性质", "性质"),
    "area": ("所在社区/网格", "所在社区", "所在网格", "社区", "网格"),
    "area_code": ("区划代码", "社区/网格代码"),  # the export's: it names the place when two share a name
    "address": ("地址", "学校地址"),
    "latitude": ("纬度",),
    "longitude": ("经度",),
    "students": ("在校学生数", "学生数"),
    "staff": ("教职工数", "教职工"),
    "principal": ("校长（园长）", "校长", "园长"),
    "safety_lead": ("安全负责人",),
    "phone": ("安全值班电话", "值班电话", "联系电话"),
    "guards": ("专职保安人数", "专职保安", "保安人数"),
    "closed_campus": ("封闭化管理",),
    "alarm_linked": ("一键报警与公安联网", "一键报警"),
    "guard_post": ("护学岗",),
    "active": ("在办",),
}
REQUIRED_COLUMNS = ("name", "kind", "area", "address")  # "area": or "area_code"


class SchoolImportResult(ImportResult):
    labels: ClassVar[Mapping[str, str]] = {key: names[0] for key, names in IMPORT_COLUMNS.items()}


def _import_area(value: Any, code: Any, places: tuple[dict[str, Area], dict[str, Area | None]]) -> Area:
    """The community or grid a row names, by its code (12 or 15 digits: the 区划代码 column, or the name
    column holding a code) or its name, among the importer's places (``areas.selectors.place_lookup``)."""
    by_code, by_name = places
    text = cell_text(code).replace(" ", "") or cell_text(value).replace(" ", "")
    if not text:
        raise ValidationError(_("请填写学校所在的社区或网格（名称或区划代码）"))
    if text in by_code:
        return by_code[text]
    if text in by_name:
        found = by_name[text]
        if found is None:
            raise ValidationError(_("“%(v)s”对应多个社区或网格，请填写区划代码") % {"v": text})
        return found
    raise ValidationError(_("“%(v)s”不是您辖区内的社区或网格") % {"v": text})


def school_import(*, actor: Any, table: Table, dry_run: bool = False) -> SchoolImportResult:
    """Create or update schools from a table (core.excel). A row is the school with its 学校标识码, else the
    school of the same name in the same community or grid. All accepted rows commit together; a dry run
    commits none. Re-importing the same file changes nothing."""
    from pingan.areas.selectors import place_lookup

    _require(actor, "schools.write_schools")
    match = ColumnMatch.match(table.header, IMPORT_COLUMNS)
    result = SchoolImportResult(read=len(table.rows), unknown_columns=match.unknown)
    given = set(match.columns) | ({"area"} if "area_code" in match.columns else set())
    missing = [name for name in REQUIRED_COLUMNS if name not in given]
    if missing:
        result.error(
            table.header_row_number,
            "",
            _("缺少必需的列：%(c)s") % {"c": "、".join(IMPORT_COLUMNS[m][0] for m in missing)},
        )
        return result
    places = place_lookup(actor)
    seen: dict[tuple[str, ...], int] = {}
    with transaction.atomic():
        for row_number, raw in table.numbered_rows():
            values = match.extract(raw)
            if all(cell_text(v) == "" for v in values.values()):
                result.read -= 1
                continue
            try:
                _import_row(actor, values, places, seen, row_number, result)
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    for message in messages:
                        result.error(row_number, key if key != "__all__" else "", message)
        if dry_run:
            transaction.set_rollback(True)
        else:
            audit_record(
                actor=actor,
                action="school.import",
                changes={
                    k: [None, v] for k, v in result.as_dict().items() if k in ("read", "created", "updated")
                },
            )
    result.attach_rows(table)
    return result


def _import_row(
    actor: Any,
    values: dict[str, Any],
    places: tuple[dict[str, Area], dict[str, Area | None]],
    seen: dict[tuple[str, ...], int],
    row_number: int,
    result: SchoolImportResult,
) -> None:
    try:
        area = _import_area(values.pop("area", None), values.pop("area_code", None), places)
    except ValidationError as exc:
        raise ValidationError({"area": exc.messages}) from None
    # the row's identity, leniently: an invalid name or code is reported with every other error of the row
    name = normalize_text(str(values.get("name") or ""))
    code = cell_text(values.get("code")).replace(" ", "")
    keys: list[tuple[str, ...]] = [("code", code)] if code else []
    if name:
        keys.append(("name", area.code, name))
    for key in keys:
        if key in seen:
            raise ValidationError({key[0]: _("与第 %(r)d 行是同一所学校（文件中重复）") % {"r": seen[key]}})
    for key in keys:
        seen[key] = row_number
    existing = (School.objects.filter(code=code).first() if code else None) or School.objects.filter(
        area=area, name=name
    ).first()
    if existing is None:
        with transaction.atomic():
            school_create(actor=actor, area=area, data=values)
        result.created += 1
        return
    if not actor.has_perm("schools.manage_school", existing):
        raise ValidationError({"code": _("该学校已登记在您辖区以外，不能在此更新")})
    # on an existing school an empty cell changes nothing (空白不覆盖): a file may carry only some columns
    given = clean_school({k: v for k, v in values.items() if cell_text(v) != ""}, existing=existing)
    if existing.area_id == area.pk and all(getattr(existing, k) == v for k, v in given.items()):
        result.unchanged += 1
        return
    with transaction.atomic():
        school_update(actor=actor, school_id=existing.pk, data={k: values[k] for k in given}, area=area)
    result.updated += 1


EXPORT_COLUMNS = [
    Column("学校名称", 24),
    Column("学校标识码", 14, text=True),
    Column("学校类别", 14),
    Column("办学性质", 10),
    Column("所在社区/网格", 20),
    Column("区划代码", 17, text=True),
    Column("地址", 30),
    Column("纬度", 12),
    Column("经度", 12),
    Column("在校学生数", 10),
    Column("教职工数", 10),
    Column("校长（园长）", 12),
    Column("安全负责人", 12),
    Column("安全值班电话", 16, text=True),
    Column("专职保安人数", 10),
    Column("封闭化管理", 10),
    Column("一键报警与公安联网", 12),
    Column("护学岗", 8),
    Column("在办", 6),
]


def school_export(*, actor: Any, filters: Any = None) -> tuple[bytes, int]:
    """The filtered list as xlsx, in the import template's columns (a file exported can be imported back),
    with the exporting user and time on top; audited. Returns the file and its row count."""
    from pingan.schools.selectors import school_list

    _require(actor, "schools.export_schools")
    schools = list(school_list(user=actor, filters=filters))
    rows = [
        [
            s.name,
            s.code or "",
            s.get_kind_display(),
            s.get_ownership_display(),
            s.area.name,
            s.area.code,
            s.address,
            float(s.latitude) if s.latitude is not None else "",
            float(s.longitude) if s.longitude is not None else "",
            s.students if s.students is not None else "",
            s.staff if s.staff is not None else "",
            s.principal,
            s.safety_lead,
            s.phone,
            s.guards,
            s.closed_campus,
            s.alarm_linked,
            s.guard_post,
            s.active,
        ]
        for s in schools
    ]
    audit_record(
        actor=actor,
        action="school.export",
        kind="export",
        changes={"rows": [None, len(rows)], "filters": [None, filters.as_params() if filters else {}]},
    )
    content = write_xlsx(
        columns=EXPORT_COLUMNS,
        rows=rows,
        title=_("学校台账"),
        note=_("导出人：%(u)s　导出时间：%(t)s")
        % {"u": actor.get_username(), "t": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
        sheet_name="学校台账",
    )
    return content, len(rows)


def import_template() -> bytes:
    """The import template: the export's columns with one example row."""
    example = [
        "示例：第一实验小学",
        "",
        "小学",
        "公办",
        "（社区或网格名称，或区划代码）",
        "",
        "示例路 1 号",
        "",
        "",
        1200,
        90,
        "",
        "",
        "022-23456789",
        2,
        "是",
        "是",
        "否",
        "是",
    ]
    return write_xlsx(
        columns=[c for c in EXPORT_COLUMNS if c.title != "区划代码"],
        rows=[example[:5] + example[6:]],
        title=_("学校台账导入模板"),
        note=_(
            "学校名称、学校类别、所在社区/网格、地址为必填；“是/否”列可填 是、否、√、×。请删除示例行后填写。"
        ),
    )
