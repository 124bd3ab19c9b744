# No `from __future__ import annotations`: django-ninja resolves Query[...] under @paginate at runtime.
"""School registry API (学校台账). Thin: parse, call a selector or service, shape. A school outside the
caller's scope answers 404, like a missing one; invalid data 422 with the field's Chinese message."""

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate

from pingan.accounts.selectors import user_scope
from pingan.areas.models import Area
from pingan.core.api import ERROR_RESPONSES, Page
from pingan.core.ratelimit import rate_limit
from pingan.schools import selectors, services
from pingan.schools.schemas import (
    SchoolFigureRowOut,
    SchoolFiguresOut,
    SchoolFilterIn,
    SchoolIn,
    SchoolOut,
    SchoolUpdateIn,
)

router = Router(tags=["schools 学校台账"])
NULLABLE = {"code", "latitude", "longitude", "students", "staff"}


def _filters(filters: SchoolFilterIn) -> selectors.SchoolFilter:
    return selectors.SchoolFilter.from_params(filters.dict())


def _searching(request: HttpRequest) -> bool:
    return bool(request.GET.get("q", "").strip())


@router.get("/schools", response={200: list[SchoolOut], **ERROR_RESPONSES})
@paginate(Page)
@rate_limit("search", when=_searching)
def list_schools(request: HttpRequest, filters: Query[SchoolFilterIn]) -> Any:
    """Schools in the caller's scope (in operation unless ``active`` says otherwise)."""
    return selectors.school_list(user=request.user, filters=_filters(filters))


@router.get("/schools/figures", response={200: SchoolFiguresOut, **ERROR_RESPONSES})
def school_figures(request: HttpRequest, filters: Query[SchoolFilterIn]) -> Any:
    """Schools in operation by street (or community) and how many meet each of the “4 个 100%”."""
    figures = selectors.school_figures(user=request.user, filters=_filters(filters))
    return {
        "by": figures["by"],
        "rows": [SchoolFigureRowOut(**r) for r in figures["rows"]],
        "total": SchoolFigureRowOut(**figures["total"]),
    }


@router.get("/schools/{school_id}", response={200: SchoolOut, **ERROR_RESPONSES})
def get_school(request: HttpRequest, school_id: int) -> Any:
    return selectors.school_get(user=request.user, school_id=school_id)


def _area(request: HttpRequest, area_id: int) -> Area:
    """An area of the caller's jurisdiction (404 otherwise, like a missing one); the service then says
    whether a school may lie there (a community or grid: 422 for a street)."""
    area = Area.objects.filter(pk=area_id).first()
    if area is None or not user_scope(request.user).contains_area(area):
        raise Http404
    return area


@router.post("/schools", response={201: SchoolOut, **ERROR_RESPONSES})
def create_school(request: HttpRequest, payload: SchoolIn) -> Any:
    data = payload.dict()
    area = _area(request, data.pop("area_id"))
    return Status(201, services.school_create(actor=request.user, area=area, data=data))


@router.patch("/schools/{school_id}", response={200: SchoolOut, **ERROR_RESPONSES})
def update_school(request: HttpRequest, school_id: int, payload: SchoolUpdateIn) -> Any:
    # null clears what may be empty (code, coordinates, counts); elsewhere it leaves the field as it is
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None or k in NULLABLE}
    area_id = data.pop("area_id", None)
    area = _area(request, area_id) if area_id else None
    return services.school_update(actor=request.user, school_id=school_id, data=data, area=area)
