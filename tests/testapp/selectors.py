"""Reads of the test model, written the way a business module writes them: every one goes through
``scoped_visible`` (scope + sealed rows)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from pingan.core.excel import Column, write_xlsx
from pingan.core.masking import mask_id_number, mask_name, mask_phone
from pingan.core.search import SearchHit
from pingan.core.sensitive import scoped_visible
from tests.testapp.models import Citizen


def citizen_list(*, user: Any, reason: str | None = None) -> QuerySet[Citizen]:
    return scoped_visible(Citizen.objects.all(), user, reason).order_by("pk")


def citizen_get(*, user: Any, citizen_id: int, reason: str | None = None) -> Citizen:
    return get_object_or_404(citizen_list(user=user, reason=reason), pk=citizen_id)


def citizen_count(*, user: Any, reason: str | None = None) -> int:
    return citizen_list(user=user, reason=reason).count()


def citizen_search(*, user: Any, q: str, reason: str | None = None) -> QuerySet[Citizen]:
    """Name infix, or an exact ID number / phone through the blind indexes."""
    qs = citizen_list(user=user, reason=reason)
    index_match = Q(pk__in=Citizen.objects.filter_exact(id_number=q).values("pk")) | Q(
        pk__in=Citizen.objects.filter_exact(phone=q).values("pk")
    )
    return qs.filter(Q(name__contains=q) | index_match)


def citizen_search_hits(user: Any, q: str, limit: int) -> list[SearchHit]:
    return [
        SearchHit("citizen", mask_name(c.name), mask_id_number(c.id_number), f"/citizens/{c.pk}/")
        for c in citizen_search(user=user, q=q)[:limit]
    ]


def citizen_export(*, user: Any, reason: str | None = None) -> bytes:
    rows = [
        [c.pk, mask_name(c.name), mask_id_number(c.id_number), mask_phone(c.phone)]
        for c in citizen_list(user=user, reason=reason).iterator()
    ]
    columns = [Column("编号"), Column("姓名"), Column("身份证号", text=True), Column("电话", text=True)]
    return write_xlsx(columns=columns, rows=rows)
