# No `from __future__ import annotations`: django-ninja resolves Query[...] under @paginate at runtime.
"""Community correction API (社区矫正). Thin: parse, call a selector or service, shape. Missing and
forbidden both answer 404; a conflicting action (already decided, changed since loaded, wrong state) 409."""

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from pingan.areas.models import Area
from pingan.areas.selectors import places_in_scope
from pingan.core.api import ERROR_RESPONSES, Page, Shaped
from pingan.correction import selectors, services
from pingan.correction.schemas import (
    CorrectionCheckInIn,
    CorrectionClientDetailOut,
    CorrectionClientFilterIn,
    CorrectionClientIn,
    CorrectionClientOut,
    CorrectionDatedOut,
    CorrectionFiguresOut,
    CorrectionLeaveDecisionIn,
    CorrectionLeaveIn,
    CorrectionLeaveOut,
    CorrectionReportIn,
    CorrectionResolveIn,
    CorrectionTerminateIn,
    CorrectionVisitIn,
)

router = Router(tags=["correction 社区矫正"])


def conflicts_as_409(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except services.CorrectionConflict as exc:
            raise HttpError(409, exc.message) from None

    return wrapper


def _area(request: HttpRequest, area_id: int) -> Area:
    return get_object_or_404(places_in_scope(request.user), pk=area_id)


def _client_row(client: Any, today: dt.date | None = None) -> dict[str, Any]:
    data = {name: getattr(client, name) for name in CorrectionClientOut.model_fields if hasattr(client, name)}
    data["name"] = client.person.name
    data["id_number"] = client.person.id_number
    data["missing"] = client.is_missing(today or timezone.localdate())
    return data


def _detail(client: Any) -> dict[str, Any]:
    data = _client_row(client)
    for name in CorrectionClientDetailOut.model_fields:
        if name not in data and hasattr(client, name):
            data[name] = getattr(client, name)
    records = selectors.client_records(client)
    data["checkins"] = [
        {
            "id": c.pk,
            "date": c.date,
            "kind": c.kind,
            "content": c.content,
            "on_time": c.on_time,
            "due_on": c.due_on,
        }
        for c in records["checkins"]
    ]
    data["visits"] = [
        {"id": v.pk, "date": v.date, "content": v.content, "on_time": v.on_time, "due_on": v.due_on}
        for v in records["visits"]
    ]
    data["leaves"] = [_leave(leave, client) for leave in records["leaves"]]
    data["hours"] = {k: v for k, v in records["hours_total"].items()}
    return data


def _leave(leave: Any, client: Any = None) -> dict[str, Any]:
    client = client or leave.client
    data = {name: getattr(leave, name) for name in CorrectionLeaveOut.model_fields if name != "area_id"}
    data["area_id"] = client.area_id
    return data


def _reload(request: HttpRequest, client_id: int) -> dict[str, Any]:
    return _detail(selectors.client_get(user=request.user, client_id=client_id, audit=False))


@router.get("/correction/clients", response={200: list[CorrectionClientOut], **ERROR_RESPONSES})
@paginate(Page)
def list_clients(request: HttpRequest, filters: Query[CorrectionClientFilterIn]) -> Any:
    """Correction clients in the caller's scope (names and ID numbers masked)."""
    qs = selectors.client_list(
        user=request.user,
        filters=selectors.ClientFilter(
            q=filters.q,
            area_id=filters.area,
            category=filters.category,
            status=filters.status,
            due=filters.due,
        ),
    ).order_by("-judgment_effective_date", "-pk")
    today = timezone.localdate()
    return Shaped(qs, lambda c: _client_row(c, today))


@router.post("/correction/clients", response={201: CorrectionClientDetailOut, **ERROR_RESPONSES})
def create_client(request: HttpRequest, payload: CorrectionClientIn) -> Any:
    """Register a client: the person is found by ID number (or registered), one open record per person."""
    data = payload.dict()
    area = _area(request, data.pop("area_id"))
    client = services.client_register(actor=request.user, area=area, data=data)
    return Status(201, _reload(request, client.pk))


@router.get("/correction/clients/{client_id}", response={200: CorrectionClientDetailOut, **ERROR_RESPONSES})
def get_client(request: HttpRequest, client_id: int) -> Any:
    """One client with check-ins, visits and leave requests (an audited access)."""
    return _detail(selectors.client_get(user=request.user, client_id=client_id))


@router.post(
    "/correction/clients/{client_id}/report", response={200: CorrectionClientDetailOut, **ERROR_RESPONSES}
)
@conflicts_as_409
def report_client(request: HttpRequest, client_id: int, payload: CorrectionReportIn) -> Any:
    """Reception (报到)."""
    services.client_report(
        actor=request.user, client_id=client_id, reported_on=payload.reported_on, version=payload.version
    )
    return _reload(request, client_id)


@router.post(
    "/correction/clients/{client_id}/resolve-missing",
    response={200: CorrectionClientDetailOut, **ERROR_RESPONSES},
)
@conflicts_as_409
def resolve_missing(request: HttpRequest, client_id: int, payload: CorrectionResolveIn) -> Any:
    services.missing_resolve(actor=request.user, client_id=client_id, note=payload.note)
    return _reload(request, client_id)


@router.post(
    "/correction/clients/{client_id}/terminate", response={200: CorrectionClientDetailOut, **ERROR_RESPONSES}
)
@conflicts_as_409
def terminate_client(request: HttpRequest, client_id: int, payload: CorrectionTerminateIn) -> Any:
    services.client_terminate(
        actor=request.user,
        client_id=client_id,
        kind=payload.kind,
        date=payload.date,
        note=payload.note,
        version=payload.version,
    )
    return _reload(request, client_id)


@router.post(
    "/correction/clients/{client_id}/checkins", response={201: CorrectionDatedOut, **ERROR_RESPONSES}
)
@conflicts_as_409
def add_checkin(request: HttpRequest, client_id: int, payload: CorrectionCheckInIn) -> Any:
    c = services.checkin_record(actor=request.user, client_id=client_id, data=payload.dict())
    return Status(
        201,
        {
            "id": c.pk,
            "date": c.date,
            "kind": c.kind,
            "content": c.content,
            "on_time": c.on_time,
            "due_on": c.due_on,
        },
    )


@router.post("/correction/clients/{client_id}/visits", response={201: CorrectionDatedOut, **ERROR_RESPONSES})
@conflicts_as_409
def add_visit(request: HttpRequest, client_id: int, payload: CorrectionVisitIn) -> Any:
    v = services.visit_record(actor=request.user, client_id=client_id, data=payload.dict())
    return Status(
        201, {"id": v.pk, "date": v.date, "content": v.content, "on_time": v.on_time, "due_on": v.due_on}
    )


@router.post("/correction/clients/{client_id}/leaves", response={201: CorrectionLeaveOut, **ERROR_RESPONSES})
@conflicts_as_409
def add_leave(request: HttpRequest, client_id: int, payload: CorrectionLeaveIn) -> Any:
    leave = services.leave_request(actor=request.user, client_id=client_id, data=payload.dict())
    return Status(201, _leave(leave))


@router.get("/correction/leaves", response={200: list[CorrectionLeaveOut], **ERROR_RESPONSES})
@paginate(Page)
def list_leaves(request: HttpRequest, status: str = "pending") -> Any:
    """Leave and travel requests in the caller's scope (``status``: pending, approved…, or all)."""
    return Shaped(selectors.leave_list(user=request.user, status=status[:12]), _leave)


@router.post("/correction/leaves/{leave_id}/decide", response={200: CorrectionLeaveOut, **ERROR_RESPONSES})
@conflicts_as_409
def decide_leave(request: HttpRequest, leave_id: int, payload: CorrectionLeaveDecisionIn) -> Any:
    """approve | reject (approvers) · cancel · return (销假). Two approvers at once: one wins, the
    other gets 409."""
    leave = services.leave_decide(
        actor=request.user,
        leave_id=leave_id,
        action=payload.action,
        note=payload.note,
        returned_on=payload.returned_on,
    )
    return _leave(leave)


@router.get("/correction/alerts", response={200: list[CorrectionClientOut], **ERROR_RESPONSES})
@paginate(Page)
def list_alerts(request: HttpRequest) -> Any:
    """Unresolved missing-supervision (漏管) alerts."""
    today = timezone.localdate()
    return Shaped(selectors.missing_list(user=request.user, today=today), lambda c: _client_row(c, today))


@router.get("/correction/figures", response={200: CorrectionFiguresOut, **ERROR_RESPONSES})
def get_figures(
    request: HttpRequest, start: dt.date, end: dt.date, area: int | None = Query(None, ge=1, le=2**62)
) -> Any:
    """The figures for a period (definitions in docs/correction.md); leaders included."""
    if not request.user.has_perm("correction.view_figures"):
        raise HttpError(404, "未找到")
    if end < start or (end - start).days > 3660:
        raise HttpError(400, "统计期间不正确")
    node = None
    if area is not None:
        from pingan.accounts.selectors import user_scope

        scope = user_scope(request.user)
        qs = Area.objects.all() if scope.everything else Area.objects.filter(pk__in=sorted(scope.area_ids))
        node = get_object_or_404(qs, pk=area)
    figures = selectors.correction_figures(user=request.user, start=start, end=end, area=node)
    return {**figures.as_dict(), "area_id": node.pk if node else None}
