# No `from __future__ import annotations`: django-ninja resolves Query[...] under @paginate at runtime.
"""The released-person API (/api/v1/aftercare). Missing and forbidden cases both answer 404; a case
changed since the caller read it (``expected_version``) answers 409."""

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

from pingan.aftercare import selectors, services
from pingan.aftercare.schemas import (
    AidIn,
    AidOut,
    CaseDetailOut,
    CaseFilterIn,
    CaseIn,
    CaseOut,
    CloseIn,
    FiguresOut,
    MemberIn,
    MemberOut,
    NotReceivedIn,
    ReceiveIn,
    ReoffenceIn,
    ReoffenceOut,
    ResettlementIn,
    VisitIn,
    VisitOut,
)
from pingan.areas.models import Area
from pingan.areas.selectors import places_in_scope
from pingan.core.api import ERROR_RESPONSES, Page, Shaped

router = Router(tags=["aftercare 安置帮教"])


def conflicts_as_409(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except services.CaseConflict as exc:
            raise HttpError(409, exc.message) from None

    return wrapper


def case_row(case: Any) -> dict[str, Any]:
    handover = getattr(case, "handover", None)
    return {
        "id": case.pk,
        "person_id": case.person_id,
        "name": case.person.name,
        "id_number": case.person.id_number,
        "area_id": case.area_id,
        "area_name": case.area.name,
        "offence": case.offence,
        "release_date": case.release_date,
        "assistance_end": case.assistance_end,
        "is_key_person": case.is_key_person,
        "is_recidivist": case.is_recidivist,
        "risk_level": case.risk_level,
        "status": case.status,
        "resettlement": case.resettlement,
        "handover_status": handover.status if handover else "",
        "next_visit_on": getattr(case, "next_visit_on", None),
        "version": case.version,
    }


def case_detail(case: Any) -> dict[str, Any]:
    handover = case.handover
    data = case_row(case)
    data.update(
        {
            k: getattr(case, k)
            for k in (
                "offence_note",
                "sentence",
                "sentence_months",
                "prison",
                "risk_note",
                "status_note",
                "resettlement_detail",
                "unresettled_reason",
                "resettled_on",
                "remarks",
            )
        }
    )
    data["handover"] = {
        "expected_release_date": handover.expected_release_date,
        "must_meet": handover.must_meet,
        "status": handover.status,
        "received_on": handover.received_on,
        "met_at_release": handover.met_at_release,
        "not_received_on": handover.not_received_on,
        "not_received_reason": handover.not_received_reason,
        "overdue": handover.overdue_on(timezone.localdate()),
    }
    data["members"] = list(selectors.member_list(case=case))
    data["visits"] = list(selectors.visit_list(case=case)[:200])
    data["aid"] = list(selectors.aid_list(case=case)[:200])
    data["reoffences"] = list(selectors.reoffence_list(case=case))
    return data


def _fresh(request: HttpRequest, case_id: int) -> dict[str, Any]:
    return case_detail(selectors.case_get(user=request.user, case_id=case_id, audit=False))


@router.get("/cases", response={200: list[CaseOut], **ERROR_RESPONSES})
@paginate(Page)
def list_cases(request: HttpRequest, filters: Query[CaseFilterIn]) -> Any:
    """Cases in the caller's scope (identity masked). ``due`` filters the worklists. Roles that may not
    see cases at all (``rules.CASE_ROLES``) get 404, not an empty list."""
    if not selectors.may_view_cases(request.user):
        from django.http import Http404

        raise Http404
    qs = selectors.case_list(
        user=request.user,
        filters=selectors.CaseFilter(
            q=filters.q,
            area_id=filters.area,
            status=filters.status,
            due=filters.due,
            key_person=filters.key_person,
            risk=filters.risk,
        ),
    )
    return Shaped(qs, case_row)


@router.get("/cases/{case_id}", response={200: CaseDetailOut, **ERROR_RESPONSES})
def get_case(request: HttpRequest, case_id: int) -> Any:
    """One case with its hand-over, group, visits, help and re-offences (an audited access)."""
    return case_detail(selectors.case_get(user=request.user, case_id=case_id))


@router.post("/cases", response={201: CaseDetailOut, **ERROR_RESPONSES})
def create_case(request: HttpRequest, payload: CaseIn) -> Any:
    """Register a released person's case: the person is found by ID number or registered (一人一档)."""

    if not request.user.has_perm("aftercare.write_cases"):
        from django.http import Http404

        raise Http404
    data = payload.dict()
    area = get_object_or_404(places_in_scope(request.user), pk=data.pop("area_id"))
    person_data = {k: data.pop(k) for k in ("name", "id_number", "sex", "phone")}
    person_data = {k: v for k, v in person_data.items() if v not in (None, "")}
    received_on = data.pop("received_on")
    if data.get("assistance_end") is None:
        data.pop("assistance_end")
    case = services.case_register(
        actor=request.user, area=area, person_data=person_data, data=data, received_on=received_on
    )
    return Status(201, _fresh(request, case.pk))


@router.post("/cases/{case_id}/receive", response={200: CaseDetailOut, **ERROR_RESPONSES})
@conflicts_as_409
def receive(request: HttpRequest, case_id: int, payload: ReceiveIn) -> Any:
    """Hand-over done: the community received the released person."""
    services.handover_receive(actor=request.user, case_id=case_id, **payload.dict())
    return _fresh(request, case_id)


@router.post("/cases/{case_id}/not-received", response={200: CaseDetailOut, **ERROR_RESPONSES})
@conflicts_as_409
def not_received(request: HttpRequest, case_id: int, payload: NotReceivedIn) -> Any:
    services.handover_not_received(actor=request.user, case_id=case_id, **payload.dict())
    return _fresh(request, case_id)


@router.put("/cases/{case_id}/resettlement", response={200: CaseDetailOut, **ERROR_RESPONSES})
@conflicts_as_409
def resettlement(request: HttpRequest, case_id: int, payload: ResettlementIn) -> Any:
    services.resettlement_set(actor=request.user, case_id=case_id, **payload.dict())
    return _fresh(request, case_id)


@router.post("/cases/{case_id}/members", response={201: MemberOut, **ERROR_RESPONSES})
def add_member(request: HttpRequest, case_id: int, payload: MemberIn) -> Any:
    return Status(201, services.member_add(actor=request.user, case_id=case_id, **payload.dict()))


@router.post("/cases/{case_id}/visits", response={201: VisitOut, **ERROR_RESPONSES})
def add_visit(request: HttpRequest, case_id: int, payload: VisitIn) -> Any:
    return Status(201, services.visit_add(actor=request.user, case_id=case_id, **payload.dict()))


@router.post("/cases/{case_id}/aid", response={201: AidOut, **ERROR_RESPONSES})
def add_aid(request: HttpRequest, case_id: int, payload: AidIn) -> Any:
    """One entry of the help ledger (necessities, one-off hardship grant with amount and approver)."""
    return Status(201, services.aid_add(actor=request.user, case_id=case_id, **payload.dict()))


@router.post("/cases/{case_id}/reoffences", response={201: ReoffenceOut, **ERROR_RESPONSES})
@conflicts_as_409
def add_reoffence(request: HttpRequest, case_id: int, payload: ReoffenceIn) -> Any:
    return Status(201, services.reoffence_add(actor=request.user, case_id=case_id, **payload.dict()))


@router.post("/cases/{case_id}/close", response={200: CaseDetailOut, **ERROR_RESPONSES})
@conflicts_as_409
def close_case(request: HttpRequest, case_id: int, payload: CloseIn) -> Any:
    services.case_close(actor=request.user, case_id=case_id, **payload.dict())
    return _fresh(request, case_id)


@router.get("/figures", response={200: FiguresOut, **ERROR_RESPONSES})
def figures(
    request: HttpRequest,
    start: dt.date | None = None,
    end: dt.date | None = None,
    area: int | None = None,
) -> Any:
    """The figures (衔接率, 安置率, 帮教率, 重新犯罪率, 按时走访率, help totals) of an area in the caller's
    scope for the period [start, end] (default: this year so far). Definitions: docs/aftercare.md."""
    from django.http import Http404

    from pingan.accounts.selectors import user_scope

    if not selectors.may_view_figures(request.user):
        raise Http404
    today = timezone.localdate()
    start = start or dt.date(today.year, 1, 1)
    end = end or today
    if end < start or (end - start).days > 3660:
        raise HttpError(400, "统计区间不正确（结束日期不能早于开始日期，且不超过十年）")
    node = None
    if area is not None:
        scope = user_scope(request.user)
        node = get_object_or_404(Area.objects.all(), pk=area) if 0 < area < 2**62 else None
        if node is None or not scope.contains_area_id(node.pk):
            raise Http404
    f = selectors.case_figures(user=request.user, start=start, end=end, area=node)
    return {
        **{k: getattr(f, k) for k in FiguresOut.model_fields if hasattr(f, k)},
        "area_id": node.pk if node else None,
        "area_name": node.name if node else "",
    }
