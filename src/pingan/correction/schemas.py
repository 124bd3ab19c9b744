"""API schemas: separate input and output; the person's name and ID number leave masked."""

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from pingan.core.sensitive import Masked


class CorrectionClientFilterIn(Schema):
    q: str = Field("", max_length=60, description="姓名/证件号/矫正编号/罪名")
    area: int | None = Field(None, ge=1, le=2**62)
    category: str = Field("", max_length=4)
    status: str = Field("", max_length=12, description="空=在册；all；pending/active/terminated")
    due: str = Field("", max_length=20, description="missing | checkin_overdue | visit_overdue | ending")


class CorrectionClientOut(Schema):
    id: int
    number: str
    name: Masked("name")  # type: ignore[valid-type]
    id_number: Masked("id_number")  # type: ignore[valid-type]
    person_id: int
    area_id: int
    category: str
    offence: str
    start_date: dt.date
    end_date: dt.date
    judgment_effective_date: dt.date
    reception_deadline: dt.date
    reported_on: dt.date | None
    status: str
    missing: bool
    next_checkin_due: dt.date | None
    next_visit_due: dt.date | None
    version: int


class CorrectionLeaveOut(Schema):
    id: int
    client_id: int
    area_id: int
    kind: str
    destination: str
    reason: str
    start: dt.date
    end: dt.date
    status: str
    decided_by: str
    decision_note: str
    returned_on: dt.date | None


class CorrectionDatedOut(Schema):
    id: int
    date: dt.date
    kind: str = ""
    content: str = ""
    on_time: bool | None = None
    due_on: dt.date | None = None


class CorrectionClientDetailOut(CorrectionClientOut):
    offence_code: str
    sentence: str
    sentence_months: int | None
    authority: str
    termination: str
    termination_date: dt.date | None
    termination_note: str
    checkin_every_days: int
    visit_every_days: int
    missing_resolution: str
    checkins: list[CorrectionDatedOut]
    visits: list[CorrectionDatedOut]
    leaves: list[CorrectionLeaveOut]
    hours: dict[str, Decimal]


class CorrectionClientIn(Schema):
    area_id: int = Field(..., ge=1, le=2**62)
    name: str = Field(max_length=50)
    id_number: str = Field(max_length=40)
    number: str = Field(max_length=40)
    category: str = Field(max_length=20, description="代码或名称：管制、缓刑、假释、暂予监外执行")
    offence: str = Field("", max_length=100)
    offence_code: str = Field("", max_length=20)
    sentence: str = Field("", max_length=100)
    sentence_months: int | None = Field(None, ge=1, le=600)
    start_date: dt.date
    end_date: dt.date
    authority: str = Field(max_length=100)
    judgment_effective_date: dt.date
    reported_on: dt.date | None = None
    minor_at_offence: bool = False
    checkin_every_days: int = Field(30, ge=1, le=90)
    visit_every_days: int = Field(30, ge=1, le=180)
    remarks: str = Field("", max_length=300)


class CorrectionReportIn(Schema):
    reported_on: dt.date
    version: int | None = Field(None, ge=1, le=2**31)


class CorrectionCheckInIn(Schema):
    date: dt.date
    kind: str = Field("in_person", max_length=12)
    content: str = Field("", max_length=500)


class CorrectionVisitIn(Schema):
    date: dt.date
    visitors: str = Field(max_length=100)
    content: str = Field(max_length=500)
    next_visit_date: dt.date | None = None


class CorrectionLeaveIn(Schema):
    kind: str = Field("leave", max_length=12)
    destination: str = Field(max_length=100)
    reason: str = Field(max_length=300)
    start: dt.date
    end: dt.date


class CorrectionLeaveDecisionIn(Schema):
    action: str = Field(max_length=10, description="approve | reject | cancel | return")
    note: str = Field("", max_length=300)
    returned_on: dt.date | None = None


class CorrectionTerminateIn(Schema):
    kind: str = Field(max_length=12, description="completed | revoked | death | other")
    date: dt.date
    note: str = Field("", max_length=300)
    version: int | None = Field(None, ge=1, le=2**31)


class CorrectionResolveIn(Schema):
    note: str = Field(max_length=300)


class CorrectionFiguresOut(Schema):
    start: dt.date
    end: dt.date
    area_id: int | None
    in_correction: int
    open_at_end: int
    received: int
    terminated: dict[str, int]
    reception_due: int
    reception_missed: int
    missing_rate: Decimal | None
    checkins_made: int
    checkins_on_time: int
    checkins_missed: int
    checkin_on_time_rate: Decimal | None
    visits_made: int
    visits_on_time: int
    visits_missed: int
    visit_on_time_rate: Decimal | None
    reoffenders: int
    reoffending_rate: Decimal | None


def as_dict(obj: Any, schema: type[Schema]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in schema.model_fields if hasattr(obj, name)}
