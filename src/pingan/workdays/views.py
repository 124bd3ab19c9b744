"""The holiday table screen (system administrator): view a year, add/edit/delete days, import a file."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pingan.core import wizards
from pingan.core.excel import Column, write_xlsx
from pingan.core.forms import apply_errors
from pingan.core.ratelimit import rate_limit
from pingan.core.wizards import ImportWizard
from pingan.workdays import selectors, services
from pingan.workdays.forms import HolidayForm, HolidayImportForm

SESSION_KEY = "holiday_import"


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year", "")
    if raw.isdigit() and 1990 <= int(raw) <= 2100:
        return int(raw)
    return timezone.localdate().year


def holidays(request: HttpRequest) -> HttpResponse:
    _require(request, "workdays.view_holidays")
    year = _year(request)
    years = selectors.calendar_years()
    today = timezone.localdate()
    choices = sorted(set(years) | {today.year, today.year + 1, year})
    return render(
        request,
        "workdays/holiday_list.html",
        {
            "year": year,
            "days": list(selectors.holiday_list(year=year)),
            "years": years,
            "year_choices": choices,
            "summary": years.get(year),
            "missing": selectors.calendar_missing_years(today),
            "can_manage": request.user.has_perm("workdays.manage_holidays"),
            "form": HolidayForm(initial={"kind": "holiday"}),
        },
    )


def holiday_edit(request: HttpRequest, holiday_id: int | None = None) -> HttpResponse:
    _require(request, "workdays.manage_holidays")
    holiday = selectors.holiday_get(holiday_id=holiday_id) if holiday_id else None
    initial: dict[str, Any] = {}
    if holiday is not None:
        initial = {"date": holiday.date, "kind": holiday.kind, "name": holiday.name}
    form = HolidayForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.holiday_save(
                actor=request.user,
                holiday_id=holiday.pk if holiday else None,
                date=data["date"],
                kind=data["kind"],
                name=data["name"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("已保存 %(day)s") % {"day": saved})
            return redirect(f"{reverse('workdays:holidays')}?year={saved.date.year}")
    return render(request, "workdays/holiday_form.html", {"form": form, "holiday": holiday})


@require_POST
def holiday_delete(request: HttpRequest, holiday_id: int) -> HttpResponse:
    _require(request, "workdays.manage_holidays")
    holiday = selectors.holiday_get(holiday_id=holiday_id)
    year = holiday.date.year
    services.holiday_delete(actor=request.user, holiday_id=holiday.pk)
    messages.success(request, _("已删除 %(day)s") % {"day": holiday})
    return redirect(f"{reverse('workdays:holidays')}?year={year}")


WIZARD = ImportWizard(
    key=SESSION_KEY,
    title=gettext_lazy("导入节假日"),
    help=gettext_lazy(
        "支持 .xlsx、.xls、.csv（UTF-8 或 GBK）。"
        "需要三列：日期（如 2027-01-01）、类型（放假 或 调休上班）、名称（如 元旦）。"
        "按日期新增或更新，文件中没有的日期保留不变。可先“导出”一年的数据作为模板。"
    ),
    columns=services.HOLIDAY_IMPORT_COLUMNS,
    run=services.holiday_import,
    form=HolidayImportForm,
    permission="workdays.manage_holidays",
    template_url=None,
    errors_url="workdays:import_errors",
    report_title=gettext_lazy("节假日导入错误报告"),
    page="workdays/holiday_import.html",
)


def holiday_import(request: HttpRequest) -> HttpResponse:
    """Upload → preview (dry run) → commit (core.wizards)."""
    return wizards.import_wizard(request, WIZARD)


def holiday_import_errors(request: HttpRequest) -> HttpResponse:
    return wizards.import_errors(request, WIZARD, filename="holiday-import-errors.xlsx")


@rate_limit("export")
def holiday_export(request: HttpRequest) -> HttpResponse:
    """The year's days as xlsx, in the import's columns (also a template for next year's file)."""
    _require(request, "workdays.view_holidays")
    year = _year(request)
    rows = [[d.date.isoformat(), d.get_kind_display(), d.name] for d in selectors.holiday_list(year=year)]
    content = write_xlsx(
        columns=[Column("日期", 14, text=True), Column("类型", 12), Column("名称", 20)],
        rows=rows,
        sheet_name=str(year),
    )
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="holidays-{year}.xlsx"'
    return response
