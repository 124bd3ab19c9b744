# No `from __future__ import annotations` here: with it, django-ninja cannot resolve
# `Query[AreaFilterIn]` under @paginate and GET /areas fails (vitalik/django-ninja#1424).
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate

from pingan.areas import selectors, services
from pingan.areas.schemas import (
    AreaCreateIn,
    AreaDetailOut,
    AreaFilterIn,
    AreaOut,
    AreaUpdateIn,
    DepartmentOut,
)
from pingan.core.api import ERROR_RESPONSES, Page

router = Router(tags=["areas 辖区"])


def _detail(area: Any) -> dict[str, Any]:
    data = AreaOut.from_orm(area).dict()
    data["boundary"] = area.boundary
    data["path"] = [a.name for a in selectors.area_path(area)]
    return data


@router.get("/areas", response={200: list[AreaOut], **ERROR_RESPONSES})
@paginate(Page)
def list_areas(request: HttpRequest, filters: Query[AreaFilterIn]) -> Any:
    """Nodes in the caller's scope; filter by ``level`` and ``parent``."""
    return selectors.area_list(
        user=request.user,
        filters=selectors.AreaFilter(level=filters.level, parent_id=filters.parent, q=filters.q),
    )


@router.get("/areas/{area_id}", response={200: AreaDetailOut, **ERROR_RESPONSES})
def get_area(request: HttpRequest, area_id: int) -> Any:
    return _detail(selectors.area_get(user=request.user, area_id=area_id))


@router.post("/areas", response={201: AreaDetailOut, **ERROR_RESPONSES})
def create_area(request: HttpRequest, payload: AreaCreateIn) -> Any:
    parent = selectors.area_get(user=request.user, area_id=payload.parent_id) if payload.parent_id else None
    area = services.area_create(
        actor=request.user,
        code=payload.code,
        name=payload.name,
        level=payload.level,
        parent=parent,
        boundary=payload.boundary,
        population=payload.population,
        households=payload.households,
    )
    return 201, _detail(area)


@router.patch("/areas/{area_id}", response={200: AreaDetailOut, **ERROR_RESPONSES})
def update_area(request: HttpRequest, area_id: int, payload: AreaUpdateIn) -> Any:
    area = selectors.area_get(user=request.user, area_id=area_id)
    area = services.area_update(actor=request.user, area_id=area.pk, data=payload.dict(exclude_unset=True))
    return _detail(area)


@router.get("/departments", response={200: list[DepartmentOut], **ERROR_RESPONSES})
@paginate(Page)
def list_departments(request: HttpRequest, kind: str | None = None) -> Any:
    return selectors.department_list(
        user=request.user, filters=selectors.DepartmentFilter(kind=kind)
    ).prefetch_related("serves")


@router.get("/departments/{department_id}", response={200: DepartmentOut, **ERROR_RESPONSES})
def get_department(request: HttpRequest, department_id: int) -> Any:
    return selectors.department_get(user=request.user, department_id=department_id)
