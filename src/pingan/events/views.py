from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from pingan.events import selectors


def event_list(request: HttpRequest) -> HttpResponse:
    return render(request, "events/event_list.html", {"events": selectors.event_list(user=request.user)[:50]})


def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    event = selectors.event_get(user=request.user, event_id=event_id)
    return render(request, "events/event_detail.html", {"event": event})
