from __future__ import annotations

from typing import Any, Literal

from ninja import Field, Schema
from pydantic import StrictBool, StrictInt  # JSON bodies: no true → 1, no 0 → false


class AreaOut(Schema):
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    population: int | None
    households: int | None
    active: bool


class AreaDetailOut(AreaOut):
    boundary: dict[str, Any] | None
    path: list[str]


class AreaCreateIn(Schema):
    code: str = Field(..., min_length=6, max_length=15, pattern=r"^\d+$")
    name: str = Field(..., min_length=1, max_length=60)
    level: Literal["district", "street", "community", "grid"]
    parent_id: StrictInt | None = None
    boundary: dict[str, Any] | None = None
    population: StrictInt | None = Field(None, ge=0)
    households: StrictInt | None = Field(None, ge=0)


class AreaUpdateIn(Schema):
    """Fields left out stay as they are; ``null`` clears the optional ones. ``name`` and ``active`` cannot
    be cleared, so they do not accept ``null`` (it used to reach the database as NOT NULL violation)."""

    # left out = unchanged; the type refuses an explicit null
    name: str = Field(None, min_length=1, max_length=60)  # type: ignore[assignment]
    boundary: dict[str, Any] | None = None
    population: StrictInt | None = Field(None, ge=0)
    households: StrictInt | None = Field(None, ge=0)
    active: StrictBool = Field(None)  # type: ignore[assignment]


class AreaFilterIn(Schema):
    level: Literal["district", "street", "community", "grid"] | None = None
    parent: int | None = Field(None, ge=1, le=2**62)
    q: str | None = Field(None, max_length=50)


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    area_id: int
    phone: str
    active: bool
    serves: list[int]

    @staticmethod
    def resolve_serves(obj: Any) -> list[int]:
        return sorted(a.pk for a in obj.serves.all())
