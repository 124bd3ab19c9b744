"""The audit administrator's screen. Every other user gets 404 (the selectors say so)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from pingan.audit import selectors, services
from pingan.audit.models import Kind, Outcome
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
def export(request: AuthedRequest) -> HttpResponse:
    selectors.event_list(user=request.user)  # 404 for everyone but the audit administrator
    filters = selectors.EventFilter.from_params(request.POST)
    try:
        data = services.audit_export(actor=request.user, filters=filters)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect(f"{reverse('audit:events')}?{urlencode(filters.as_dict())}")
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.xlsx"'
    return response
