"""The event list as an xlsx: the filtered list of the user's events, one row each, with its state and
deadline figures. No reporter's name or phone; addresses masked (the event page shows them to whoever may
see them). A header line names who exported when; every export is audited. Large lists are made by the
worker (core.exports)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.audit.services import audit_record
from pingan.core.codes import code_label
from pingan.core.excel import Column, write_xlsx
from pingan.core.masking import mask_address
from pingan.events.selectors import EventFilter, event_list

EXPORTER_NAME = "events.list"
EXPORT_MAX_ROWS = 100_000


def export_params(query: Any) -> dict[str, Any]:
    """The JSON a queued export keeps: the list's filter parameters as given (``status`` a list)."""
    kept: dict[str, Any] = {}
    for key in EventFilter.FILTER_KEYS:
        values = [v for v in query.getlist(key) if v] if hasattr(query, "getlist") else query.get(key)
        if values:
            kept[key] = values if key == "status" else values[-1]
    return {"query": kept}


def _local(moment: Any) -> Any:
    return timezone.localtime(moment).replace(tzinfo=None) if moment else ""


@transaction.atomic
def event_export(*, actor: Any, filters: EventFilter) -> bytes:
    if not actor.has_perm("events.view_events"):
        raise PermissionDenied
    events = list(
        event_list(user=actor, filters=filters)
        .select_related("area", "owner", "assignee_department", "assignee_area")
        .order_by("-reported_at", "-pk")[: EXPORT_MAX_ROWS + 1]
    )
    if len(events) > EXPORT_MAX_ROWS:
        raise ValidationError(_("导出行数超过 %(n)d，请缩小筛选范围") % {"n": EXPORT_MAX_ROWS})
    now = timezone.now()
    rows = []
    for e in events:
        assignee = e.assignee_department or e.assignee_area
        rows.append(
            [
                e.number,
                e.title,
                code_label("event_category", e.category),
                e.get_source_display(),
                e.get_urgency_display(),
                e.get_tier_display(),
                e.get_status_display(),
                e.area.name,
                mask_address(e.address) if e.address else "",
                e.owner.name,
                assignee.name if assignee is not None else "",
                _local(e.reported_at),
                _local(e.deadline),
                _("是") if e.deadline and e.status in ("dispatched", "handling") and e.deadline < now else "",
                _local(e.closed_at),
                "" if e.closed_on_time is None else (_("是") if e.closed_on_time else _("否")),
                e.failed_verification_count,
                e.extension_count,
                e.rating if e.rating is not None else "",
            ]
        )
    columns = [
        Column(_("事件编号"), 15, text=True),
        Column(_("标题"), 28),
        Column(_("事件类别"), 14),
        Column(_("来源"), 10),
        Column(_("紧急程度"), 8),
        Column(_("处置等级"), 9),
        Column(_("状态"), 8),
        Column(_("网格"), 16),
        Column(_("地址"), 24),
        Column(_("负责中心"), 14),
        Column(_("派遣对象"), 16),
        Column(_("上报时间"), 17),
        Column(_("办理期限"), 17),
        Column(_("超期"), 6),
        Column(_("结案时间"), 17),
        Column(_("按期结案"), 8),
        Column(_("返工次数"), 8),
        Column(_("延期次数"), 8),
        Column(_("满意度"), 7),
    ]
    note = _("导出人：%(u)s　导出时间：%(t)s　共 %(n)d 件　筛选：%(f)s") % {
        "u": actor.get_username(),
        "t": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        "n": len(rows),
        "f": describe_filters(filters) or _("无"),
    }
    audit_record(
        actor=actor,
        action="event.export",
        changes={
            "filters": [None, {k: str(v) for k, v in vars(filters).items() if v}],
            "rows": [None, len(rows)],
        },
    )
    return write_xlsx(columns=columns, rows=rows, title=_("网格事件清单"), note=note, sheet_name="事件")


def describe_filters(filters: EventFilter) -> str:
    """The filters in words, for the header of an exported sheet (the list's and the figures')."""
    from pingan.areas.models import Area, Department
    from pingan.events.models import Source, Status, Tier

    parts = []
    if filters.reported_from or filters.reported_to:
        parts.append(
            _("上报时间 %(a)s 至 %(b)s") % {"a": filters.reported_from or "", "b": filters.reported_to or ""}
        )
    if filters.area_id:
        area = Area.objects.filter(pk=filters.area_id).values_list("name", flat=True).first()
        parts.append(_("区域 %(a)s") % {"a": area or filters.area_id})
    if filters.department_id:
        name = Department.objects.filter(pk=filters.department_id).values_list("name", flat=True).first()
        parts.append(_("部门 %(d)s") % {"d": name or filters.department_id})
    if filters.category:
        parts.append(_("类别 %(c)s") % {"c": code_label("event_category", filters.category)})
    if filters.status:
        parts.append(_("状态 %(s)s") % {"s": "、".join(str(Status(s).label) for s in filters.status)})
    if filters.open_only:
        parts.append(_("办理中"))
    if filters.source:
        parts.append(_("来源 %(s)s") % {"s": Source(filters.source).label})
    if filters.tier:
        parts.append(_("处置等级 %(t)s") % {"t": Tier(filters.tier).label})
    if filters.overdue:
        parts.append(_("已超期"))
    if filters.q:
        parts.append(_("关键词 %(q)s") % {"q": filters.q})
    return "；".join(parts)


def _count(actor: Any, params: dict[str, Any]) -> int:
    return int(event_list(user=actor, filters=EventFilter.from_params(params.get("query") or {})).count())


def _build(actor: Any, params: dict[str, Any]) -> Any:
    from pingan.core.exports import ExportFile

    content = event_export(actor=actor, filters=EventFilter.from_params(params.get("query") or {}))
    stamp = timezone.localtime().strftime("%Y%m%d")
    return ExportFile(content=content, rows=_count(actor, params), filename=f"events-{stamp}.xlsx")


def _register() -> None:
    from django.utils.translation import gettext_lazy

    from pingan.core.exports import Exporter, register_exporter

    register_exporter(
        Exporter(
            name=EXPORTER_NAME,
            label=gettext_lazy("网格事件清单"),
            permission="events.view_events",
            count=_count,
            build=_build,
        )
    )


_register()
