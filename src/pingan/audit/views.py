"""The audit administrator's screen. Every other user gets 404 (the selectors say so)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pingan.audit import selectors
from pingan.audit.models import Kind, Outcome
from pingan.core.ratelimit import rate_limit
from pingan.core.types import AuthedRequest

PAGE_SIZE = 50


@require_GET
def events(request: AuthedRequest) -> HttpResponse:
    filters = selectors.EventFilter.from_params(request.GET)
    qs = selectors.event_list(user=request.user, filters=filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/event_list.html",
        {
            "page": page,
            "filters": filters,
            "kinds": Kind.choices,
            "outcomes": Outcome.choices,
            "export_params": [(k, v) for k, v in filters.as_dict().items()],
        },
    )


@require_GET
def event_detail(request: AuthedRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get(user=request.user, event_id=event_id)
    return render(
        request,
        "audit/event_detail.html",
        {
            "event": event,
            "changes": selectors.change_rows(event),
            "mac_valid": selectors.event_mac_valid(event),
        },
    )


@require_POST
@rate_limit("export")
def export(request: AuthedRequest) -> HttpResponse:
    selectors.event_list(user=request.user)  # 404 for everyone but the audit administrator
    from pingan.audit.exports import EXPORTER_NAME
    from pingan.core.exports import ExportJob, export_or_queue

    filters = selectors.EventFilter.from_params(request.POST)
    try:
        # more than PINGAN_EXPORT_SYNC_MAX_ROWS rows: made by the worker, downloaded from 我的导出
        result = export_or_queue(
            actor=request.user, name=EXPORTER_NAME, params={"filters": filters.as_dict()}
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect(f"{reverse('audit:events')}?{urlencode(filters.as_dict())}")
    if isinstance(result, ExportJob):
        messages.info(request, _("导出行数较多，已转入后台生成，完成后请在“我的导出”中下载。"))
        return redirect("core:exports")
    response = HttpResponse(result.content, content_type=result.content_type)
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    return response
