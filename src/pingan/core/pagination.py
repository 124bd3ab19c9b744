"""Reading big lists: the capped count of the list pages, and the first rows of a queue."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any, TypeVar

from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


class CappedPaginator(Paginator):
    """Counts at most ``CAP`` rows (``SELECT count(*) FROM (SELECT … LIMIT CAP+1)``): an exact count of a
    broad filter over a million rows costs hundreds of milliseconds; past the cap the page says "more than
    10,000" (``capped``) and the user narrows the filters.

    The count drops the list's ordering: ``ORDER BY`` inside the limited subquery would make the database
    sort (or walk an index in order) every matching row only to count them; without it PostgreSQL counts
    from whichever index holds the filtered columns (an index-only scan where the visibility map allows).
    Measured on 1M events: 100–270 ms with the ordering, 2–22 ms without (docs/benchmarks.md)."""

    CAP = 10_000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.capped = False

    @cached_property
    def count(self) -> int:
        objects: Any = self.object_list
        found = objects.order_by()[: self.CAP + 1].count()
        self.capped = found > self.CAP
        return min(found, self.CAP)

    def page(self, number: Any) -> Any:
        """The page's rows read ids first (``first_rows``): the sort works on the ordering columns alone,
        and the joined rows (``select_related``) are read for the page's rows only."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:  # as Django's Paginator: the pages end at the (capped) count
            top = self.count
        return Page(self._rows(bottom, top), number, self)

    def _rows(self, bottom: int, top: int) -> list[Any]:
        objects: Any = self.object_list
        return first_rows(objects, None, top - bottom, offset=bottom)


class FirstMatchesPaginator(CappedPaginator):
    """The pages of a search: the ids of its first ``CAP`` matches (plus one, to know there are more) in
    the list's order, read in **one** query — that is the count and every page's ids — then the page's
    rows by primary key.

    A search wants the few people it names, not a roster: past ``CAP`` matches the page says "more than
    100" and the user types more of the name (or picks an area). One short query instead of a count and a
    page: a broad term ("王": 89,000 of a million) is answered by walking the list's order until ``CAP``
    + 1 matches are found, a narrow one by its index and a sort of the few matches; counting 10,000 of them
    and sorting them all cost 65 and 210 ms (docs/people.md, "Search shapes")."""

    CAP = 100

    def __init__(
        self,
        object_list: Any,
        per_page: int,
        *args: Any,
        rows: Any = None,
        branches: Sequence[QuerySet[Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        """``rows``: the queryset the page's rows are read from by primary key (default ``object_list``) —
        the same list without the search condition, which need not be evaluated again for 50 known ids.

        ``branches``: the search as several querysets whose union it is, each **ordered newest first by
        primary key** (whatever expression says so): the first ``CAP`` + 1 ids of each, merged, are the
        first ``CAP`` + 1 of the union. Then ``object_list`` serves only as the list the rows come from."""
        super().__init__(object_list, per_page, *args, **kwargs)
        self.rows = object_list if rows is None else rows
        self.branches = list(branches) if branches is not None else None

    @cached_property
    def _ids(self) -> list[Any]:
        if self.branches is not None:
            found: set[Any] = set()
            for branch in self.branches:
                found.update(branch.values_list("pk", flat=True)[: self.CAP + 1])
            return sorted(found, reverse=True)[: self.CAP + 1]
        objects: Any = self.object_list
        return list(objects.values_list("pk", flat=True)[: self.CAP + 1])

    @cached_property
    def count(self) -> int:
        self.capped = len(self._ids) > self.CAP
        return min(len(self._ids), self.CAP)

    def _rows(self, bottom: int, top: int) -> list[Any]:
        return rows_in_order(self.rows, self._ids[bottom:top])


def first_rows(qs: QuerySet[M], order: Sequence[str] | None, limit: int, offset: int = 0) -> list[M]:
    """The first ``limit`` rows of ``qs`` (after ``offset``) in ``order`` (None: the queryset's own),
    read in two steps: their ids (an index-only scan where an index holds the filtered and ordered
    columns), then those rows by primary key.

    A filter with an OR (a user's visibility: reported by them, or in their areas) makes PostgreSQL
    combine bitmaps and fetch and sort every matching row before taking the first few; asking for the ids
    alone lets it walk the index in order and stop. Measured on 1M events (a street's 1,050 events waiting
    to be accepted): 20 ms in one query, 2 ms in two."""
    ordered = qs if order is None else qs.order_by(*order)
    return rows_in_order(qs, list(ordered.values_list("pk", flat=True)[offset : offset + limit]))


def rows_in_order(qs: QuerySet[M], ids: Sequence[Any]) -> list[M]:
    """The rows of ``qs`` with these primary keys, in the order of ``ids`` (one query)."""
    if not ids:
        return []
    rows = {row.pk: row for row in qs.order_by().filter(pk__in=ids)}
    return [rows[pk] for pk in ids if pk in rows]
