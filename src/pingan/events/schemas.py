"""API schemas: input and output separate; the citizen's contact leaves the server masked.

The event's detail (``EventOut``) and what it nests are ``core.api.Out`` models, read from attributes by
pydantic alone, not django-ninja's ``Schema``, whose getter costs a Python call per field (about 80 for an
event with its timeline). ``api._Detail`` carries every field itself. Every event action answers with the
detail: this took 5 % off a report's instructions (docs/benchmarks.md, "Fourteenth session").
``EventListOut`` stays a ``Schema``: its resolvers derive the labels from the ORM rows of a list.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import StrictBool, StrictInt

from pingan.core.api import IsoDate, Out
from pingan.core.sensitive import Masked

StatusName = Literal[
    "reported", "accepted", "refused", "dispatched", "handling", "handled", "closed", "merged"
]
TierName = Literal["on_the_spot", "ordinary", "difficult"]
SourceName = Literal[
    "grid_worker", "citizen", "hotline", "patrol", "department", "school_inspection", "campaign"
]
UrgencyName = Literal["normal", "urgent", "critical"]
Version = StrictInt | None


class EventNodeOut(Out):
    id: int
    code: str
    name: str


class EventDepartmentOut(Out):
    id: int
    name: str


class EventFields(Out):  # of an event, in a list and in its detail
    id: int
    number: str
    title: str
    category: str
    category_label: str
    tier: str
    status: str
    status_label: str
    source: str
    urgency: str
    area: EventNodeOut
    owner: EventNodeOut
    assignee_department: EventDepartmentOut | None
    assignee_area: EventNodeOut | None
    reported_at: dt.datetime
    deadline: dt.datetime | None
    late: bool = Field(..., description="past the deadline while with the assignee")
    version: int


class EventListOut(Schema, EventFields):
    @staticmethod
    def resolve_category_label(obj: Any) -> str:
        from pingan.core.codes import code_label

        return code_label("event_category", obj.category)

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_late(obj: Any) -> bool:
        return bool(obj.is_late)


class EventPhotoOut(Out):
    id: int
    kind: str
    content_type: str
    size: int
    url: str


class EventStepOut(Out):
    id: int
    action: str
    action_label: str
    actor_name: str
    at: dt.datetime
    from_status: str
    to_status: str
    note: str
    data: dict[str, Any]
    photos: list[EventPhotoOut]


class EventSubjectOut(Out):
    kind: Literal["person", "house", "school"]
    kind_label: str
    id: int
    label: str = Field(..., description="the name or address (masked), or the school's name")


class EventRefOut(Out):
    id: int
    number: str


class EventDuplicateOut(Schema):
    event: EventListOut
    distance_m: float


class EventDuplicatesIn(Schema):
    category: str = Field(..., min_length=1, max_length=20)
    lat: Decimal = Field(..., ge=-90, le=90)
    lng: Decimal = Field(..., ge=-180, le=180)


# read from api._Detail, which gives the labels and ``late`` as EventListOut's resolvers do (no docstring: it
# would be the OpenAPI document's description)
class EventOut(EventFields):
    description: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    reporter_id: int | None
    reporter_name: Masked("name")  # type: ignore[valid-type]
    reporter_phone: Masked("phone")  # type: ignore[valid-type]
    public_note: str
    accepted_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    handled_at: dt.datetime | None
    closed_at: dt.datetime | None
    deadline_days: int | None
    extension_days: int
    extension_requested_days: int | None
    extension_reason: str
    overdue: bool
    closed_on_time: bool | None
    verification_count: int
    failed_verification_count: int
    return_count: int
    escalation_count: int
    supervision_count: int
    reopen_count: int
    rating: int | None
    rating_note: str
    steps: list[EventStepOut]
    photos: list[EventPhotoOut]
    actions: list[str] = Field(..., description="the actions the caller may take now")
    subjects: list[EventSubjectOut] = Field(..., description="persons and houses (masked) and schools")
    merged_into: EventRefOut | None = Field(None, description="the event this duplicate was merged into")
    merged_events: list[EventRefOut] = Field(..., description="duplicates merged into this event")
    can_link_subjects: bool = False
    can_merge: bool = False


class EventFilterIn(Schema):
    status: list[StatusName] = Field(default_factory=list)
    category: str | None = Field(None, max_length=20, pattern=r"^\d{2,6}$")
    source: SourceName | None = None
    urgency: UrgencyName | None = None
    tier: TierName | None = None
    area: int | None = Field(None, ge=1, le=2**62)
    department: int | None = Field(None, ge=1, le=2**62)
    late: bool | None = None
    q: str | None = Field(None, max_length=50)
    reported_from: IsoDate | None = None
    reported_to: IsoDate | None = None


class EventCreateIn(Schema):
    """multipart/form-data with ``photos`` files."""

    area_id: int = Field(..., ge=1, le=2**62)
    category: str = Field(..., min_length=1, max_length=40)
    title: str = Field(..., min_length=1, max_length=80)
    description: str = Field(..., min_length=1, max_length=2000)
    source: SourceName | None = None
    urgency: UrgencyName = "normal"
    address: str = Field("", max_length=200)
    latitude: Decimal | None = Field(None, ge=-90, le=90, max_digits=9, decimal_places=6)
    longitude: Decimal | None = Field(None, ge=-180, le=180, max_digits=9, decimal_places=6)
    reporter_name: str = Field("", max_length=40)
    reporter_phone: str = Field("", max_length=20)
    person_ids: list[int] = Field(default_factory=list, max_length=20, description="persons in your scope")
    house_ids: list[int] = Field(default_factory=list, max_length=20, description="houses in your scope")
    school_ids: list[int] = Field(default_factory=list, max_length=20, description="schools in your scope")


class EventVersionIn(Schema):
    version: Version = Field(
        None, ge=1, le=2**31, description="the version the caller saw; a newer one answers 409"
    )


class EventNoteIn(EventVersionIn):
    note: str = Field("", max_length=1000)


class EventAcceptIn(EventNoteIn):
    tier: TierName | None = None


class EventPlaceIn(EventVersionIn):
    area_id: StrictInt = Field(..., ge=1, le=2**62, description="a grid in the caller's scope")


class EventReasonIn(EventVersionIn):
    reason: str = Field(..., min_length=1, max_length=1000)


class EventDispatchIn(EventNoteIn):
    department_id: StrictInt | None = Field(None, ge=1, le=2**62)
    area_id: StrictInt | None = Field(None, ge=1, le=2**62)
    tier: TierName | None = None
    working_days: StrictInt | None = Field(None, ge=0, le=60)


class EventExtensionRequestIn(EventVersionIn):
    days: StrictInt = Field(..., ge=1, le=60)
    reason: str = Field(..., min_length=1, max_length=300)


class EventExtensionDecisionIn(EventNoteIn):
    approve: StrictBool


class EventRateIn(EventVersionIn):
    rating: StrictInt = Field(..., ge=1, le=5)
    note: str = Field("", max_length=300)


class EventReportBackIn(Schema):
    """multipart/form-data with ``photos`` files."""

    note: str = Field(..., min_length=1, max_length=1000)
    version: int | None = Field(None, ge=1, le=2**31)


class EventVerifyIn(Schema):
    """multipart/form-data with ``photos`` files (required to pass unless the policy says otherwise)."""

    passed: bool
    note: str = Field("", max_length=1000)
    version: int | None = Field(None, ge=1, le=2**31)


class EventSubjectsIn(EventVersionIn):
    person_ids: list[StrictInt] = Field(default_factory=list, max_length=20)
    house_ids: list[StrictInt] = Field(default_factory=list, max_length=20)
    school_ids: list[StrictInt] = Field(default_factory=list, max_length=20)
    note: str = Field("", max_length=300)


class EventMergeIn(EventVersionIn):
    into_id: StrictInt = Field(..., ge=1, le=2**62, description="the event to merge this duplicate into")
    into_version: Version = Field(None, ge=1, le=2**31)
    reason: str = Field("", max_length=300)
