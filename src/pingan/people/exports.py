"""The person list as an xlsx: ID and phone as text, masked unless the user may reveal and asked to (with
a reason), cells defused by ``core.excel.write_xlsx``, a header line naming who exported when. Every
export is audited (one event with the filters, the row count and whether values were shown in full)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.audit.services import audit_record
from pingan.core.codes import code_label
from pingan.core.excel import Column, write_xlsx
from pingan.core.masking import mask_address, mask_id_number, mask_name, mask_phone
from pingan.core.sensitive import REVEAL_ROLES, clean_reason
from pingan.people.selectors import PersonFilter, person_list

EXPORT_MAX_ROWS = 100_000


@transaction.atomic
def person_export(*, actor: Any, filters: PersonFilter, reveal: bool = False, reason: str = "") -> bytes:
    if not actor.has_perm("people.export_people"):
        raise PermissionDenied
    if reveal:
        # every exported row is in the actor's scope, so the role is what core.reveal_sensitive checks
        if getattr(actor, "role", None) not in REVEAL_ROLES:
            raise PermissionDenied
        reason = clean_reason(reason)
    people = list(
        person_list(user=actor, filters=filters).order_by("area__code", "name", "pk")[: EXPORT_MAX_ROWS + 1]
    )
    if len(people) > EXPORT_MAX_ROWS:
        from django.core.exceptions import ValidationError

        raise ValidationError(_("导出行数超过 %(n)d，请缩小筛选范围") % {"n": EXPORT_MAX_ROWS})

    def show(kind: str, value: str) -> str:
        if reveal or not value:
            return value or ""
        return {"id": mask_id_number, "phone": mask_phone, "name": mask_name, "address": mask_address}[kind](
            value
        )

    rows = [
        [
            show("name", p.name),
            code_label("sex", p.sex),
            code_label("ethnic_group", p.ethnic_group),
            show("id", p.id_number),
            p.birth_date,
            show("phone", p.phone),
            show("address", p.registered_address),
            p.current_house.address if p.current_house else show("address", p.current_address),
            p.area.name,
            "、".join(code_label("person_category", c) for c in p.categories),
            "" if p.household_consistent is None else ("是" if p.household_consistent else "否"),
            code_label("political_status", p.political_status),
            code_label("education", p.education),
            code_label("marital_status", p.marital_status),
            p.occupation,
            p.get_status_display(),
            p.remarks,
        ]
        for p in people
    ]
    columns = [
        Column("姓名", 10),
        Column("性别", 6),
        Column("民族", 8),
        Column("公民身份号码", 22, text=True),
        Column("出生日期", 12),
        Column("联系电话", 16, text=True),
        Column("户籍地址", 30),
        Column("现住址", 30),
        Column("所属网格", 18),
        Column("人员类别", 14),
        Column("人户一致", 8),
        Column("政治面貌", 12),
        Column("文化程度", 12),
        Column("婚姻状况", 10),
        Column("职业", 14),
        Column("状态", 8),
        Column("备注", 30),
    ]
    now = timezone.localtime()
    note = _("导出人：%(u)s　导出时间：%(t)s　共 %(n)d 人　%(m)s") % {
        "u": actor.get_username(),
        "t": now.strftime("%Y-%m-%d %H:%M"),
        "n": len(rows),
        "m": _("含完整证件号码和电话，请妥善保管") if reveal else _("敏感信息已脱敏"),
    }
    audit_record(
        actor=actor,
        action="person.export",
        reason=reason,
        changes={
            "filters": [None, {k: v for k, v in vars(filters).items() if v}],
            "rows": [None, len(rows)],
            "revealed": [None, reveal],
        },
    )
    return write_xlsx(columns=columns, rows=rows, title=_("实有人口名单"), note=note, sheet_name="人员")


def floating_reminder_export(*, actor: Any, kind: str, area_id: int | None = None) -> bytes:
    """The 流动人口提醒 list of one kind as an xlsx, masked (no reveal here: the list is for follow-up work,
    the person page shows a value in full to whoever may see it); audited."""
    from pingan.core.sensitive import masked
    from pingan.people.selectors import REMINDER_KINDS, floating_reminders

    if not actor.has_perm("people.export_people"):
        raise PermissionDenied
    if kind not in REMINDER_KINDS:
        raise ValueError(kind)
    today = timezone.localdate()
    records = list(floating_reminders(user=actor, kind=kind, today=today, area_id=area_id)[:EXPORT_MAX_ROWS])
    rows = [
        [
            masked(r.person, "name"),
            masked(r.person, "id_number"),
            masked(r.person, "phone"),
            r.person.area.name,
            r.get_permit_type_display(),
            masked(r, "permit_number"),
            r.valid_to,
            (r.valid_to - today).days if r.valid_to else None,
            r.registered_on,
            r.last_verified_on,
        ]
        for r in records
    ]
    columns = [
        Column("姓名", 10),
        Column("公民身份号码", 22, text=True),
        Column("联系电话", 16, text=True),
        Column("所属网格", 18),
        Column("证件类型", 10),
        Column("居住证号", 18, text=True),
        Column("有效期至", 12),
        Column("剩余天数", 10),
        Column("登记日期", 12),
        Column("最近核查日期", 14),
    ]
    title = _("居住证即将到期") if kind == "expiring" else _("逾期未核查的流动人口")
    note = _("导出人：%(u)s　导出时间：%(t)s　共 %(n)d 人　%(m)s") % {
        "u": actor.get_username(),
        "t": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        "n": len(rows),
        "m": _("敏感信息已脱敏"),
    }
    audit_record(
        actor=actor,
        action="person.floating_reminder_export",
        changes={"kind": [None, kind], "area": [None, area_id], "rows": [None, len(rows)]},
    )
    return write_xlsx(columns=columns, rows=rows, title=title, note=note, sheet_name="流动人口提醒")


# --- large exports run in the background (core.exports) ------------------------------------------------

EXPORTER_NAME = "people.persons"


def export_params(query: Any, *, reveal: bool, reason: str) -> dict[str, Any]:
    """The JSON a queued export keeps: the list's filter parameters as given, the reveal flag, the reason."""
    keys = ("q", "area", "status", "category", "sex", "house")
    return {
        "query": {k: str(query.get(k)) for k in keys if query.get(k)},
        "reveal": reveal,
        "reason": reason,
    }


def _count(actor: Any, params: dict[str, Any]) -> int:
    return int(person_list(user=actor, filters=PersonFilter.from_params(params.get("query") or {})).count())


def _build(actor: Any, params: dict[str, Any]) -> Any:
    from pingan.core.exports import ExportFile

    filters = PersonFilter.from_params(params.get("query") or {})
    reveal, reason = bool(params.get("reveal")), str(params.get("reason") or "")
    content = person_export(actor=actor, filters=filters, reveal=reveal, reason=reason)
    stamp = timezone.localtime().strftime("%Y%m%d")
    return ExportFile(content=content, rows=_count(actor, params), filename=f"people-{stamp}.xlsx")


def _register() -> None:
    from pingan.core.exports import Exporter, register_exporter

    register_exporter(
        Exporter(
            name=EXPORTER_NAME,
            label=_("实有人口名单"),
            permission="people.export_people",
            count=_count,
            build=_build,
        )
    )


_register()
