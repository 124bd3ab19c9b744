"""The school registry's pages: list with figures, school page, register/edit, import wizard, export."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.areas.selectors import places_in_scope
from pingan.core import wizards
from pingan.core.forms import apply_errors
from pingan.core.pagination import CappedPaginator
from pingan.core.ratelimit import rate_limit
from pingan.core.wizards import ImportWizard, xlsx_response
from pingan.schools import selectors, services
from pingan.schools.forms import SchoolForm, SchoolImportForm
from pingan.schools.models import School


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _searching(request: HttpRequest) -> bool:
    return bool(request.GET.get("q", "").strip())


@rate_limit("search", when=_searching)
def school_list(request: HttpRequest) -> HttpResponse:
    _require(request, "schools.view_schools")
    filters = selectors.SchoolFilter.from_params(request.GET)
    qs = selectors.school_list(user=request.user, filters=filters)
    page = CappedPaginator(qs, 50).get_page(request.GET.get("page"))
    user = request.user
    return render(
        request,
        "schools/school_list.html",
        {
            "page": page,
            "filters": filters,
            "params": filters.as_params(),
            "kinds": School.Kind.choices,
            "areas": places_in_scope(user),
            "figures": selectors.school_figures(user=user, filters=filters),
            "can_write": user.has_perm("schools.write_schools"),
            "can_export": user.has_perm("schools.export_schools"),
        },
    )


def school_detail(request: HttpRequest, school_id: int) -> HttpResponse:
    _require(request, "schools.view_schools")
    school = selectors.school_get(user=request.user, school_id=school_id)
    measures = [(School.MEASURE_LABELS[m], school.measure_met(m)) for m in School.MEASURES]
    return render(
        request,
        "schools/school_detail.html",
        {
            "school": school,
            "measures": measures,
            "sections": selectors.school_sections(user=request.user, school=school),
            "can_manage": request.user.has_perm("schools.manage_school", school),
        },
    )


def school_edit(request: HttpRequest, school_id: int | None = None) -> HttpResponse:
    """登记学校, or 编辑 a school (also moving it to another community or grid of the user's scope)."""
    _require(request, "schools.write_schools")
    school = selectors.school_get(user=request.user, school_id=school_id) if school_id else None
    if school is not None and not request.user.has_perm("schools.manage_school", school):
        raise PermissionDenied
    areas = list(places_in_scope(request.user))
    initial: dict[str, Any] = {"active": True}
    if school is not None:
        initial = {f: getattr(school, f) for f in services.SCHOOL_FIELDS} | {"area": school.area_id}
        initial = {k: ("" if v is None else v) for k, v in initial.items()}
    form = SchoolForm(request.POST or None, areas=areas, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        area_id = str(data.pop("area"))
        area = next((a for a in areas if str(a.pk) == area_id), None)
        if area is None:
            raise Http404
        try:
            if school is not None:
                school = services.school_update(actor=request.user, school_id=school.pk, data=data, area=area)
            else:
                school = services.school_create(actor=request.user, area=area, data=data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("schools:detail", school_id=school.pk)
    return render(request, "schools/school_form.html", {"form": form, "school": school})


@rate_limit("export")  # core.ratelimit: per user, PINGAN_EXPORT_RATE_PER_MINUTE
def school_export(request: HttpRequest) -> HttpResponse:
    _require(request, "schools.export_schools")
    filters = selectors.SchoolFilter.from_params(request.GET)
    content, _rows = services.school_export(actor=request.user, filters=filters)
    return xlsx_response(content, f"schools-{timezone.localtime():%Y%m%d}.xlsx")


WIZARD = ImportWizard(
    key="school_import",
    title=gettext_lazy("导入学校台账"),
    help=gettext_lazy(
        "支持 .xlsx、.xls、.csv（UTF-8 或 GBK）。表头可在前几行中，列顺序不限。必填列：学校名称、学校类别、"
        "所在社区/网格（名称或区划代码）、地址。有学校标识码的按标识码更新，否则按同一社区（网格）内的学校名称"
        "更新；已登记学校的空白单元格不会覆盖原有内容。"
    ),
    columns=services.IMPORT_COLUMNS,
    run=services.school_import,
    form=SchoolImportForm,
    permission="schools.write_schools",
    template_url="schools:import_template",
    errors_url="schools:import_errors",
    report_title=gettext_lazy("学校导入错误报告"),
)


def import_template(request: HttpRequest) -> HttpResponse:
    _require(request, "schools.write_schools")
    return xlsx_response(services.import_template(), "schools-template.xlsx")


def school_import(request: HttpRequest) -> HttpResponse:
    """Upload → preview (dry run, errors listed, error report downloadable) → 确认导入 (core.wizards)."""
    return wizards.import_wizard(request, WIZARD)


def import_errors(request: HttpRequest) -> HttpResponse:
    return wizards.import_errors(request, WIZARD, filename="school-import-errors.xlsx")
