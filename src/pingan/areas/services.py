"""Writes to the jurisdiction tree and departments. Each is atomic and audited."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from pingan.areas.models import CODE_LENGTH, LEVEL_ORDER, Area, Department, Level
from pingan.audit.services import audit_record, diff_fields
from pingan.core.codes import UnknownCode, code_resolve
from pingan.core.excel import ImportResult, cell_text
from pingan.core.text import contains_markup, normalize_text

AREA_FIELDS = ("code", "name", "level", "parent_id", "population", "households", "active")


def _require(actor: Any, perm: str) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied


def _validate_boundary(boundary: Any) -> dict[str, Any] | None:
    if boundary in (None, "", {}):
        return None
    if isinstance(boundary, str):
        try:
            boundary = json.loads(boundary)
        except json.JSONDecodeError as exc:
            raise ValidationError({"boundary": _("边界不是有效的 GeoJSON：%(e)s") % {"e": exc.msg}}) from None
    if not isinstance(boundary, dict):
        raise ValidationError({"boundary": _("边界必须是 GeoJSON 对象")})
    geometry = boundary.get("geometry", boundary) if boundary.get("type") == "Feature" else boundary
    if geometry.get("type") not in ("Polygon", "MultiPolygon") or not isinstance(
        geometry.get("coordinates"), list
    ):
        raise ValidationError({"boundary": _("边界必须是 Polygon 或 MultiPolygon 类型的 GeoJSON")})
    return geometry


def _clean_area(
    *, code: str, name: str, level: str, parent: Area | None, existing: Area | None = None
) -> tuple[str, str, str]:
    code = normalize_text(str(code)).replace(" ", "")
    name = normalize_text(name)
    errors: dict[str, str] = {}
    if level not in Level.values:
        errors["level"] = _("层级必须是 区、街道、社区 或 网格")
        raise ValidationError(errors)
    expected = CODE_LENGTH[Level(level)]
    if not code.isdigit() or len(code) != expected:
        errors["code"] = _("%(level)s代码必须是 %(n)d 位数字") % {"level": Level(level).label, "n": expected}
    if not name:
        errors["name"] = _("名称不能为空")
    elif len(name) > 60 or contains_markup(name):
        errors["name"] = _("名称不能超过 60 个字符，且不能含有 < > 等标记字符")
    index = LEVEL_ORDER.index(Level(level))
    if index == 0:
        if parent is not None:
            errors["parent"] = _("区没有上级")
    elif parent is None:
        errors["parent"] = _("%(level)s必须有上级") % {"level": Level(level).label}
    elif parent.level != LEVEL_ORDER[index - 1]:
        errors["parent"] = _("%(level)s的上级必须是%(parent)s") % {
            "level": Level(level).label,
            "parent": LEVEL_ORDER[index - 1].label,
        }
    elif "code" not in errors and not code.startswith(parent.code):
        errors["code"] = _("代码必须以上级代码 %(code)s 开头") % {"code": parent.code}
    if "code" not in errors:
        clash = Area.objects.filter(code=code)
        if existing is not None:
            clash = clash.exclude(pk=existing.pk)
        if clash.exists():
            errors["code"] = _("代码 %(code)s 已被使用") % {"code": code}
    if existing is not None and existing.code != code and existing.children.exists():
        errors["code"] = _("已有下级的节点不能修改代码")
    if errors:
        raise ValidationError(errors)
    return code, name, level


def _snapshot(area: Area) -> dict[str, Any]:
    return {f: getattr(area, f) for f in AREA_FIELDS}


@transaction.atomic
def area_create(
    *,
    actor: Any,
    code: str,
    name: str,
    level: str,
    parent: Area | None = None,
    boundary: Any = None,
    population: int | None = None,
    households: int | None = None,
) -> Area:
    _require(actor, "areas.manage_areas")
    code, name, level = _clean_area(code=code, name=name, level=level, parent=parent)
    area = Area.objects.create(
        code=code,
        name=name,
        level=level,
        parent=parent,
        boundary=_validate_boundary(boundary),
        population=population,
        households=households,
    )
    audit_record(actor=actor, action="area.create", obj=area, changes=diff_fields({}, _snapshot(area)))
    return area


@transaction.atomic
def area_update(*, actor: Any, area_id: int, data: dict[str, Any]) -> Area:
    _require(actor, "areas.manage_areas")
    area = Area.objects.select_for_update().get(pk=area_id)
    before = _snapshot(area)
    code, name, _level = _clean_area(
        code=data.get("code", area.code),
        name=data.get("name", area.name),
        level=area.level,
        parent=area.parent,
        existing=area,
    )
    area.code, area.name = code, name
    if "boundary" in data:
        area.boundary = _validate_boundary(data["boundary"])
    for key in ("population", "households", "active"):
        if key in data:
            setattr(area, key, data[key])
    area.save()
    changes = diff_fields(before, _snapshot(area))
    if "boundary" in data:
        changes["boundary"] = ["…", "…"]
    audit_record(actor=actor, action="area.update", obj=area, changes=changes)
    return area


# --- import -----------------------------------------------------------------------------------

AREA_IMPORT_COLUMNS = {
    "code": ("区划代码", "代码", "编码", "code"),
    "name": ("名称", "区划名称", "name"),
    "level": ("层级", "级别", "level"),
    "parent_code": ("上级代码", "上级区划代码", "parent", "parent_code"),
    "population": ("人口数", "人口", "population"),
    "households": ("户数", "households"),
    "boundary": ("边界", "边界GeoJSON", "boundary"),
}
LEVEL_BY_LENGTH = {6: Level.DISTRICT, 9: Level.STREET, 12: Level.COMMUNITY, 15: Level.GRID}


def _to_int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(float(str(value).replace(",", "")))
    except ValueError:
        raise ValueError(_("必须是整数")) from None
    if number < 0:
        raise ValueError(_("不能是负数"))
    return number


def area_import(*, actor: Any, table: Any, dry_run: bool = False) -> ImportResult:
    """Create or update areas from a table (core.excel.Table). Rows are taken parents first, so the
    file may list them in any order. All accepted rows commit together; a dry run commits none."""
    from pingan.core.excel import ColumnMatch

    _require(actor, "areas.manage_areas")
    match = ColumnMatch.match(table.header, AREA_IMPORT_COLUMNS)
    result = ImportResult(read=len(table.rows), unknown_columns=match.unknown)
    missing = [name for name in ("code", "name") if name not in match.columns]
    if missing:
        result.errors.append(
            {
                "row": table.header_row_number,
                "column": "",
                "reason": _("缺少必需的列：%(c)s")
                % {"c": "、".join(AREA_IMPORT_COLUMNS[m][0] for m in missing)},
            }
        )
        return result
    parsed: list[tuple[int, dict[str, Any]]] = []
    for row_number, raw in table.numbered_rows():
        values = match.extract(raw)
        code = cell_text(values.get("code")).replace(" ", "")
        if not code and not values.get("name"):
            result.read -= 1
            continue
        level = values.get("level")
        try:
            level = code_resolve("area_level", level) if level else LEVEL_BY_LENGTH.get(len(code), "")
        except UnknownCode:
            result.errors.append(
                {"row": row_number, "column": "层级", "reason": _("层级“%(v)s”无法识别") % {"v": level}}
            )
            continue
        values["code"], values["level"] = code, level
        parsed.append((row_number, values))
    parsed.sort(key=lambda item: len(item[1]["code"]))
    seen: dict[str, int] = {}
    with transaction.atomic():
        for row_number, values in parsed:
            code = values["code"]
            if code in seen:
                result.errors.append(
                    {
                        "row": row_number,
                        "column": "区划代码",
                        "reason": _("代码重复，首次出现在第 %(r)d 行") % {"r": seen[code]},
                    }
                )
                continue
            seen[code] = row_number
            try:
                _import_one(actor=actor, values=values, result=result)
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    result.errors.extend(
                        {"row": row_number, "column": _column_label(key), "reason": m} for m in messages
                    )
            except ValueError as exc:
                result.errors.append({"row": row_number, "column": "", "reason": str(exc)})
        if dry_run:
            transaction.set_rollback(True)
        else:
            audit_record(
                actor=actor,
                action="area.import",
                changes={k: v for k, v in result.as_dict().items() if k != "errors"},
            )
    return result


def _column_label(key: str) -> str:
    return {
        "code": "区划代码",
        "name": "名称",
        "level": "层级",
        "parent": "上级代码",
        "boundary": "边界",
        "population": "人口数",
        "households": "户数",
    }.get(key, key)


def _import_one(*, actor: Any, values: dict[str, Any], result: ImportResult) -> None:
    code: str = values["code"]
    level: str = values["level"]
    parent_code = cell_text(values.get("parent_code")).replace(" ", "")
    if not parent_code and level in Level.values and LEVEL_ORDER.index(Level(level)) > 0:
        parent_code = code[: CODE_LENGTH[LEVEL_ORDER[LEVEL_ORDER.index(Level(level)) - 1]]]
    parent = Area.objects.filter(code=parent_code).first() if parent_code else None
    if parent_code and parent is None:
        raise ValidationError({"parent": _("上级代码 %(c)s 不存在") % {"c": parent_code}})
    population = _to_int(values.get("population"))
    households = _to_int(values.get("households"))
    existing = Area.objects.filter(code=code).first()
    if existing is None:
        area_create(
            actor=actor,
            code=code,
            name=str(values.get("name") or ""),
            level=level,
            parent=parent,
            boundary=values.get("boundary"),
            population=population,
            households=households,
        )
        result.created += 1
        return
    if existing.level != level or existing.parent_id != (parent.pk if parent else None):
        raise ValidationError({"level": _("已有节点的层级或上级与文件不一致")})
    data: dict[str, Any] = {"name": str(values.get("name") or "")}
    if values.get("population") not in (None, ""):
        data["population"] = population
    if values.get("households") not in (None, ""):
        data["households"] = households
    if values.get("boundary") not in (None, ""):
        data["boundary"] = _validate_boundary(values.get("boundary"))
    if all(getattr(existing, k) == (normalize_text(v) if k == "name" else v) for k, v in data.items()):
        result.unchanged += 1
        return
    area_update(actor=actor, area_id=existing.pk, data=data)
    result.updated += 1


# --- departments --------------------------------------------------------------------------------

DEPARTMENT_FIELDS = ("code", "name", "kind", "area_id", "phone", "active")


def _clean_department(data: dict[str, Any], existing: Department | None = None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    name = normalize_text(str(data.get("name", existing.name if existing else "")))
    if not name:
        errors["name"] = _("名称不能为空")
    elif contains_markup(name) or len(name) > 80:
        errors["name"] = _("名称不能超过 80 个字符，且不能含有 < > 等标记字符")
    cleaned["name"] = name
    code = normalize_text(str(data.get("code", existing.code if existing else ""))).lower()
    if not code or not all(ch.isalnum() or ch in "-_" for ch in code) or not code.isascii():
        errors["code"] = _("部门标识只能使用字母、数字、- 和 _")
    elif Department.objects.filter(code=code).exclude(pk=existing.pk if existing else 0).exists():
        errors["code"] = _("部门标识 %(c)s 已被使用") % {"c": code}
    cleaned["code"] = code
    try:
        cleaned["kind"] = code_resolve("department_type", data.get("kind", existing.kind if existing else ""))
        if not cleaned["kind"]:
            errors["kind"] = _("请选择部门类别")
    except UnknownCode:
        errors["kind"] = _("部门类别无法识别")
    area = data.get("area", existing.area if existing else None)
    if not isinstance(area, Area):
        errors["area"] = _("请选择所属辖区")
    cleaned["area"] = area
    cleaned["phone"] = normalize_text(str(data.get("phone", existing.phone if existing else "") or ""))[:30]
    cleaned["active"] = bool(data.get("active", existing.active if existing else True))
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def department_save(
    *, actor: Any, data: dict[str, Any], department_id: int | None = None, serves: list[Area] | None = None
) -> Department:
    _require(actor, "areas.manage_departments")
    existing = Department.objects.select_for_update().get(pk=department_id) if department_id else None
    cleaned = _clean_department(data, existing)
    before = {f: getattr(existing, f) for f in DEPARTMENT_FIELDS} if existing else {}
    department = existing or Department()
    for key, value in cleaned.items():
        setattr(department, key, value)
    department.save()
    if serves is not None:
        department.serves.set(serves)
    after = {f: getattr(department, f) for f in DEPARTMENT_FIELDS}
    changes = diff_fields(before, after)
    if serves is not None:
        changes["serves"] = [None, sorted(a.code for a in serves)]
    audit_record(
        actor=actor,
        action="department.update" if existing else "department.create",
        obj=department,
        changes=changes,
    )
    return department
