"""Exports: the client list (names and ID numbers masked) and the half-year/annual statistical table.
Both go through ``core.excel.write_xlsx`` and are audited (one export event with filters and row count)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.audit.services import audit_record
from pingan.core.codes import code_label
from pingan.core.excel import Column, write_xlsx
from pingan.core.masking import mask_id_number, mask_name
from pingan.correction.selectors import ClientFilter, client_list, statistics_rows

EXPORT_MAX_ROWS = 50_000


def _note(actor: Any, rows: int) -> str:
    return _("导出人：%(u)s　导出时间：%(t)s　共 %(n)d 行　敏感信息已脱敏") % {
        "u": actor.get_username(),
        "t": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        "n": rows,
    }


@transaction.atomic
def client_export(*, actor: Any, filters: ClientFilter) -> bytes:
    if not actor.has_perm("correction.export_clients"):
        raise PermissionDenied
    clients = list(
        client_list(user=actor, filters=filters).order_by("area__code", "number")[: EXPORT_MAX_ROWS + 1]
    )
    if len(clients) > EXPORT_MAX_ROWS:
        raise ValidationError(_("导出行数超过 %(n)d，请缩小筛选范围") % {"n": EXPORT_MAX_ROWS})
    rows = [
        [
            c.number,
            mask_name(c.person.name),
            mask_id_number(c.person.id_number),
            code_label("correction_category", c.category),
            c.offence,
            c.sentence,
            c.start_date,
            c.end_date,
            c.authority,
            c.judgment_effective_date,
            c.reception_deadline,
            c.reported_on,
            c.area.name,
            c.get_status_display(),
            c.get_termination_display() if c.termination else "",
        ]
        for c in clients
    ]
    columns = [
        Column("矫正编号", 16, text=True),
        Column("姓名", 10),
        Column("公民身份号码", 22, text=True),
        Column("矫正类别", 12),
        Column("罪名", 16),
        Column("原判刑罚", 20),
        Column("矫正期起", 12),
        Column("矫正期止", 12),
        Column("决定机关", 20),
        Column("判决生效日期", 12),
        Column("报到期限", 12),
        Column("报到日期", 12),
        Column("所属社区/网格", 18),
        Column("状态", 10),
        Column("解除/终止方式", 12),
    ]
    audit_record(
        actor=actor,
        action="correction.client_export",
        changes={"filters": [None, {k: v for k, v in vars(filters).items() if v}], "rows": [None, len(rows)]},
    )
    return write_xlsx(columns=columns, rows=rows, title=_("社区矫正对象名单"), note=_note(actor, len(rows)))


def _pct(value: Any) -> str:
    return "—" if value is None else f"{value}%"


@transaction.atomic
def statistics_export(
    *, actor: Any, year: int, half: int | None, start: dt.date, end: dt.date, today: dt.date | None = None
) -> bytes:
    if not actor.has_perm("correction.view_figures"):
        raise PermissionDenied
    rows = statistics_rows(user=actor, start=start, end=end, today=today)
    out = []
    for area, f in rows:
        out.append(
            [
                area.name if area is not None else _("合计"),
                f.in_correction,
                f.open_at_end,
                f.received,
                sum(f.terminated.values()),
                f.terminated.get("completed", 0),
                f.terminated.get("revoked", 0),
                f.reception_due,
                f.reception_missed,
                _pct(f.missing_rate),
                f.checkins_made + f.checkins_missed,
                f.checkins_on_time,
                _pct(f.checkin_on_time_rate),
                f.visits_made + f.visits_missed,
                f.visits_on_time,
                _pct(f.visit_on_time_rate),
                f.reoffenders,
                _pct(f.reoffending_rate),
            ]
        )
    columns = [
        Column("辖区", 16),
        Column("期内在矫人数", 12),
        Column("期末在册人数", 12),
        Column("期内接收", 10),
        Column("期内解除/终止", 12),
        Column("其中期满解除", 12),
        Column("其中收监执行", 12),
        Column("应报到人数", 10),
        Column("漏管人数", 10),
        Column("漏管率", 10),
        Column("应报告次数", 10),
        Column("按时报告次数", 12),
        Column("按时报告率", 10),
        Column("应走访次数", 10),
        Column("按时走访次数", 12),
        Column("按时走访率", 10),
        Column("重新犯罪人数", 12),
        Column("重新犯罪率", 10),
    ]
    label = (
        _("%(y)d年上半年") % {"y": year}
        if half == 1
        else (_("%(y)d年下半年") % {"y": year} if half == 2 else _("%(y)d年度") % {"y": year})
    )
    audit_record(
        actor=actor,
        action="correction.statistics_export",
        changes={"period": [None, f"{start}~{end}"], "rows": [None, len(out)]},
    )
    return write_xlsx(
        columns=columns,
        rows=out,
        title=_("社区矫正工作统计表（%(p)s，%(s)s 至 %(e)s）") % {"p": label, "s": start, "e": end},
        note=_note(actor, len(out)),
        sheet_name="统计表",
    )


# --- large list exports run in the background (core.exports) -------------------------------------------

EXPORTER_NAME = "correction.clients"
FILTER_KEYS = ("q", "area", "category", "status", "due")


def export_params(query: Any) -> dict[str, Any]:
    """The JSON a queued export keeps: the list's filter parameters as given."""
    return {"query": {k: str(query.get(k)) for k in FILTER_KEYS if query.get(k)}}


def _count(actor: Any, params: dict[str, Any]) -> int:
    return int(client_list(user=actor, filters=ClientFilter.from_params(params.get("query") or {})).count())


def _build(actor: Any, params: dict[str, Any]) -> Any:
    from pingan.core.exports import ExportFile

    content = client_export(actor=actor, filters=ClientFilter.from_params(params.get("query") or {}))
    stamp = timezone.localtime().strftime("%Y%m%d")
    return ExportFile(content=content, rows=_count(actor, params), filename=f"correction-{stamp}.xlsx")


def _register() -> None:
    from pingan.core.exports import Exporter, register_exporter

    register_exporter(
        Exporter(
            name=EXPORTER_NAME,
            label=_("社区矫正对象名单"),
            permission="correction.export_clients",
            count=_count,
            build=_build,
        )
    )


_register()
