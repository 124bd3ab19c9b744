"""API schemas: separate input and output; personal fields leave masked (``Masked``) unless revealed."""

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

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
