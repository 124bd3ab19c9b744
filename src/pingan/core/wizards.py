"""The import wizard every module's spreadsheet import shares: upload → preview (a dry run: counts, the
columns not recognised, the reasons per row and column, the error report) → 确认导入 (the previewed file,
``core.previews``), on one page (``templates/import_wizard.html``).

A module declares its wizard once and routes two views to it::

    WIZARD = ImportWizard(
        key="school_import", title=_("导入学校台账"), help=_("…"), columns=services.IMPORT_COLUMNS,
        run=services.school_import, form=SchoolImportForm, permission="schools.write_schools",
        template_url="schools:import_template", errors_url="schools:import_errors",
    )
    def school_import(request): return import_wizard(request, WIZARD)
    def import_errors(request): return import_errors(request, WIZARD)

``run(actor=, table=, dry_run=)`` is the module's importer (with ``filename=`` too when
``pass_filename``); it returns a ``core.excel.ImportResult`` whose errors carry their original rows
(``attach_rows``), so the error report gives the importer back the rows to correct in the file's own columns.
``large`` (optional) takes over a file too large to preview inside the request (the people roster: a
background job) by returning a response.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from pingan.core import previews
from pingan.core.excel import ImportResult, Table, TableError, import_error_report, read_table
from pingan.core.forms import SpreadsheetForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_KEPT_ERRORS = 20_000  # the rejected rows kept in the session for the error report
REPORT_TITLE = _("导入错误报告")
COMMIT_NOTE = _("只写入通过校验的行；全部一次提交。")


def xlsx_response(data: bytes, filename: str) -> HttpResponse:
    """An xlsx download."""
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return response


@dataclass(frozen=True)
class ImportWizard:
    key: str  # the session key of the previewed file; its rejected rows are kept under "<key>_errors"
    title: Any
    help: Any
    columns: Any  # Mapping[str, Sequence[str]]: the importer's column names and aliases
    run: Callable[..., ImportResult]
    form: type[SpreadsheetForm]
    permission: str
    template_url: str | None  # the URL name of the template download (None: the page offers none)
    errors_url: str
    report_title: Any = REPORT_TITLE
    commit_note: Any = COMMIT_NOTE
    large: Callable[[HttpRequest, str, bytes, Table], HttpResponse | None] | None = None
    pass_filename: bool = False  # the importer records the file's name (``run(..., filename=)``)
    hidden: bool = False  # a user without the permission gets 404, as the module's other pages answer
    page: str = "import_wizard.html"  # a module's page extends it to add to it (its blocks)

    def _run(self, request: HttpRequest, table: Table, *, dry_run: bool, filename: str) -> ImportResult:
        extra = {"filename": filename} if self.pass_filename else {}
        result = self.run(actor=request.user, table=table, dry_run=dry_run, **extra)
        if result.errors and not result.header:  # the error report gives the rows back to correct
            result.attach_rows(table)
        return result


def _require(request: HttpRequest, wizard: ImportWizard) -> None:
    if not request.user.has_perm(wizard.permission):
        raise Http404 if wizard.hidden else PermissionDenied


def import_wizard(request: HttpRequest, wizard: ImportWizard) -> HttpResponse:
    _require(request, wizard)
    form = wizard.form(request.POST or None, request.FILES or None)
    result = None
    committed = False
    upload_token = ""
    if request.method == "POST" and request.POST.get("step") == "commit":
        form = wizard.form()
        taken = previews.take(request, wizard.key, wizard.columns)
        if taken is not None:
            name, table = taken
            result = wizard._run(request, table, dry_run=False, filename=name)
            committed = True
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        name = upload.name[:120]
        try:
            table = read_table(data, name, wizard.columns)
        except TableError as exc:
            form.add_error("file", str(exc))
        else:
            taken_over = wizard.large(request, name, data, table) if wizard.large else None
            if taken_over is not None:
                return taken_over
            result = wizard._run(request, table, dry_run=True, filename=name)
            upload_token = previews.stash(request, wizard.key, name, data)
    if result is not None:
        request.session[f"{wizard.key}_errors"] = {
            "errors": result.errors[:MAX_KEPT_ERRORS],
            "header": result.header,
        }
    return render(
        request,
        wizard.page,
        {
            "wizard": wizard,
            "template_url": reverse(wizard.template_url) if wizard.template_url else "",
            "errors_url": reverse(wizard.errors_url),
            "form": form,
            "result": result,
            "committed": committed,
            "upload_token": upload_token,
        },
    )


def import_errors(
    request: HttpRequest, wizard: ImportWizard, *, filename: str = "import-errors.xlsx"
) -> HttpResponse:
    """The error report of the user's last preview or import in this wizard: row, column, reason and the
    original row in the file's columns."""
    _require(request, wizard)
    kept = request.session.get(f"{wizard.key}_errors") or {}
    result = ImportResult(errors=list(kept.get("errors", [])), header=list(kept.get("header", [])))
    return xlsx_response(import_error_report(result, title=str(wizard.report_title)), filename)
