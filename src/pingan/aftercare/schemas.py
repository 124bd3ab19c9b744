"""API schemas: separate input and output; the person's identity leaves masked (``Masked``)."""

import datetime as dt
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from pingan.core.sensitive import Masked

DATE_MIN = dt.date(1950, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)


class CaseFilterIn(Schema):
    q: str = Field("", max_length=60, description="姓名/拼音/证件号（或后 4、6 位）/电话")
    area: int | None = Field(None, ge=1, le=2**62)
    status: str = Field(
        "", max_length=12, description="空=未结束；all；pending/assisting/ended/reoffended/closed"
    )
    due: str = Field(
        "",
        max_length=20,
        description="visit_due | visit_overdue | handover_overdue | handover_pending | ending | unresettled",
    )
    key_person: bool = False
    risk: str = Field("", max_length=10)


class HandoverOut(Schema):
    expected_release_date: dt.date
    must_meet: bool
    status: str
    received_on: dt.date | None
    met_at_release: bool
    not_received_on: dt.date | None
    not_received_reason: str
    overdue: bool


class CaseOut(Schema):
    id: int
    person_id: int
    name: Masked("name")  # type: ignore[valid-type]
    id_number: Masked("id_number")  # type: ignore[valid-type]
    area_id: int
    area_name: str
    offence: str
    release_date: dt.date
    assistance_end: dt.date
    is_key_person: bool
    is_recidivist: bool
    risk_level: str
    status: str
    resettlement: str
    handover_status: str
    next_visit_on: dt.date | None
    version: int


class MemberOut(Schema):
    id: int
    role: str
    name: Masked("name")  # type: ignore[valid-type]
    unit: str
    phone: Masked("phone")  # type: ignore[valid-type]
    active: bool


class VisitOut(Schema):
    id: int
    visited_on: dt.date
    visitors: str
    content: str
    next_visit_on: dt.date | None


class AidOut(Schema):
    id: int
    kind: str
    amount: Decimal
    items: str
    approver: str
    disbursed_on: dt.date
    note: str


class ReoffenceOut(Schema):
    id: int
    offence_date: dt.date
    offence: str
    note: str


class CaseDetailOut(CaseOut):
    offence_note: str
    sentence: str
    sentence_months: int | None
    prison: str
    risk_note: str
    status_note: str
    resettlement_detail: str
    unresettled_reason: str
    resettled_on: dt.date | None
    remarks: str
    handover: HandoverOut
    members: list[MemberOut]
    visits: list[VisitOut]
    aid: list[AidOut]
    reoffences: list[ReoffenceOut]


class CaseIn(Schema):
    area_id: int = Field(..., ge=1, le=2**62)
    name: str = Field(max_length=50)
    id_number: str = Field(max_length=40)
    sex: str = Field("", max_length=10)
    phone: str = Field("", max_length=30)
    offence: str = Field(max_length=40, description="罪名代码或名称（代码表 offence）")
    offence_note: str = Field("", max_length=200)
    offence_under_18: bool = False
    sentence: str = Field("", max_length=60)
    sentence_months: int | None = Field(None, ge=0, le=1200)
    prison: str = Field("", max_length=100)
    release_date: dt.date = Field(..., ge=DATE_MIN, le=DATE_MAX)
    is_recidivist: bool = False
    risk_level: str = Field("", max_length=10)
    is_key_person: bool = False
    assistance_end: dt.date | None = Field(None, ge=DATE_MIN, le=DATE_MAX)
    received_on: dt.date | None = Field(None, ge=DATE_MIN, le=DATE_MAX)
    remarks: str = Field("", max_length=300)


class VersionIn(Schema):
    expected_version: int | None = Field(None, ge=1, le=2**31)


class ReceiveIn(VersionIn):
    received_on: dt.date = Field(..., ge=DATE_MIN, le=DATE_MAX)
    met_at_release: bool = False
    release_date: dt.date | None = Field(None, ge=DATE_MIN, le=DATE_MAX)


class NotReceivedIn(VersionIn):
    reason: str = Field(max_length=200)
    on: dt.date | None = Field(None, ge=DATE_MIN, le=DATE_MAX)


class ResettlementIn(VersionIn):
    kind: str = Field(max_length=20, description="employment | self_employment | relief | other | none")
    detail: str = Field("", max_length=200)
    reason: str = Field("", max_length=200)
    resettled_on: dt.date | None = Field(None, ge=DATE_MIN, le=DATE_MAX)


class MemberIn(Schema):
    role: str = Field(max_length=10, description="cadre | police | family | volunteer")
    name: str = Field(max_length=50)
    unit: str = Field("", max_length=100)
    phone: str = Field("", max_length=30)


class VisitIn(Schema):
    visited_on: dt.date = Field(..., ge=DATE_MIN, le=DATE_MAX)
    visitors: str = Field(max_length=100)
    content: str = Field(max_length=2000)
    next_visit_on: dt.date | None = Field(None, ge=DATE_MIN, le=DATE_MAX)


class AidIn(Schema):
    kind: str = Field(max_length=20, description="necessities | hardship_grant | other")
    amount: Decimal = Field(Decimal("0"), ge=0, le=Decimal("99999999.99"), max_digits=10, decimal_places=2)
    items: str = Field("", max_length=200)
    approver: str = Field("", max_length=50)
    disbursed_on: dt.date = Field(..., ge=DATE_MIN, le=DATE_MAX)
    note: str = Field("", max_length=200)


class ReoffenceIn(VersionIn):
    offence_date: dt.date = Field(..., ge=DATE_MIN, le=DATE_MAX)
    offence: str = Field(max_length=40)
    note: str = Field("", max_length=200)


class CloseIn(VersionIn):
    status: str = Field(max_length=12, description="ended | closed")
    note: str = Field("", max_length=200)


class FiguresOut(Schema):
    area_id: int | None
    area_name: str
    start: dt.date
    end: dt.date
    released: int
    received: int
    population: int
    resettled: int
    assisted: int
    reoffended: int
    visits_due: int
    visits_on_time: int
    grants: int
    grant_amount: Decimal
    necessities: int
    handover_rate: Decimal | None
    resettlement_rate: Decimal | None
    assistance_rate: Decimal | None
    reoffending_rate: Decimal | None
    visit_on_time_rate: Decimal | None
