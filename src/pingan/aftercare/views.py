"""Pages: the case list (filters, worklists, export), the case page (tabs: case, hand-over,
resettlement, group, visits, help, re-offence, history), forms, the pre-release import wizard and the
figures page. They call the same selectors and services as the API."""

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
from django.views.decorators.http import require_POST

from pingan.aftercare import exports, importers, selectors, services
from pingan.aftercare.forms import (
    AidForm,
    CaseForm,
    ImportForm,
    MemberForm,
    NotReceivedForm,
    ReceiveForm,
    ReoffenceForm,
    ResettlementForm,
    VisitForm,
)
from pingan.aftercare.models import CaseStatus, RiskLevel
from pingan.areas.models import Area
from pingan.areas.selectors import places_in_scope
from pingan.core import wizards
from pingan.core.codes import code_label
from pingan.core.forms import apply_errors
from pingan.core.ratelimit import rate_limit
from pingan.core.wizards import ImportWizard, xlsx_response

TABS = {
    "case": gettext_lazy("档案"),
    "handover": gettext_lazy("衔接"),
    "resettlement": gettext_lazy("安置"),
    "group": gettext_lazy("帮教小组"),
    "visits": gettext_lazy("走访"),
    "aid": gettext_lazy("帮扶救助"),
    "reoffence": gettext_lazy("重新犯罪"),
    "history": gettext_lazy("时间线"),
}


def _require(request: HttpRequest, perm: str) -> None:
    """Forbidden answers like missing (404): a role outside ``rules`` does not learn the pages exist."""
    if not request.user.has_perm(perm):
        raise Http404


def _version(request: HttpRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() and len(value) < 10 else None


def case_list(request: HttpRequest) -> HttpResponse:
    _require(request, "aftercare.view_cases")
    filters = selectors.CaseFilter.from_params(request.GET)
    page = Paginator(selectors.case_list(user=request.user, filters=filters), 50).get_page(
        request.GET.get("page")
    )
    for case in page:
        case.offence_label = code_label("offence", case.offence)  # type: ignore[attr-defined]
    return render(
        request,
        "aftercare/case_list.html",
        {
            "page": page,
            "filters": filters,
            "query": request.GET.urlencode(),
            "page_query": _without_page(request),
            "today": timezone.localdate(),
            "due_choices": list(selectors.DUE_FILTERS.items()),
            "status_choices": CaseStatus.choices,
            "risk_choices": RiskLevel.choices,
            "can_write": request.user.has_perm("aftercare.write_cases"),
            "can_import": request.user.has_perm("aftercare.import_cases"),
        },
    )


def _without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@rate_limit("export")  # core.ratelimit: per user, PINGAN_EXPORT_RATE_PER_MINUTE
def case_export_view(request: HttpRequest) -> HttpResponse:
    _require(request, "aftercare.export_cases")
    from pingan.core.exports import ExportJob, export_or_queue

    try:
        # more than PINGAN_EXPORT_SYNC_MAX_ROWS rows: made by the worker, downloaded from 我的导出
        result = export_or_queue(
            actor=request.user, name=exports.EXPORTER_NAME, params=exports.export_params(request.GET)
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("aftercare:list")
    if isinstance(result, ExportJob):
        messages.info(request, _("导出行数较多，已转入后台生成，完成后请在“我的导出”中下载。"))
        return redirect("core:exports")
    return xlsx_response(result.content, result.filename)


def case_create(request: HttpRequest) -> HttpResponse:
    _require(request, "aftercare.write_cases")
    areas = list(places_in_scope(request.user))
    form = CaseForm(request.POST or None, areas=areas)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        area_id = str(data.pop("area"))
        area = next((a for a in areas if str(a.pk) == area_id), None)
        if area is None:
            raise Http404
        person_data = {k: data.pop(k) for k in ("name", "id_number", "phone")}
        person_data = {k: v for k, v in person_data.items() if v}
        received_on = data.pop("received_on")
        if data.get("assistance_end") is None:
            data.pop("assistance_end")
        try:
            case = services.case_register(
                actor=request.user, area=area, person_data=person_data, data=data, received_on=received_on
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已登记"))
            if case.sealed:
                messages.info(request, _("犯罪时未满十八周岁，档案已依法封存，列表中不再显示"))
                return redirect("aftercare:list")
            return redirect("aftercare:detail", case_id=case.pk)
    return render(request, "aftercare/case_form.html", {"form": form, "case": None})


def case_edit(request: HttpRequest, case_id: int) -> HttpResponse:
    _require(request, "aftercare.write_cases")
    case = selectors.case_get(user=request.user, case_id=case_id, audit=False)
    if not request.user.has_perm("aftercare.manage_case", case):
        raise Http404
    initial = {k: getattr(case, k) for k in services.UPDATABLE}
    form = CaseForm(request.POST or None, initial=initial, edit=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_update(
                actor=request.user,
                case_id=case.pk,
                data=form.cleaned_data,
                expected_version=_version(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except services.CaseConflict as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已保存"))
            return redirect("aftercare:detail", case_id=case.pk)
    return render(request, "aftercare/case_form.html", {"form": form, "case": case})


def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    _require(request, "aftercare.view_cases")
    case = selectors.case_get(user=request.user, case_id=case_id)
    today = timezone.localdate()
    can_manage = request.user.has_perm("aftercare.manage_case", case)
    return render(
        request,
        "aftercare/case_detail.html",
        {
            "case": case,
            "person": case.person,
            "handover": case.handover,
            "overdue": case.handover.overdue_on(today),
            "offence_label": code_label("offence", case.offence),
            "members": selectors.member_list(case=case),
            "visits": selectors.visit_list(case=case)[:200],
            "aid": selectors.aid_list(case=case)[:200],
            "reoffences": [
                (r, code_label("offence", r.offence)) for r in selectors.reoffence_list(case=case)
            ],
            "timeline": selectors.case_timeline(case),
            "can_manage": can_manage and case.is_open,
            "can_record": can_manage,
            "forms": {
                "receive": ReceiveForm(initial={"received_on": today}, auto_id="pa-rcv-%s"),
                "not_received": NotReceivedForm(auto_id="pa-nrc-%s"),
                "resettlement": ResettlementForm(
                    initial={"kind": case.resettlement or None, "detail": case.resettlement_detail},
                    auto_id="pa-res-%s",
                ),
                "member": MemberForm(auto_id="pa-mem-%s"),
                "visit": VisitForm(initial={"visited_on": today}, auto_id="pa-vis-%s"),
                "aid": AidForm(initial={"disbursed_on": today}, auto_id="pa-aid-%s"),
                "reoffence": ReoffenceForm(auto_id="pa-reo-%s"),
            },
            "tab": request.GET.get("tab", "case") if request.GET.get("tab") in TABS else "case",
            "tabs": TABS,
            "may_end": case.assistance_end <= today,
        },
    )


def _post_action(
    request: HttpRequest, case_id: int, form_class: Any, call: Any, success: str, anchor: str
) -> HttpResponse:
    _require(request, "aftercare.write_cases")
    selectors.case_get(user=request.user, case_id=case_id, audit=False)  # 404: missing or forbidden
    form = form_class(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, e)
    else:
        try:
            call(form.cleaned_data)
        except ValidationError as exc:
            for e in exc.messages:
                messages.error(request, e)
        except services.CaseConflict as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, success)
    return redirect(_detail_url(case_id, anchor))


def _detail_url(case_id: int, anchor: str) -> str:
    from django.urls import reverse

    return reverse("aftercare:detail", args=[case_id]) + f"?tab={anchor}"


@require_POST
def handover_receive(request: HttpRequest, case_id: int) -> HttpResponse:
    return _post_action(
        request,
        case_id,
        ReceiveForm,
        lambda d: services.handover_receive(
            actor=request.user,
            case_id=case_id,
            received_on=d["received_on"],
            met_at_release=d["met_at_release"],
            release_date=d["release_date"],
            expected_version=_version(request),
        ),
        _("已登记接收"),
        "handover",
    )


@require_POST
def handover_not_received(request: HttpRequest, case_id: int) -> HttpResponse:
    return _post_action(
        request,
        case_id,
        NotReceivedForm,
        lambda d: services.handover_not_received(
            actor=request.user,
            case_id=case_id,
            reason=d["reason"],
            on=d["on"],
            expected_version=_version(request),
        ),
        _("已登记未接收"),
        "handover",
    )


@require_POST
def resettlement(request: HttpRequest, case_id: int) -> HttpResponse:
    return _post_action(
        request,
        case_id,
        ResettlementForm,
        lambda d: services.resettlement_set(
            actor=request.user, case_id=case_id, expected_version=_version(request), **d
        ),
        _("已保存安置情况"),
        "resettlement",
    )


@require_POST
def member_add(request: HttpRequest, case_id: int) -> HttpResponse:
    return _post_action(
        request,
        case_id,
        MemberForm,
        lambda d: services.member_add(actor=request.user, case_id=case_id, **d),
        _("已加入帮教小组"),
        "group",
    )


@require_POST
def member_remove(request: HttpRequest, case_id: int, member_id: int) -> HttpResponse:
    _require(request, "aftercare.write_cases")
    selectors.case_get(user=request.user, case_id=case_id, audit=False)
    try:
        services.member_remove(actor=request.user, case_id=case_id, member_id=member_id)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已移出帮教小组"))
    return redirect(_detail_url(case_id, "group"))


@require_POST
def visit_add(request: HttpRequest, case_id: int) -> HttpResponse:
    return _post_action(
        request,
        case_id,
        VisitForm,
        lambda d: services.visit_add(actor=request.user, case_id=case_id, **d),
        _("已登记走访"),
        "visits",
    )


@require_POST
def aid_add(request: HttpRequest, case_id: int) -> HttpResponse:
    return _post_action(
        request,
        case_id,
        AidForm,
        lambda d: services.aid_add(actor=request.user, case_id=case_id, **d),
        _("已登记帮扶"),
        "aid",
    )


@require_POST
def reoffence_add(request: HttpRequest, case_id: int) -> HttpResponse:
    return _post_action(
        request,
        case_id,
        ReoffenceForm,
        lambda d: services.reoffence_add(
            actor=request.user, case_id=case_id, expected_version=_version(request), **d
        ),
        _("已登记重新犯罪"),
        "reoffence",
    )


@require_POST
def case_close(request: HttpRequest, case_id: int) -> HttpResponse:
    _require(request, "aftercare.write_cases")
    selectors.case_get(user=request.user, case_id=case_id, audit=False)
    try:
        services.case_close(
            actor=request.user,
            case_id=case_id,
            status=request.POST.get("status", "")[:12],
            note=request.POST.get("note", "")[:200],
            expected_version=_version(request),
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    except services.CaseConflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已办理终止"))
    return redirect(_detail_url(case_id, "case"))


# --- import ---------------------------------------------------------------------------------------


def import_template(request: HttpRequest) -> HttpResponse:
    _require(request, "aftercare.import_cases")
    return xlsx_response(importers.template(), "prerelease-template.xlsx")


WIZARD = ImportWizard(
    key="aftercare_import",
    title=gettext_lazy("导入预释放名单"),
    help=gettext_lazy(
        "监狱每月发来的预释放人员名单：按身份证号查找或登记人员，并为接收社区生成衔接任务；重点人员标记必接必送。"
        "重复导入同一名单不会产生重复档案。必填列：姓名、公民身份号码、罪名、预计释放日期、接收社区。"
    ),
    columns=importers.COLUMNS,
    run=importers.prerelease_import,
    form=ImportForm,
    permission="aftercare.import_cases",
    template_url="aftercare:import_template",
    errors_url="aftercare:import_errors",
    report_title=gettext_lazy("预释放名单导入错误报告"),
    commit_note=gettext_lazy("只写入通过校验的行。"),
    pass_filename=True,
    hidden=True,
)


def import_wizard(request: HttpRequest) -> HttpResponse:
    """Upload → preview (dry run, errors listed, error report downloadable) → commit (core.wizards)."""
    return wizards.import_wizard(request, WIZARD)


def import_errors(request: HttpRequest) -> HttpResponse:
    return wizards.import_errors(request, WIZARD, filename="prerelease-import-errors.xlsx")


# --- figures --------------------------------------------------------------------------------------


def _period(request: HttpRequest) -> tuple[int, str, dt.date, dt.date]:
    today = timezone.localdate()
    year_text = request.GET.get("year", "")
    year = int(year_text) if year_text.isdigit() and 2000 <= int(year_text) <= 2100 else today.year
    part = request.GET.get("part", "Y")
    part = part if part in ("H1", "H2", "Y") else "Y"
    start, end = selectors.period_bounds(year, part)
    return year, part, start, end


def _parent(request: HttpRequest) -> Area | None:
    from pingan.accounts.selectors import user_scope

    value = request.GET.get("area", "")
    if not value.isdigit() or len(value) > 18:
        return None
    area = Area.objects.filter(pk=int(value)).first()
    if area is None or not user_scope(request.user).contains_area_id(area.pk):
        raise Http404
    return area


def figures(request: HttpRequest) -> HttpResponse:
    _require(request, "aftercare.view_figures")
    year, part, start, end = _period(request)
    parent = _parent(request)
    rows, total = selectors.figure_rows(user=request.user, start=start, end=end, parent=parent)
    today = timezone.localdate()
    return render(
        request,
        "aftercare/figures.html",
        {
            "rows": rows,
            "total": total,
            "year": year,
            "part": part,
            "parent": parent,
            "start": start,
            "end": end,
            "years": list(range(today.year, today.year - 6, -1)),
            "parts": [("Y", _("全年")), ("H1", _("上半年")), ("H2", _("下半年"))],
            "query": request.GET.urlencode(),
            "rate_labels": selectors.RATE_LABELS,
        },
    )


@rate_limit("export")  # core.ratelimit: per user, PINGAN_EXPORT_RATE_PER_MINUTE
def figures_export(request: HttpRequest) -> HttpResponse:
    _require(request, "aftercare.view_figures")
    year, part, start, end = _period(request)
    parent = _parent(request)
    label = {"Y": "年度", "H1": "上半年", "H2": "下半年"}[part]
    title = f"安置帮教工作统计表（{year}年{label}）"
    data = exports.figures_export(actor=request.user, start=start, end=end, parent=parent, title=title)
    return xlsx_response(data, f"aftercare-figures-{year}-{part}.xlsx")
