"""Every write in community correction: check the permission, validate (Chinese messages), write, audit in
the same transaction.

Concurrency: actions on a client lock its row (``SELECT … FOR UPDATE``; SQLite serialises write
transactions) and bump ``version``; a caller that passes the version it saw gets ``CorrectionConflict`` when
someone else changed the client first. Leave decisions are a small state machine (pending → approved |
rejected | cancelled; approved → returned) whose UPDATE is conditional on the status it was read in: of two
approvers acting at once one wins, the other gets ``CorrectionConflict`` ("已由他人处理"), HTTP 409.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.areas.models import Area
from pingan.audit.services import audit_record, diff_fields
from pingan.core.codes import UnknownCode, code_resolve, code_table
from pingan.core.validators import parse_id_number
from pingan.correction.models import (
    CheckIn,
    ClientStatus,
    CorrectionClient,
    GroupMember,
    LeaveRequest,
    LeaveStatus,
    Reoffence,
    Reward,
    Sanction,
    ServiceHours,
    SupervisionPlan,
    Termination,
    Visit,
)

OFFENCE_TABLE = "offence"  # owned by the aftercare module; used when it exists
MAX_PERIOD_DAYS = 120


class CorrectionConflict(Exception):
    """The record changed under the caller or the action is not possible in its state (HTTP 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- helpers ----------------------------------------------------------------------------------------


def _require(actor: Any, perm: str, obj: Any = None) -> None:
    if not actor.has_perm(perm, obj):
        raise PermissionDenied


def _actor_name(actor: Any) -> str:
    return str(actor.get_username()) if hasattr(actor, "get_username") else "system"


def clean_text(value: Any) -> str:
    from pingan.people.services import clean_text as people_clean

    return people_clean(value)


MIN_DATE, MAX_DATE = dt.date(1950, 1, 1), dt.date(2100, 12, 31)


def parse_date(value: Any, field: str, label: str, *, required: bool = False) -> dt.date | None:
    """A date from a date, datetime or text (2026-01-31, 2026/1/31, 2026年1月31日, 20260131), between 1950
    and 2100."""
    day = _parse_date(value, field, label, required=required)
    if day is not None and not MIN_DATE <= day <= MAX_DATE:
        raise ValidationError({field: _("%(l)s超出合理范围（1950 至 2100 年）") % {"l": label}})
    return day


def _parse_date(value: Any, field: str, label: str, *, required: bool = False) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise ValidationError({field: _("%(l)s不能为空") % {"l": label}})
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = (
        str(value)
        .strip()
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
            try:
                return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
            except ValueError:
                pass
    raise ValidationError({field: _("%(l)s格式不正确，应为 2026-01-31") % {"l": label}})


def _text(data: Mapping[str, Any], field: str, label: str, max_length: int, *, required: bool = False) -> str:
    text = clean_text(data.get(field))
    if required and not text:
        raise ValidationError({field: _("%(l)s不能为空") % {"l": label}})
    if len(text) > max_length:
        raise ValidationError({field: _("%(l)s不能超过 %(n)d 个字") % {"l": label, "n": max_length}})
    return text


def _choice(value: Any, choices: Any, field: str, label: str) -> str:
    text = clean_text(value)
    for key, name in choices.choices:
        if text in (key, str(name)):
            return str(key)
    raise ValidationError({field: _("%(l)s“%(v)s”无效") % {"l": label, "v": text}})


def _positive_int(value: Any, field: str, label: str, *, low: int = 1, high: int = 600) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip().rstrip("天月").split(".")[0])
    except ValueError:
        raise ValidationError({field: _("%(l)s应为整数") % {"l": label}}) from None
    if not low <= number <= high:
        raise ValidationError({field: _("%(l)s应在 %(a)d 到 %(b)d 之间") % {"l": label, "a": low, "b": high}})
    return number


def _to_bool(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "y", "on", "是", "√")


def _not_future(day: dt.date | None, field: str, label: str) -> None:
    if day is not None and day > timezone.localdate():
        raise ValidationError({field: _("%(l)s不能晚于今天") % {"l": label}})


def offence_table_available() -> bool:
    return bool(code_table(OFFENCE_TABLE))


def clean_offence(data: Mapping[str, Any]) -> tuple[str, str]:
    """(text, code). The offence is free text plus an optional code from the ``offence`` code table (owned
    by the aftercare module): a given code (or label) must be in the table; without a code, an offence
    named exactly as a table label gets that code; without a text, a code gives its label. Without the
    table the code is kept as given."""
    text = _text(data, "offence", _("罪名"), 100)
    raw_code = clean_text(data.get("offence_code"))
    code = ""
    if raw_code:
        if offence_table_available():
            try:
                code = code_resolve(OFFENCE_TABLE, raw_code)
            except UnknownCode:
                raise ValidationError({"offence_code": _("罪名代码“%(v)s”无效") % {"v": raw_code}}) from None
        elif len(raw_code) > 20:
            raise ValidationError({"offence_code": _("罪名代码不能超过 20 个字符")})
        else:
            code = raw_code
    if text and not code and offence_table_available():
        try:  # an offence named exactly as in the table gets its code
            code = code_resolve(OFFENCE_TABLE, text)
        except UnknownCode:
            code = ""
    if not text and code and offence_table_available():
        from pingan.core.codes import code_label

        text = code_label(OFFENCE_TABLE, code)
    if not text:
        raise ValidationError({"offence": _("罪名不能为空")})
    return text, code


CLIENT_FIELDS = (
    "number",
    "category",
    "offence",
    "offence_code",
    "sentence",
    "sentence_months",
    "start_date",
    "end_date",
    "authority",
    "judgment_effective_date",
    "reported_on",
    "minor_at_offence",
    "checkin_every_days",
    "visit_every_days",
    "remarks",
)


def clean_client_data(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate the client's own fields (forms, API and the importer share these rules). Raises one
    ValidationError with every field's message."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}

    def run(field: str, func: Any) -> None:
        if partial and field not in data:
            return
        try:
            values[field] = func()
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)

    run("number", lambda: _text(data, "number", _("矫正编号"), 40, required=True))

    def category() -> str:
        raw = clean_text(data.get("category"))
        if not raw:
            raise ValidationError({"category": _("矫正类别不能为空")})
        try:
            return code_resolve("correction_category", raw)
        except UnknownCode:
            raise ValidationError(
                {"category": _("矫正类别“%(v)s”无效，应为管制、缓刑、假释或暂予监外执行") % {"v": raw}}
            ) from None

    run("category", category)
    if not partial or "offence" in data or "offence_code" in data:
        try:
            values["offence"], values["offence_code"] = clean_offence(data)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    run("sentence", lambda: _text(data, "sentence", _("原判刑罚"), 100))
    run(
        "sentence_months",
        lambda: _positive_int(data.get("sentence_months"), "sentence_months", _("原判刑期")),
    )
    run("start_date", lambda: parse_date(data.get("start_date"), "start_date", _("矫正期起"), required=True))
    run("end_date", lambda: parse_date(data.get("end_date"), "end_date", _("矫正期止"), required=True))
    run("authority", lambda: _text(data, "authority", _("决定机关"), 100, required=True))
    run(
        "judgment_effective_date",
        lambda: parse_date(
            data.get("judgment_effective_date"), "judgment_effective_date", _("判决生效日期"), required=True
        ),
    )
    run("reported_on", lambda: parse_date(data.get("reported_on"), "reported_on", _("报到日期")))
    run("minor_at_offence", lambda: _to_bool(data.get("minor_at_offence")))
    run(
        "checkin_every_days",
        lambda: (
            _positive_int(data.get("checkin_every_days"), "checkin_every_days", _("报告周期"), high=90) or 30
        ),
    )
    run(
        "visit_every_days",
        lambda: (
            _positive_int(data.get("visit_every_days"), "visit_every_days", _("走访周期"), high=180) or 30
        ),
    )
    run("remarks", lambda: _text(data, "remarks", _("备注"), 300))
    start, end = values.get("start_date"), values.get("end_date")
    if start and end and end < start:
        errors.setdefault("end_date", []).append(_("矫正期止不能早于矫正期起"))
    effective, reported = values.get("judgment_effective_date"), values.get("reported_on")
    if effective and effective > timezone.localdate():
        errors.setdefault("judgment_effective_date", []).append(_("判决生效日期不能晚于今天"))
    if reported and reported > timezone.localdate():
        errors.setdefault("reported_on", []).append(_("报到日期不能晚于今天"))
    if effective and reported and reported < effective:
        errors.setdefault("reported_on", []).append(_("报到日期不能早于判决生效日期"))
    if errors:
        raise ValidationError(errors)
    return values


def _check_area(actor: Any, area: Area) -> None:
    if area.level not in ("community", "grid"):
        raise ValidationError({"area": [_("矫正对象应登记到社区或网格")]})
    _require(actor, "correction.manage_client", area)


def _find_or_register_person(actor: Any, area: Area, data: Mapping[str, Any]) -> Any:
    """The person with this ID number (一人一档), registered through the people services when new."""
    from pingan.people import services as people_services

    raw = data.get("id_number")
    try:
        number = parse_id_number(raw).number
    except ValidationError as exc:
        raise ValidationError({"id_number": exc.messages}) from None
    name = clean_text(data.get("name"))
    person = people_services.find_by_id_number(number)
    if person is not None:
        if name and name != person.name:
            raise ValidationError({"name": [_("姓名与该身份证号登记的人员不一致，请核对")]})
        return person
    if not name:
        raise ValidationError({"name": [_("姓名不能为空")]})
    if not actor.has_perm("people.write_people"):
        raise ValidationError(
            {"id_number": [_("该人员尚未登记实有人口，请先由社区登记人员信息后再建立矫正档案")]}
        )
    person_data = {"name": name, "id_number": number}
    for key in ("phone", "current_address", "registered_address"):
        if data.get(key):
            person_data[key] = data[key]
    person, _created = people_services.person_register(actor=actor, area=area, data=person_data)
    return person


def _lock_client(actor: Any, client_id: int, version: int | None = None) -> CorrectionClient:
    """The client, locked, if the actor may see it (Http404 otherwise)."""
    from pingan.correction.selectors import client_base

    try:
        client = (
            client_base(actor)
            .select_for_update(of=("self",))
            .select_related("person", "area")
            .get(pk=int(client_id))
        )
    except (CorrectionClient.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    _require(actor, "correction.manage_client", client)
    if version is not None and client.version != version:
        raise CorrectionConflict(_("矫正对象 %(n)s 已被他人更新，请刷新后再试") % {"n": client.number})
    return client


def _save_client(client: CorrectionClient, fields: list[str]) -> None:
    client.version += 1
    client.save(update_fields=[*fields, "version", "updated_at", "reception_deadline"])


def _due_after(day: dt.date, every: int) -> dt.date:
    return day + dt.timedelta(days=every)


# --- client -------------------------------------------------------------------------------------------


@transaction.atomic
def client_register(*, actor: Any, area: Area, data: Mapping[str, Any]) -> CorrectionClient:
    """Register a correction client: find the person by ID number (or register them in the population
    register), one open record per person, unique correction number."""
    _require(actor, "correction.write_clients")
    _check_area(actor, area)
    values = clean_client_data(data)
    person = _find_or_register_person(actor, area, data)
    if CorrectionClient._base_manager.filter(person=person).exclude(status=ClientStatus.TERMINATED).exists():
        raise ValidationError({"id_number": [_("该人员已有未解除的社区矫正档案，不能重复建档")]})
    if CorrectionClient._base_manager.filter(number=values["number"]).exists():
        raise ValidationError({"number": [_("矫正编号“%(n)s”已被使用") % {"n": values["number"]}]})
    client = CorrectionClient(person=person, area=area, **values)
    if client.reported_on:
        client.status = ClientStatus.ACTIVE
        client.next_checkin_due = _due_after(client.reported_on, client.checkin_every_days)
        client.next_visit_due = _due_after(client.reported_on, client.visit_every_days)
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError:
        raise ValidationError({"number": [_("矫正编号已被使用或该人员已有未解除的矫正档案")]}) from None
    audit_record(
        actor=actor,
        action="correction.client_register",
        obj=client,
        changes={k: [None, v] for k, v in values.items()},
    )
    if client.minor_at_offence:
        from pingan.core.sensitive import apply_seal

        apply_seal(client, actor=actor, reason=_("犯罪时未满十八周岁，依法封存犯罪记录"))
    return client


EDITABLE = tuple(f for f in CLIENT_FIELDS if f not in ("reported_on", "minor_at_offence"))


@transaction.atomic
def client_update(
    *, actor: Any, client_id: int, data: Mapping[str, Any], version: int | None = None
) -> CorrectionClient:
    client = _lock_client(actor, client_id, version)
    if client.status == ClientStatus.TERMINATED:
        raise CorrectionConflict(_("矫正对象 %(n)s 已解除/终止矫正，不能修改") % {"n": client.number})
    wanted = {k: v for k, v in data.items() if k in EDITABLE or k == "offence_code"}
    merged = {f: getattr(client, f) for f in CLIENT_FIELDS}
    merged.update(wanted)
    if "offence" in wanted and "offence_code" not in wanted and wanted["offence"] != client.offence:
        merged["offence_code"] = ""  # re-derived from the new offence (or left empty)
    values = clean_client_data(merged)
    if values["number"] != client.number and (
        CorrectionClient._base_manager.filter(number=values["number"]).exclude(pk=client.pk).exists()
    ):
        raise ValidationError({"number": [_("矫正编号“%(n)s”已被使用") % {"n": values["number"]}]})
    before = {f: getattr(client, f) for f in EDITABLE}
    for f in EDITABLE:
        setattr(client, f, values[f])
    changes = diff_fields(before, {f: values[f] for f in EDITABLE})
    if not changes:
        return client
    if client.reported_on and ("checkin_every_days" in changes or "visit_every_days" in changes):
        _recompute_dues(client)
    _save_client(client, [*EDITABLE, "next_checkin_due", "next_visit_due"])
    audit_record(actor=actor, action="correction.client_update", obj=client, changes=changes)
    return client


def _recompute_dues(client: CorrectionClient) -> None:
    last_checkin = client.checkins.order_by("-date").values_list("date", flat=True).first()
    last_visit = client.visits.order_by("-date").values_list("date", flat=True).first()
    base = client.reported_on
    if base is None:
        return
    client.next_checkin_due = _due_after(last_checkin or base, client.checkin_every_days)
    client.next_visit_due = _due_after(last_visit or base, client.visit_every_days)


@transaction.atomic
def client_report(
    *, actor: Any, client_id: int, reported_on: Any, version: int | None = None
) -> CorrectionClient:
    """Reception (报到): pending → active. Reporting after the deadline keeps the 漏管 alert until
    resolved."""
    client = _lock_client(actor, client_id, version)
    if client.status != ClientStatus.PENDING:
        raise CorrectionConflict(
            _("矫正对象 %(n)s 当前状态为“%(s)s”，不能登记报到")
            % {"n": client.number, "s": client.get_status_display()}
        )
    day = parse_date(reported_on, "reported_on", _("报到日期"), required=True)
    assert day is not None
    _not_future(day, "reported_on", _("报到日期"))
    if day < client.judgment_effective_date:
        raise ValidationError({"reported_on": [_("报到日期不能早于判决生效日期")]})
    client.reported_on = day
    client.status = ClientStatus.ACTIVE
    client.next_checkin_due = _due_after(day, client.checkin_every_days)
    client.next_visit_due = _due_after(day, client.visit_every_days)
    _save_client(client, ["reported_on", "status", "next_checkin_due", "next_visit_due"])
    audit_record(
        actor=actor,
        action="correction.client_report",
        obj=client,
        changes={
            "reported_on": [None, day],
            "status": [ClientStatus.PENDING, ClientStatus.ACTIVE],
            "late": [None, client.reported_late()],
        },
    )
    return client


@transaction.atomic
def missing_resolve(*, actor: Any, client_id: int, note: str) -> CorrectionClient:
    """Close a missing-supervision (漏管) alert: say what was done (found and received, handed to the
    police, …). The alert stays in the figures (the reception was missed), it leaves the alert list."""
    client = _lock_client(actor, client_id)
    _require(actor, "correction.approve_client", client)
    if not client.is_missing(timezone.localdate()):
        raise CorrectionConflict(_("矫正对象 %(n)s 没有待处理的漏管预警") % {"n": client.number})
    text = clean_text(note)
    if len(text) < 4:
        raise ValidationError({"note": [_("请填写处理情况（至少4个字）")]})
    client.missing_resolved_at = timezone.now()
    client.missing_resolution = text[:300]
    _save_client(client, ["missing_resolved_at", "missing_resolution"])
    audit_record(
        actor=actor,
        action="correction.missing_resolve",
        obj=client,
        changes={"resolution": [None, text[:300]]},
    )
    return client


@transaction.atomic
def client_terminate(
    *, actor: Any, client_id: int, kind: str, date: Any, note: str = "", version: int | None = None
) -> CorrectionClient:
    """Termination: 期满解除 (not before the end of the period), 收监执行, death, other."""
    client = _lock_client(actor, client_id, version)
    _require(actor, "correction.approve_client", client)
    if client.status == ClientStatus.TERMINATED:
        raise CorrectionConflict(_("矫正对象 %(n)s 已解除/终止矫正") % {"n": client.number})
    kind = _choice(kind, Termination, "kind", _("解除/终止方式"))
    day = parse_date(date, "date", _("解除/终止日期"), required=True)
    assert day is not None
    _not_future(day, "date", _("解除/终止日期"))
    if kind == Termination.COMPLETED and day < client.end_date:
        raise ValidationError(
            {"date": [_("矫正期至 %(d)s 届满，不能提前办理期满解除") % {"d": client.end_date}]}
        )
    if day < client.judgment_effective_date:
        raise ValidationError({"date": [_("解除/终止日期不能早于判决生效日期")]})
    text = clean_text(note)[:300]
    if kind in (Termination.REVOKED, Termination.OTHER) and len(text) < 4:
        raise ValidationError({"note": [_("请填写说明（至少4个字）")]})
    before = client.status
    client.status = ClientStatus.TERMINATED
    client.termination, client.termination_date, client.termination_note = kind, day, text
    client.next_checkin_due = client.next_visit_due = None
    _save_client(
        client,
        [
            "status",
            "termination",
            "termination_date",
            "termination_note",
            "next_checkin_due",
            "next_visit_due",
        ],
    )
    LeaveRequest.objects.filter(client=client, status=LeaveStatus.PENDING).update(
        status=LeaveStatus.CANCELLED, decision_note=_("矫正已解除/终止，申请自动撤回")
    )
    audit_record(
        actor=actor,
        action="correction.client_terminate",
        obj=client,
        changes={"status": [before, client.status], "termination": [None, kind], "date": [None, day]},
    )
    return client


# --- records on a client --------------------------------------------------------------------------------


def _require_active(client: CorrectionClient, what: str) -> None:
    if client.status != ClientStatus.ACTIVE:
        raise CorrectionConflict(
            _("矫正对象 %(n)s 当前状态为“%(s)s”，不能%(w)s")
            % {"n": client.number, "s": client.get_status_display(), "w": what}
        )


def _child_audit(actor: Any, action: str, child: Any, values: Mapping[str, Any]) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=child,
        area_code=child.client.area.code,
        changes={k: [None, v] for k, v in values.items()},
        public=tuple(values),
    )


@transaction.atomic
def group_member_add(*, actor: Any, client_id: int, data: Mapping[str, Any]) -> GroupMember:
    client = _lock_client(actor, client_id)
    if client.status == ClientStatus.TERMINATED:
        raise CorrectionConflict(_("矫正已解除/终止，不能调整矫正小组"))
    values = {
        "name": _text(data, "name", _("姓名"), 50, required=True),
        "kind": _choice(data.get("kind"), GroupMember.Kind, "kind", _("身份")),
        "unit": _text(data, "unit", _("单位/关系"), 80),
    }
    phone = clean_text(data.get("phone"))
    if phone:
        from pingan.core.validators import parse_phone

        try:
            phone = parse_phone(phone).number
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from None
    member = GroupMember.objects.create(client=client, phone=phone, created_by=_actor_name(actor), **values)
    _child_audit(actor, "correction.group_member_add", member, values)
    return member


@transaction.atomic
def group_member_remove(*, actor: Any, member_id: Any, client_id: int | None = None) -> GroupMember:
    try:
        member = GroupMember.objects.filter(pk=int(member_id)).first()
    except (TypeError, ValueError):
        raise Http404 from None
    if member is None or (client_id is not None and member.client_id != client_id):
        raise Http404
    _lock_client(actor, member.client_id)
    if not member.active:
        raise CorrectionConflict(_("该成员已移出矫正小组"))
    member.active = False
    member.save(update_fields=["active"])
    _child_audit(actor, "correction.group_member_remove", member, {"active": False})
    return member


@transaction.atomic
def plan_set(*, actor: Any, client_id: int, data: Mapping[str, Any]) -> SupervisionPlan:
    """A new supervision plan (矫正方案); its report and visit intervals become the client's."""
    client = _lock_client(actor, client_id)
    if client.status == ClientStatus.TERMINATED:
        raise CorrectionConflict(_("矫正已解除/终止，不能调整矫正方案"))
    values: dict[str, Any] = {
        "level": _choice(data.get("level") or "normal", SupervisionPlan.Level, "level", _("管理等级")),
        "content": _text(data, "content", _("矫正方案"), 2000, required=True),
        "checkin_every_days": _positive_int(
            data.get("checkin_every_days"), "checkin_every_days", _("报告周期"), high=90
        )
        or client.checkin_every_days,
        "visit_every_days": _positive_int(
            data.get("visit_every_days"), "visit_every_days", _("走访周期"), high=180
        )
        or client.visit_every_days,
        "effective_from": parse_date(data.get("effective_from"), "effective_from", _("执行日期"))
        or timezone.localdate(),
    }
    plan = SupervisionPlan.objects.create(client=client, created_by=_actor_name(actor), **values)
    client.checkin_every_days = values["checkin_every_days"]
    client.visit_every_days = values["visit_every_days"]
    _recompute_dues(client)
    _save_client(client, ["checkin_every_days", "visit_every_days", "next_checkin_due", "next_visit_due"])
    _child_audit(actor, "correction.plan_set", plan, {k: v for k, v in values.items() if k != "content"})
    return plan


def _record_day(client: CorrectionClient, value: Any, field: str, label: str) -> dt.date:
    day = parse_date(value, field, label, required=True)
    assert day is not None
    _not_future(day, field, label)
    if client.reported_on and day < client.reported_on:
        raise ValidationError(
            {field: [_("%(l)s不能早于报到日期 %(d)s") % {"l": label, "d": client.reported_on}]}
        )
    return day


@transaction.atomic
def checkin_record(*, actor: Any, client_id: int, data: Mapping[str, Any]) -> CheckIn:
    """A periodic report (定期报告). On time when made on or before the due date; the next one is due
    ``checkin_every_days`` after it."""
    client = _lock_client(actor, client_id)
    _require_active(client, _("登记报告"))
    day = _record_day(client, data.get("date"), "date", _("报告日期"))
    kind = _choice(data.get("kind") or "in_person", CheckIn.Kind, "kind", _("报告方式"))
    content = _text(data, "content", _("报告内容"), 500)
    due = client.next_checkin_due
    checkin = CheckIn.objects.create(
        client=client,
        date=day,
        kind=kind,
        content=content,
        due_on=due,
        on_time=due is None or day <= due,
        created_by=_actor_name(actor),
    )
    latest = client.checkins.order_by("-date").values_list("date", flat=True).first() or day
    client.next_checkin_due = _due_after(latest, client.checkin_every_days)
    _save_client(client, ["next_checkin_due"])
    _child_audit(
        actor,
        "correction.checkin",
        checkin,
        {"date": day, "kind": kind, "due_on": due, "on_time": checkin.on_time},
    )
    return checkin


@transaction.atomic
def visit_record(*, actor: Any, client_id: int, data: Mapping[str, Any]) -> Visit:
    client = _lock_client(actor, client_id)
    _require_active(client, _("登记走访"))
    day = _record_day(client, data.get("date"), "date", _("走访日期"))
    visitors = _text(data, "visitors", _("走访人"), 100, required=True)
    content = _text(data, "content", _("走访情况"), 500, required=True)
    next_date = parse_date(data.get("next_visit_date"), "next_visit_date", _("下次走访日期"))
    if next_date is not None and next_date <= day:
        raise ValidationError({"next_visit_date": [_("下次走访日期应晚于本次走访日期")]})
    due = client.next_visit_due
    visit = Visit.objects.create(
        client=client,
        date=day,
        visitors=visitors,
        content=content,
        due_on=due,
        on_time=due is None or day <= due,
        next_visit_date=next_date,
        created_by=_actor_name(actor),
    )
    latest = client.visits.order_by("-date").values_list("date", flat=True).first() or day
    client.next_visit_due = next_date or _due_after(latest, client.visit_every_days)
    _save_client(client, ["next_visit_due"])
    _child_audit(actor, "correction.visit", visit, {"date": day, "due_on": due, "on_time": visit.on_time})
    return visit


@transaction.atomic
def leave_request(*, actor: Any, client_id: int, data: Mapping[str, Any]) -> LeaveRequest:
    client = _lock_client(actor, client_id)
    _require_active(client, _("申请请假外出"))
    kind = _choice(data.get("kind") or "leave", LeaveRequest.Kind, "kind", _("类别"))
    destination = _text(data, "destination", _("目的地"), 100, required=True)
    reason = _text(data, "reason", _("事由"), 300, required=True)
    start = parse_date(data.get("start"), "start", _("起始日期"), required=True)
    end = parse_date(data.get("end"), "end", _("结束日期"), required=True)
    assert start is not None and end is not None
    if end < start:
        raise ValidationError({"end": [_("结束日期不能早于起始日期")]})
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationError({"end": [_("请假外出时间不能超过 %(n)d 天") % {"n": MAX_PERIOD_DAYS}]})
    if start < client.start_date:
        raise ValidationError({"start": [_("请假外出不能早于矫正期（自 %(d)s）") % {"d": client.start_date}]})
    if end > client.end_date:
        raise ValidationError({"end": [_("请假外出不能超出矫正期（至 %(d)s）") % {"d": client.end_date}]})
    overlap = LeaveRequest.objects.filter(
        client=client, status__in=(LeaveStatus.PENDING, LeaveStatus.APPROVED), start__lte=end, end__gte=start
    )
    if overlap.exists():
        raise ValidationError({"start": [_("与已有的请假外出申请时间重叠")]})
    leave = LeaveRequest.objects.create(
        client=client,
        kind=kind,
        destination=destination,
        reason=reason,
        start=start,
        end=end,
        created_by=_actor_name(actor),
    )
    _child_audit(
        actor,
        "correction.leave_request",
        leave,
        {"kind": kind, "start": start, "end": end, "destination": destination},
    )
    return leave


LEAVE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    # action: allowed source statuses
    "approve": (LeaveStatus.PENDING,),
    "reject": (LeaveStatus.PENDING,),
    "cancel": (LeaveStatus.PENDING,),
    "return": (LeaveStatus.APPROVED,),
}
LEAVE_TARGET = {
    "approve": LeaveStatus.APPROVED,
    "reject": LeaveStatus.REJECTED,
    "cancel": LeaveStatus.CANCELLED,
    "return": LeaveStatus.RETURNED,
}
LEAVE_VERBS = {"approve": "批准", "reject": "不予批准", "cancel": "撤回", "return": "销假"}


def leave_actions(user: Any, leave: LeaveRequest) -> list[str]:
    """Actions the user may take on the leave request now (for pages and the API)."""
    shown = []
    for action, sources in LEAVE_TRANSITIONS.items():
        if leave.status not in sources:
            continue
        if action in ("approve", "reject") and not user.has_perm("correction.approve_client", leave.client):
            continue
        if user.has_perm("correction.manage_client", leave.client):
            shown.append(action)
    return shown


@transaction.atomic
def leave_decide(
    *, actor: Any, leave_id: int, action: str, note: str = "", returned_on: Any = None
) -> LeaveRequest:
    """Move a leave request through its state machine. The UPDATE is conditional on the status the row had
    when read (and the row is locked), so of two approvers acting at once one wins; the other gets
    ``CorrectionConflict``."""
    if action not in LEAVE_TRANSITIONS:
        raise ValidationError({"action": [_("未知的操作")]})
    from pingan.correction.selectors import leave_base

    try:
        leave = (
            leave_base(actor).select_related("client", "client__area", "client__person").get(pk=int(leave_id))
        )
    except (LeaveRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    client = _lock_client(actor, leave.client_id)
    if action in ("approve", "reject"):
        _require(actor, "correction.approve_client", client)
    leave = LeaveRequest.objects.select_for_update().get(pk=leave.pk)
    if leave.status not in LEAVE_TRANSITIONS[action]:
        raise CorrectionConflict(
            _("该申请已由他人处理（当前状态：%(s)s），不能%(a)s")
            % {"s": leave.get_status_display(), "a": LEAVE_VERBS[action]}
        )
    text = clean_text(note)[:300]
    if action == "reject" and len(text) < 2:
        raise ValidationError({"note": [_("不予批准时请填写理由")]})
    fields: dict[str, Any] = {"status": LEAVE_TARGET[action]}
    if action in ("approve", "reject"):
        fields.update(decided_by=_actor_name(actor), decided_at=timezone.now(), decision_note=text)
    if action == "return":
        day = parse_date(returned_on, "returned_on", _("销假日期")) or timezone.localdate()
        _not_future(day, "returned_on", _("销假日期"))
        if day < leave.start:
            raise ValidationError({"returned_on": [_("销假日期不能早于请假起始日期")]})
        fields["returned_on"] = day
    updated = LeaveRequest.objects.filter(pk=leave.pk, status=leave.status).update(**fields)
    if updated != 1:
        raise CorrectionConflict(_("该申请已由他人处理，请刷新后再试"))
    before = leave.status
    for key, value in fields.items():
        setattr(leave, key, value)
    leave.client = client
    audit_record(
        actor=actor,
        action=f"correction.leave_{action}",
        obj=leave,
        area_code=client.area.code,
        changes={"status": [before, leave.status], "note": [None, text]},
        public=("status", "note"),
    )
    return leave


def _simple_record(
    model: Any, action: str, *, actor: Any, client_id: int, data: Mapping[str, Any], extra: Mapping[str, Any]
) -> Any:
    client = _lock_client(actor, client_id)
    if client.status == ClientStatus.TERMINATED:
        raise CorrectionConflict(_("矫正已解除/终止，不能再登记"))
    day = _record_day(client, data.get("date"), "date", _("日期"))
    record = model.objects.create(client=client, date=day, created_by=_actor_name(actor), **extra)
    _child_audit(actor, action, record, {"date": day, **{k: v for k, v in extra.items()}})
    return record


@transaction.atomic
def sanction_add(*, actor: Any, client_id: int, data: Mapping[str, Any]) -> Sanction:
    extra = {
        "kind": _choice(data.get("kind"), Sanction.Kind, "kind", _("类别")),
        "reason": _text(data, "reason", _("事由"), 300, required=True),
    }
    return _simple_record(
        Sanction, "correction.sanction", actor=actor, client_id=client_id, data=data, extra=extra
    )


@transaction.atomic
def reward_add(*, actor: Any, client_id: int, data: Mapping[str, Any]) -> Reward:
    extra = {
        "kind": _choice(data.get("kind"), Reward.Kind, "kind", _("类别")),
        "reason": _text(data, "reason", _("事由"), 300, required=True),
    }
    return _simple_record(
        Reward, "correction.reward", actor=actor, client_id=client_id, data=data, extra=extra
    )


@transaction.atomic
def hours_add(*, actor: Any, client_id: int, data: Mapping[str, Any]) -> ServiceHours:
    try:
        hours = Decimal(str(data.get("hours") or "").strip())
    except InvalidOperation:
        raise ValidationError({"hours": [_("时长应为数字")]}) from None
    if not Decimal("0") < hours <= Decimal("24"):
        raise ValidationError({"hours": [_("时长应大于 0 且不超过 24 小时")]})
    extra = {
        "kind": _choice(data.get("kind"), ServiceHours.Kind, "kind", _("类别")),
        "hours": hours.quantize(Decimal("0.1")),
        "content": _text(data, "content", _("内容"), 300, required=True),
    }
    return _simple_record(
        ServiceHours, "correction.hours", actor=actor, client_id=client_id, data=data, extra=extra
    )


@transaction.atomic
def reoffence_add(*, actor: Any, client_id: int, data: Mapping[str, Any]) -> Reoffence:
    extra = {"offence": _text(data, "offence", _("罪名/违法行为"), 100, required=True)}
    return _simple_record(
        Reoffence, "correction.reoffence", actor=actor, client_id=client_id, data=data, extra=extra
    )
