# No `from __future__ import annotations`: django-ninja resolves Query[...] under @paginate at runtime.
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Status
from ninja.pagination import paginate

from pingan.areas.models import Area
from pingan.areas.selectors import places_in_scope
from pingan.core.api import ERROR_RESPONSES, Page
from pingan.core.ratelimit import rate_limit
from pingan.core.sensitive import reveal_fields
from pingan.people import selectors, services
from pingan.people.schemas import (
    FloatingFilterIn,
    FloatingIn,
    FloatingOut,
    FloatingUpdateIn,
    HouseholderIn,
    HouseholdFilterIn,
    HouseholdIn,
    HouseholdMemberIn,
    HouseholdMemberRemoveIn,
    HouseholdOut,
    HouseholdSummaryOut,
    HouseIn,
    HouseOut,
    HouseUpdateIn,
    MergeIn,
    MoveInIn,
    MoveOutIn,
    OccupancyEndIn,
    OccupancyFilterIn,
    OccupancyIn,
    OccupancyOut,
    OverseasFilterIn,
    OverseasIn,
    OverseasOut,
    OverseasUpdateIn,
    PersonDetailOut,
    PersonFilterIn,
    PersonIn,
    PersonOut,
    PersonUpdateIn,
    ReminderCountOut,
    StatusChangeOut,
)

router = Router(tags=["people 实有人口"])


def _area(request: HttpRequest, area_id: int) -> Area:
    return get_object_or_404(places_in_scope(request.user), pk=area_id)


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


@router.get("/persons/{person_id}/history", response={200: list[StatusChangeOut], **ERROR_RESPONSES})
def person_history(request: HttpRequest, person_id: int) -> Any:
    """The person's lifecycle (registered, imported, moved in and out, deceased, merged), newest first."""
    person = selectors.person_get(user=request.user, person_id=person_id)  # an audited access, as the page
    return list(selectors.person_history(person=person)[:200])


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


# --- lifecycle, occupancy (以房管人), households, floating and overseas records ---------------------------
# Thin: every rule, scope check and audit row is in the service (the same ones as the record screens).


def _person_ref(request: HttpRequest, person_id: int | None, field: str) -> Any:
    """A person given by id (householder, landlord), picked as the record forms pick one
    (``selectors.person_pick``): missing and outside the caller's sight answer alike, "辖区内没有该人员"."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if person_id is None:
        return None
    person = selectors.person_pick(user=request.user, text=str(person_id))
    if person is None:
        raise ValidationError({field: [_("辖区内没有该人员")]})
    return person


@router.post("/persons/{person_id}/move-out", response={200: PersonDetailOut, **ERROR_RESPONSES})
def move_out(request: HttpRequest, person_id: int, payload: MoveOutIn) -> Any:
    """Moved away, deceased or other (注销): closes the open occupancies, writes the history."""
    person = services.person_move_out(
        actor=request.user, person_id=person_id, status=payload.status, note=payload.note, on=payload.on
    )
    return _detail(person)


@router.post("/persons/{person_id}/move-in", response={200: PersonDetailOut, **ERROR_RESPONSES})
def move_in(request: HttpRequest, person_id: int, payload: MoveInIn) -> Any:
    """Move in (or back) to a grid of the caller's scope, optionally into a house."""
    house = selectors.house_get(user=request.user, house_id=payload.house_id) if payload.house_id else None
    person = services.person_move_in(
        actor=request.user,
        person_id=person_id,
        area=_area(request, payload.area_id),
        house=house,
        note=payload.note,
        on=payload.on,
    )
    return _detail(person)


@router.post("/persons/{person_id}/merge", response={200: PersonDetailOut, **ERROR_RESPONSES})
def merge_person(request: HttpRequest, person_id: int, payload: MergeIn) -> Any:
    """Merge the duplicate ``merge_id`` into this person (every link kept, audited on both)."""
    person = services.person_merge(
        actor=request.user, keep_id=person_id, merge_id=payload.merge_id, reason=payload.reason
    )
    return _detail(person)


@router.patch("/houses/{house_id}", response={200: HouseOut, **ERROR_RESPONSES})
def update_house(request: HttpRequest, house_id: int, payload: HouseUpdateIn) -> Any:
    return services.house_update(actor=request.user, house_id=house_id, data=payload.dict(exclude_unset=True))


@router.get("/houses/{house_id}/occupancies", response={200: list[OccupancyOut], **ERROR_RESPONSES})
def list_occupancies(request: HttpRequest, house_id: int) -> Any:
    """Who lives or lived in the house (以房管人), open occupancies first."""
    house = selectors.house_get(user=request.user, house_id=house_id)
    return list(selectors.house_occupancies(user=request.user, house=house))


@router.post("/houses/{house_id}/occupancies", response={201: OccupancyOut, **ERROR_RESPONSES})
def start_occupancy(request: HttpRequest, house_id: int, payload: OccupancyIn) -> Any:
    occupancy = services.occupancy_start(
        actor=request.user,
        person_id=payload.person_id,
        house_id=house_id,
        role=payload.role,
        start=payload.start,
    )
    return Status(201, occupancy)


@router.get("/occupancies", response={200: list[OccupancyOut], **ERROR_RESPONSES})
@paginate(Page)
def list_all_occupancies(request: HttpRequest, filters: Query[OccupancyFilterIn]) -> Any:
    """Occupancies whose house and person are in the caller's sight, newest first."""
    return selectors.occupancy_list(user=request.user, current=filters.current)


@router.post("/occupancies/{occupancy_id}/end", response={200: OccupancyOut, **ERROR_RESPONSES})
def end_occupancy(request: HttpRequest, occupancy_id: int, payload: OccupancyEndIn) -> Any:
    return services.occupancy_end(actor=request.user, occupancy_id=occupancy_id, end=payload.end)


def _household(request: HttpRequest, household: Any) -> dict[str, Any]:
    members = selectors.household_members(user=request.user, household=household)
    return {
        "id": household.pk,
        "number": household.number,
        "area_id": household.area_id,
        "householder_id": household.householder_id,
        "house_id": household.house_id,
        "members": [
            {"person_id": m.person_id, "name": m.person.name, "relation": m.relation} for m in members
        ],
    }


def _searching_householder(request: HttpRequest) -> bool:
    return bool(request.GET.get("householder", "").strip())


@router.get("/households", response={200: list[HouseholdSummaryOut], **ERROR_RESPONSES})
@paginate(Page)
@rate_limit("search", when=_searching_householder)  # a search of people, as GET /persons?q=
def list_households(request: HttpRequest, filters: Query[HouseholdFilterIn]) -> Any:
    """Households in the caller's jurisdiction, by number (``number``: its beginning; ``house_id``;
    ``householder``: searched as people are)."""
    qs = selectors.household_list(user=request.user, householder=filters.householder)
    qs = qs.order_by("number", "pk")
    if filters.number.strip():
        qs = qs.filter(number__startswith=filters.number.strip())
    if filters.house_id is not None:
        qs = qs.filter(house_id=filters.house_id)
    return qs


@router.post("/households", response={201: HouseholdOut, **ERROR_RESPONSES})
def create_household(request: HttpRequest, payload: HouseholdIn) -> Any:
    house = selectors.house_get(user=request.user, house_id=payload.house_id) if payload.house_id else None
    household = services.household_create(
        actor=request.user,
        area=_area(request, payload.area_id),
        number=payload.number,
        householder=_person_ref(request, payload.householder_id, "householder_id"),
        house=house,
    )
    return Status(201, _household(request, household))


@router.get("/households/{household_id}", response={200: HouseholdOut, **ERROR_RESPONSES})
def get_household(request: HttpRequest, household_id: int) -> Any:
    return _household(request, selectors.household_get(user=request.user, household_id=household_id))


@router.post("/households/{household_id}/members", response={201: HouseholdOut, **ERROR_RESPONSES})
def add_member(request: HttpRequest, household_id: int, payload: HouseholdMemberIn) -> Any:
    services.household_add_member(
        actor=request.user, household_id=household_id, person_id=payload.person_id, relation=payload.relation
    )
    household = selectors.household_get(user=request.user, household_id=household_id)
    return Status(201, _household(request, household))


# Actions on a member are POSTs under /households/{household_id} with the person in the body (not
# DELETE /households/{id}/members/{person_id}): one path parameter, so the cross-jurisdiction matrix gate
# reaches them as object operations of GET /households.
@router.post("/households/{household_id}/members/remove", response={200: HouseholdOut, **ERROR_RESPONSES})
def remove_member(request: HttpRequest, household_id: int, payload: HouseholdMemberRemoveIn) -> Any:
    """Take a member out of the household; the householder only as its last member."""
    household = services.household_remove_member(
        actor=request.user, household_id=household_id, person_id=payload.person_id
    )
    return _household(request, selectors.household_get(user=request.user, household_id=household.pk))


@router.post("/households/{household_id}/householder", response={200: HouseholdOut, **ERROR_RESPONSES})
def change_householder(request: HttpRequest, household_id: int, payload: HouseholderIn) -> Any:
    """Make a member the householder; the former householder gets ``former_relation``."""
    household = services.household_change_householder(
        actor=request.user,
        household_id=household_id,
        person_id=payload.person_id,
        former_relation=payload.former_relation,
    )
    return _household(request, selectors.household_get(user=request.user, household_id=household.pk))


def _floating_data(request: HttpRequest, payload: Any, *, partial: bool) -> dict[str, Any]:
    data = payload.dict(exclude_unset=partial)
    if "landlord_id" in data:
        data["landlord"] = _person_ref(request, data.pop("landlord_id"), "landlord_id")
    return data


@router.get("/floating", response={200: list[FloatingOut], **ERROR_RESPONSES})
@paginate(Page)
def list_all_floating(request: HttpRequest, filters: Query[FloatingFilterIn]) -> Any:
    """Floating-population records of people in the caller's sight, newest registration first; ``due``: one
    kind of reminder (流动人口提醒, the same rules as the worker's notifications), in its own order."""
    if filters.due:
        qs = selectors.floating_reminders(
            user=request.user, kind=filters.due, today=timezone.localdate(), area_id=filters.area_id
        ).select_related("landlord")
        return qs.filter(valid_to__lt=filters.valid_to_before) if filters.valid_to_before else qs
    return selectors.floating_list(user=request.user, valid_to_before=filters.valid_to_before)


@router.get("/floating/reminder-counts", response={200: list[ReminderCountOut], **ERROR_RESPONSES})
def floating_reminder_counts(request: HttpRequest) -> Any:
    """Per grid in the caller's sight that has any: permits ending soon, residents not re-verified."""
    return [
        {
            "area_id": c["area"].pk,
            "area_code": c["area"].code,
            "area_name": c["area"].name,
            "expiring": c["expiring"],
            "reverify": c["reverify"],
        }
        for c in selectors.floating_reminder_counts(user=request.user, today=timezone.localdate())
    ]


@router.get("/persons/{person_id}/floating", response={200: list[FloatingOut], **ERROR_RESPONSES})
def list_floating(request: HttpRequest, person_id: int) -> Any:
    person = selectors.person_get(user=request.user, person_id=person_id, audit=False)
    return list(person.floating_records.order_by("-registered_on", "-pk"))


@router.post("/persons/{person_id}/floating", response={201: FloatingOut, **ERROR_RESPONSES})
def register_floating(request: HttpRequest, person_id: int, payload: FloatingIn) -> Any:
    """Floating-population record (流动人口登记): permit, period, inflow reason, landlord."""
    record = services.floating_register(
        actor=request.user, person_id=person_id, data=_floating_data(request, payload, partial=False)
    )
    return Status(201, record)


@router.patch("/floating/{record_id}", response={200: FloatingOut, **ERROR_RESPONSES})
def update_floating(request: HttpRequest, record_id: int, payload: FloatingUpdateIn) -> Any:
    return services.floating_update(
        actor=request.user, record_id=record_id, data=_floating_data(request, payload, partial=True)
    )


@router.get("/overseas", response={200: list[OverseasOut], **ERROR_RESPONSES})
@paginate(Page)
def list_all_overseas(request: HttpRequest, filters: Query[OverseasFilterIn]) -> Any:
    """Overseas records of people in the caller's sight, latest entry first."""
    return selectors.overseas_list(user=request.user, departure_before=filters.departure_before)


@router.get("/persons/{person_id}/overseas", response={200: list[OverseasOut], **ERROR_RESPONSES})
def list_overseas(request: HttpRequest, person_id: int) -> Any:
    person = selectors.person_get(user=request.user, person_id=person_id, audit=False)
    return list(person.overseas_records.order_by("-entry_date", "-pk"))


@router.post("/persons/{person_id}/overseas", response={201: OverseasOut, **ERROR_RESPONSES})
def register_overseas(request: HttpRequest, person_id: int, payload: OverseasIn) -> Any:
    """Overseas record (境外人员登记): nationality, foreign names, document, visa, stay, purpose."""
    record = services.overseas_register(actor=request.user, person_id=person_id, data=payload.dict())
    return Status(201, record)


@router.patch("/overseas/{record_id}", response={200: OverseasOut, **ERROR_RESPONSES})
def update_overseas(request: HttpRequest, record_id: int, payload: OverseasUpdateIn) -> Any:
    return services.overseas_update(
        actor=request.user, record_id=record_id, data=payload.dict(exclude_unset=True)
    )
