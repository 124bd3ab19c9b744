"""API schemas: separate input and output; personal fields leave masked (``Masked``) unless revealed."""

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from pingan.core.api import IsoDate
from pingan.core.sensitive import Masked


class PersonFilterIn(Schema):
    q: str = Field("", max_length=60, description="姓名/拼音/首字母/证件号（或后 4、6 位）/电话/地址")
    area: int | None = Field(None, ge=1, le=2**62)
    status: str = Field("", max_length=12)
    category: str = Field("", max_length=12)


class PersonOut(Schema):
    id: int
    name: Masked("name")  # type: ignore[valid-type]
    id_number: Masked("id_number")  # type: ignore[valid-type]
    phone: Masked("phone")  # type: ignore[valid-type]
    sex: str
    birth_date: dt.date | None
    area_id: int
    current_house_id: int | None
    status: str
    categories: list[str]


class PersonDetailOut(PersonOut):
    former_name: str
    ethnic_group: str
    political_status: str
    education: str
    marital_status: str
    occupation: str
    workplace: str
    registered_address: Masked("address")  # type: ignore[valid-type]
    household_consistent: bool | None
    remarks: str


class PersonIn(Schema):
    area_id: int = Field(..., ge=1, le=2**62)
    name: str = Field(max_length=50)
    id_type: str = Field("111", max_length=4)
    id_number: str = Field("", max_length=40)
    sex: str = Field("", max_length=10)
    birth_date: dt.date | None = None
    ethnic_group: str = Field("", max_length=20)
    phone: str = Field("", max_length=30)
    political_status: str = Field("", max_length=30)
    education: str = Field("", max_length=30)
    marital_status: str = Field("", max_length=20)
    occupation: str = Field("", max_length=60)
    workplace: str = Field("", max_length=120)
    registered_address: str = Field("", max_length=200)
    current_address: str = Field("", max_length=200)
    is_registered: bool = False
    is_floating: bool = False
    is_overseas: bool = False
    is_left_behind: bool = False
    remarks: str = Field("", max_length=300)


class PersonUpdateIn(Schema):
    name: str | None = Field(None, max_length=50)
    phone: str | None = Field(None, max_length=30)
    occupation: str | None = Field(None, max_length=60)
    workplace: str | None = Field(None, max_length=120)
    political_status: str | None = Field(None, max_length=30)
    education: str | None = Field(None, max_length=30)
    marital_status: str | None = Field(None, max_length=20)
    remarks: str | None = Field(None, max_length=300)


class HouseOut(Schema):
    id: int
    address: str
    code: str | None
    use: str
    rented: bool
    area_id: int
    floor_area: Any = None


class HouseIn(Schema):
    area_id: int = Field(..., ge=1, le=2**62)
    compound: str = Field(max_length=80)
    building: str = Field("", max_length=20)
    unit: str = Field("", max_length=20)
    room: str = Field("", max_length=20)
    code: str | None = Field(None, max_length=40)
    use: str = Field("residential", max_length=20)
    rented: bool = False


class HouseUpdateIn(Schema):
    compound: str | None = Field(None, max_length=80)
    building: str | None = Field(None, max_length=20)
    unit: str | None = Field(None, max_length=20)
    room: str | None = Field(None, max_length=20)
    code: str | None = Field(None, max_length=40)
    use: str | None = Field(None, max_length=20)
    rented: bool | None = None
    hazards: str | None = Field(None, max_length=200)


class MoveOutIn(Schema):
    status: str = Field("moved_out", max_length=12, description="moved_out | deceased | other")
    note: str = Field("", max_length=200)
    on: dt.date | None = None


class MoveInIn(Schema):
    area_id: int = Field(..., ge=1, le=2**62)
    house_id: int | None = Field(None, ge=1, le=2**62)
    note: str = Field("", max_length=200)
    on: dt.date | None = None


class MergeIn(Schema):
    merge_id: int = Field(..., ge=1, le=2**62, description="the duplicate, merged into this person")
    reason: str = Field(max_length=200)


class OccupancyIn(Schema):
    person_id: int = Field(..., ge=1, le=2**62)
    role: str = Field("resident", max_length=10, description="owner | tenant | resident")
    start: dt.date | None = None


class OccupancyEndIn(Schema):
    end: dt.date | None = None


class OccupancyOut(Schema):
    id: int
    person_id: int
    house_id: int
    role: str
    start: dt.date | None
    end: dt.date | None


class StatusChangeOut(Schema):
    """One step of a person's lifecycle: ``effective_on`` is the day it happened (moves), ``at`` when it
    was recorded."""

    event: str
    event_label: str
    from_status: str
    to_status: str
    effective_on: dt.date | None
    at: dt.datetime
    actor_username: str
    note: str


class HouseholdIn(Schema):
    area_id: int = Field(..., ge=1, le=2**62)
    number: str = Field(max_length=40)
    householder_id: int | None = Field(None, ge=1, le=2**62)
    house_id: int | None = Field(None, ge=1, le=2**62)


class HouseholdMemberIn(Schema):
    person_id: int = Field(..., ge=1, le=2**62)
    relation: str = Field(max_length=20, description="code table household_relation (code or label)")


class HouseholdMemberRemoveIn(Schema):
    person_id: int = Field(..., ge=1, le=2**62)


class HouseholderIn(Schema):
    person_id: int = Field(..., ge=1, le=2**62, description="a member of the household: the new householder")
    former_relation: str = Field(
        "",
        max_length=20,
        description="code table household_relation (code or label, not 02): what the former householder "
        "becomes; required when the household has a householder",
    )


class HouseholdMemberOut(Schema):
    person_id: int
    name: Masked("name")  # type: ignore[valid-type]
    relation: str


class OccupancyFilterIn(Schema):
    current: bool = Field(False, description="only occupancies not ended")


class FloatingFilterIn(Schema):
    valid_to_before: IsoDate | None = Field(None, description="permits valid to a day before this one")
    due: Literal["expiring", "reverify"] | None = Field(
        None,
        description="the reminders: expiring (the permit ends within PINGAN_PERMIT_REMINDER_DAYS, nearest "
        "first) or reverify (not re-verified for PINGAN_FLOATING_REVERIFY_DAYS, longest first)",
    )
    area_id: int | None = Field(
        None, ge=1, le=2**62, description="with due: an area of the caller's (subtree)"
    )


class ReminderCountOut(Schema):
    area_id: int
    area_code: str
    area_name: str
    expiring: int
    reverify: int


class OverseasFilterIn(Schema):
    departure_before: IsoDate | None = Field(None, description="expected to leave before this day")


class HouseholdFilterIn(Schema):
    number: str = Field("", max_length=30, description="the household number's beginning")
    house_id: int | None = Field(None, ge=1, le=2**62)
    householder: str = Field(
        "", max_length=60, description="the householder, searched as GET /persons?q= searches people"
    )


class HouseholdSummaryOut(Schema):
    id: int
    number: str
    area_id: int
    householder_id: int | None
    house_id: int | None


class HouseholdOut(Schema):
    id: int
    number: str
    area_id: int
    householder_id: int | None
    house_id: int | None
    members: list[HouseholdMemberOut]


class FloatingIn(Schema):
    permit_type: str = Field("residence", max_length=20, description="residence | temporary | none")
    permit_number: str = Field("", max_length=60)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    inflow_reason: str = Field("", max_length=80)
    registered_on: dt.date | None = None
    last_verified_on: dt.date | None = None
    landlord_id: int | None = Field(None, ge=1, le=2**62)


class FloatingUpdateIn(Schema):
    permit_type: str | None = Field(None, max_length=20)
    permit_number: str | None = Field(None, max_length=60)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    inflow_reason: str | None = Field(None, max_length=80)
    registered_on: dt.date | None = None
    last_verified_on: dt.date | None = None
    landlord_id: int | None = Field(None, ge=1, le=2**62)


class FloatingOut(Schema):
    id: int
    person_id: int
    permit_type: str
    permit_number: Masked("generic")  # type: ignore[valid-type]
    valid_from: dt.date | None
    valid_to: dt.date | None
    inflow_reason: str
    registered_on: dt.date | None
    last_verified_on: dt.date | None
    landlord_id: int | None


class OverseasIn(Schema):
    nationality: str = Field(max_length=40, description="code table nationality (code or label)")
    foreign_surname: str = Field("", max_length=60)
    foreign_given_name: str = Field("", max_length=80)
    document_number: str = Field("", max_length=60)
    visa_type: str = Field("", max_length=40)
    entry_date: dt.date | None = None
    stay_until: dt.date | None = None
    expected_departure: dt.date | None = None
    purpose: str = Field("", max_length=60)


class OverseasUpdateIn(Schema):
    nationality: str | None = Field(None, max_length=40)
    foreign_surname: str | None = Field(None, max_length=60)
    foreign_given_name: str | None = Field(None, max_length=80)
    document_number: str | None = Field(None, max_length=60)
    visa_type: str | None = Field(None, max_length=40)
    entry_date: dt.date | None = None
    stay_until: dt.date | None = None
    expected_departure: dt.date | None = None
    purpose: str | None = Field(None, max_length=60)


class OverseasOut(Schema):
    id: int
    person_id: int
    nationality: str
    foreign_surname: str
    foreign_given_name: str
    document_number: Masked("generic")  # type: ignore[valid-type]
    visa_type: str
    entry_date: dt.date | None
    stay_until: dt.date | None
    expected_departure: dt.date | None
    purpose: str
