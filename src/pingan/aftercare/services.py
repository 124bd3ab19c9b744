"""Every write on released-person cases: check, validate (Chinese messages), write, audit, in one
transaction.

The person is found by ID number or registered through ``people.services`` (一人一档): a case never
holds its own copy of the identity. A person registered in another jurisdiction is refused without
showing the record.

Concurrency: case-level changes (hand-over, resettlement, re-offence, update, closing) lock the case row
(``SELECT … FOR UPDATE``; SQLite: the write transaction) and, when the caller passes the
``expected_version`` it saw, refuse with ``CaseConflict`` (HTTP 409) if someone changed the case since.
Ledger entries (visits, help, group members) lock the case too but do not need a version: two officers
adding visits at once both succeed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.aftercare.models import (
    OPEN_STATUSES,
    RESETTLED,
    AftercareCase,
    Aid,
    AidKind,
    CaseStatus,
    GroupMember,
    Handover,
    HandoverStatus,
    MemberRole,
    Reoffence,
    Resettlement,
    RiskLevel,
    Visit,
)
from pingan.areas.models import Area
from pingan.audit.services import audit_record, diff_fields
from pingan.core.codes import UnknownCode, code_resolve
from pingan.core.masking import mask_name
from pingan.core.sensitive import apply_seal
from pingan.core.validators import parse_phone

SEAL_REASON = "犯罪时未满十八周岁，依法封存犯罪记录"


class CaseConflict(Exception):
    """The case changed since the caller loaded it (409)."""

    def __init__(self, message: str, *, current_version: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.current_version = current_version


def assistance_years() -> int:
    """The assistance period (帮教期) in years from release; setting PINGAN_AFTERCARE_ASSISTANCE_YEARS."""
    return int(getattr(settings, "PINGAN_AFTERCARE_ASSISTANCE_YEARS", 5))


def grant_limit() -> Decimal:
    """The largest one-off hardship grant one entry may record; setting PINGAN_AFTERCARE_GRANT_LIMIT."""
    return Decimal(str(getattr(settings, "PINGAN_AFTERCARE_GRANT_LIMIT", "20000")))


def default_assistance_end(release: dt.date) -> dt.date:
    years = assistance_years()
    try:
        end = release.replace(year=release.year + years)
    except ValueError:  # 29 February → 28 February
        end = release.replace(year=release.year + years, day=28)
    return end - dt.timedelta(days=1)


def _actor_name(actor: Any) -> str:
    return str(actor.get_username()) if hasattr(actor, "get_username") else "system"


def _require(actor: Any, perm: str, obj: Any = None) -> None:
    if not actor.has_perm(perm, obj):
        raise PermissionDenied


def _text(value: Any, max_length: int, key: str, errors: dict[str, list[str]]) -> str:
    from pingan.people.services import clean_text

    text = clean_text(value)
    if len(text) > max_length:
        errors.setdefault(key, []).append(_("不能超过 %(n)d 个字") % {"n": max_length})
    return text[:max_length]


def _date(value: Any, key: str, errors: dict[str, list[str]], *, required: bool = False) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if value in (None, ""):
        if required:
            errors.setdefault(key, []).append(_("请填写日期"))
        return None
    from pingan.aftercare.importers import parse_date

    try:
        return parse_date(value)
    except ValidationError:
        errors.setdefault(key, []).append(_("日期格式不正确，应为 2025-12-31"))
        return None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("是", "y", "yes", "true", "1", "on", "√")


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _offence(value: Any, key: str, errors: dict[str, list[str]]) -> str:
    try:
        code = code_resolve("offence", value)
    except UnknownCode:
        errors.setdefault(key, []).append(_("罪名“%(v)s”不在罪名代码表中") % {"v": str(value)[:30]})
        return ""
    if not code:
        errors.setdefault(key, []).append(_("请填写罪名"))
    return code


# --- the person -----------------------------------------------------------------------------------


def person_for_case(*, actor: Any, area: Area, person_data: Mapping[str, Any]) -> Any:
    """The person with this ID number (found through the blind index), or a new registration in
    ``area``. A known person outside the actor's jurisdiction is refused; a known person whose name
    differs from the given one too (the list is probably wrong)."""
    from pingan.people.services import clean_person_data, find_by_id_number, person_register

    cleaned = clean_person_data(person_data)
    if cleaned.errors:
        raise ValidationError(cleaned.errors)
    number = cleaned.values.get("id_number")
    if not number:
        raise ValidationError({"id_number": [_("请填写公民身份号码（按身份证号查找或登记人员，一人一档）")]})
    existing = find_by_id_number(number)
    if existing is not None:
        if not actor.has_perm("people.manage_person", existing):
            raise ValidationError(
                {"id_number": [_("该身份证号的人员已在其他辖区登记，请联系原辖区办理迁出后再登记")]}
            )
        if cleaned.values.get("name") and existing.name != cleaned.values["name"]:
            raise ValidationError(
                {
                    "name": [
                        _("姓名与该身份证号的人员档案不一致（档案为 %(n)s）")
                        % {"n": mask_name(existing.name)}
                    ]
                }
            )
        return existing
    person, _created = person_register(actor=actor, area=area, data=person_data)
    return person


def _case_area(area: Area, person: Any) -> Area:
    """The person's own grid when it lies inside ``area``, else ``area``."""
    person_area = person.area
    if person_area.pk != area.pk and person_area.code.startswith(area.code):
        return person_area
    return area


# --- cases ----------------------------------------------------------------------------------------

CASE_TEXT = {
    "offence_note": 200,
    "sentence": 60,
    "prison": 100,
    "risk_note": 300,
    "remarks": 300,
}


def clean_case_data(
    data: Mapping[str, Any], *, partial: bool = False
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    v: dict[str, Any] = {}
    if "offence" in data or not partial:
        v["offence"] = _offence(data.get("offence"), "offence", errors)
    for key, n in CASE_TEXT.items():
        if key in data:
            v[key] = _text(data[key], n, key, errors)
    if "sentence_months" in data:
        raw = data["sentence_months"]
        if raw in (None, ""):
            v["sentence_months"] = None
        else:
            try:
                months = int(str(raw).strip())
            except ValueError:
                months = -1
            if not 0 <= months <= 1200:
                errors.setdefault("sentence_months", []).append(_("刑期（月）应为 0–1200 的整数"))
            else:
                v["sentence_months"] = months
    if "release_date" in data or not partial:
        v["release_date"] = _date(data.get("release_date"), "release_date", errors, required=True)
    if "assistance_end" in data:
        v["assistance_end"] = _date(data.get("assistance_end"), "assistance_end", errors)
    for key in ("is_recidivist", "is_key_person", "offence_under_18"):
        if key in data:
            v[key] = _bool(data[key])
    if "risk_level" in data:
        risk = str(data.get("risk_level") or "").strip()
        labels = {str(label): value for value, label in RiskLevel.choices}
        risk = labels.get(risk, risk)
        if risk and risk not in RiskLevel.values:
            errors.setdefault("risk_level", []).append(_("风险评估应为低风险、中风险或高风险"))
        v["risk_level"] = risk
    release = v.get("release_date")
    if release and release > timezone.localdate() + dt.timedelta(days=366 * 30):
        errors.setdefault("release_date", []).append(_("释放日期不合理"))
    if release and release < dt.date(1950, 1, 1):
        errors.setdefault("release_date", []).append(_("释放日期不合理"))
    end = v.get("assistance_end")
    if end and release and end < release:
        errors.setdefault("assistance_end", []).append(_("帮教期满日期不能早于释放日期"))
    return v, errors


def _audit(actor: Any, action: str, case: AftercareCase, changes: dict[str, Any], **kw: Any) -> None:
    audit_record(actor=actor, action=action, obj=case, changes=changes, **kw)


@transaction.atomic
def case_register(
    *,
    actor: Any,
    area: Area,
    person_data: Mapping[str, Any],
    data: Mapping[str, Any],
    received_on: dt.date | None = None,
    source: str = "",
) -> AftercareCase:
    """Register a released person's case (and its hand-over task). The person is found by ID number
    or registered in ``area``. ``received_on``: the community already received the person."""
    _require(actor, "aftercare.write_cases")
    if area.level not in ("community", "grid"):
        raise ValidationError({"area": [_("安置帮教对象应登记到社区或网格")]})
    _require(actor, "aftercare.manage_case", area)
    values, errors = clean_case_data(data)
    _raise(errors)
    person = person_for_case(actor=actor, area=area, person_data=person_data)
    release = values["release_date"]
    if AftercareCase._base_manager.filter(person=person, release_date=release).exists():
        raise ValidationError({"release_date": [_("该人员同一释放日期的帮教档案已存在")]})
    if AftercareCase._base_manager.filter(person=person, status__in=OPEN_STATUSES).exists():
        raise ValidationError({"id_number": [_("该人员已有未结束的帮教档案，请在原档案中办理")]})
    if not values.get("assistance_end"):
        values["assistance_end"] = default_assistance_end(release)
    today = timezone.localdate()
    if received_on is not None and received_on > today:
        raise ValidationError({"received_on": [_("接收日期不能晚于今天")]})
    case = AftercareCase(
        person=person,
        area=_case_area(area, person),
        status=CaseStatus.ASSISTING if received_on else CaseStatus.PENDING,
        **values,
    )
    case.save()
    Handover.objects.create(
        case=case,
        expected_release_date=release,
        must_meet=case.is_key_person,
        status=HandoverStatus.RECEIVED if received_on else HandoverStatus.PENDING,
        received_on=received_on,
        source=(source or _("登记"))[:120],
    )
    _audit(
        actor,
        "aftercare.case_register",
        case,
        {k: [None, str(v) if isinstance(v, dt.date) else v] for k, v in values.items()},
    )
    if case.offence_under_18:
        apply_seal(case, actor=actor, reason=SEAL_REASON)
    return case


def _lock(actor: Any, case_id: int, expected_version: int | None = None) -> AftercareCase:
    """The case, locked, if the actor may see it (Http404 otherwise) and act on it, at the version the
    actor saw (CaseConflict otherwise)."""
    from pingan.aftercare.selectors import CaseFilter, case_list

    qs = (
        case_list(user=actor, filters=CaseFilter(status="all"))
        if getattr(actor, "is_authenticated", False)
        else AftercareCase.objects.all()
    )
    try:
        case = qs.select_for_update(of=("self",)).select_related(None).get(pk=case_id)
    except (AftercareCase.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not actor.has_perm("aftercare.manage_case", case):
        raise PermissionDenied
    if expected_version is not None and case.version != expected_version:
        raise CaseConflict(_("该帮教档案已被他人更新，请刷新后再试"), current_version=case.version)
    return case


def _bump(case: AftercareCase, fields: list[str]) -> None:
    case.version += 1
    case.save(update_fields=[*fields, "version", "updated_at"])


def _open(case: AftercareCase) -> None:
    if case.status not in OPEN_STATUSES:
        raise ValidationError(_("该帮教档案状态为“%(s)s”，不能再办理") % {"s": case.get_status_display()})


UPDATABLE = (
    "offence",
    "offence_note",
    "sentence",
    "sentence_months",
    "prison",
    "is_recidivist",
    "risk_level",
    "risk_note",
    "is_key_person",
    "assistance_end",
    "remarks",
)


@transaction.atomic
def case_update(
    *, actor: Any, case_id: int, data: Mapping[str, Any], expected_version: int | None = None
) -> AftercareCase:
    case = _lock(actor, case_id, expected_version)
    values, errors = clean_case_data({k: v for k, v in data.items() if k in UPDATABLE}, partial=True)
    if "assistance_end" in values and values["assistance_end"] is None:
        values["assistance_end"] = default_assistance_end(case.release_date)
    if values.get("assistance_end") and values["assistance_end"] < case.release_date:
        errors.setdefault("assistance_end", []).append(_("帮教期满日期不能早于释放日期"))
    _raise(errors)
    before = {k: getattr(case, k) for k in values}
    for key, value in values.items():
        setattr(case, key, value)
    changes = diff_fields(before, {k: getattr(case, k) for k in values})
    if changes:
        _bump(case, list(values))
        if "is_key_person" in values:
            Handover.objects.filter(case=case).update(must_meet=case.is_key_person)
        _audit(actor, "aftercare.case_update", case, changes)
    return case


@transaction.atomic
def case_close(
    *, actor: Any, case_id: int, status: str, note: str = "", expected_version: int | None = None
) -> AftercareCase:
    """End a case: ``ended`` (帮教期满, only once the period is over) or ``closed`` (death, moved away,
    other: a note is required)."""
    case = _lock(actor, case_id, expected_version)
    _open(case)
    note = " ".join(str(note or "").split())[:200]
    if status == CaseStatus.ENDED:
        if case.assistance_end > timezone.localdate():
            raise ValidationError(
                {"status": [_("帮教期至 %(d)s 才届满，不能办理期满解除") % {"d": case.assistance_end}]}
            )
    elif status == CaseStatus.CLOSED:
        if len(note) < 2:
            raise ValidationError({"note": [_("请说明终止原因（如死亡、迁出）")]})
    else:
        raise ValidationError({"status": [_("终止类型应为“帮教期满”或“其他终止”")]})
    before = case.status
    case.status, case.status_note = status, note
    _bump(case, ["status", "status_note"])
    _audit(actor, "aftercare.case_close", case, {"status": [before, status], "status_note": [None, note]})
    return case


# --- hand-over ------------------------------------------------------------------------------------


@transaction.atomic
def handover_receive(
    *,
    actor: Any,
    case_id: int,
    received_on: dt.date,
    met_at_release: bool = False,
    release_date: dt.date | None = None,
    expected_version: int | None = None,
) -> AftercareCase:
    """The community received the released person (衔接到位). ``release_date``: the actual release
    date when it differs from the expected one (the default assistance end moves with it)."""
    case = _lock(actor, case_id, expected_version)
    handover = Handover.objects.select_for_update().get(case=case)
    if handover.status == HandoverStatus.RECEIVED:
        raise CaseConflict(
            _("该人员已接收（%(d)s），无需重复办理") % {"d": handover.received_on},
            current_version=case.version,
        )
    _open(case)
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    if received_on > today:
        errors.setdefault("received_on", []).append(_("接收日期不能晚于今天"))
    actual = release_date or case.release_date
    if actual > today:
        errors.setdefault("release_date", []).append(_("尚未到释放日期，不能办理接收"))
    if received_on < actual:
        errors.setdefault("received_on", []).append(_("接收日期不能早于释放日期（%(d)s）") % {"d": actual})
    _raise(errors)
    fields = ["status"]
    if actual != case.release_date:
        if (
            AftercareCase._base_manager.filter(person=case.person, release_date=actual)
            .exclude(pk=case.pk)
            .exists()
        ):
            raise ValidationError({"release_date": [_("该人员同一释放日期的帮教档案已存在")]})
        if case.assistance_end == default_assistance_end(case.release_date):
            case.assistance_end = default_assistance_end(actual)
            fields.append("assistance_end")
        case.release_date = actual
        fields.append("release_date")
    before = {"status": handover.status, "received_on": handover.received_on}
    handover.status = HandoverStatus.RECEIVED
    handover.received_on = received_on
    handover.met_at_release = bool(met_at_release)
    handover.save()
    case.status = CaseStatus.ASSISTING
    _bump(case, fields)
    _audit(
        actor,
        "aftercare.handover_receive",
        case,
        {
            "handover_status": [before["status"], HandoverStatus.RECEIVED],
            "received_on": [None, str(received_on)],
            "met_at_release": [None, bool(met_at_release)],
            **({"release_date": [None, str(actual)]} if "release_date" in fields else {}),
        },
    )
    return case


@transaction.atomic
def handover_not_received(
    *, actor: Any, case_id: int, reason: str, on: dt.date | None = None, expected_version: int | None = None
) -> AftercareCase:
    """The person did not arrive (not released, went elsewhere, unreachable): recorded with a reason; the
    hand-over stays open (it may still be received later) and counts as not received."""
    case = _lock(actor, case_id, expected_version)
    _open(case)
    handover = Handover.objects.select_for_update().get(case=case)
    if handover.status == HandoverStatus.RECEIVED:
        raise CaseConflict(_("该人员已接收，不能再登记为未接收"), current_version=case.version)
    reason = " ".join(str(reason or "").split())[:200]
    if len(reason) < 2:
        raise ValidationError({"reason": [_("请填写未接收原因")]})
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise ValidationError({"on": [_("日期不能晚于今天")]})
    before = handover.status
    handover.status = HandoverStatus.NOT_RECEIVED
    handover.not_received_on = on
    handover.not_received_reason = reason
    handover.save()
    _bump(case, [])
    _audit(
        actor,
        "aftercare.handover_not_received",
        case,
        {"handover_status": [before, HandoverStatus.NOT_RECEIVED], "reason": [None, reason]},
    )
    return case


# --- resettlement ---------------------------------------------------------------------------------


@transaction.atomic
def resettlement_set(
    *,
    actor: Any,
    case_id: int,
    kind: str,
    detail: str = "",
    reason: str = "",
    resettled_on: dt.date | None = None,
    expected_version: int | None = None,
) -> AftercareCase:
    case = _lock(actor, case_id, expected_version)
    _open(case)
    errors: dict[str, list[str]] = {}
    labels = {str(label): value for value, label in Resettlement.choices}
    kind = labels.get(str(kind).strip(), str(kind).strip())
    if kind not in Resettlement.values:
        errors.setdefault("kind", []).append(_("安置情况应为就业、自主创业、社会救助、其他安置或未安置"))
    detail = " ".join(str(detail or "").split())[:200]
    reason = " ".join(str(reason or "").split())[:200]
    if kind == Resettlement.NONE and len(reason) < 2:
        errors.setdefault("reason", []).append(_("未安置的，请填写原因"))
    today = timezone.localdate()
    if kind in RESETTLED:
        resettled_on = resettled_on or today
        if resettled_on > today:
            errors.setdefault("resettled_on", []).append(_("安置日期不能晚于今天"))
        elif resettled_on < case.release_date:
            errors.setdefault("resettled_on", []).append(_("安置日期不能早于释放日期"))
    else:
        resettled_on = None
    _raise(errors)
    before = {"resettlement": case.resettlement, "resettled_on": case.resettled_on}
    case.resettlement = kind
    case.resettlement_detail = detail
    case.unresettled_reason = reason if kind == Resettlement.NONE else ""
    case.resettled_on = resettled_on
    _bump(case, ["resettlement", "resettlement_detail", "unresettled_reason", "resettled_on"])
    _audit(
        actor,
        "aftercare.resettlement",
        case,
        {
            "resettlement": [before["resettlement"], kind],
            "resettled_on": [str(before["resettled_on"] or ""), str(resettled_on or "")],
        },
    )
    return case


# --- group, visits, help, re-offence --------------------------------------------------------------


@transaction.atomic
def member_add(
    *, actor: Any, case_id: int, role: str, name: str, unit: str = "", phone: str = ""
) -> GroupMember:
    case = _lock(actor, case_id)
    _open(case)
    errors: dict[str, list[str]] = {}
    labels = {str(label): value for value, label in MemberRole.choices}
    role = labels.get(str(role).strip(), str(role).strip())
    if role not in MemberRole.values:
        errors.setdefault("role", []).append(_("成员类别应为社区干部、民警、家属或志愿者"))
    name = _text(name, 50, "name", errors)
    if not name:
        errors.setdefault("name", []).append(_("请填写成员姓名"))
    unit = _text(unit, 100, "unit", errors)
    number = ""
    if str(phone or "").strip():
        try:
            number = parse_phone(phone).number
        except ValidationError as exc:
            errors.setdefault("phone", []).extend(exc.messages)
    _raise(errors)
    if case.members.filter(active=True, role=role, name=name).exists():
        raise ValidationError({"name": [_("该成员已在帮教小组中")]})
    member = GroupMember.objects.create(case=case, role=role, name=name, unit=unit, phone=number)
    _audit(
        actor,
        "aftercare.member_add",
        case,
        {"role": [None, role], "name": [None, name], "phone": [None, number]},
        sensitive=("name", "phone"),
    )
    return member


@transaction.atomic
def member_remove(*, actor: Any, case_id: int, member_id: int) -> GroupMember:
    case = _lock(actor, case_id)
    try:
        member = case.members.get(pk=member_id)
    except (GroupMember.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not member.active:
        raise ValidationError(_("该成员已退出帮教小组"))
    member.active = False
    member.save(update_fields=["active", "updated_at"])
    _audit(actor, "aftercare.member_remove", case, {"member": [mask_name(member.name), None]})
    return member


@transaction.atomic
def visit_add(
    *,
    actor: Any,
    case_id: int,
    visited_on: dt.date,
    visitors: str,
    content: str,
    next_visit_on: dt.date | None = None,
) -> Visit:
    case = _lock(actor, case_id)
    _open(case)
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    if visited_on > today:
        errors.setdefault("visited_on", []).append(_("走访日期不能晚于今天"))
    if visited_on < case.release_date - dt.timedelta(days=366):
        errors.setdefault("visited_on", []).append(_("走访日期早于释放日期一年以上，请核对"))
    visitors = _text(visitors, 100, "visitors", errors)
    if not visitors:
        errors.setdefault("visitors", []).append(_("请填写走访人"))
    content = " ".join(str(content or "").split())
    if len(content) < 4:
        errors.setdefault("content", []).append(_("请填写走访内容（至少 4 个字）"))
    elif len(content) > 2000:
        errors.setdefault("content", []).append(_("走访内容不能超过 2000 字"))
    if next_visit_on is not None:
        if next_visit_on <= visited_on:
            errors.setdefault("next_visit_on", []).append(_("下次走访日期应晚于本次走访日期"))
        elif next_visit_on > visited_on + dt.timedelta(days=366):
            errors.setdefault("next_visit_on", []).append(_("下次走访日期不能超过本次走访一年以后"))
    _raise(errors)
    visit = Visit.objects.create(
        case=case,
        visited_on=visited_on,
        visitors=visitors,
        content=content,
        next_visit_on=next_visit_on,
        recorded_by=_actor_name(actor),
    )
    _audit(
        actor,
        "aftercare.visit_add",
        case,
        {"visited_on": [None, str(visited_on)], "next_visit_on": [None, str(next_visit_on or "")]},
    )
    return visit


def _amount(value: Any, errors: dict[str, list[str]]) -> Decimal:
    if value in (None, ""):
        return Decimal("0.00")
    try:
        amount = Decimal(str(value).replace(",", "").replace("，", "").strip())
    except (InvalidOperation, ValueError):
        errors.setdefault("amount", []).append(_("金额应为数字，如 2000.00"))
        return Decimal("0.00")
    if not amount.is_finite() or amount < 0:
        errors.setdefault("amount", []).append(_("金额不能为负数"))
        return Decimal("0.00")
    if amount != amount.quantize(Decimal("0.01")):
        errors.setdefault("amount", []).append(_("金额最多保留两位小数"))
        return Decimal("0.00")
    if amount >= Decimal("100000000"):
        errors.setdefault("amount", []).append(_("金额过大"))
        return Decimal("0.00")
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def aid_add(
    *,
    actor: Any,
    case_id: int,
    kind: str,
    disbursed_on: dt.date,
    amount: Any = None,
    items: str = "",
    approver: str = "",
    note: str = "",
) -> Aid:
    """One entry of the help ledger. A one-off hardship grant (一次性困难救助金) needs an amount above 0
    (at most ``grant_limit()``), the approver and the disbursement date; necessities name the items."""
    case = _lock(actor, case_id)
    errors: dict[str, list[str]] = {}
    labels = {str(label): value for value, label in AidKind.choices}
    kind = labels.get(str(kind).strip(), str(kind).strip())
    if kind not in AidKind.values:
        errors.setdefault("kind", []).append(_("帮扶类别应为生活必需品、一次性困难救助金或其他帮扶"))
    value = _amount(amount, errors)
    items = _text(items, 200, "items", errors)
    approver = _text(approver, 50, "approver", errors)
    note = _text(note, 200, "note", errors)
    today = timezone.localdate()
    if disbursed_on > today:
        errors.setdefault("disbursed_on", []).append(_("发放日期不能晚于今天"))
    if disbursed_on < case.release_date - dt.timedelta(days=366):
        errors.setdefault("disbursed_on", []).append(_("发放日期早于释放日期一年以上，请核对"))
    if kind == AidKind.HARDSHIP_GRANT:
        if "amount" not in errors and value <= 0:
            errors.setdefault("amount", []).append(_("一次性困难救助金须填写金额"))
        elif value > grant_limit():
            errors.setdefault("amount", []).append(
                _("一次性困难救助金不能超过 %(n)s 元") % {"n": grant_limit()}
            )
        if not approver:
            errors.setdefault("approver", []).append(_("一次性困难救助金须填写审批人"))
    elif kind == AidKind.NECESSITIES and not items:
        errors.setdefault("items", []).append(_("请填写发放的物品"))
    _raise(errors)
    aid = Aid.objects.create(
        case=case,
        kind=kind,
        amount=value,
        items=items,
        approver=approver,
        disbursed_on=disbursed_on,
        note=note,
        recorded_by=_actor_name(actor),
    )
    _audit(
        actor,
        "aftercare.aid_add",
        case,
        {
            "kind": [None, kind],
            "amount": [None, str(value)],
            "approver": [None, approver],
            "disbursed_on": [None, str(disbursed_on)],
        },
        public=("kind", "amount", "disbursed_on"),
    )
    return aid


@transaction.atomic
def reoffence_add(
    *,
    actor: Any,
    case_id: int,
    offence_date: dt.date,
    offence: str,
    note: str = "",
    expected_version: int | None = None,
) -> Reoffence:
    """The person offended again: recorded in the case history; an open case ends as 重新犯罪."""
    case = _lock(actor, case_id, expected_version)
    errors: dict[str, list[str]] = {}
    code = _offence(offence, "offence", errors)
    if offence_date > timezone.localdate():
        errors.setdefault("offence_date", []).append(_("犯罪日期不能晚于今天"))
    if offence_date < case.release_date:
        errors.setdefault("offence_date", []).append(
            _("犯罪日期不能早于释放日期（%(d)s）") % {"d": case.release_date}
        )
    note = _text(note, 200, "note", errors)
    _raise(errors)
    record = Reoffence.objects.create(
        case=case, offence_date=offence_date, offence=code, note=note, recorded_by=_actor_name(actor)
    )
    before = case.status
    if case.status in OPEN_STATUSES:
        case.status = CaseStatus.REOFFENDED
    _bump(case, ["status"])
    _audit(
        actor,
        "aftercare.reoffence_add",
        case,
        {"offence": [None, code], "offence_date": [None, str(offence_date)], "status": [before, case.status]},
    )
    return record


# --- reminders bookkeeping ------------------------------------------------------------------------


def mark_handover_flagged(handover: Handover) -> None:
    Handover.objects.filter(pk=handover.pk, flagged_at__isnull=True).update(flagged_at=timezone.now())


def mark_visit_reminded(visit: Visit) -> None:
    Visit.objects.filter(pk=visit.pk, reminded_at__isnull=True).update(reminded_at=timezone.now())
