"""Every write on people and places: check, validate (Chinese messages), write, audit in one transaction.

Registration is an upsert by the normalised ID number through its blind index: registering the same
person again (from a form, the API or an import) updates the one record (一人一档). A person registered
in another jurisdiction is refused (the actor may not write there); the message says so without showing
the record.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.areas.models import Area
from pingan.audit.services import audit_record, diff_fields
from pingan.core.codes import UnknownCode, code_label, code_resolve
from pingan.core.fields import lookup_value
from pingan.core.text import contains_markup
from pingan.core.validators import parse_id_number, parse_phone
from pingan.people.models import (
    FloatingRecord,
    House,
    Household,
    HouseholdMember,
    Occupancy,
    OverseasRecord,
    Person,
    PersonStatus,
    PersonStatusChange,
)

RESIDENT_ID = "111"  # code table id_type: 居民身份证
CODE_FIELDS = {
    "sex": "sex",
    "ethnic_group": "ethnic_group",
    "political_status": "political_status",
    "education": "education",
    "marital_status": "marital_status",
    "religion": "religion",
    "nationality": "nationality",
    "id_type": "id_type",
}
TEXT_FIELDS = (
    "name",
    "former_name",
    "native_place",
    "occupation",
    "workplace",
    "registered_address",
    "current_address",
    "remarks",
)
FLAG_FIELDS = ("is_registered", "is_floating", "is_overseas", "is_left_behind", "household_consistent")
PERSON_FIELDS = (
    "id_type",
    "id_number",
    *TEXT_FIELDS,
    "sex",
    "birth_date",
    "ethnic_group",
    "nationality",
    "political_status",
    "education",
    "marital_status",
    "religion",
    "phone",
    *FLAG_FIELDS,
)
SENSITIVE = ("id_number", "phone", "registered_address", "current_address")
MAX_LENGTHS = {
    "name": 50,
    "former_name": 50,
    "native_place": 60,
    "occupation": 60,
    "workplace": 120,
    "remarks": 300,
}


def clean_text(value: Any) -> str:
    """Control characters (NUL and the like, which PostgreSQL refuses) become spaces; whitespace collapses."""
    text = str(value or "")
    if not text.isprintable():  # printable text has no control characters: skip the per-character pass
        text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return " ".join(text.split())


def _require(actor: Any, perm: str, obj: Any = None) -> None:
    if not actor.has_perm(perm, obj):
        raise PermissionDenied


def _actor_name(actor: Any) -> str:
    return str(actor.get_username()) if hasattr(actor, "get_username") else "system"


# --- cleaning -------------------------------------------------------------------------------------


@dataclass
class Cleaned:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was normalised

    def error(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)


def clean_person_data(
    data: Mapping[str, Any],
    *,
    partial: bool = False,
    resolve: Callable[[str, Any], str] = code_resolve,
    today: dt.date | None = None,
) -> Cleaned:
    """Validate and normalise person fields (every rule shared by forms, the API and the importer).

    Codes accept a code or a label (``resolve``: the importer passes a memoised ``code_resolve``). For a
    resident ID card the number is checked (GB 11643), and the sex
    and birth date, when given, must agree with it (when absent they are taken from it)."""
    out = Cleaned()
    v = out.values
    for key in TEXT_FIELDS:
        if key in data:
            text = clean_text(data[key])
            if len(text) > MAX_LENGTHS.get(key, 300):
                out.error(key, _("不能超过 %(n)d 个字") % {"n": MAX_LENGTHS.get(key, 300)})
            v[key] = text
    if (not partial or "name" in data) and not v.get("name"):
        out.error("name", _("姓名不能为空"))
    for key in ("name", "former_name"):  # a name is shown on many pages and in exports: no markup in it
        if v.get(key) and contains_markup(v[key]):
            out.error(key, _("姓名不能含有 < > 等标记字符"))
    for key, table in CODE_FIELDS.items():
        if key in data:
            try:
                v[key] = resolve(table, data[key])
            except UnknownCode:
                out.error(key, _("“%(v)s”不是有效的代码或名称") % {"v": data[key]})
    if not partial and not v.get("id_type"):
        v["id_type"] = RESIDENT_ID
    if "birth_date" in data:
        birth = data["birth_date"]
        if isinstance(birth, dt.datetime):
            birth = birth.date()
        if isinstance(birth, str) and birth.strip():
            text = (
                birth.strip()
                .replace("/", "-")
                .replace(".", "-")
                .replace("年", "-")
                .replace("月", "-")
                .rstrip("日")
            )
            try:
                birth = dt.date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
            except ValueError:
                if text.isdigit() and len(text) == 8:
                    try:
                        birth = dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
                    except ValueError:
                        birth = None
                        out.error("birth_date", _("出生日期格式不正确"))
                else:
                    birth = None
                    out.error("birth_date", _("出生日期格式不正确，应为 1990-01-01"))
        elif not birth:
            birth = None
        v["birth_date"] = birth
    if "id_number" in data:
        raw = data["id_number"]
        if raw is None or str(raw).strip() == "":
            v["id_number"] = ""
        elif v.get("id_type", data.get("id_type") or RESIDENT_ID) == RESIDENT_ID:
            try:
                parsed = parse_id_number(raw, today=today)
            except ValidationError as exc:
                out.error("id_number", exc.messages[0])
            else:
                v["id_number"] = parsed.number
                out.notes.extend(parsed.normalised)
                if v.get("sex") in (None, ""):
                    v["sex"] = parsed.sex
                elif v["sex"] in ("1", "2") and v["sex"] != parsed.sex:
                    out.error(
                        "sex",
                        _("性别与身份证号不一致（身份证号显示为%(s)s）")
                        % {"s": code_label("sex", parsed.sex)},
                    )
                if v.get("birth_date") is None:
                    v["birth_date"] = parsed.birth_date
                elif v["birth_date"] != parsed.birth_date:
                    out.error(
                        "birth_date",
                        _("出生日期与身份证号不一致（身份证号显示为 %(d)s）") % {"d": parsed.birth_date},
                    )
        else:
            v["id_number"] = "".join(str(raw).split()).upper()
    if "phone" in data:
        raw = data["phone"]
        if raw is None or str(raw).strip() == "":
            v["phone"] = ""
        else:
            try:
                v["phone"] = parse_phone(raw).number
            except ValidationError as exc:
                out.error("phone", exc.messages[0])
    for key in FLAG_FIELDS:
        if key in data:
            v[key] = data[key] if data[key] is None or isinstance(data[key], bool) else _to_bool(data[key])
    if v.get("birth_date") and v["birth_date"] > (today or timezone.localdate()):
        out.error("birth_date", _("出生日期不能晚于今天"))
    return out


def _to_bool(value: Any) -> bool | None:
    text = str(value).strip().lower()
    if text in ("是", "y", "yes", "true", "1", "一致", "√"):
        return True
    if text in ("否", "n", "no", "false", "0", "不一致", "×"):
        return False
    if text == "":
        return None
    raise ValidationError(_("应填写“是”或“否”"))


def _raise(cleaned: Cleaned) -> None:
    if cleaned.errors:
        raise ValidationError(cleaned.errors)


def _snapshot(person: Person) -> dict[str, Any]:
    return {f: getattr(person, f) for f in (*PERSON_FIELDS, "area_id", "current_house_id", "status")}


def _history(
    person: Person,
    *,
    actor: Any,
    event: str,
    to_status: str,
    from_status: str = "",
    note: str = "",
    on: dt.date | None = None,
) -> None:
    PersonStatusChange.objects.create(
        person=person,
        from_status=from_status,
        to_status=to_status,
        event=event,
        note=note[:300],
        actor_username=_actor_name(actor),
        effective_on=on,
    )


def _move_date(on: dt.date | None, label: str, field: str = "on") -> dt.date:
    """The day a move happened: today when not given, never in the future."""
    today = timezone.localdate()
    day = on or today
    if day > today:
        raise ValidationError({field: [_("%(label)s不能晚于今天") % {"label": label}]})
    return day


def _not_before_moving_in(occupancies: Any, day: dt.date, label: str, field: str = "on") -> None:
    """Stays end on ``day``: not before they began (the database refuses an end before the start)."""
    started = occupancies.filter(start__gt=day).order_by("-start").values_list("start", flat=True).first()
    if started is not None:
        raise ValidationError(
            {field: [_("%(label)s不能早于入住日期 %(d)s") % {"label": label, "d": started.isoformat()}]}
        )


def _check_area(actor: Any, area: Area) -> None:
    if area.level not in ("community", "grid"):
        raise ValidationError({"area": [_("人员应登记到社区或网格")]})
    _require(actor, "people.manage_person", area)


def find_by_id_number(id_number: str) -> Person | None:
    """The person holding this (valid, normalised) ID number, sealed or not — for upserts only."""
    index = lookup_value(Person, "id_number", id_number)
    if index is None:
        return None
    return Person._base_manager.filter(id_number_index=index).first()


# --- person ---------------------------------------------------------------------------------------


@transaction.atomic
def person_register(
    *, actor: Any, area: Area, data: Mapping[str, Any], house: House | None = None
) -> tuple[Person, bool]:
    """Create or update (by ID number) a person in ``area``. Returns (person, created)."""
    _require(actor, "people.write_people")
    _check_area(actor, area)
    cleaned = clean_person_data(data)
    _raise(cleaned)
    values = cleaned.values
    existing = find_by_id_number(values["id_number"]) if values.get("id_number") else None
    if existing is not None:
        if not actor.has_perm("people.manage_person", existing):
            raise ValidationError(
                {"id_number": [_("该证件号码的人员已在其他辖区登记，请联系原辖区办理迁出后再登记")]}
            )
        return _apply_update(actor=actor, person=existing, values=values, area=area, house=house), False
    person = Person(area=area, current_house=house, **values)
    person.save()
    _history(person, actor=actor, event="register", to_status=PersonStatus.ACTIVE)
    audit_record(
        actor=actor,
        action="person.register",
        obj=person,
        changes={k: [None, values[k]] for k in values},
        sensitive=SENSITIVE,
    )
    if house is not None:
        Occupancy.objects.get_or_create(person=person, house=house, end=None)
    return person, True


def _apply_update(
    *,
    actor: Any,
    person: Person,
    values: Mapping[str, Any],
    area: Area | None = None,
    house: House | None = None,
) -> Person:
    before = _snapshot(person)
    for key, value in values.items():
        setattr(person, key, value)
    if area is not None:
        person.area = area
    if house is not None:
        person.current_house = house
    after = _snapshot(person)
    changes = diff_fields(before, after)
    if changes:
        person.save()
        audit_record(actor=actor, action="person.update", obj=person, changes=changes, sensitive=SENSITIVE)
    return person


@transaction.atomic
def person_update(*, actor: Any, person_id: int, data: Mapping[str, Any]) -> Person:
    from pingan.people.selectors import person_get

    person = person_get(user=actor, person_id=person_id, audit=False)
    person = Person.objects.select_for_update().get(pk=person.pk)
    _require(actor, "people.manage_person", person)
    cleaned = clean_person_data({"id_type": person.id_type, **data}, partial=True)
    _raise(cleaned)
    number = cleaned.values.get("id_number")
    if number:
        other = find_by_id_number(number)
        if other is not None and other.pk != person.pk:
            raise ValidationError({"id_number": [_("该证件号码已登记给另一人员，请使用“合并”")]})
    return _apply_update(actor=actor, person=person, values=cleaned.values)


@transaction.atomic
def person_move_out(
    *,
    actor: Any,
    person_id: int,
    status: str = PersonStatus.MOVED_OUT,
    note: str = "",
    on: dt.date | None = None,
) -> Person:
    """Moved out, deceased or other de-registration: closes open occupancies, writes a history row."""
    from pingan.people.selectors import person_get

    person = person_get(user=actor, person_id=person_id, audit=False)
    _require(actor, "people.manage_person", person)
    if status not in (PersonStatus.MOVED_OUT, PersonStatus.DECEASED, PersonStatus.OTHER):
        raise ValidationError({"status": [_("无效的注销类型")]})
    day = _move_date(on, _("注销日期"))
    # the row locked before its status is read: of two de-registrations at once, the second finds it done
    previous = Person.objects.select_for_update().values_list("status", flat=True).get(pk=person.pk)
    if previous != PersonStatus.ACTIVE:
        raise ValidationError({"status": [_("该人员已不在册")]})
    open_occupancies = Occupancy.objects.filter(person=person, end__isnull=True)
    _not_before_moving_in(open_occupancies, day, _("注销日期"))
    Person.objects.filter(pk=person.pk).update(status=status, current_house=None)
    open_occupancies.update(end=day)
    person.refresh_from_db()
    _history(
        person,
        actor=actor,
        event="move_out" if status == PersonStatus.MOVED_OUT else status,
        from_status=previous,
        to_status=status,
        note=note,
        on=day,
    )
    audit_record(
        actor=actor, action="person.move_out", obj=person, changes={"status": [previous, status]}, reason=note
    )
    return person


@transaction.atomic
def person_move_in(
    *,
    actor: Any,
    person_id: int,
    area: Area,
    house: House | None = None,
    note: str = "",
    on: dt.date | None = None,
) -> Person:
    """(Re-)activate a person in ``area`` (a move within the actor's scope, or a return)."""
    from pingan.people.selectors import person_get

    person = person_get(user=actor, person_id=person_id, audit=False)
    _require(actor, "people.manage_person", person)
    _check_area(actor, area)
    if house is not None:
        from pingan.people.selectors import house_get

        house = house_get(user=actor, house_id=house.pk)  # 404: a house outside the actor's scope
    day = _move_date(on, _("迁入日期"))
    previous = Person.objects.select_for_update().values_list("status", flat=True).get(pk=person.pk)
    # a return is not dated before the person left (注销: moved away, deceased, other)
    left_on = (
        PersonStatusChange.objects.filter(person=person, effective_on__isnull=False)
        .exclude(event__in=("register", "import", "move_in", "merge", "merged"))
        .order_by("-effective_on")
        .values_list("effective_on", flat=True)
        .first()
    )
    if left_on is not None and day < left_on:
        raise ValidationError({"on": [_("迁入日期不能早于注销日期 %(d)s") % {"d": left_on.isoformat()}]})
    left = Occupancy.objects.filter(person=person, end__isnull=True).exclude(house=house)
    if house is not None:
        _not_before_moving_in(left, day, _("迁入日期"))  # the move ends the stay in the former house that day
    Person.objects.filter(pk=person.pk).update(status=PersonStatus.ACTIVE, area=area, current_house=house)
    if house is not None:
        left.update(end=day)
        Occupancy.objects.get_or_create(person=person, house=house, end=None, defaults={"start": day})
    person.refresh_from_db()
    _history(
        person,
        actor=actor,
        event="move_in",
        from_status=previous,
        to_status=PersonStatus.ACTIVE,
        note=note,
        on=day,
    )
    audit_record(
        actor=actor,
        action="person.move_in",
        obj=person,
        changes={"status": [previous, PersonStatus.ACTIVE], "area": [None, area.code]},
    )
    return person


@transaction.atomic
def person_merge(*, actor: Any, keep_id: int, merge_id: int, reason: str) -> Person:
    """Merge the duplicate ``merge_id`` into ``keep_id``: every link (occupancies, households, floating and
    overseas records, status history, owned houses, landlord links) moves to the kept record; empty
    fields of the kept record take the duplicate's values; the duplicate is marked merged and de-registered
    (kept, never deleted). Audited on both records."""
    from pingan.people.selectors import person_get

    if keep_id == merge_id:
        raise ValidationError(_("不能与自身合并"))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("请填写合并原因")]})
    keep = person_get(user=actor, person_id=keep_id, audit=False)
    dup = person_get(user=actor, person_id=merge_id, audit=False)
    for p in (keep, dup):
        _require(actor, "people.manage_person", p)
    if keep.id_number and dup.id_number and keep.id_number != dup.id_number:
        raise ValidationError(_("两人证件号码不同，不能合并"))
    filled: dict[str, Any] = {}
    for name in PERSON_FIELDS:
        if name in ("id_type",):
            continue
        mine, theirs = getattr(keep, name), getattr(dup, name)
        if name in FLAG_FIELDS:
            if theirs and not mine:
                filled[name] = theirs
        elif mine in (None, "") and theirs not in (None, ""):
            filled[name] = theirs
    id_number = filled.pop("id_number", None)
    keep_open = Occupancy.objects.filter(person=keep, end__isnull=True).values("house")
    Occupancy.objects.filter(person=dup, end__isnull=True, house__in=keep_open).update(
        end=timezone.localdate()
    )
    Occupancy.objects.filter(person=dup).update(person=keep)
    if not HouseholdMember.objects.filter(person=keep).exists():
        HouseholdMember.objects.filter(person=dup).update(person=keep)
    else:
        HouseholdMember.objects.filter(person=dup).delete()
    Household.objects.filter(householder=dup).update(householder=keep)
    House.objects.filter(owner=dup).update(owner=keep)
    FloatingRecord.objects.filter(person=dup).update(person=keep)
    FloatingRecord.objects.filter(landlord=dup).update(landlord=keep)
    OverseasRecord.objects.filter(person=dup).update(person=keep)
    PersonStatusChange.objects.filter(person=dup).update(person=keep)
    if keep.current_house_id is None and dup.current_house_id is not None:
        filled["current_house_id"] = dup.current_house_id
    Person.objects.filter(pk=dup.pk).update(
        status=PersonStatus.OTHER,
        merged_into=keep,
        current_house=None,
        id_number="",
    )
    for key, value in filled.items():
        setattr(keep, key, value)
    if id_number:
        keep.id_number = id_number
    keep.save()
    _history(
        keep,
        actor=actor,
        event="merge",
        from_status=keep.status,
        to_status=keep.status,
        note=_("合并重复记录 #%(id)d：%(r)s") % {"id": dup.pk, "r": reason},
    )
    _history(
        dup,
        actor=actor,
        event="merged",
        from_status=dup.status,
        to_status=PersonStatus.OTHER,
        note=_("已合并至 #%(id)d") % {"id": keep.pk},
    )
    audit_record(
        actor=actor,
        action="person.merge",
        obj=keep,
        reason=reason,
        changes={"merged": [None, dup.pk], "filled": [None, sorted(filled)]},
    )
    audit_record(
        actor=actor,
        action="person.merged_away",
        obj=dup,
        reason=reason,
        changes={"merged_into": [None, keep.pk]},
    )
    return keep


# --- houses, occupancy, households ----------------------------------------------------------------

HOUSE_FIELDS = ("code", "compound", "building", "unit", "room", "use", "floor_area", "rented", "hazards")


# "1号楼" and "1" are the same building (the standard address writes 1号楼 either way): a number is stored
# bare, so the same house typed both ways is one house (the unique address constraint compares the fields)
_NUMBER_SUFFIXES = {"building": ("号楼", "栋", "幢", "号"), "unit": ("单元",), "room": ("室", "号")}


def _clean_house(data: Mapping[str, Any]) -> dict[str, Any]:
    values = {k: data[k] for k in HOUSE_FIELDS if k in data}
    for key in ("compound", "building", "unit", "room", "hazards"):
        if key in values:
            values[key] = clean_text(values[key])
    for key, suffixes in _NUMBER_SUFFIXES.items():
        text = values.get(key) or ""
        stem = next((text.removesuffix(s) for s in suffixes if text.endswith(s)), text)
        if stem != text and stem.isdigit():
            values[key] = stem
    if "code" in values:
        values["code"] = clean_text(values["code"]) or None
    if "compound" in values and not values["compound"]:
        raise ValidationError({"compound": [_("小区/道路不能为空")]})
    if values.get("use") and values["use"] not in House.Use.values:
        raise ValidationError({"use": [_("无效的房屋用途")]})
    if values.get("floor_area") is not None and float(values["floor_area"]) <= 0:
        raise ValidationError({"floor_area": [_("面积必须大于 0")]})
    return values


@transaction.atomic
def house_create(*, actor: Any, area: Area, data: Mapping[str, Any], owner: Person | None = None) -> House:
    _require(actor, "people.write_people")
    _check_area(actor, area)
    values = _clean_house(data)
    existing = House.objects.filter(
        area=area,
        compound=values.get("compound", ""),
        building=values.get("building", ""),
        unit=values.get("unit", ""),
        room=values.get("room", ""),
    ).first()
    if existing is not None:
        raise ValidationError({"compound": [_("该地址的房屋已登记")]})
    house = House(area=area, owner=owner, **values)
    house.full_clean(exclude=["owner", "area"])
    house.save()
    audit_record(
        actor=actor, action="house.create", obj=house, changes={k: [None, str(v)] for k, v in values.items()}
    )
    return house


@transaction.atomic
def house_update(*, actor: Any, house_id: int, data: Mapping[str, Any]) -> House:
    from pingan.people.selectors import house_get

    house = house_get(user=actor, house_id=house_id)
    _require(actor, "people.manage_person", house)
    values = _clean_house(data)
    address = {k: values.get(k, getattr(house, k)) for k in ("compound", "building", "unit", "room")}
    if House.objects.filter(area=house.area_id, **address).exclude(pk=house.pk).exists():
        raise ValidationError({"compound": [_("该地址的房屋已登记")]})  # (the database's constraint: a 500)
    before = {k: getattr(house, k) for k in values}
    for key, value in values.items():
        setattr(house, key, value)
    house.save()
    audit_record(
        actor=actor,
        action="house.update",
        obj=house,
        changes=diff_fields({k: str(v) for k, v in before.items()}, {k: str(v) for k, v in values.items()}),
    )
    return house


@transaction.atomic
def occupancy_start(
    *,
    actor: Any,
    person_id: int,
    house_id: int,
    role: str = Occupancy.Role.RESIDENT,
    start: dt.date | None = None,
) -> Occupancy:
    from pingan.people.selectors import house_get, person_get

    person = person_get(user=actor, person_id=person_id, audit=False)
    house = house_get(user=actor, house_id=house_id)
    _require(actor, "people.manage_person", person)
    if role not in Occupancy.Role.values:
        raise ValidationError({"role": [_("无效的居住关系")]})
    start = _move_date(start, _("入住日期"), field="start")
    already = ValidationError({"person": [_("该人员已登记在此房屋，如需变更请先办理迁出")]})
    if Occupancy.objects.filter(person=person, house=house, end__isnull=True).exists():
        # the open occupancy would be kept unchanged (its role and date too): say so rather than "saved"
        raise already
    try:
        with transaction.atomic():  # two registrations at once: the database keeps one open stay per house
            occupancy = Occupancy.objects.create(person=person, house=house, role=role, start=start)
    except IntegrityError:
        raise already from None
    Person.objects.filter(pk=person.pk).update(current_house=house)
    if role == Occupancy.Role.OWNER and house.owner_id is None:
        House.objects.filter(pk=house.pk).update(owner=person)
    audit_record(
        actor=actor,
        action="occupancy.start",
        obj=person,
        changes={"house": [None, house.pk], "role": [None, role]},
    )
    return occupancy


@transaction.atomic
def occupancy_end(*, actor: Any, occupancy_id: int, end: dt.date | None = None) -> Occupancy:
    from pingan.people.selectors import occupancy_get, person_get

    occupancy = occupancy_get(user=actor, occupancy_id=occupancy_id)  # 404: missing or outside the scope
    occupancy = Occupancy.objects.select_for_update().get(pk=occupancy.pk)
    person = person_get(user=actor, person_id=occupancy.person_id, audit=False)
    _require(actor, "people.manage_person", person)
    if occupancy.end is not None:
        raise ValidationError({"end": [_("该居住关系已结束")]})
    occupancy.end = _move_date(end, _("迁出日期"), field="end")
    _not_before_moving_in(
        Occupancy.objects.filter(pk=occupancy.pk), occupancy.end, _("迁出日期"), field="end"
    )
    occupancy.save(update_fields=["end"])
    Person.objects.filter(pk=person.pk, current_house_id=occupancy.house_id).update(current_house=None)
    audit_record(
        actor=actor, action="occupancy.end", obj=person, changes={"house": [occupancy.house_id, None]}
    )
    return occupancy


@transaction.atomic
def household_create(
    *, actor: Any, area: Area, number: str, householder: Person | None = None, house: House | None = None
) -> Household:
    _require(actor, "people.write_people")
    _check_area(actor, area)
    number = clean_text(number).replace(" ", "")
    if not number:
        raise ValidationError({"number": [_("户号不能为空")]})
    if len(number) > 30:
        raise ValidationError({"number": [_("户号不能超过 %(n)d 个字符") % {"n": 30}]})
    if house is not None:
        from pingan.people.selectors import house_get

        house = house_get(user=actor, house_id=house.pk)  # 404: a house outside the actor's scope
    if Household.objects.filter(number=number).exists():
        raise ValidationError({"number": [_("户号已存在")]})
    household = Household.objects.create(area=area, number=number, householder=householder, house=house)
    if householder is not None:
        household_add_member(actor=actor, household_id=household.pk, person_id=householder.pk, relation="02")
    audit_record(actor=actor, action="household.create", obj=household, changes={"number": [None, number]})
    return household


@transaction.atomic
def household_add_member(*, actor: Any, household_id: int, person_id: int, relation: str) -> HouseholdMember:
    from pingan.people.selectors import household_get, person_get

    household = household_get(user=actor, household_id=household_id)
    person = person_get(user=actor, person_id=person_id, audit=False)
    _require(actor, "people.manage_person", household)
    household = Household.objects.select_for_update().get(pk=household.pk)  # see household_change_householder
    try:
        code = code_resolve("household_relation", relation)
    except UnknownCode:
        raise ValidationError({"relation": [_("“%(v)s”不是有效的与户主关系") % {"v": relation}]}) from None
    if not code:
        raise ValidationError({"relation": [_("请选择与户主关系")]})
    current = HouseholdMember.objects.filter(person=person).first()
    if current is not None and current.household_id != household.pk:
        raise ValidationError({"person": [_("该人员已属于另一户，请先从原户移出")]})
    # one householder per household: replacing or demoting them is household_change_householder's work
    if code == "02" and household.householder_id not in (None, person.pk):
        raise ValidationError({"relation": [_("本户已有户主，如需更换户主请使用“变更户主”")]})
    if code != "02" and household.householder_id == person.pk:
        raise ValidationError({"relation": [_("该人员是户主，如需更换户主请使用“变更户主”")]})
    before = current.relation if current is not None else None  # a member already: the relation changes
    member, _created = HouseholdMember.objects.update_or_create(
        household=household, person=person, defaults={"relation": code}
    )
    if code == "02":
        Household.objects.filter(pk=household.pk).update(householder=person)
    if before != code:
        audit_record(
            actor=actor,
            action="household.member",
            obj=household,
            changes={
                "person": [None if before is None else person.pk, person.pk],
                "relation": [before, code],
            },
        )
    member.previous_relation = before  # type: ignore[attr-defined]  # the page says what changed
    return member


def _household_for_change(actor: Any, household_id: int, person_id: int) -> tuple[Household, Person]:
    """The household (locked until the transaction ends) and the person, both in the actor's sight (404
    otherwise), and the actor allowed to manage the household (a leader reads only)."""
    from pingan.people.selectors import household_get, person_get

    household = household_get(user=actor, household_id=household_id)  # 404: missing or outside the scope
    person = person_get(user=actor, person_id=person_id, audit=False)
    _require(actor, "people.manage_person", household)
    # every change of a household's members locks its row first: two at once run one after the other,
    # the second reading what the first wrote (no lost update, never two householders)
    return Household.objects.select_for_update().get(pk=household.pk), person


@transaction.atomic
def household_remove_member(*, actor: Any, household_id: int, person_id: int) -> Household:
    """Take a person out of a household. The householder goes last: while other members remain, the
    householder is changed first (``household_change_householder``)."""
    household, person = _household_for_change(actor, household_id, person_id)
    member = HouseholdMember.objects.filter(household=household, person=person).first()
    if member is None:
        raise ValidationError({"person": [_("该人员不是本户成员")]})
    others = HouseholdMember.objects.filter(household=household).exclude(pk=member.pk)
    if household.householder_id == person.pk and others.exists():
        raise ValidationError({"person": [_("户内还有其他成员，不能移出户主；请先变更户主，再移出该人员")]})
    member.delete()
    changes: dict[str, Any] = {"person": [person.pk, None], "relation": [member.relation, None]}
    if household.householder_id == person.pk:
        household.householder = None
        household.save(update_fields=["householder", "updated_at"])
        changes["householder"] = [person.pk, None]
    audit_record(actor=actor, action="household.member_remove", obj=household, changes=changes)
    return household


@transaction.atomic
def household_change_householder(
    *, actor: Any, household_id: int, person_id: int, former_relation: str = ""
) -> Household:
    """Make a member the householder (relation 02). The former householder stays a member with the
    relation ``former_relation`` (code or label of table ``household_relation``, not 户主), required when
    the household has one."""
    household, person = _household_for_change(actor, household_id, person_id)
    member = HouseholdMember.objects.filter(household=household, person=person).first()
    if member is None:
        raise ValidationError({"person": [_("新户主须是本户成员，请先添加为户成员")]})
    if household.householder_id == person.pk and member.relation == "02":
        raise ValidationError({"person": [_("该人员已是户主")]})
    # the members who hold 02 now (the householder; more than one only in data written before this rule)
    former = HouseholdMember.objects.filter(household=household, relation="02").exclude(pk=member.pk)
    former_ids = list(former.values_list("pk", flat=True))
    code = ""
    if former_relation or former_ids:
        try:
            code = code_resolve("household_relation", former_relation)
        except UnknownCode:
            message = _("“%(v)s”不是有效的与户主关系") % {"v": former_relation}
            raise ValidationError({"former_relation": [message]}) from None
        if not code:
            raise ValidationError({"former_relation": [_("请选择原户主与新户主的关系")]})
        if code == "02":
            raise ValidationError({"former_relation": [_("原户主与新户主的关系不能是户主")]})
    before = household.householder_id
    HouseholdMember.objects.filter(pk__in=former_ids).update(relation=code)
    relation = member.relation
    member.relation = "02"
    member.save(update_fields=["relation"])
    household.householder = person
    household.save(update_fields=["householder", "updated_at"])
    changes: dict[str, Any] = {"householder": [before, person.pk], "relation": [relation, "02"]}
    if former_ids:
        changes["former_relation"] = ["02", code]
    audit_record(actor=actor, action="household.householder", obj=household, changes=changes)
    return household


FLOATING_FIELDS = (
    "permit_type",
    "permit_number",
    "valid_from",
    "valid_to",
    "inflow_reason",
    "registered_on",
    "last_verified_on",
    "landlord",
)


def _clean_floating(actor: Any, person: Person, data: Mapping[str, Any]) -> dict[str, Any]:
    """The floating-record fields of ``data`` checked (Chinese messages per field)."""
    values = {k: data[k] for k in FLOATING_FIELDS if k in data}
    errors = Cleaned()
    if "permit_type" in values and values["permit_type"] not in FloatingRecord.PermitType.values:
        errors.error("permit_type", _("无效的证件类别"))
    if "permit_number" in values:
        values["permit_number"] = "".join(str(values["permit_number"] or "").split()).upper()
        if len(values["permit_number"]) > 40:
            errors.error("permit_number", _("居住证号不能超过 %(n)d 个字符") % {"n": 40})
    if "inflow_reason" in values:
        values["inflow_reason"] = clean_text(values["inflow_reason"])
        if len(values["inflow_reason"]) > 60:
            errors.error("inflow_reason", _("不能超过 %(n)d 个字") % {"n": 60})
    if values.get("valid_from") and values.get("valid_to") and values["valid_to"] < values["valid_from"]:
        errors.error("valid_to", _("有效期至不能早于有效期起"))
    today = timezone.localdate()
    for key in ("registered_on", "last_verified_on"):
        if values.get(key) and values[key] > today:
            errors.error(key, _("日期不能晚于今天"))
    landlord = values.get("landlord")
    if landlord is not None:
        if landlord.pk == person.pk:
            errors.error("landlord", _("房东不能是本人"))
        elif not _visible(actor, landlord):
            errors.error("landlord", _("辖区内没有该人员"))
    _raise(errors)
    return values


def _visible(actor: Any, person: Person) -> bool:
    """The actor may see ``person`` (the command-line SYSTEM actor sees everyone)."""
    from django.http import Http404

    from pingan.people.selectors import person_get

    try:
        person_get(user=actor, person_id=person.pk, audit=False)
    except Http404:
        return False
    return True


@transaction.atomic
def floating_register(*, actor: Any, person_id: int, data: Mapping[str, Any]) -> FloatingRecord:
    from pingan.people.selectors import person_get

    person = person_get(user=actor, person_id=person_id, audit=False)
    _require(actor, "people.manage_person", person)
    values = _clean_floating(actor, person, data)
    record = FloatingRecord.objects.create(person=person, **values)
    if not person.is_floating:
        Person.objects.filter(pk=person.pk).update(is_floating=True)
    audit_record(
        actor=actor, action="person.floating_register", obj=person, changes={"record": [None, record.pk]}
    )
    return record


def _record_snapshot(record: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(record, f"{name}_id" if name == "landlord" else name) for name in names}


def _apply_record(
    actor: Any,
    record: Any,
    names: tuple[str, ...],
    values: Mapping[str, Any],
    action: str,
    *,
    sensitive: tuple[str, ...],
) -> Any:
    """Set the checked ``values`` on a person's floating or overseas record; saved and audited (on the
    person) only when something changed."""
    before = _record_snapshot(record, names)
    for key, value in values.items():
        setattr(record, key, value)
    changes = diff_fields(before, _record_snapshot(record, names))
    if changes:
        record.save()
        audit_record(
            actor=actor,
            action=action,
            obj=record.person,
            changes={"record": [record.pk, record.pk], **changes},
            sensitive=sensitive,
        )
    return record


@transaction.atomic
def floating_update(*, actor: Any, record_id: int, data: Mapping[str, Any]) -> FloatingRecord:
    """Correct or renew a floating-population record (new permit period, re-verification, landlord)."""
    from pingan.people.selectors import floating_get

    record = floating_get(user=actor, record_id=record_id)  # 404: missing or outside the scope
    record = FloatingRecord.objects.select_for_update().get(pk=record.pk)
    _require(actor, "people.manage_person", record.person)
    # checked as a whole (a new "valid to" against the kept "valid from"): the record, then the change
    current = {name: getattr(record, name) for name in FLOATING_FIELDS}
    values = _clean_floating(actor, record.person, {**current, **data})
    return _apply_record(
        actor, record, FLOATING_FIELDS, values, "person.floating_update", sensitive=("permit_number",)
    )


# --- overseas ---------------------------------------------------------------------------------------

OVERSEAS_FIELDS = (
    "nationality",
    "foreign_surname",
    "foreign_given_name",
    "document_number",
    "visa_type",
    "entry_date",
    "stay_until",
    "expected_departure",
    "purpose",
)
OVERSEAS_LENGTHS = {"foreign_surname": 60, "foreign_given_name": 80, "visa_type": 40, "purpose": 60}


def _clean_overseas(data: Mapping[str, Any]) -> dict[str, Any]:
    """The overseas-record fields of ``data`` checked (Chinese messages per field). Foreign names are kept
    in upper case, as in passports."""
    values = {k: data[k] for k in OVERSEAS_FIELDS if k in data}
    errors = Cleaned()
    try:
        code = code_resolve("nationality", values.get("nationality"))
    except UnknownCode:
        errors.error("nationality", _("“%(v)s”不是有效的国籍或地区") % {"v": values.get("nationality")})
    else:
        if not code:
            errors.error("nationality", _("请选择国籍或地区"))
        elif code == "CHN":
            errors.error("nationality", _("境外人员的国籍或地区不能是中国内地"))
        values["nationality"] = code
    for key, limit in OVERSEAS_LENGTHS.items():
        if key in values:
            values[key] = clean_text(values[key])
            if key.startswith("foreign_"):
                values[key] = values[key].upper()
            if len(values[key]) > limit:
                errors.error(key, _("不能超过 %(n)d 个字") % {"n": limit})
    if "document_number" in values:
        values["document_number"] = "".join(str(values["document_number"] or "").split()).upper()
        if len(values["document_number"]) > 40:
            errors.error("document_number", _("护照/通行证号不能超过 %(n)d 个字符") % {"n": 40})
    entry = values.get("entry_date")
    if entry and entry > timezone.localdate():
        errors.error("entry_date", _("入境日期不能晚于今天"))
    for key, message in (
        ("expected_departure", _("预计离开日期不能早于入境日期")),
        ("stay_until", _("停留有效期至不能早于入境日期")),
    ):
        if entry and values.get(key) and values[key] < entry:
            errors.error(key, message)
    _raise(errors)
    return values


@transaction.atomic
def overseas_register(*, actor: Any, person_id: int, data: Mapping[str, Any]) -> OverseasRecord:
    """Register a foreigner or a resident of Hong Kong, Macao or Taiwan staying in the jurisdiction
    (境外人员登记): a new record, the person marked 境外人员."""
    from pingan.people.selectors import person_get

    person = person_get(user=actor, person_id=person_id, audit=False)
    _require(actor, "people.manage_person", person)
    values = _clean_overseas(data)
    record = OverseasRecord.objects.create(person=person, **values)
    if not person.is_overseas:
        Person.objects.filter(pk=person.pk).update(is_overseas=True)
    audit_record(
        actor=actor,
        action="person.overseas_register",
        obj=person,
        changes={"record": [None, record.pk], "nationality": [None, values["nationality"]]},
    )
    return record


@transaction.atomic
def overseas_update(*, actor: Any, record_id: int, data: Mapping[str, Any]) -> OverseasRecord:
    from pingan.people.selectors import overseas_get

    record = overseas_get(user=actor, record_id=record_id)  # 404: missing or outside the scope
    record = OverseasRecord.objects.select_for_update().get(pk=record.pk)
    _require(actor, "people.manage_person", record.person)
    values = _clean_overseas({**_record_snapshot(record, OVERSEAS_FIELDS), **data})
    return _apply_record(
        actor,
        record,
        OVERSEAS_FIELDS,
        values,
        "person.overseas_update",
        sensitive=("document_number", "foreign_surname", "foreign_given_name"),
    )
