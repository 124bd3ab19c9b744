"""Exports: the case list and the half-year / annual statistical table, as xlsx. The list shows the
person's name and ID number masked (the export is for work lists, not identity checks); every export is
audited (one event: filters, rows). Sealed cases never appear (the selectors hide them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.aftercare.selectors import RATE_LABELS, CaseFilter, Figures, case_list, figure_rows
from pingan.areas.models import Area
from pingan.audit.services import audit_record
from pingan.core.codes import code_label
from pingan.core.excel import Column, write_xlsx
from pingan.core.masking import mask_id_number, mask_name

EXPORT_MAX_ROWS = 50_000


def _note(actor: Any, n: int) -> str:
    return _("导出人：%(u)s　导出时间：%(t)s　共 %(n)d 条　敏感信息已脱敏") % {
        "u": actor.get_username(),
        "t": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        "n": n,
    }


@transaction.atomic
def case_export(*, actor: Any, filters: CaseFilter) -> bytes:
    if not actor.has_perm("aftercare.export_cases"):
        raise PermissionDenied
    cases = list(
        case_list(user=actor, filters=filters).order_by("area__code", "release_date", "pk")[
            : EXPORT_MAX_ROWS + 1
        ]
    )
    if len(cases) > EXPORT_MAX_ROWS:
        raise ValidationError(_("导出行数超过 %(n)d，请缩小筛选范围") % {"n": EXPORT_MAX_ROWS})
    rows = [
        [
            mask_name(c.person.name),
            mask_id_number(c.person.id_number),
            c.area.name,
            code_label("offence", c.offence),
            c.sentence,
            c.prison,
            c.release_date,
            c.assistance_end,
            c.is_recidivist,
            c.is_key_person,
            c.get_risk_level_display(),
            c.handover.get_status_display(),
            c.get_resettlement_display(),
            getattr(c, "next_visit_on", None),
            c.get_status_display(),
        ]
        for c in cases
    ]
    columns = [
        Column("姓名", 10),
        Column("公民身份号码", 22, text=True),
        Column("所属社区/网格", 18),
        Column("原罪名", 16),
        Column("原判刑罚", 14),
        Column("服刑场所", 18),
        Column("释放日期", 12),
        Column("帮教期满", 12),
        Column("累犯", 6),
        Column("重点", 6),
        Column("风险评估", 8),
        Column("衔接状态", 8),
        Column("安置情况", 10),
        Column("下次走访", 12),
        Column("状态", 8),
    ]
    audit_record(
        actor=actor,
        action="aftercare.export",
        changes={"filters": [None, {k: v for k, v in vars(filters).items() if v}], "rows": [None, len(rows)]},
    )
    return write_xlsx(
        columns=columns,
        rows=rows,
        title=_("安置帮教对象名单"),
        note=_note(actor, len(rows)),
        sheet_name="刑释人员",
    )


def _pct(value: Any) -> str:
    return "—" if value is None else f"{value}%"


def _figure_row(label: str, f: Figures) -> list[Any]:
    return [
        label,
        f.released,
        f.received,
        _pct(f.handover_rate),
        f.population,
        f.resettled,
        _pct(f.resettlement_rate),
        f.assisted,
        _pct(f.assistance_rate),
        f.reoffended,
        _pct(f.reoffending_rate),
        f.visits_due,
        f.visits_on_time,
        _pct(f.visit_on_time_rate),
        f.grants,
        float(f.grant_amount),
        f.necessities,
    ]


FIGURE_COLUMNS = [
    Column("辖区", 18),
    Column("期内释放", 10),
    Column("已衔接", 8),
    Column(RATE_LABELS["handover"], 8),
    Column("应帮教", 8),
    Column("已安置", 8),
    Column(RATE_LABELS["resettlement"], 8),
    Column("已帮教", 8),
    Column(RATE_LABELS["assistance"], 8),
    Column("重新犯罪", 8),
    Column(RATE_LABELS["reoffending"], 10),
    Column("应走访", 8),
    Column("按时走访", 8),
    Column(RATE_LABELS["visit_on_time"], 10),
    Column("救助金笔数", 10),
    Column("救助金额（元）", 14),
    Column("生活必需品（次）", 14),
]


@transaction.atomic
def figures_export(
    *, actor: Any, start: dt.date, end: dt.date, parent: Area | None = None, title: str = ""
) -> bytes:
    """The statistical table (one row per area and a total row) for a half-year or a year."""
    if not actor.has_perm("aftercare.view_figures"):
        raise PermissionDenied
    rows, total = figure_rows(user=actor, start=start, end=end, parent=parent)
    data = [_figure_row(f.area.name if f.area else "", f) for f in rows]
    data.append(_figure_row(_("合计"), total))
    audit_record(
        actor=actor,
        action="aftercare.figures_export",
        changes={
            "period": [None, f"{start}~{end}"],
            "area": [None, parent.code if parent else ""],
            "rows": [None, len(data)],
        },
    )
    heading = title or _("安置帮教工作统计表（%(s)s 至 %(e)s）") % {"s": start, "e": end}
    return write_xlsx(
        columns=FIGURE_COLUMNS,
        rows=data,
        title=heading,
        note=_("导出人：%(u)s　导出时间：%(t)s　口径见 docs/aftercare.md（封存档案不计入）")
        % {"u": actor.get_username(), "t": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
        sheet_name="统计表",
    )


# --- large list exports run in the background (core.exports) -------------------------------------------

EXPORTER_NAME = "aftercare.cases"
FILTER_KEYS = ("q", "area", "status", "due", "key_person", "risk")


def export_params(query: Any) -> dict[str, Any]:
    """The JSON a queued export keeps: the list's filter parameters as given."""
    return {"query": {k: str(query.get(k)) for k in FILTER_KEYS if query.get(k)}}


def _count(actor: Any, params: dict[str, Any]) -> int:
    return int(case_list(user=actor, filters=CaseFilter.from_params(params.get("query") or {})).count())


def _build(actor: Any, params: dict[str, Any]) -> Any:
    from pingan.core.exports import ExportFile

    content = case_export(actor=actor, filters=CaseFilter.from_params(params.get("query") or {}))
    stamp = timezone.localtime().strftime("%Y%m%d")
    return ExportFile(content=content, rows=_count(actor, params), filename=f"aftercare-{stamp}.xlsx")


def _register() -> None:
    from pingan.core.exports import Exporter, register_exporter

    register_exporter(
        Exporter(
            name=EXPORTER_NAME,
            label=_("安置帮教对象名单"),
            permission="aftercare.export_cases",
            count=_count,
            build=_build,
        )
    )


_register()
