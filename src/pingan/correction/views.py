"""Pages: client list (filters, export), client page (tabs) and its action forms, client form, leave
approval, missing-supervision alerts, figures and the statistical table, import wizard. They call the same
selectors and services as the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.areas.selectors import places_in_scope
from pingan.core import wizards
from pingan.core.codes import code_choices, code_label
from pingan.core.forms import apply_errors
from pingan.core.ratelimit import rate_limit
from pingan.core.wizards import ImportWizard, xlsx_response
from pingan.correction import exports, importers, selectors, services
from pingan.correction.forms import ClientForm, ImportForm
from pingan.correction.models import (
    CheckIn,
    ClientStatus,
    GroupMember,
    LeaveRequest,
    LeaveStatus,
    Reward,
    Sanction,
    ServiceHours,
    SupervisionPlan,
    Termination,
)


def _require(request: HttpRequest, perm: str) -> None:
    """A page the user may not use answers 404, like a record that does not exist (issue 6: other roles
    must not even learn that the correction pages hold anything)."""
    if not request.user.has_perm(perm):
        raise Http404


def _error_text(exc: ValidationError) -> str:
    return "；".join(exc.messages)


DUE_FILTERS = [
    ("missing", "漏管预警"),
    ("checkin_overdue", "报告逾期"),
    ("visit_overdue", "走访逾期"),
    ("ending", "30天内期满"),
]


def client_list(request: HttpRequest) -> HttpResponse:
    _require(request, "correction.view_clients")
    filters = selectors.ClientFilter.from_params(request.GET)
    page = Paginator(
        selectors.client_list(user=request.user, filters=filters).order_by("-judgment_effective_date", "-pk"),
        50,
    ).get_page(request.GET.get("page"))
    for c in page:
        setattr(c, "category_label", code_label("correction_category", c.category))  # noqa: B010
    return render(
        request,
        "correction/client_list.html",
        {
            "page": page,
            "filters": filters,
            "query": request.GET.urlencode(),
            "categories": code_choices("correction_category"),
            "statuses": ClientStatus.choices,
            "dues": [(k, _(v)) for k, v in DUE_FILTERS],
            "today": timezone.localdate(),
            "can_write": request.user.has_perm("correction.write_clients"),
        },
    )


@rate_limit("export")  # core.ratelimit: per user, PINGAN_EXPORT_RATE_PER_MINUTE
def client_export(request: HttpRequest) -> HttpResponse:
    _require(request, "correction.export_clients")
    from pingan.core.exports import ExportJob, export_or_queue

    try:
        # more than PINGAN_EXPORT_SYNC_MAX_ROWS rows: made by the worker, downloaded from 我的导出
        result = export_or_queue(
            actor=request.user, name=exports.EXPORTER_NAME, params=exports.export_params(request.GET)
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("correction:list")
    if isinstance(result, ExportJob):
        messages.info(request, _("导出行数较多，已转入后台生成，完成后请在“我的导出”中下载。"))
        return redirect("core:exports")
    return xlsx_response(result.content, result.filename)


def client_edit(request: HttpRequest, client_id: int | None = None) -> HttpResponse:
    _require(request, "correction.write_clients")
    client = selectors.client_get(user=request.user, client_id=client_id, audit=False) if client_id else None
    if client is not None and not request.user.has_perm("correction.manage_client", client):
        raise Http404
    areas = list(places_in_scope(request.user))
    initial: dict[str, Any] = {}
    if client is not None:
        initial = {f: getattr(client, f) for f in services.CLIENT_FIELDS}
    form = ClientForm(request.POST or None, initial=initial, areas=areas, editing=client is not None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if client is None:
                area_id = str(data.pop("area"))  # popped once: the generator below reads it for every area
                area = next((a for a in areas if str(a.pk) == area_id), None)
                if area is None:
                    raise Http404
                client = services.client_register(actor=request.user, area=area, data=data)
            else:
                services.client_update(actor=request.user, client_id=client.pk, data=data)
        except ValidationError as exc:
            apply_errors(form, exc)
        except services.CorrectionConflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已保存"))
            return redirect("correction:detail", client_id=client.pk)
    return render(request, "correction/client_form.html", {"form": form, "client": client})


def client_detail(request: HttpRequest, client_id: int) -> HttpResponse:
    _require(request, "correction.view_clients")
    client = selectors.client_get(user=request.user, client_id=client_id)
    records = selectors.client_records(client)
    today = timezone.localdate()
    for leave in records["leaves"]:
        leave.client = client
        leave.actions = services.leave_actions(request.user, leave)
    return render(
        request,
        "correction/client_detail.html",
        {
            "client": client,
            "category_label": code_label("correction_category", client.category),
            "missing": client.is_missing(today),
            "today": today,
            "can_manage": request.user.has_perm("correction.manage_client", client),
            "can_approve": request.user.has_perm("correction.approve_client", client),
            "member_kinds": GroupMember.Kind.choices,
            "plan_levels": SupervisionPlan.Level.choices,
            "checkin_kinds": CheckIn.Kind.choices,
            "leave_kinds": LeaveRequest.Kind.choices,
            "sanction_kinds": Sanction.Kind.choices,
            "reward_kinds": Reward.Kind.choices,
            "hour_kinds": ServiceHours.Kind.choices,
            "terminations": Termination.choices,
            "hours_education": records["hours_total"].get("education", 0),
            "hours_service": records["hours_total"].get("community_service", 0),
            **records,
        },
    )


ACTIONS = {
    "report": lambda u, pk, d: services.client_report(
        actor=u, client_id=pk, reported_on=d.get("reported_on")
    ),
    "resolve": lambda u, pk, d: services.missing_resolve(actor=u, client_id=pk, note=d.get("note", "")),
    "terminate": lambda u, pk, d: services.client_terminate(
        actor=u, client_id=pk, kind=d.get("kind", ""), date=d.get("date"), note=d.get("note", "")
    ),
    "checkin": lambda u, pk, d: services.checkin_record(actor=u, client_id=pk, data=d),
    "visit": lambda u, pk, d: services.visit_record(actor=u, client_id=pk, data=d),
    "leave": lambda u, pk, d: services.leave_request(actor=u, client_id=pk, data=d),
    "sanction": lambda u, pk, d: services.sanction_add(actor=u, client_id=pk, data=d),
    "reward": lambda u, pk, d: services.reward_add(actor=u, client_id=pk, data=d),
    "hours": lambda u, pk, d: services.hours_add(actor=u, client_id=pk, data=d),
    "reoffence": lambda u, pk, d: services.reoffence_add(actor=u, client_id=pk, data=d),
    "member": lambda u, pk, d: services.group_member_add(actor=u, client_id=pk, data=d),
    "plan": lambda u, pk, d: services.plan_set(actor=u, client_id=pk, data=d),
    "member_remove": lambda u, pk, d: services.group_member_remove(
        actor=u, member_id=d.get("member_id"), client_id=pk
    ),
}


def client_action(request: HttpRequest, client_id: int, action: str) -> HttpResponse:
    """POST one of the client page's small forms."""
    _require(request, "correction.write_clients")
    client = selectors.client_get(user=request.user, client_id=client_id, audit=False)  # 404 if not visible
    if action not in ACTIONS or not request.user.has_perm("correction.manage_client", client):
        raise Http404
    if request.method != "POST":
        return redirect("correction:detail", client_id=client_id)
    data = {k: v[:2000] for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
    try:
        ACTIONS[action](request.user, client.pk, data)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    except services.CorrectionConflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已保存"))
    return redirect("correction:detail", client_id=client_id)


def leave_list(request: HttpRequest) -> HttpResponse:
    _require(request, "correction.view_clients")
    status = request.GET.get("status", LeaveStatus.PENDING)
    leaves = list(selectors.leave_list(user=request.user, status=status)[:500])
    for leave in leaves:
        setattr(leave, "actions", services.leave_actions(request.user, leave))  # noqa: B010
    return render(
        request,
        "correction/leave_list.html",
        {"leaves": leaves, "status": status, "statuses": LeaveStatus.choices},
    )


def leave_decide(request: HttpRequest, leave_id: int) -> HttpResponse:
    _require(request, "correction.view_clients")
    leave = selectors.leave_get(user=request.user, leave_id=leave_id)  # 404 if not visible
    if request.method != "POST":
        return redirect("correction:detail", client_id=leave.client_id)
    try:
        services.leave_decide(
            actor=request.user,
            leave_id=leave.pk,
            action=request.POST.get("action", ""),
            note=request.POST.get("note", "")[:300],
            returned_on=request.POST.get("returned_on") or None,
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    except services.CorrectionConflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已处理"))
    target = request.POST.get("next", "")
    if target == "leaves":
        return redirect("correction:leaves")
    return redirect("correction:detail", client_id=leave.client_id)


def alerts(request: HttpRequest) -> HttpResponse:
    _require(request, "correction.view_clients")
    today = timezone.localdate()
    clients = list(selectors.missing_list(user=request.user, today=today)[:500])
    for c in clients:
        setattr(c, "overdue_days", ((c.reported_on or today) - c.reception_deadline).days)  # noqa: B010
        setattr(c, "can_resolve", request.user.has_perm("correction.approve_client", c))  # noqa: B010
    return render(request, "correction/alerts.html", {"clients": clients, "today": today})


def alert_resolve(request: HttpRequest, client_id: int) -> HttpResponse:
    _require(request, "correction.view_clients")
    selectors.client_get(user=request.user, client_id=client_id, audit=False)
    if request.method == "POST":
        try:
            services.missing_resolve(
                actor=request.user, client_id=client_id, note=request.POST.get("note", "")[:300]
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        except services.CorrectionConflict as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已处理"))
    return redirect("correction:alerts")


def _period(request: HttpRequest) -> tuple[int, int | None, dt.date, dt.date]:
    today = timezone.localdate()
    year_text = request.GET.get("year", "")
    year = int(year_text) if year_text.isdigit() and 2000 <= int(year_text) <= 2100 else today.year
    half_text = request.GET.get("half", "")
    half = int(half_text) if half_text in ("1", "2") else None
    start, end = selectors.period_bounds(year, half)
    return year, half, start, end


def figures(request: HttpRequest) -> HttpResponse:
    _require(request, "correction.view_figures")
    year, half, start, end = _period(request)
    rows = selectors.statistics_rows(user=request.user, start=start, end=end)
    return render(
        request,
        "correction/figures.html",
        {
            "rows": rows,
            "year": year,
            "half": half,
            "start": start,
            "end": end,
            "years": list(range(timezone.localdate().year, timezone.localdate().year - 6, -1)),
            "query": request.GET.urlencode(),
        },
    )


@rate_limit("export")  # core.ratelimit: per user, PINGAN_EXPORT_RATE_PER_MINUTE
def figures_export(request: HttpRequest) -> HttpResponse:
    _require(request, "correction.view_figures")
    year, half, start, end = _period(request)
    data = exports.statistics_export(actor=request.user, year=year, half=half, start=start, end=end)
    suffix = f"H{half}" if half else "Y"
    return xlsx_response(data, f"correction-statistics-{year}{suffix}.xlsx")


def import_template(request: HttpRequest) -> HttpResponse:
    _require(request, "correction.import_clients")
    return xlsx_response(importers.template(), "correction-template.xlsx")


WIZARD = ImportWizard(
    key="correction_import",
    title=gettext_lazy("导入社区矫正对象"),
    help=gettext_lazy(
        "按矫正编号更新或新增（人员按身份证号对应实有人口档案）；同一文件重复导入不会产生重复档案。必填列：姓名、"
        "公民身份号码、矫正编号、矫正类别、罪名、矫正期起止、决定机关、判决生效日期、所属社区/网格。身份证号请以"
        "文本格式保存（Excel 把 18 位数字当作数字保存时末尾会变成 0，这样的行会被拒绝）。"
    ),
    columns=importers.COLUMNS,
    run=importers.client_import,
    form=ImportForm,
    permission="correction.import_clients",
    template_url="correction:import_template",
    errors_url="correction:import_errors",
    hidden=True,
)


def import_wizard(request: HttpRequest) -> HttpResponse:
    """Upload → preview (dry run, errors listed, error report downloadable) → commit (core.wizards)."""
    return wizards.import_wizard(request, WIZARD)


def import_errors(request: HttpRequest) -> HttpResponse:
    return wizards.import_errors(request, WIZARD, filename="correction-import-errors.xlsx")
