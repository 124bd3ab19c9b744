# No `from __future__ import annotations`: django-ninja resolves Query[...] under @paginate at runtime.
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status
from ninja.pagination import paginate

from pingan.areas.models import Area
from pingan.core.api import ERROR_RESPONSES, Page
from pingan.core.ratelimit import rate_limit
from pingan.core.sensitive import reveal_fields
from pingan.people import selectors, services
from pingan.people.schemas import (
    HouseIn,
    HouseOut,
    PersonDetailOut,
    PersonFilterIn,
    PersonIn,
    PersonOut,
    PersonUpdateIn,
)

router = Router(tags=["people 实有人口"])


def _area(request: HttpRequest, area_id: int) -> Area:
    from pingan.accounts.selectors import user_scope

    scope = user_scope(request.user)
    qs = Area.objects.filter(level__in=("community", "grid"), active=True)
    return get_object_or_404(qs if scope.everything else qs.filter(pk__in=sorted(scope.area_ids)), pk=area_id)


def _detail(person: Any, revealed: dict[str, Any] | None = None) -> dict[str, Any]:
    """Plain attribute values: the response schema masks them (``Masked``) unless they are ``Revealed``."""
    data = {name: getattr(person, name) for name in PersonDetailOut.model_fields}
    data.update(revealed or {})
    return data


def _searching(request: HttpRequest) -> bool:
    return bool(request.GET.get("q", "").strip())


@router.get("/persons", response={200: list[PersonOut], **ERROR_RESPONSES})
@paginate(Page)
@rate_limit("search", when=_searching)  # per user: search by name, ID number, phone
def list_persons(request: HttpRequest, filters: Query[PersonFilterIn]) -> Any:
    """People in the caller's scope (masked); search shapes as on the list page."""
    return selectors.person_list(
        user=request.user,
        filters=selectors.PersonFilter(
            q=filters.q, area_id=filters.area, status=filters.status, category=filters.category
        ),
    )


@router.get("/persons/{person_id}", response={200: PersonDetailOut, **ERROR_RESPONSES})
def get_person(request: HttpRequest, person_id: int, reveal: str = "", reason: str = "") -> Any:
    """One person (an audited access). ``?reveal=id_number,phone&reason=...`` shows those fields in full
    for a user who may reveal them (audited)."""
    person = selectors.person_get(user=request.user, person_id=person_id)
    revealed = reveal_fields(actor=request.user, obj=person, fields=reveal.split(","), reason=reason)
    return _detail(person, revealed)


@router.post("/persons", response={201: PersonDetailOut, 200: PersonDetailOut, **ERROR_RESPONSES})
def register_person(request: HttpRequest, payload: PersonIn) -> Any:
    """Register, or update the person with the same ID number (一人一档): 201 created, 200 updated."""
    data = payload.dict()
    area = _area(request, data.pop("area_id"))
    person, created = services.person_register(actor=request.user, area=area, data=data)
    return Status(201 if created else 200, _detail(person))


@router.patch("/persons/{person_id}", response={200: PersonDetailOut, **ERROR_RESPONSES})
def update_person(request: HttpRequest, person_id: int, payload: PersonUpdateIn) -> Any:
    person = services.person_update(
        actor=request.user, person_id=person_id, data=payload.dict(exclude_unset=True)
    )
    return _detail(person)


@router.get("/houses", response={200: list[HouseOut], **ERROR_RESPONSES})
@paginate(Page)
@rate_limit("search", when=_searching)
def list_houses(request: HttpRequest, q: str = "") -> Any:
    return selectors.house_list(user=request.user, q=q[:60])


@router.get("/houses/{house_id}", response={200: HouseOut, **ERROR_RESPONSES})
def get_house(request: HttpRequest, house_id: int) -> Any:
    return selectors.house_get(user=request.user, house_id=house_id)


@router.post("/houses", response={201: HouseOut, **ERROR_RESPONSES})
def create_house(request: HttpRequest, payload: HouseIn) -> Any:
    data = payload.dict()
    area = _area(request, data.pop("area_id"))
    return Status(201, services.house_create(actor=request.user, area=area, data=data))
