"""Open311 GeoReport v2 at /open311/v2/ (http://wiki.open311.org/GeoReport_v2), JSON and XML, and the
public page where a citizen follows a report (/follow/).

| method | path | |
|---|---|---|
| GET | discovery.{fmt} | service discovery |
| GET | services.{fmt} | the public categories (``EventCategoryRule.public``) |
| GET | services/{service_code}.{fmt} | a definition (no extra attributes: ``metadata`` is false) |
| POST | requests.{fmt} | api_key required; lat+long or address_string; attribute[…], media_url recorded |
| GET | requests.{fmt} | service_request_id / service_code (comma lists), start_date, end_date, status |
| GET | requests/{service_request_id}.{fmt} | one request |
| GET | tokens/{token}.{fmt} | services are realtime: no token is ever issued, so every token answers 404 |

Errors: the status code and ``[{"code", "description"}]`` (JSON) or ``<errors><error><code/><description/>
</error></errors>`` (XML). Statuses: ``open`` for every open state of the loop, ``closed`` for closed and
refused, with ``status_notes`` the event's public note. Requests are the events of the public categories,
whatever their source; what leaves is what a passer-by could see: no names, no phone numbers, the address cut
to the road (``mask_address``), coordinates rounded to 3 decimals (~100 m), no photos.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from pingan.core.codes import code_label, code_table
from pingan.core.masking import mask_address
from pingan.events import services
from pingan.events.models import OPEN_STATUSES, Event, EventCategoryRule, Status, StepAction

SPEC = "http://wiki.open311.org/GeoReport_v2"
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MAX_RESULTS = 1000
WINDOW = dt.timedelta(days=90)
POST_RATE_PER_MINUTE = 120  # per api_key
FOLLOW_RATE_PER_MINUTE = 30  # per source address


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# --- rendering ---------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _element(parent: ET.Element, tag: str, value: Any) -> None:
    child = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, inner in value.items():
            _element(child, key, inner)
    elif isinstance(value, list):
        singular = {
            "endpoints": "endpoint",
            "formats": "format",
            "attributes": "attribute",
            "values": "value",
        }
        for item in value:
            _element(child, singular.get(tag, "item"), item)
    else:
        child.text = _text(value)


def _xml(root: str, item: str | None, data: Any) -> bytes:
    element = ET.Element(root)
    if item is None:
        for key, value in data.items():
            _element(element, key, value)
    else:
        for row in data:
            _element(element, item, row)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="unicode").encode()


def _respond(fmt: str, data: Any, *, root: str, item: str | None, status: int = 200) -> HttpResponse:
    body = _xml(root, item, data) if fmt == "xml" else json.dumps(data, ensure_ascii=False).encode()
    response = HttpResponse(body, status=status, content_type=FORMATS[fmt])
    response["Cache-Control"] = "no-store"
    return response


def _error(fmt: str, status: int, description: str) -> HttpResponse:
    errors = [{"code": status, "description": description}]
    return _respond(fmt if fmt in FORMATS else "json", errors, root="errors", item="error", status=status)


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(404, "format not supported: use .json or .xml")
    return fmt


def _handles_errors(view: Any) -> Any:
    import functools

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        fmt = kwargs.get("fmt", "json")
        try:
            _check_jurisdiction(request)
            return view(request, *args, **kwargs)
        except Open311Error as exc:
            return _error(fmt, exc.status, exc.description)

    return wrapper


def _allow(*methods: str) -> Any:
    """The methods an endpoint answers; any other gets the spec's error list (405) in the format asked
    for, not Django's HTML page. Open311 clients send no cookies (an api_key, or nothing): no CSRF check."""
    import functools

    def decorate(view: Any) -> Any:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = _error(_format_or_json(kwargs.get("fmt", "json")), 405, "method not allowed")
                response["Allow"] = ", ".join(methods)
                return response
            return view(request, *args, **kwargs)

        return csrf_exempt(wrapper)

    return decorate


def _format_or_json(fmt: str) -> str:
    return fmt if fmt in ("json", "xml") else "json"


def _w3c(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _jurisdiction() -> str:
    from pingan.areas.models import Area

    return (
        Area.objects.filter(parent__isnull=True).order_by("code").values_list("code", flat=True).first() or ""
    )


def _check_jurisdiction(request: HttpRequest) -> None:
    given = request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id")
    if given and given != _jurisdiction():
        raise Open311Error(404, "jurisdiction_id not found")


# --- services ----------------------------------------------------------------------------------------


def _service(code: str, labels: dict[str, Any]) -> dict[str, Any]:
    item = labels[code]
    parent = labels.get(item.parent)
    return {
        "service_code": code,
        "service_name": item.label,
        "description": item.label_en or item.label,
        "metadata": False,
        "type": "realtime",
        "keywords": "",
        "group": parent.label if parent else "",
    }


@login_not_required
@_allow("GET")
@_handles_errors
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    fmt = _format(fmt)
    changed = EventCategoryRule.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()
    name = getattr(settings, "PINGAN_DISTRICT_NAME", "") or "平安综治平台"
    data = {
        "changeset": _w3c(changed) or "2026-11-28T00:00:00+08:00",
        "contact": f"{name}综治中心",
        "key_service": "api_key 由平台系统管理员发放（Open311 接入）",
        "endpoints": [
            {
                "specification": SPEC,
                "url": request.build_absolute_uri("/open311/v2"),
                "changeset": _w3c(changed) or "2026-11-28T00:00:00+08:00",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return _respond(fmt, data, root="discovery", item=None)


@login_not_required
@_allow("GET")
@_handles_errors
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    fmt = _format(fmt)
    labels = {c.code: c for c in code_table("event_category")}
    data = [_service(code, labels) for code in services.open311_public_categories()]
    return _respond(fmt, data, root="services", item="service")


@login_not_required
@_allow("GET")
@_handles_errors
def service_definition(request: HttpRequest, service_code: str, fmt: str) -> HttpResponse:
    fmt = _format(fmt)
    if service_code not in services.open311_public_categories():
        raise Open311Error(404, "service_code not found")
    return _respond(
        fmt, {"service_code": service_code, "attributes": []}, root="service_definition", item=None
    )


# --- requests ----------------------------------------------------------------------------------------


def _request_row(event: Event) -> dict[str, Any]:
    closed = event.status in (Status.CLOSED, Status.REFUSED, Status.MERGED)
    agency = event.assignee_department.name if event.assignee_department is not None else event.owner.name
    return {
        "service_request_id": event.number,
        "status": "closed" if closed else "open",
        "status_notes": event.public_note,
        "service_name": code_label("event_category", event.category),
        "service_code": event.category,
        "description": "",  # the title is the reporter's or the grid worker's words: they may name people
        "agency_responsible": agency,
        "service_notice": "",
        "requested_datetime": _w3c(event.reported_at),
        "updated_datetime": _w3c(event.updated_at),
        "expected_datetime": _w3c(event.deadline) if not closed else None,
        "address": mask_address(event.address) if event.address else "",
        "address_id": "",
        "zipcode": "",
        "lat": round(float(event.latitude), 3) if event.latitude is not None else None,
        "long": round(float(event.longitude), 3) if event.longitude is not None else None,
        "media_url": "",
    }


def _public_events() -> Any:
    return Event.objects.filter(category__in=services.open311_public_categories()).select_related(
        "owner", "assignee_department"
    )


def _moment(value: str, name: str, *, end: bool = False) -> dt.datetime:
    moment = parse_datetime(value.strip().replace(" ", "+"))
    if moment is None:
        day = parse_date(value.strip())
        if day is None:
            raise Open311Error(400, f"{name} is not a w3 datetime (e.g. 2026-11-05T08:15:30+08:00)")
        moment = dt.datetime.combine(day + dt.timedelta(days=1) if end else day, dt.time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    return moment


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _query(request: HttpRequest) -> Any:
    qs = _public_events()
    ids = _csv(request.GET.get("service_request_id"))
    if ids:
        return qs.filter(number__in=ids[:MAX_RESULTS])  # overrides every other parameter
    codes = _csv(request.GET.get("service_code"))
    if codes:
        qs = qs.filter(category__in=codes)
    statuses = _csv(request.GET.get("status"))
    if any(s not in ("open", "closed") for s in statuses):
        raise Open311Error(400, "status must be open or closed (comma-delimited)")
    if set(statuses) == {"open"}:
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif set(statuses) == {"closed"}:
        qs = qs.filter(status__in=[Status.CLOSED, Status.REFUSED, Status.MERGED])
    start_raw, end_raw = request.GET.get("start_date"), request.GET.get("end_date")
    now = timezone.now()
    start = _moment(start_raw, "start_date") if start_raw else None
    end = _moment(end_raw, "end_date", end=True) if end_raw else None
    if start and end and end < start:
        raise Open311Error(400, "end_date is before start_date")
    if start and end and end - start > WINDOW:
        raise Open311Error(400, "the date range may not span more than 90 days")
    if start is None and end is None:
        end, start = now, now - WINDOW
    elif start is None:
        assert end is not None
        start = end - WINDOW
    elif end is None:
        end = min(start + WINDOW, now)
    return qs.filter(reported_at__gte=start, reported_at__lte=end)


@login_not_required
@_allow("GET", "POST")
@_handles_errors
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    fmt = _format(fmt)
    if request.method == "POST":
        return _post_request(request, fmt)
    events = list(_query(request).order_by("-reported_at", "-id")[:MAX_RESULTS])
    return _respond(fmt, [_request_row(e) for e in events], root="service_requests", item="request")


@login_not_required
@_allow("GET")
@_handles_errors
def request_detail(request: HttpRequest, service_request_id: str, fmt: str) -> HttpResponse:
    fmt = _format(fmt)
    event = _public_events().filter(number=service_request_id).first()
    if event is None:
        raise Open311Error(404, "service_request_id not found")
    return _respond(fmt, [_request_row(event)], root="service_requests", item="request")


@login_not_required
@_allow("GET")
@_handles_errors
def token(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    _format(fmt)
    raise Open311Error(
        404, "token not found: services are realtime, requests get a service_request_id at once"
    )


_ATTRIBUTE = re.compile(r"^attribute\[([^\]]{1,40})\]$")


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    data = request.POST
    client = services.open311_client_for_key(data.get("api_key") or request.GET.get("api_key") or "")
    if client is None:
        raise Open311Error(403, "api_key is missing or invalid")
    bucket = int(timezone.now().timestamp()) // 60
    key = f"pingan:open311:post:{client.pk}:{bucket}"
    cache.add(key, 0, timeout=70)
    if cache.incr(key) > POST_RATE_PER_MINUTE:
        raise Open311Error(429, "too many requests: try again in a minute")
    service_code = (data.get("service_code") or "").strip()
    if not service_code:
        raise Open311Error(400, "service_code is required")
    if service_code not in services.open311_public_categories():
        raise Open311Error(404, "service_code not found")
    attributes = {m[1]: str(v) for name, v in data.items() if (m := _ATTRIBUTE.match(name))}
    try:
        event = services.event_report_open311(
            client=client,
            service_code=service_code,
            latitude=data.get("lat"),
            longitude=data.get("long"),
            address_string=data.get("address_string") or data.get("address_id") or "",
            description=data.get("description", ""),
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            phone=data.get("phone", ""),
            media_url=data.get("media_url", ""),
            attributes=attributes,
        )
    except ValidationError as exc:
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        field, problems = next(iter(messages.items()))
        raise Open311Error(400, f"{field}: {problems[0]}" if field else problems[0]) from None
    notice = "已受理登记，可凭编号在 /follow/ 查询办理进度"
    row = {"service_request_id": event.number, "service_notice": notice, "account_id": None}
    return _respond(fmt, [row], root="service_requests", item="request")


# --- the citizen's follow page -----------------------------------------------------------------------

PUBLIC_STEPS = {
    StepAction.REPORT,
    StepAction.ACCEPT,
    StepAction.REFUSE,
    StepAction.DISPATCH,
    StepAction.REPORT_BACK,
    StepAction.VERIFY_FAIL,
    StepAction.CLOSE,
    StepAction.REOPEN,
    StepAction.RATE,
}


def _too_many_follows(request: HttpRequest) -> bool:
    address = request.META.get("REMOTE_ADDR", "")
    key = f"pingan:follow:{address}:{int(timezone.now().timestamp()) // 60}"
    cache.add(key, 0, timeout=70)
    return cache.incr(key) > FOLLOW_RATE_PER_MINUTE


@login_not_required
@require_GET
def follow(request: HttpRequest, number: str | None = None) -> HttpResponse:
    """A citizen types the number of their report: its category, state, the public note and the dates of the
    steps. No names, no contact, no address, no photos."""
    if number is None and request.GET.get("number"):
        wanted = re.sub(r"\D", "", request.GET["number"])[:20]
        return redirect("follow:detail", number=wanted or "0")
    context: dict[str, Any] = {"number": number or ""}
    if number is not None:
        if _too_many_follows(request):
            context["error"] = "查询过于频繁，请一分钟后再试"
            return render(request, "events/follow.html", context, status=429)
        event = Event.objects.filter(number=number).first()
        if event is None:
            context["error"] = "没有找到这个编号的事件，请核对后再查"
            return render(request, "events/follow.html", context, status=404)
        if event.merged_into_id is not None:  # a duplicate: its reporter follows the merged event
            context["merged_from"] = event.number
            event = event.merged_into
        steps = [s for s in event.steps.order_by("at", "id") if s.action in PUBLIC_STEPS]
        context.update(
            {
                "event": event,
                "category": code_label("event_category", event.category),
                "closed": event.status in (Status.CLOSED, Status.REFUSED),
                "steps": steps,
            }
        )
    return render(request, "events/follow.html", context)
