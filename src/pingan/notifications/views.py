from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from pingan.notifications import selectors, services


def notification_list(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(selectors.notification_list(user=request.user, unread_only=unread_only), 30).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "notifications/notification_list.html",
        {
            "page": page,
            "unread_only": unread_only,
            "unread": selectors.unread_count(user=request.user),
        },
    )


def bell(request: HttpRequest) -> HttpResponse:
    """htmx: the bell with its count (the top bar refreshes it every minute)."""
    return render(request, "notifications/_bell.html", {"unread": selectors.unread_count(user=request.user)})


@require_POST
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    item = selectors.notification_get(user=request.user, notification_id=notification_id)
    services.notification_mark_read(user=request.user, notification_id=item.pk)
    target = item.url or "/notifications/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/notifications/"
    return redirect(target)


@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    services.notification_mark_read(user=request.user)
    return redirect("notifications:list")
