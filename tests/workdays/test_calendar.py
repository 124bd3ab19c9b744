"""Working days: the 2026 National Day holiday with its adjusted working Saturday, the fallback to
weekends for a year without data, and the warning to administrators."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingan.workdays.models import DayKind, DaySource, Holiday
from pingan.workdays.selectors import (
    WorkCalendar,
    add_working_days,
    calendar_missing_years,
    end_of_working_day,
    is_working_day,
    working_days_between,
)
from pingan.workdays.services import package_days, sync_from_package

pytestmark = pytest.mark.django_db
D = dt.date
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def test_the_table_is_seeded_from_the_package_after_migrate():
    days = package_days()
    assert Holiday.objects.count() == len(days)
    national_day = Holiday.objects.get(date=D(2026, 10, 1))
    assert (national_day.kind, national_day.name, national_day.source) == ("holiday", "国庆节", "package")
    assert Holiday.objects.get(date=D(2026, 10, 10)).kind == DayKind.WORKDAY
    assert min(d.year for d in days) == 2004 and max(d.year for d in days) == 2026


def test_seeding_is_idempotent_and_never_touches_a_year_that_has_rows():
    assert sync_from_package() == {}
    Holiday.objects.filter(date=D(2026, 10, 10)).delete()  # an administrator removed a day
    Holiday.objects.filter(date=D(2026, 10, 1)).update(name="国庆", source=DaySource.MANUAL)
    assert sync_from_package() == {}
    assert not Holiday.objects.filter(date=D(2026, 10, 10)).exists()
    assert Holiday.objects.get(date=D(2026, 10, 1)).name == "国庆"
    Holiday.objects.filter(date__year=2025).delete()  # a year with no row is filled again
    added = sync_from_package()
    assert list(added) == [2025] and added[2025] == sum(1 for d in package_days() if d.year == 2025)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 9, 30), True),  # Wednesday before the holiday
        (D(2026, 10, 1), False),  # National Day
        (D(2026, 10, 3), False),  # Saturday inside the holiday
        (D(2026, 10, 7), False),  # last day off (Wednesday)
        (D(2026, 10, 8), True),
        (D(2026, 10, 10), True),  # adjusted working Saturday (调休上班)
        (D(2026, 10, 11), False),  # an ordinary Sunday
        (D(2026, 9, 20), True),  # adjusted working Sunday before Mid-autumn/National Day
        (D(2026, 9, 25), False),  # Mid-autumn Festival (Friday)
    ],
)
def test_is_working_day_in_autumn_2026(day, working):
    assert is_working_day(day) is working


def test_deadline_across_the_national_day_holiday_lands_on_the_adjusted_saturday():
    # Dispatched on Wednesday 30 September with 3 working days: 8 Oct (1), 9 Oct (2), Saturday 10 Oct (3).
    assert add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)
    assert add_working_days(D(2026, 9, 30), 4) == D(2026, 10, 12)  # Sunday 11 Oct is off
    assert add_working_days(D(2026, 9, 30), 7) == D(2026, 10, 15)
    assert add_working_days(D(2026, 9, 30), 0) == D(2026, 9, 30)
    assert working_days_between(D(2026, 9, 30), D(2026, 10, 10)) == 3
    assert working_days_between(D(2026, 10, 10), D(2026, 9, 30)) == -3
    assert working_days_between(D(2026, 10, 1), D(2026, 10, 7)) == 0


def test_deadline_from_a_day_off_counts_from_the_next_working_day():
    # Given on Saturday 3 October (holiday): 8 Oct is the first working day.
    assert add_working_days(D(2026, 10, 3), 1) == D(2026, 10, 8)
    # Given on Friday 18 September: Saturday 19 off, Sunday 20 is an adjusted working day.
    assert add_working_days(D(2026, 9, 18), 1) == D(2026, 9, 20)


def test_end_of_working_day_is_the_end_of_the_local_day():
    dispatched = dt.datetime(2026, 9, 30, 10, 15, tzinfo=SHANGHAI)
    deadline = end_of_working_day(dispatched, 3)
    assert deadline.astimezone(SHANGHAI).replace(tzinfo=None) == dt.datetime(2026, 10, 10, 23, 59, 59, 999999)
    same_day = end_of_working_day(dt.datetime(2026, 9, 30, 22, 0, tzinfo=SHANGHAI), 0)
    assert same_day.astimezone(SHANGHAI).date() == D(2026, 9, 30)
    # "the same day" given on a day off (Saturday 3 October, a holiday): the next working day, 8 October
    day_off = end_of_working_day(dt.datetime(2026, 10, 3, 22, 0, tzinfo=SHANGHAI), 0)
    assert day_off.astimezone(SHANGHAI).date() == D(2026, 10, 8)
    # 23:30 UTC on 30 September is already 1 October in Shanghai: counting starts from the local date.
    late = end_of_working_day(dt.datetime(2026, 9, 30, 23, 30, tzinfo=dt.UTC), 1)
    assert late.astimezone(SHANGHAI).date() == D(2026, 10, 8)


def test_a_year_without_data_falls_back_to_weekends():
    assert not Holiday.objects.filter(date__year=2027).exists()
    # 1 October 2027 is a Friday: without the (unpublished) arrangement it counts as a working day.
    assert is_working_day(D(2027, 10, 1)) is True
    assert is_working_day(D(2027, 10, 2)) is False
    assert add_working_days(D(2027, 9, 30), 3) == D(2027, 10, 5)  # Fri 1, Mon 4, Tue 5
    assert working_days_between(D(2027, 1, 1), D(2027, 12, 31)) == 260  # the weekdays of 2027 less 1 Jan


def test_missing_years_and_their_warning():
    assert calendar_missing_years(D(2026, 11, 28)) == [2027]
    assert calendar_missing_years(D(2025, 6, 1)) == []
    assert calendar_missing_years(D(2027, 3, 1)) == [2027, 2028]
    Holiday.objects.create(date=D(2027, 1, 1), kind=DayKind.HOLIDAY, name="元旦")
    assert calendar_missing_years(D(2026, 11, 28)) == []


def test_long_spans_cross_several_windows():
    start = D(2025, 12, 20)
    expected, day, counted = None, start, 0
    calendar = WorkCalendar.load(start, D(2028, 1, 1))
    while counted < 200:
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    expected = day
    assert add_working_days(start, 200) == expected
    assert working_days_between(start, expected) == 200


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        add_working_days(D(2026, 1, 1), -1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.dates(min_value=D(2025, 1, 1), max_value=D(2027, 12, 31)), n=st.integers(0, 20))
def test_add_and_count_agree(start, n):
    end = add_working_days(start, n)
    assert working_days_between(start, end) == n
    if n:
        assert is_working_day(end)
        assert end > start
