"""Reads of code tables and the home-page figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.functional import Promise

from pingan.core.models import CodeItem, CodeTable


def code_table_list() -> QuerySet[CodeTable]:
    return CodeTable.objects.order_by("key")


def code_item_list(*, table_key: str, include_inactive: bool = False) -> QuerySet[CodeItem]:
    qs = CodeItem.objects.filter(table__key=table_key).order_by("sort", "code")
    return qs if include_inactive else qs.filter(active=True)


@dataclass(frozen=True)
class Figure:
    label: str | Promise
    value: int | str
    hint: str | Promise = ""
    url: str = ""


FigureProvider = Callable[[Any], list[Figure]]
_FIGURES: list[tuple[int, FigureProvider]] = []


def register_figures(provider: FigureProvider, order: int = 100) -> None:
    if all(existing is not provider for _, existing in _FIGURES):
        _FIGURES.append((order, provider))


def home_figures(*, user: Any) -> list[Figure]:
    """Real figures for the user's scope, contributed by each module."""
    figures: list[Figure] = []
    for _, provider in sorted(_FIGURES, key=lambda item: item[0]):
        figures.extend(provider(user))
    return figures
