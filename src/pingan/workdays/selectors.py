"""Working days and the holiday table (reads).

    is_working_day(d)                 → bool
    add_working_days(start, n)        → the n-th working day after ``start`` (n = 0: ``start`` itself)
    working_days_between(start, end)  → working days d with start < d <= end (negative when end < start)

so that ``working_days_between(s, add_working_days(s, n)) == n`` for every n ≥ 1. The day ``start``
itself never counts: a task given on Wednesday with 3 working days is due at the end of the third
working day after Wednesday. A day in the holiday table follows its row (``holiday``: off, ``workday``:
working, 调休); any other day follows the week (Monday–Friday working). A year with no row at all has
no published arrangement: its days follow the week and ``calendar_missing_years`` reports it so that
administrators are warned (home page figure, the holiday screen, the worker's log).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import ExtractYear
from django.utils import timezone

from pingan.workdays.models import DayKind, Holiday

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class WorkCalendar:
    """The holiday rows of a date range, loaded once (one query) for many questions."""

    start: dt.date
    end: dt.date
    overrides: dict[dt.date, str]

    @classmethod
    def load(cls, start: dt.date, end: dt.date) -> WorkCalendar:
        rows = Holiday.objects.filter(date__gte=start, date__lte=end).values_list("date", "kind")
        return cls(start, end, dict(rows))

    def is_working_day(self, day: dt.date) -> bool:
        if not self.start <= day <= self.end:
            raise ValueError(f"{day} is outside the loaded range {self.start}..{self.end}")
        kind = self.overrides.get(day)
        if kind is None:
            return day.weekday() < 5
        return kind == DayKind.WORKDAY

    def add_working_days(self, start: dt.date, n: int) -> dt.date | None:
        """The n-th working day after ``start`` if it lies inside the range, else None."""
        day, counted = start, 0
        while counted < n:
            day += ONE_DAY
            if day > self.end:
                return None
            if self.is_working_day(day):
                counted += 1
        return day

    def count_between(self, start: dt.date, end: dt.date) -> int:
        sign = 1
        if end < start:
            start, end, sign = end, start, -1
        count, day = 0, start + ONE_DAY
        while day <= end:
            count += self.is_working_day(day)
            day += ONE_DAY
        return sign * count


def is_working_day(day: dt.date) -> bool:
    return WorkCalendar.load(day, day).is_working_day(day)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The n-th working day after ``start`` (``start`` itself for n = 0)."""
    if n < 0:
        raise ValueError("n must not be negative")
    window = max(31, 3 * n + 21)  # the longest run of days off (Spring Festival, 9 days) fits many times
    origin, remaining = start, n
    while True:
        calendar = WorkCalendar.load(origin, origin + dt.timedelta(days=window))
        found = calendar.add_working_days(origin, remaining)
        if found is not None:
            return found
        remaining -= calendar.count_between(origin, calendar.end)
        origin = calendar.end


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days d with start < d <= end; negative (the same count) when end < start."""
    low, high = min(start, end), max(start, end)
    return WorkCalendar.load(low, high).count_between(start, end)


def end_of_working_day(start: dt.datetime, n: int) -> dt.datetime:
    """A deadline ``n`` working days after the moment ``start``: the end (23:59:59.999999, local time)
    of ``add_working_days(local date of start, n)``; n = 0 is the end of the same day, or of the next
    working day when that day is a day off (dispatched on a Sunday night, due on Monday)."""
    local = timezone.localtime(start)
    day = add_working_days(local.date(), n)
    if n == 0 and not is_working_day(day):
        day = add_working_days(day, 1)
    end = dt.datetime.combine(day, dt.time.max)
    return timezone.make_aware(end, timezone.get_current_timezone())


# --- the table --------------------------------------------------------------------------------------


def holiday_list(*, year: int | None = None) -> QuerySet[Holiday]:
    """The table is not personal data: every signed-in user may read it (views check the permission)."""
    qs = Holiday.objects.order_by("date")
    if year is not None:
        qs = qs.filter(date__year=year)
    return qs


def holiday_get(*, holiday_id: int) -> Holiday:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(Holiday, pk=holiday_id)


def calendar_years() -> dict[int, dict[str, int]]:
    """Per year in the table: number of days off and of adjusted working days."""
    rows = (
        Holiday.objects.order_by()
        .annotate(year=ExtractYear("date"))
        .values("year", "kind")
        .annotate(n=Count("id"))
    )
    years: dict[int, dict[str, int]] = {}
    for row in rows:
        years.setdefault(row["year"], {"holiday": 0, "workday": 0})[row["kind"]] = row["n"]
    return dict(sorted(years.items()))


def calendar_missing_years(today: dt.date | None = None) -> list[int]:
    """The current and the next year when the table has no row for them (no published arrangement:
    deadlines in those years count weekends only)."""
    today = today or timezone.localdate()
    wanted = [today.year, today.year + 1]
    present = set(
        Holiday.objects.filter(date__year__in=wanted)
        .order_by()
        .annotate(year=ExtractYear("date"))
        .values_list("year", flat=True)
        .distinct()
    )
    return [year for year in wanted if year not in present]


def calendar_figures(user: Any) -> list[Any]:
    """Home page: a warning figure for the administrator who maintains the table."""
    from django.urls import reverse
    from django.utils.translation import gettext_lazy as _

    from pingan.core.selectors import Figure

    if not user.has_perm("workdays.manage_holidays"):
        return []
    missing = calendar_missing_years()
    if not missing:
        return []
    return [
        Figure(
            _("节假日安排缺失"),
            "、".join(str(y) for y in missing),
            hint=_("这些年份按周末推算工作日，请录入或导入国务院公布的放假安排"),
            url=reverse("workdays:holidays"),
        )
    ]
