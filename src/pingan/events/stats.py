"""Day statistics for the figures (KPIs) of district-wide users, so ``event_kpis`` does not scan a million
events (docs/events.md, "Figures at scale"; docs/benchmarks.md).

``EventDayStat`` holds, per report day (local date) and per dimension — the grid, the top-level category,
the department — the additive parts of the figures (count, accepted, closed, closed on time, verifications,
failed ones, extended, rated, satisfied, rating sum, handling-time sum and count). The worker rebuilds the
days whose events changed (``refresh``, every minute; the first run builds everything). It is exact, not an
approximation: ``EventStatsState.watermark`` says up to when the table is complete; at query time the days of
events changed since then (``updated_at``, indexed) and today are computed live from the events, the other
days come from the table; "open" and "late" are always counted live (few rows, the status index). Every write
to an event goes through ``save()`` (``updated_at``); the worker's marks (overdue, reminders) change no
figure. The watermark is taken a margin before the rebuild starts, so a transaction still open during a
rebuild leaves its day live.

Used only when the result cannot differ from the live query: a user who sees every event, and filters on
the report dates only (plus the area for totals, area and month groups). Anything else is computed live.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, Substr, TruncDate
from django.utils import timezone

from pingan.events.models import OPEN_STATUSES, WORKING_STATUSES, Event, EventDayStat, EventStatsState, Status

MARGIN = dt.timedelta(minutes=10)  # longer than any transaction that writes an event
MAX_LIVE_DAYS = 40  # more changed days than this since the last refresh: compute everything live
ADDITIVE = (
    "count",
    "accepted",
    "closed",
    "closed_on_time",
    "verifications",
    "failed_verifications",
    "extended",
    "rated",
    "satisfied",
    "rating_sum",
    "handling_sum",
    "handling_n",
)
DIM_EXPR = {
    EventDayStat.Dim.AREA: F("area__code"),
    EventDayStat.Dim.CATEGORY: Substr("category", 1, 2),
    EventDayStat.Dim.DEPARTMENT: F("assignee_department_id"),
}


def additive_aggregates() -> dict[str, Any]:
    closed = Q(status=Status.CLOSED)
    return {
        "count": Count("id"),
        "accepted": Count("id", filter=Q(accepted_at__isnull=False)),
        "closed": Count("id", filter=closed),
        "closed_on_time": Count("id", filter=Q(status=Status.CLOSED, closed_on_time=True)),
        "verifications": Coalesce(Sum("verification_count"), 0),
        "failed_verifications": Coalesce(Sum("failed_verification_count"), 0),
        "extended": Count("id", filter=Q(accepted_at__isnull=False, extension_count__gt=0)),
        "rated": Count("id", filter=Q(rating__isnull=False)),
        "satisfied": Count("id", filter=Q(rating__gte=4)),
        "rating_sum": Coalesce(Sum("rating"), 0),
        "handling_sum": Coalesce(Sum("handling_seconds", filter=closed), 0),
        "handling_n": Count("handling_seconds", filter=closed),
    }


def live_aggregates(now: dt.datetime) -> dict[str, Any]:
    return {
        # columns of the (status, deadline) index only: it can answer alone (index-only scan)
        "open": Count("status", filter=Q(status__in=OPEN_STATUSES)),
        "late": Count("deadline", filter=Q(status__in=WORKING_STATUSES, deadline__lt=now)),
    }


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, timezone.get_current_timezone())


def _days_q(days: Iterable[dt.date]) -> Q:
    q = Q(pk__in=[])
    for day in sorted(days):
        q |= Q(reported_at__gte=_day_start(day), reported_at__lt=_day_start(day + dt.timedelta(days=1)))
    return q


def _population() -> QuerySet[Event]:
    return Event.objects.exclude(status=Status.MERGED).order_by()


def _rebuild(days: set[dt.date] | None) -> int:
    """Recompute the rows of ``days`` (None: every day)."""
    tz = timezone.get_current_timezone()
    qs = _population()
    stats = EventDayStat.objects.all()
    if days is not None:
        qs = qs.filter(_days_q(days))
        stats = stats.filter(day__in=days)
    stats.delete()
    rows = []
    for dim, expr in DIM_EXPR.items():
        grouped: Any = (
            qs.annotate(d=TruncDate("reported_at", tzinfo=tz), k=expr)
            .values("d", "k")
            .annotate(**additive_aggregates())
        )
        for v in grouped:
            rows.append(
                EventDayStat(
                    day=v["d"],
                    dim=dim,
                    key="" if v["k"] is None else str(v["k"]),
                    **{n: v[n] for n in ADDITIVE},
                )
            )
    EventDayStat.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def refresh(*, now: dt.datetime | None = None, full: bool = False) -> dict[str, int]:
    """The worker's job: rebuild the days changed since the watermark (everything the first time)."""
    now = now or timezone.now()
    mark = now - MARGIN
    with transaction.atomic():
        state, _created = EventStatsState.objects.select_for_update().get_or_create(pk=1)
        if full or state.watermark is None:
            days = None
        else:
            days = changed_days(state.watermark)
            if not days:
                return {"days": 0, "rows": 0}
        rows = _rebuild(days)
        state.watermark, state.built_at = mark, now
        state.save()
    return {"days": -1 if days is None else len(days), "rows": rows}


def run_stats_job(now: dt.datetime | None = None) -> dict[str, int]:
    """Registered with the worker (``EventsConfig.ready``)."""
    return refresh(now=now)


def changed_days(since: dt.datetime) -> set[dt.date]:
    moments = Event.objects.filter(updated_at__gt=since).values_list("reported_at", flat=True)
    return {timezone.localdate(m) for m in moments}


def _usable(user_everything: bool, filters: Any, group_by: str | None) -> bool:
    if not user_everything:
        return False
    if (
        filters.status
        or filters.category
        or filters.source
        or filters.urgency
        or filters.tier
        or filters.department_id
        or filters.overdue is not None
        or filters.ever_overdue is not None
        or filters.q
        or filters.open_only
    ):
        return False
    return not (filters.area_id and group_by in ("category", "department"))


def kpi_values(
    *, base: QuerySet[Event], filters: Any, group_by: str | None, user_everything: bool, area_length: int
) -> tuple[dict[str, Any], dict[Any, dict[str, Any]]] | None:
    """The figures' values (total, per key) from the day statistics plus the live part, or None when the
    statistics cannot answer exactly (then the caller computes everything live). ``base``: the events the
    user sees matching the filters (merged ones excluded)."""
    from pingan.areas.models import Area, subtree_q

    if not _usable(user_everything, filters, group_by):
        return None
    state = EventStatsState.objects.filter(pk=1).first()
    if state is None or state.watermark is None:
        return None
    live_days = changed_days(state.watermark)
    if len(live_days) > MAX_LIVE_DAYS:
        return None
    now = timezone.now()
    today = timezone.localdate(now)
    live_days = {d for d in live_days if d < today}
    frozen_until = today  # days before today come from the table unless changed
    dim = {
        None: EventDayStat.Dim.AREA,
        "area": EventDayStat.Dim.AREA,
        "period": EventDayStat.Dim.AREA,
        "category": EventDayStat.Dim.CATEGORY,
        "department": EventDayStat.Dim.DEPARTMENT,
    }[group_by]
    stats = EventDayStat.objects.filter(dim=dim, day__lt=frozen_until).exclude(day__in=live_days)
    if filters.reported_from:
        stats = stats.filter(day__gte=filters.reported_from)
    if filters.reported_to:
        stats = stats.filter(day__lte=filters.reported_to)
    if filters.area_id:
        node = Area.objects.filter(pk=filters.area_id).values_list("code", flat=True).first()
        if not node:
            return None
        stats = stats.filter(subtree_q(node, "key"))
    live = base.filter(Q(reported_at__gte=_day_start(today)) | _days_q(live_days))

    def key_of(raw: Any, day: dt.date | None = None) -> Any:
        if group_by == "area":
            return raw[:area_length] if raw else raw
        if group_by == "department":
            return int(raw) if raw not in (None, "") else None
        if group_by == "category":
            return raw[:2] if raw else raw
        if group_by == "period":
            assert day is not None
            return _day_start(day.replace(day=1))
        return None

    totals: dict[Any, dict[str, Any]] = defaultdict(lambda: dict.fromkeys((*ADDITIVE, "open", "late"), 0))
    fields = ["day"] if group_by == "period" else ["key"]  # by month: one row per day, not per grid and day
    for v in stats.values(*fields).annotate(**{n: Sum(n) for n in ADDITIVE}):
        row = totals[key_of(v.get("key"), v.get("day"))]
        for n in ADDITIVE:
            row[n] += v[n] or 0
    tz = timezone.get_current_timezone()
    live_expr: Any = {
        None: F("area__code"),
        "area": F("area__code"),
        "period": TruncDate("reported_at", tzinfo=tz),
        "category": Substr("category", 1, 2),
        "department": F("assignee_department_id"),
    }[group_by]
    live_rows: Any = live.annotate(k=live_expr).values("k").annotate(**additive_aggregates())
    for v in live_rows:
        raw = v["k"]
        row = totals[key_of(raw, raw) if group_by == "period" else key_of(raw)]
        for n in ADDITIVE:
            row[n] += v[n] or 0
    open_rows = base.filter(status__in=OPEN_STATUSES)
    counted: list[dict[str, Any]]
    if group_by is None:  # the status index alone, no join
        counted = [{"k": None, **open_rows.aggregate(**live_aggregates(now))}]
    elif group_by == "area":  # by grid id, then its code: no join, the covering index answers alone
        codes = dict(Area.objects.values_list("pk", "code"))
        counted = [
            {**v, "k": codes.get(v["area_id"])}
            for v in open_rows.values("area_id").annotate(**live_aggregates(now))
        ]
    else:
        open_expr = live_expr if group_by != "period" else TruncDate("reported_at", tzinfo=tz)
        by_key: Any = open_rows.annotate(k=open_expr).values("k").annotate(**live_aggregates(now))
        counted = list(by_key)
    for v in counted:
        raw = v["k"]
        row = totals[key_of(raw, raw) if group_by == "period" else key_of(raw)]
        row["open"] += v["open"]
        row["late"] += v["late"]
    total = dict.fromkeys((*ADDITIVE, "open", "late"), 0)
    for row in totals.values():
        for n, value in row.items():
            total[n] += value
    groups = {k: v for k, v in totals.items() if v["count"]} if group_by else {}
    return total, groups
