import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class SchoolFilterIn(Schema):
    q: str = Field("", max_length=60, description="名称、地址或学校标识码开头")
    kind: str = Field("", max_length=20, description="kindergarten | primary | junior | senior | …")
    area: int | None = Field(None, ge=1, le=2**62, description="社区或网格（含下级）")
    missing: str = Field(
        "", max_length=20, description="guards | closed_campus | alarm_linked | guard_post | any"
    )
    active: str = Field("1", max_length=1, description="1 在办（默认），0 已停办，空为全部")


class SchoolOut(Schema):
    id: int
    name: str
    code: str | None
    kind: str
    ownership: str
    area_id: int
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    students: int | None
    staff: int | None
    principal: str
    safety_lead: str
    phone: str
    guards: int
    closed_campus: bool
    alarm_linked: bool
    guard_post: bool
    meets_all: bool = Field(description="“4 个 100%”全部落实")
    active: bool
    updated_at: dt.datetime


class SchoolIn(Schema):
    area_id: int = Field(..., ge=1, le=2**62, description="所在社区或网格")
    name: str = Field(max_length=80)
    kind: str = Field(max_length=20)
    ownership: str = Field("public", max_length=10)
    address: str = Field(max_length=200)
    code: str | None = Field(None, max_length=10)
    latitude: Decimal | None = Field(None, max_digits=9, decimal_places=6)
    longitude: Decimal | None = Field(None, max_digits=9, decimal_places=6)
    students: int | None = Field(None, ge=0, le=100_000)
    staff: int | None = Field(None, ge=0, le=100_000)
    principal: str = Field("", max_length=30)
    safety_lead: str = Field("", max_length=30)
    phone: str = Field("", max_length=30)
    guards: int = Field(0, ge=0, le=100_000)
    closed_campus: bool = False
    alarm_linked: bool = False
    guard_post: bool = False
    active: bool = True


class SchoolUpdateIn(Schema):
    area_id: int | None = Field(None, ge=1, le=2**62, description="迁至辖区内另一社区或网格")
    name: str | None = Field(None, max_length=80)
    kind: str | None = Field(None, max_length=20)
    ownership: str | None = Field(None, max_length=10)
    address: str | None = Field(None, max_length=200)
    code: str | None = Field(None, max_length=10)
    latitude: Decimal | None = Field(None, max_digits=9, decimal_places=6)
    longitude: Decimal | None = Field(None, max_digits=9, decimal_places=6)
    students: int | None = Field(None, ge=0, le=100_000)
    staff: int | None = Field(None, ge=0, le=100_000)
    principal: str | None = Field(None, max_length=30)
    safety_lead: str | None = Field(None, max_length=30)
    phone: str | None = Field(None, max_length=30)
    guards: int | None = Field(None, ge=0, le=100_000)
    closed_campus: bool | None = None
    alarm_linked: bool | None = None
    guard_post: bool | None = None
    active: bool | None = None


class SchoolFigureRowOut(Schema):
    name: str
    schools: int
    students: int
    guards: int
    closed_campus: int
    alarm_linked: int
    guard_post: int
    all: int
    rate: float | None = Field(description="全部落实的百分比")


class SchoolFiguresOut(Schema):
    by: str = Field(description="street | community")
    rows: list[SchoolFigureRowOut]
    total: SchoolFigureRowOut
