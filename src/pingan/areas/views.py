from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.areas import selectors, services
from pingan.areas.forms import AreaForm, AreaImportForm, DepartmentForm
from pingan.areas.models import Area, Level
from pingan.core import wizards
from pingan.core.codes import code_label
from pingan.core.forms import apply_errors
from pingan.core.wizards import ImportWizard


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def area_tree(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:50]
    level = request.GET.get("level", "")
    filters = selectors.AreaFilter(q=q or None, level=level if level in Level.values else None)
    areas = list(selectors.area_list(user=request.user, filters=filters)[:2000])
    return render(
        request,
        "areas/area_tree.html",
        {
            "areas": areas,
            "q": q,
            "level": level,
            "levels": Level.choices,
            "can_manage": request.user.has_perm("areas.manage_areas"),
            "counts": selectors.area_level_counts(user=request.user),
        },
    )


def area_detail(request: HttpRequest, area_id: int) -> HttpResponse:
    area = selectors.area_get(user=request.user, area_id=area_id)
    children = list(selectors.area_list(user=request.user, filters=selectors.AreaFilter(parent_id=area.pk)))
    shapes = [
        {"name": a.name, "code": a.code, "geometry": a.boundary, "url": f"/areas/{a.pk}/"}
        for a in [area, *children]
        if a.boundary
    ]
    return render(
        request,
        "areas/area_detail.html",
        {
            "area": area,
            "path": selectors.area_path(area),
            "children": children,
            "departments": selectors.department_list(user=request.user).filter(serves=area),
            "shapes": shapes,
            "can_manage": request.user.has_perm("areas.manage_areas"),
        },
    )


def area_edit(request: HttpRequest, area_id: int | None = None) -> HttpResponse:
    _require(request, "areas.manage_areas")
    area = selectors.area_get(user=request.user, area_id=area_id) if area_id else None
    parents = selectors.area_list(user=request.user).exclude(level=Level.GRID)
    initial: dict[str, Any] = AreaForm.initial_for(area) if area else {}
    if area is None and request.GET.get("parent"):
        parent = parents.filter(pk=request.GET["parent"]).first()
        if parent is not None:
            initial = {"parent": parent.pk, "level": parent.child_level, "code": parent.code}
    form = AreaForm(request.POST or None, initial=initial, parents=parents, editing=area is not None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if area is None:
                saved = services.area_create(
                    actor=request.user,
                    code=data["code"],
                    name=data["name"],
                    level=data["level"],
                    parent=data["parent"],
                    boundary=data["boundary"],
                    population=data["population"],
                    households=data["households"],
                )
            else:
                saved = services.area_update(
                    actor=request.user,
                    area_id=area.pk,
                    data={
                        k: data[k] for k in ("code", "name", "boundary", "population", "households", "active")
                    },
                )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存 %(name)s") % {"name": saved.name})
            return redirect("areas:detail", area_id=saved.pk)
    return render(request, "areas/area_form.html", {"form": form, "area": area})


WIZARD = ImportWizard(
    key="area_import",
    title=gettext_lazy("导入辖区"),
    help=gettext_lazy(
        "支持 .xlsx、.xls、.csv（UTF-8 或 GBK）。表头可在前几行中任意位置，列顺序不限。"
        "可识别的列：区划代码、名称、层级、上级代码、人口数、户数、边界（GeoJSON）。"
        "层级和上级代码可省略，按代码长度推断。"
    ),
    columns=services.AREA_IMPORT_COLUMNS,
    run=services.area_import,
    form=AreaImportForm,
    permission="areas.manage_areas",
    template_url=None,
    errors_url="areas:import_errors",
    report_title=gettext_lazy("辖区导入错误报告"),
)


def area_import(request: HttpRequest) -> HttpResponse:
    """Upload → preview (dry run) → commit (core.wizards)."""
    return wizards.import_wizard(request, WIZARD)


def area_import_errors(request: HttpRequest) -> HttpResponse:
    return wizards.import_errors(request, WIZARD, filename="area-import-errors.xlsx")


def departments(request: HttpRequest) -> HttpResponse:
    items = list(selectors.department_list(user=request.user).prefetch_related("serves"))
    for item in items:
        item.kind_label = code_label("department_type", item.kind)  # type: ignore[attr-defined]
    return render(
        request,
        "areas/department_list.html",
        {
            "departments": items,
            "can_manage": request.user.has_perm("areas.manage_departments"),
        },
    )


def department_edit(request: HttpRequest, department_id: int | None = None) -> HttpResponse:
    _require(request, "areas.manage_departments")
    department = (
        selectors.department_get(user=request.user, department_id=department_id) if department_id else None
    )
    initial: dict[str, Any] = {}
    if department is not None:
        initial = {
            "code": department.code,
            "name": department.name,
            "kind": department.kind,
            "area": department.area_id,
            "serves": [a.pk for a in department.serves.all()],
            "phone": department.phone,
            "active": department.active,
        }
    areas = selectors.area_list(user=request.user).exclude(level=Level.GRID)
    form = DepartmentForm(request.POST or None, initial=initial, areas=areas)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.department_save(
                actor=request.user,
                department_id=department.pk if department else None,
                data={k: data[k] for k in ("code", "name", "kind", "area", "phone", "active")},
                serves=list(data["serves"]),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存部门 %(name)s") % {"name": data["name"]})
            return redirect("areas:departments")
    return render(request, "areas/department_form.html", {"form": form, "department": department})


def area_options(request: HttpRequest) -> HttpResponse:
    """htmx: the children of a node as <option>s (cascading selects), inside the user's scope."""
    parent_id = request.GET.get("parent")
    areas: list[Area] = []
    if parent_id and parent_id.isdigit():
        areas = list(
            selectors.area_list(user=request.user, filters=selectors.AreaFilter(parent_id=int(parent_id)))
        )
    return render(request, "areas/_area_options.html", {"areas": areas})
