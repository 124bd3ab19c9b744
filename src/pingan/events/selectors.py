"""Reads of events, scoped to the user, and the figures (KPIs) defined once for every screen and export.

Which events a user sees (``event_visible_q``):
- a department handler: the events dispatched to their department(s) — not everything in the areas the
  department serves — and the events they reported;
- any other business user: the events located in their scope, those dispatched to a department they belong
  to, and those they reported;
- the three administrators: none.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.accounts.roles import ADMIN_ROLES, Role
from pingan.accounts.rules import perm_checker
from pingan.accounts.selectors import user_scope
from pingan.areas.models import Area, Level, subtree_q
from pingan.core.pagination import first_rows
from pingan.core.process_cache import ProcessCache
from pingan.events.models import (
    OPEN_STATUSES,
    SUBJECT_FIELDS,
    WORKING_STATUSES,
    Event,
    EventCategoryRule,
    EventPhoto,
    EventPolicy,
    EventStep,
    Source,
    Status,
    SubjectKind,
    Tier,
)

NOTHING = Q(pk__in=[])
_NUMBER = re.compile(r"^[A-Za-z]?\d{10,14}$")  # 202611280001 (and the benchmark's B00000000001)


def event_visible_q(user: Any) -> Q | None:
    """The filter of the events ``user`` may see; None means every event (a district-wide user)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.role in ADMIN_ROLES:
        return NOTHING
    scope = user_scope(user)
    if user.role != Role.DEPARTMENT_HANDLER and scope.everything:
        return None
    q = Q(reporter_id=user.pk)
    # the events their own duplicates were merged into (they follow them). Read first (a few ids, indexed):
    # a subquery inside the OR would stop PostgreSQL from combining the indexes (a scan of every event).
    followed = sorted(
        set(
            Event.objects.filter(reporter_id=user.pk, merged_into__isnull=False)
            .order_by()
            .values_list("merged_into_id", flat=True)
        )
    )
    if followed:
        q |= Q(pk__in=followed)
    if scope.department_ids:
        q |= Q(assignee_department_id__in=sorted(scope.department_ids))
    if user.role != Role.DEPARTMENT_HANDLER and scope.area_ids:
        q |= Q(area_id__in=sorted(scope.area_ids))
    return q


@dataclass
class EventFilter:
    status: list[str] = field(default_factory=list)
    category: str | None = None  # a code: a parent matches its children
    source: str | None = None
    urgency: str | None = None
    tier: str | None = None
    area_id: int | None = None  # the node's subtree
    department_id: int | None = None
    overdue: bool | None = None  # currently past the deadline while with the assignee
    ever_overdue: bool | None = None
    q: str | None = None  # number or words of the title
    reported_from: dt.date | None = None
    reported_to: dt.date | None = None
    open_only: bool = False

    # the list page's query parameters (an export keeps them as JSON: FILTER_KEYS)
    FILTER_KEYS = (
        "status",
        "category",
        "source",
        "tier",
        "area",
        "department",
        "late",
        "q",
        "from",
        "to",
        "open",
    )

    @classmethod
    def from_params(cls, params: Any) -> EventFilter:
        """From the list page's query (a QueryDict) or the JSON an export keeps (``status`` a list)."""

        def one(key: str) -> str:
            value = params.get(key)
            return str(value[-1] if isinstance(value, list) and value else value or "")

        def number(key: str) -> int | None:
            value = one(key)
            return int(value) if value.isdigit() and len(value) < 19 else None

        def day(key: str) -> dt.date | None:
            try:
                return dt.date.fromisoformat(one(key)) if one(key) else None
            except ValueError:
                return None

        given = params.getlist("status") if hasattr(params, "getlist") else params.get("status") or []
        return cls(
            status=[s for s in ([given] if isinstance(given, str) else given) if s in Status.values],
            category=one("category") if one("category").isdigit() else None,
            source=one("source") if one("source") in Source.values else None,
            tier=one("tier") if one("tier") in Tier.values else None,
            area_id=number("area"),
            department_id=number("department"),
            overdue=True if one("late") == "1" else None,
            q=one("q").strip()[:50] or None,
            reported_from=day("from"),
            reported_to=day("to"),
            open_only=one("open") == "1",
        )

    def apply(self, qs: QuerySet[Event]) -> QuerySet[Event]:
        if self.status:
            qs = qs.filter(status__in=self.status)
        if self.open_only:
            qs = qs.filter(status__in=OPEN_STATUSES)
        if self.category:  # codes are digits: one indexed range, like subtree_q (LIKE 'x%' is not indexed)
            qs = qs.filter(subtree_q(self.category, "category"))
        if self.source:
            qs = qs.filter(source=self.source)
        if self.urgency:
            qs = qs.filter(urgency=self.urgency)
        if self.tier:
            qs = qs.filter(tier=self.tier)
        if self.area_id:
            # the subtree's ids first (a few hundred nodes at most): joined by code, PostgreSQL cannot
            # estimate how many events match and sorts them all instead of walking the date index
            node = Area.objects.filter(pk=self.area_id).values_list("code", flat=True).first()
            ids = sorted(Area.objects.filter(subtree_q(node)).values_list("pk", flat=True)) if node else []
            qs = qs.filter(area_id__in=ids)
        if self.department_id:
            qs = qs.filter(assignee_department_id=self.department_id)
        if self.overdue is not None:
            late = Q(status__in=WORKING_STATUSES, deadline__lt=timezone.now())
            qs = qs.filter(late) if self.overdue else qs.exclude(late)
        if self.ever_overdue is not None:
            qs = qs.filter(overdue=self.ever_overdue)
        if self.q:
            text = self.q.strip()[:50]
            if _NUMBER.match(text):  # an event number: the unique index, not a scan of the titles
                qs = qs.filter(number=text.upper())
            elif text:
                qs = qs.filter(Q(number=text) | Q(title__icontains=text))
        tz = timezone.get_current_timezone()
        if self.reported_from:
            qs = qs.filter(reported_at__gte=dt.datetime.combine(self.reported_from, dt.time.min, tz))
        if self.reported_to:
            qs = qs.filter(
                reported_at__lt=dt.datetime.combine(self.reported_to + dt.timedelta(days=1), dt.time.min, tz)
            )
        return qs


def event_list(*, user: Any, filters: EventFilter | None = None) -> QuerySet[Event]:
    qs = Event.objects.select_related("area", "owner", "assignee_department", "assignee_area")
    visible = event_visible_q(user)
    if visible is not None:
        qs = qs.filter(visible)
    return (filters or EventFilter()).apply(qs).order_by("-reported_at", "-id")


def event_get(*, user: Any, event_id: int) -> Event:
    """The event if ``user`` may see it; Http404 otherwise (missing and forbidden look alike)."""
    return get_object_or_404(event_list(user=user), pk=event_id)


def event_get_by_number(*, user: Any, number: str) -> Event:
    return get_object_or_404(event_list(user=user), number=number)


def event_steps(*, event: Event) -> QuerySet[EventStep]:
    """The timeline of an event the caller has already obtained through ``event_get``."""
    return event.steps.select_related("actor").prefetch_related("photos").order_by("at", "id")


def event_photo_get(*, user: Any, event_id: int, photo_id: int) -> EventPhoto:
    event = event_get(user=user, event_id=event_id)
    return get_object_or_404(EventPhoto.objects.filter(event=event), pk=photo_id)


# --- queues ------------------------------------------------------------------------------------------


def _triage_conditions(now: dt.datetime) -> dict[str, tuple[Q, tuple[str, ...]]]:
    """What waits for a centre, group by group, with each group's order: to accept and to dispatch (oldest
    first), extensions to decide, then what is past its deadline with the assignee (most overdue first).
    Each shape has its partial index (events/models.py), so a group's first rows and its capped count
    are read from a few index pages however many events there are."""
    return {
        "reported": (Q(status=Status.REPORTED), ("reported_at", "id")),
        "accepted": (Q(status=Status.ACCEPTED), ("reported_at", "id")),
        "extension": (
            Q(status__in=WORKING_STATUSES, extension_requested_days__isnull=False),
            ("reported_at", "id"),
        ),
        "late": (Q(status__in=WORKING_STATUSES, deadline__lt=now), ("deadline", "id")),
    }


def _triage_base(user: Any) -> QuerySet[Event] | None:
    """The events a centre is in charge of (its scope's centres; every event for the district), or None
    for a user who has no triage queue."""
    scope = user_scope(user)
    if scope.is_empty or getattr(user, "role", None) not in (Role.COMMANDER, Role.STREET_STAFF):
        return None
    qs = event_list(user=user)
    return qs if scope.everything else qs.filter(owner_id__in=sorted(scope.area_ids))


def triage_queue(*, user: Any) -> QuerySet[Event]:
    """Centre staff: every event that waits for them (the union of the triage groups)."""
    base = _triage_base(user)
    if base is None:
        return Event.objects.none()
    waiting = NOTHING
    for condition, _order in _triage_conditions(timezone.now()).values():
        waiting |= condition
    return base.filter(waiting)


# What a queue's table shows (events/_event_table.html, _status.html) and the duplicate check needs: loading
# whole rows with their four related objects costs more than the queries on a page of hundreds of events.
QUEUE_COLUMNS = (
    "number",
    "title",
    "category",
    "status",
    "urgency",
    "overdue",
    "deadline",
    "reported_at",
    "extension_requested_days",
    "latitude",
    "longitude",
    "area__name",
    "owner__name",
    "assignee_department__name",
    "assignee_area__name",
)


@dataclass
class TriageGroup:
    key: str
    events: list[Event]
    count: int  # at most ``cap``
    capped: bool  # more than ``cap`` wait


def triage_groups(*, user: Any, limit: int = 50, cap: int = 1000) -> dict[str, TriageGroup]:
    """The triage page: for each group its first ``limit`` events and how many wait (counted up to ``cap``).
    Each group is read on its own, so a backlog of late events never pushes new reports off the page."""
    base = _triage_base(user)
    groups: dict[str, TriageGroup] = {}
    for key, (condition, order) in _triage_conditions(timezone.now()).items():
        if base is None:
            groups[key] = TriageGroup(key, [], 0, False)
            continue
        qs = base.filter(condition)
        events = first_rows(qs.only(*QUEUE_COLUMNS), order, limit)
        count = len(events) if len(events) < limit else qs.order_by()[: cap + 1].count()
        groups[key] = TriageGroup(key, events, min(count, cap), count > cap)
    return groups


def department_queue(*, user: Any) -> QuerySet[Event]:
    """Department handlers: the open events dispatched to their department(s), nearest deadline first."""
    scope = user_scope(user)
    if not scope.department_ids:
        return Event.objects.none()
    return (
        event_list(user=user)
        .filter(assignee_department_id__in=sorted(scope.department_ids), status__in=OPEN_STATUSES)
        .order_by("deadline", "id")
    )


def department_page(*, user: Any, limit: int = 300) -> list[Event]:
    """The department queue page's rows (ids first from the partial index ``event_department_open``)."""
    return first_rows(department_queue(user=user).only(*QUEUE_COLUMNS), ("deadline", "id"), limit)


def my_tasks(*, user: Any) -> QuerySet[Event]:
    """What waits for this user: events dispatched to their area or department, handled events to verify in
    their grid or that they reported, and their own open reports; their closed reports not rated yet come
    last. The rest by deadline (the nearest, overdue ones first; none last), then newest first: the page
    shows the first 100, and closures waiting for a rating, which may never come, must not push the work out
    of them."""
    scope = user_scope(user)
    q = Q(reporter_id=user.pk, status__in=OPEN_STATUSES)
    q |= Q(reporter_id=user.pk, status=Status.CLOSED, rating__isnull=True)
    if scope.department_ids:
        q |= Q(assignee_department_id__in=sorted(scope.department_ids), status__in=WORKING_STATUSES)
    if scope.area_ids or scope.everything:
        in_area = Q() if scope.everything else Q(assignee_area_id__in=sorted(scope.area_ids))
        q |= in_area & Q(assignee_area__isnull=False, status__in=WORKING_STATUSES)
        if user.role in (Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.POLICE):
            grid = Q() if scope.everything else Q(area_id__in=sorted(scope.area_ids))
            q |= grid & Q(status=Status.HANDLED)
    waiting_for_rating = Case(
        When(status=Status.CLOSED, then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    return (
        event_list(user=user)
        .filter(q)
        .order_by(waiting_for_rating, F("deadline").asc(nulls_last=True), "-reported_at")
    )


# --- rules -------------------------------------------------------------------------------------------


def _load_rules() -> dict[str, EventCategoryRule]:
    return {r.category: r for r in EventCategoryRule.objects.all()}


# read on every report, edited a few times a year: kept a minute in each process (core.process_cache)
_POLICY = ProcessCache(EventPolicy.current, seconds=60, models=(EventPolicy,))
_RULES = ProcessCache(_load_rules, seconds=60, models=(EventCategoryRule,))


def current_policy() -> EventPolicy:
    """The event rules as this process last read them (at most a minute old; the rules page reads
    ``EventPolicy.current()``). Not to be changed."""
    return _POLICY.get()


def category_rule(
    category: str, rules: Mapping[str, EventCategoryRule] | None = None
) -> EventCategoryRule | None:
    """The rule of a category, or of its nearest ancestor that has one (codes nest: 0104 in 01).
    ``rules``: the rules by category (default: as this process last read them, at most a minute old)."""
    from pingan.core.codes import code_table

    if rules is None:
        rules = _RULES.get()
    parents = {c.code: c.parent for c in code_table("event_category")}
    seen: set[str] = set()
    code: str | None = category
    while code and code not in seen:
        if code in rules:
            return rules[code]
        seen.add(code)
        code = parents.get(code) or None
    return None


def category_tier(category: str) -> str:
    rule = category_rule(category)
    return rule.tier if rule else Tier.ORDINARY


def deadline_days(*, category: str, tier: str, policy: EventPolicy | None = None) -> int:
    """Working days for a dispatch: the category's own figure if set and the tier is the category's, else
    the tier's figure from the policy."""
    policy = policy or EventPolicy.current()
    rule = category_rule(category)
    if rule is not None and rule.working_days is not None and rule.tier == tier:
        return min(rule.working_days, policy.max_total_days)
    return policy.days_for(tier)


def category_rule_list() -> QuerySet[EventCategoryRule]:
    return EventCategoryRule.objects.select_related("default_department").order_by("category")


# --- what the user may do now ------------------------------------------------------------------------

# action → (permission, states it is possible in). Pages show these buttons; the API lists them.
ACTIONS: dict[str, tuple[str, frozenset[str]]] = {
    "accept": ("events.accept_event", frozenset({Status.REPORTED})),
    "refuse": ("events.accept_event", frozenset({Status.REPORTED})),
    "dispatch": ("events.dispatch_event", frozenset({Status.ACCEPTED})),
    "start": ("events.handle_event", frozenset({Status.DISPATCHED})),
    "report_back": ("events.handle_event", frozenset(WORKING_STATUSES)),
    "return": ("events.handle_event", frozenset(WORKING_STATUSES)),
    "request_extension": ("events.handle_event", frozenset(WORKING_STATUSES)),
    "decide_extension": ("events.decide_extension", frozenset(WORKING_STATUSES)),
    "verify": ("events.verify_event", frozenset({Status.HANDLED})),
    "rate": ("events.rate_event", frozenset({Status.CLOSED})),
    "reopen": ("events.reopen_event", frozenset({Status.CLOSED})),
    "escalate": ("events.escalate_event", frozenset(OPEN_STATUSES)),
    "supervise": ("events.supervise_event", frozenset(OPEN_STATUSES)),
    # an event not yet in a grid (a citizen's report by address): the centre places it
    "place": ("events.accept_event", frozenset({Status.REPORTED, Status.ACCEPTED})),
}


def available_actions(*, user: Any, event: Event, may: Callable[[str], bool] | None = None) -> list[str]:
    """The actions ``user`` may take on ``event`` now (the services enforce the same and more). ``may``: the
    caller's ``perm_checker(user, event)``, when it asks about more permissions of the event."""
    may = may or perm_checker(user, event)
    now = timezone.now()
    policy: EventPolicy | None = None
    found: list[str] = []
    for name, (perm, states) in ACTIONS.items():
        if event.status not in states or not may(perm):
            continue
        if name == "request_extension" and (
            event.extension_requested_days is not None
            or (event.deadline is not None and event.deadline < now)
        ):
            continue
        if name == "decide_extension" and event.extension_requested_days is None:
            continue
        if name == "rate" and event.rating is not None:
            continue
        if name == "reopen":
            policy = policy or EventPolicy.current()
            if event.closed_at is None or now - event.closed_at > dt.timedelta(days=policy.reopen_days):
                continue
        if name == "escalate" and event.owner.parent_id is None:
            continue
        if name == "place" and event.area.level == Level.GRID:
            continue
        if name in OWN_WORK and own_work(user=user, event=event, action=name):
            continue
        found.append(name)
    return found


# --- figures (KPIs) ----------------------------------------------------------------------------------
#
# Defined once here; the KPI page, the home page, the API and any export read them from this function.
# The population is the events the user may see that match the filters (the period filters the report
# date). Definitions (docs/events.md):
#   accepted            立案数     events accepted (refused and not yet accepted ones are not)
#   closed              结案数     events in the closed state
#   closure_rate        结案率     closed / accepted
#   on_time_rate        按期结案率  closed with the final report-back before the deadline in force / closed
#   rework_rate         返工率     failed verifications / verifications
#   extension_rate      延期率     accepted events with at least one approved extension / accepted
#   avg_handling_hours  平均办理时长 mean of (closed − accepted) over closed events, in hours
#   avg_rating          满意度     mean rating (1–5) over rated events
#   satisfaction_rate   满意率     rated 4 or 5 / rated

GROUPS = ("area", "department", "category", "period")


@dataclass
class KpiRow:
    key: Any
    label: str
    count: int = 0
    accepted: int = 0
    closed: int = 0
    closed_on_time: int = 0
    verifications: int = 0
    failed_verifications: int = 0
    extended: int = 0
    open: int = 0
    late: int = 0
    rated: int = 0
    satisfied: int = 0
    avg_handling_seconds: float | None = None
    avg_rating: float | None = None

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    @property
    def closure_rate(self) -> float | None:
        return self._rate(self.closed, self.accepted)

    @property
    def on_time_rate(self) -> float | None:
        return self._rate(self.closed_on_time, self.closed)

    @property
    def rework_rate(self) -> float | None:
        return self._rate(self.failed_verifications, self.verifications)

    @property
    def extension_rate(self) -> float | None:
        return self._rate(self.extended, self.accepted)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._rate(self.satisfied, self.rated)

    @property
    def avg_handling_hours(self) -> float | None:
        return None if self.avg_handling_seconds is None else round(self.avg_handling_seconds / 3600, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "count": self.count,
            "accepted": self.accepted,
            "closed": self.closed,
            "closed_on_time": self.closed_on_time,
            "verifications": self.verifications,
            "failed_verifications": self.failed_verifications,
            "extended": self.extended,
            "open": self.open,
            "late": self.late,
            "rated": self.rated,
            "satisfied": self.satisfied,
            "closure_rate": self.closure_rate,
            "on_time_rate": self.on_time_rate,
            "rework_rate": self.rework_rate,
            "extension_rate": self.extension_rate,
            "satisfaction_rate": self.satisfaction_rate,
            "avg_handling_hours": self.avg_handling_hours,
            "avg_rating": None if self.avg_rating is None else round(self.avg_rating, 2),
        }


@dataclass
class KpiResult:
    total: KpiRow
    rows: list[KpiRow]
    group_by: str | None


def _kpi_aggregates() -> dict[str, Any]:
    from django.db.models import Avg, Count, Sum
    from django.db.models.functions import Coalesce

    now = timezone.now()
    return {
        "count": Count("id"),
        "accepted": Count("id", filter=Q(accepted_at__isnull=False)),
        "closed": Count("id", filter=Q(status=Status.CLOSED)),
        "closed_on_time": Count("id", filter=Q(status=Status.CLOSED, closed_on_time=True)),
        "verifications": Coalesce(Sum("verification_count"), 0),
        "failed_verifications": Coalesce(Sum("failed_verification_count"), 0),
        "extended": Count("id", filter=Q(accepted_at__isnull=False, extension_count__gt=0)),
        "open": Count("id", filter=Q(status__in=OPEN_STATUSES)),
        "late": Count("id", filter=Q(status__in=WORKING_STATUSES, deadline__lt=now)),
        "rated": Count("id", filter=Q(rating__isnull=False)),
        "satisfied": Count("id", filter=Q(rating__gte=4)),
        "avg_handling_seconds": Avg("handling_seconds", filter=Q(status=Status.CLOSED)),
        "avg_rating": Avg("rating"),
    }


def _row(key: Any, label: str, values: dict[str, Any]) -> KpiRow:
    row = KpiRow(key=key, label=label)
    for name in (
        "count",
        "accepted",
        "closed",
        "closed_on_time",
        "verifications",
        "failed_verifications",
        "extended",
        "open",
        "late",
        "rated",
        "satisfied",
    ):
        setattr(row, name, int(values.get(name) or 0))
    for name in ("avg_handling_seconds", "avg_rating"):
        value = values.get(name)
        setattr(row, name, None if value is None else float(value))
    return row


def _row_from_sums(key: Any, label: str, values: dict[str, Any]) -> KpiRow:
    """A row from the additive values of ``events.stats`` (averages from their sums and counts)."""
    row = _row(key, label, {k: v for k, v in values.items() if not k.startswith("avg_")})
    n, rated = values.get("handling_n") or 0, values.get("rated") or 0
    row.avg_handling_seconds = values["handling_sum"] / n if n else None
    row.avg_rating = values["rating_sum"] / rated if rated else None
    return row


def _area_group_length(user: Any, filters: EventFilter) -> int:
    """Group by the level below the chosen node (the filter's area, else the user's single root)."""
    root = ""
    if filters.area_id:
        root = Area.objects.filter(pk=filters.area_id).values_list("code", flat=True).first() or ""
    else:
        roots = user_scope(user).root_codes
        if len(roots) == 1:
            root = roots[0]
        elif not roots:
            root = Area.objects.filter(parent__isnull=True).values_list("code", flat=True).first() or ""
    return {6: 9, 9: 12, 12: 15, 15: 15}.get(len(root), 9)


def event_kpis(*, user: Any, filters: EventFilter | None = None, group_by: str | None = None) -> KpiResult:
    """The figures of the events ``user`` sees matching ``filters``, in total and per group (``area``: the
    level below the chosen node; ``department``: the department it is/was dispatched to; ``category``: the
    top-level category; ``period``: the month it was reported). One aggregate query per call."""
    from django.db.models.functions import Substr, TruncMonth

    from pingan.areas.models import Department
    from pingan.core.codes import code_label

    filters = filters or EventFilter()
    # merged duplicates are counted once, in the event they were merged into
    qs = event_list(user=user, filters=filters).exclude(status=Status.MERGED).order_by()
    if group_by is not None and group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {GROUPS}")
    from pingan.events import stats

    # district-wide figures from the day statistics when they give exactly the same numbers (events/stats.py)
    summed = stats.kpi_values(
        base=qs,
        filters=filters,
        group_by=group_by,
        user_everything=event_visible_q(user) is None,
        area_length=_area_group_length(user, filters) if group_by == "area" else 0,
    )
    make_row = _row
    if summed is not None:
        make_row = _row_from_sums
        total = _row_from_sums(None, "合计", summed[0])
    else:
        total = _row(None, "合计", qs.aggregate(**_kpi_aggregates()))
    if group_by is None:
        return KpiResult(total=total, rows=[], group_by=None)
    grouped: Any
    values: list[dict[str, Any]]
    if summed is not None:
        values = [{"k": k, **v} for k, v in sorted(summed[1].items(), key=lambda kv: (kv[0] is None, kv[0]))]
    elif group_by == "area":
        length = _area_group_length(user, filters)
        grouped = qs.annotate(k=Substr("area__code", 1, length)).values("k")
    elif group_by == "department":
        grouped = qs.annotate(k=F("assignee_department_id")).values("k")
    elif group_by == "category":
        grouped = qs.annotate(k=Substr("category", 1, 2)).values("k")
    else:
        grouped = qs.annotate(k=TruncMonth("reported_at", tzinfo=timezone.get_current_timezone())).values("k")
    if summed is None:
        values = list(grouped.annotate(**_kpi_aggregates()).order_by("k"))
    keys = [v["k"] for v in values]
    names: dict[Any, str]
    labels: dict[Any, str]
    if group_by == "area":
        names = dict(Area.objects.filter(code__in=[k for k in keys if k]).values_list("code", "name"))
        labels = {k: names.get(k, k) for k in keys}
    elif group_by == "department":
        names = {
            pk: name
            for pk, name in Department.objects.filter(pk__in=[k for k in keys if k]).values_list("pk", "name")
        }
        labels = {
            k: names.get(k, "") if k else str(_("非部门办理（派往社区、网格，或未派遣）")) for k in keys
        }
    elif group_by == "category":
        labels = {k: code_label("event_category", k) for k in keys}
    else:
        labels = {k: k.strftime("%Y-%m") if hasattr(k, "strftime") else str(k or "") for k in keys}
    rows = [make_row(v["k"], str(labels.get(v["k"], v["k"])), v) for v in values]
    return KpiResult(total=total, rows=rows, group_by=group_by)


# --- screens -----------------------------------------------------------------------------------------


def departments_serving(area: Area) -> QuerySet[Any]:
    """Active departments that serve ``area`` (a department serving a node serves its subtree; one that
    lists no served area serves where it sits)."""
    from pingan.areas.models import Department

    codes = [*area.ancestor_codes, area.code]
    return (
        Department.objects.filter(active=True)
        .filter(Q(serves__code__in=codes) | Q(serves__isnull=True, area__code__in=codes))
        .distinct()
        .order_by("area__code", "name")
    )


def dispatch_options(*, user: Any, event: Event) -> dict[str, list[tuple[str, str]]]:
    """Where the dispatcher may send ``event``: departments serving its grid (or, serving nothing listed,
    sitting above it) and the community and grid it lies in, below the centre in charge."""
    codes = [*event.area.ancestor_codes, event.area.code]
    departments = departments_serving(event.area)
    areas = Area.objects.filter(code__in=codes, level__in=["community", "grid"], active=True).order_by("code")
    return {
        "departments": [(f"d:{d.pk}", d.name) for d in departments],
        "areas": [
            (f"a:{a.pk}", f"{a.get_level_display()} {a.name}")
            for a in areas
            if a.code.startswith(event.owner.code) and a.code != event.owner.code
        ],
    }


def grid_event_counts(*, user: Any, filters: EventFilter | None = None) -> dict[int, int]:
    """Events per grid (map shading)."""
    from django.db.models import Count

    rows = event_list(user=user, filters=filters).order_by().values("area_id").annotate(n=Count("id"))
    return {row["area_id"]: row["n"] for row in rows}


def map_markers(
    *,
    user: Any,
    filters: EventFilter | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    zoom: int = 13,
    max_points: int = 300,
) -> dict[str, Any]:
    """Events with coordinates inside ``bbox`` (west, south, east, north): single points when few or close
    in, otherwise buckets of a square grid whose cell halves with every zoom level (counted in SQL)."""
    from decimal import Decimal

    from django.db.models import Avg, Count, ExpressionWrapper, FloatField, Max, Value
    from django.db.models.functions import Floor

    qs = event_list(user=user, filters=filters).filter(latitude__isnull=False).order_by()
    if bbox is not None:
        west, south, east, north = bbox
        qs = qs.filter(longitude__gte=west, longitude__lte=east, latitude__gte=south, latitude__lte=north)
    total = qs.count()
    if total <= max_points or zoom >= 17:
        points = [
            {
                "lat": float(e.latitude or 0),
                "lon": float(e.longitude or 0),
                "number": e.number,
                "title": e.title,
                "status": e.status,
                "status_label": str(e.get_status_display()),
                "late": e.is_late,
                "url": reverse("events:detail", args=[e.pk]),
            }
            for e in qs.select_related(None)
            .only("id", "number", "title", "status", "latitude", "longitude", "deadline")
            .order_by("-reported_at")[:max_points]
        ]
        return {"total": total, "points": points, "clusters": []}
    cell = 0.02 / (2 ** max(0, min(zoom, 18) - 12))
    buckets = (
        qs.annotate(
            cy=Floor(ExpressionWrapper(F("latitude") / Value(Decimal(str(cell))), output_field=FloatField())),
            cx=Floor(
                ExpressionWrapper(F("longitude") / Value(Decimal(str(cell))), output_field=FloatField())
            ),
        )
        .values("cy", "cx")
        .annotate(n=Count("id"), lat=Avg("latitude"), lon=Avg("longitude"), last=Max("reported_at"))
        .order_by("-n")[:2000]
    )
    clusters = [{"lat": float(b["lat"]), "lon": float(b["lon"]), "count": b["n"]} for b in buckets]
    return {"total": total, "points": [], "clusters": clusters}


def event_figures(user: Any) -> list[Any]:
    """Home page: open events, events late now, events closed this month (in the user's sight)."""
    from django.db.models import Count
    from django.utils.translation import gettext_lazy as _

    from pingan.core.selectors import Figure

    if not getattr(user, "is_authenticated", False) or user.role in ADMIN_ROLES:
        return []
    now = timezone.now()
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    counts = (
        event_list(user=user)
        .order_by()
        .aggregate(
            open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
            late=Count("id", filter=Q(status__in=WORKING_STATUSES, deadline__lt=now)),
            closed=Count("id", filter=Q(status=Status.CLOSED, closed_at__gte=month_start)),
        )
    )
    url = reverse("events:list")
    return [
        Figure(_("在办事件"), counts["open"], url=f"{url}?open=1"),
        Figure(_("超期事件"), counts["late"], url=f"{url}?late=1"),
        Figure(_("本月结案"), counts["closed"], url=f"{url}?status=closed"),
    ]


def event_search(user: Any, q: str, limit: int) -> list[Any]:
    """Global search: an event number (whole or its start) or words of the title."""
    from pingan.core.search import SearchHit

    text = q.strip()[:50]
    if not text or event_visible_q(user) == NOTHING:
        return []
    qs = event_list(user=user)
    qs = qs.filter(number__startswith=text) if text.isdigit() else qs.filter(title__icontains=text)
    return [
        SearchHit(
            kind="事件",
            title=f"{e.number} {e.title}",
            detail=f"{e.get_status_display()} · {e.area.name}",
            url=reverse("events:detail", args=[e.pk]),
        )
        for e in qs[:limit]
    ]


# --- duplicates --------------------------------------------------------------------------------------

DUPLICATE_RADIUS_M = 50
DUPLICATE_DAYS = 7
_EARTH_RADIUS_M = 6_371_008.8
_M_PER_DEGREE = 111_195.0  # on the same sphere: 2πR / 360


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    import math

    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _near_q(
    category: str, lat: float, lng: float, start: dt.datetime, end: dt.datetime, radius_m: float
) -> Q:
    """The SQL prefilter of possible duplicates: same category, reported in [start, end], inside the
    bounding box of the circle (indexed columns; the exact distance is decided in Python)."""
    import math

    dlat = radius_m / _M_PER_DEGREE * 1.01
    dlng = dlat / max(math.cos(math.radians(lat)), 0.01)
    return Q(
        category=category,
        reported_at__gte=start,
        reported_at__lte=end,
        latitude__gte=lat - dlat,
        latitude__lte=lat + dlat,
        longitude__gte=lng - dlng,
        longitude__lte=lng + dlng,
    )


@dataclass
class Duplicate:
    event: Event
    distance_m: float


def event_duplicates(
    *,
    user: Any,
    category: str,
    latitude: Any,
    longitude: Any,
    exclude_id: int | None = None,
    now: dt.datetime | None = None,
    radius_m: float = DUPLICATE_RADIUS_M,
    days: int = DUPLICATE_DAYS,
    limit: int = 10,
) -> list[Duplicate]:
    """Possible duplicates of a report: events the user may see, of the same category, reported within
    the last ``days`` days, within ``radius_m`` metres, nearest first (merged ones excluded). A bounding
    box on the indexed columns prefilters in SQL (works the same on SQLite and PostgreSQL), then the exact
    haversine distance decides."""

    try:
        lat, lng = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return []
    if not category or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return []
    now = now or timezone.now()
    qs = (
        event_list(user=user)
        .filter(_near_q(category, lat, lng, now - dt.timedelta(days=days), now, radius_m))
        .exclude(status=Status.MERGED)
    )
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    found = []
    for event in qs[:200]:
        d = distance_m(lat, lng, float(event.latitude), float(event.longitude))  # type: ignore[arg-type]
        if d <= radius_m:
            found.append(Duplicate(event, round(d, 1)))
    found.sort(key=lambda x: (x.distance_m, -x.event.pk))
    return found[:limit]


def event_duplicates_of(*, user: Any, event: Event) -> list[Duplicate]:
    """Possible duplicates of an existing event: reported within ``DUPLICATE_DAYS`` before or after it."""
    if event.latitude is None or event.longitude is None or event.status == Status.MERGED:
        return []
    return event_duplicates(
        user=user,
        category=event.category,
        latitude=event.latitude,
        longitude=event.longitude,
        exclude_id=event.pk,
        now=event.reported_at + dt.timedelta(days=DUPLICATE_DAYS),
        days=DUPLICATE_DAYS * 2,
    )


def duplicate_counts(*, user: Any, events: Sequence[Event], limit: int = 10) -> dict[int, int]:
    """How many possible duplicates each of ``events`` has (as ``event_duplicates_of`` finds them, counted up
    to ``limit``), for a queue page: one query for all of them instead of one each."""
    window = dt.timedelta(days=DUPLICATE_DAYS)
    wanted = [
        (e, float(e.latitude), float(e.longitude))
        for e in events
        if e.latitude is not None and e.longitude is not None and e.status != Status.MERGED
    ]
    if not wanted:
        return {}
    near = NOTHING
    for e, lat, lng in wanted:
        near |= _near_q(
            e.category, lat, lng, e.reported_at - window, e.reported_at + window, DUPLICATE_RADIUS_M
        )
    candidates = [
        (pk, category, at, float(c_lat), float(c_lng))
        for pk, category, at, c_lat, c_lng in event_list(user=user)
        .filter(near)
        .exclude(status=Status.MERGED)
        .order_by()
        .values_list("pk", "category", "reported_at", "latitude", "longitude")
        if c_lat is not None and c_lng is not None  # always, inside a bounding box
    ]
    counts: dict[int, int] = {}
    for e, lat, lng in wanted:
        found = [
            pk
            for pk, category, at, c_lat, c_lng in candidates
            if pk != e.pk
            and category == e.category
            and abs(at - e.reported_at) <= window
            and distance_m(lat, lng, c_lat, c_lng) <= DUPLICATE_RADIUS_M
        ]
        counts[e.pk] = min(limit, len(found))
    return counts


# --- persons, houses and schools -----------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectSource:
    """What an event may be linked to, of one kind: the field that names it in requests and errors, its
    label, the rows of it a user may see (the owning module's scoped selector), its page and its label as
    shown on the event (masked for persons and houses)."""

    field: str
    label: Any
    visible: Any  # Callable[[user], QuerySet]
    url_name: str
    describe: Any  # Callable[[target], str]


@functools.cache  # made once: its modules are imported on first use (they import this one)
def subject_sources() -> dict[str, SubjectSource]:
    from django.utils.translation import gettext_lazy as _

    from pingan.core.masking import mask_address, mask_name
    from pingan.people import selectors as people
    from pingan.schools import selectors as schools

    return {
        SubjectKind.PERSON: SubjectSource(
            "persons",
            _("人员"),
            lambda user: people.person_list(user=user, filters=people.PersonFilter(status="all")),
            "people:detail",
            lambda person: mask_name(person.name),
        ),
        SubjectKind.HOUSE: SubjectSource(
            "houses",
            _("房屋"),
            lambda user: people.house_list(user=user),
            "people:house",
            lambda house: mask_address(house.address),
        ),
        SubjectKind.SCHOOL: SubjectSource(
            "schools",
            _("学校"),
            lambda user: schools.school_list(user=user),
            "schools:detail",
            lambda school: school.name,
        ),
    }


def event_subjects(*, user: Any, event: Event) -> list[dict[str, Any]]:
    """The persons, houses and schools of an event the caller already obtained through ``event_get``: masked
    name or address (a school's name), and a link when the caller may open its page."""
    sources = subject_sources()
    subjects = list(event.subjects.select_related(*SUBJECT_FIELDS.values()))
    visible: dict[str, set[int]] = {}
    for kind, source in sources.items():
        ids = [s.target_id for s in subjects if s.kind == kind]
        visible[kind] = (
            set(source.visible(user).filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
        )
    rows = []
    for s in subjects:
        target = getattr(s, SUBJECT_FIELDS[SubjectKind(s.kind)])
        if target is None:
            continue
        source = sources[s.kind]
        rows.append(
            {
                "kind": s.kind,
                "kind_label": str(s.get_kind_display()),
                "id": s.target_id,
                "label": source.describe(target),
                "url": reverse(source.url_name, args=[s.target_id]) if s.target_id in visible[s.kind] else "",
            }
        )
    return rows


def subject_choices(*, user: Any, given: dict[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The persons, houses and schools ticked on a form that comes back with an error (``given``: kind →
    ids as posted), those the user may link, labelled as the event page labels them, so they stay ticked."""
    rows = []
    for kind, source in subject_sources().items():
        ids = [int(v) for v in given.get(kind, ()) if str(v).isdigit() and len(str(v)) < 19][:20]
        if not ids:
            continue
        for target in source.visible(user).filter(pk__in=ids):
            label = SubjectKind(kind).label
            rows.append(
                {"kind": kind, "kind_label": str(label), "id": target.pk, "label": source.describe(target)}
            )
    return rows


def events_for_person(*, user: Any, person_id: int) -> QuerySet[Event]:
    """Events linked to a person, among those the user may see."""
    return event_list(user=user).filter(subjects__person_id=person_id)


def events_for_house(*, user: Any, house_id: int) -> QuerySet[Event]:
    """Events linked to a house, among those the user may see."""
    return event_list(user=user).filter(subjects__house_id=house_id)


def _subject_tab(user: Any, qs: QuerySet[Event]) -> dict[str, Any] | None:
    if not user.has_perm("events.view_events"):
        return None
    return {"events": list(qs.exclude(status=Status.MERGED)[:50]), "total": qs.count()}


def person_events_tab(user: Any, person: Any) -> dict[str, Any] | None:
    """The "事件" tab of the person page: linked events the user may see (None hides the tab)."""
    return _subject_tab(user, events_for_person(user=user, person_id=person.pk))


def house_events_section(user: Any, house: Any) -> dict[str, Any] | None:
    """The "事件" section of the house page."""
    return _subject_tab(user, events_for_house(user=user, house_id=house.pk))


def school_events_section(user: Any, school: Any) -> dict[str, Any] | None:
    """The "事件" section of the school page: events linked to the school, among those the user may see."""
    return _subject_tab(user, event_list(user=user).filter(subjects__school_id=school.pk))


def subject_candidates(*, user: Any, q: str, limit: int = 10) -> dict[str, list[dict[str, Any]]]:
    """Persons, houses and schools the user may link (their scope) matching a search text. Persons masked;
    houses by their full address, as the house list shows them to the same users (masked, the houses of a
    compound all read alike and the right one cannot be picked)."""
    from pingan.core.masking import mask_id_number, mask_name
    from pingan.people import selectors as people
    from pingan.schools import selectors as schools

    q = (q or "").strip()[:40]
    found: dict[str, list[dict[str, Any]]] = {"persons": [], "houses": [], "schools": []}
    if len(q) < 2:
        return found
    if user.has_perm("people.view_people"):
        found["persons"] = [
            {"id": p.pk, "label": f"{mask_name(p.name)} {mask_id_number(p.id_number)}".strip()}
            for p in people.person_list(user=user, filters=people.PersonFilter(q=q))[:limit]
        ]
        found["houses"] = [
            {"id": h.pk, "label": h.address} for h in people.house_list(user=user, q=q)[:limit]
        ]
    found["schools"] = [
        {"id": s.pk, "label": s.name}
        for s in schools.school_list(user=user, filters=schools.SchoolFilter(q=q))[:limit]
    ]
    return found


# Two pairs of hands: whoever asked for an extension does not approve it; whoever reported the handling
# done does not verify it (a street office dispatching to its own community could otherwise do it all)
OWN_WORK = {"decide_extension": "extension_request", "verify": "report_back"}


def own_work(*, user: Any, event: Event, action: str) -> bool:
    """Whether ``user`` made the step that ``action`` decides on (the latest of its kind)."""
    actor_id = (
        EventStep.objects.filter(event=event, action=OWN_WORK[action])
        .order_by("-at", "-pk")
        .values_list("actor_id", flat=True)
        .first()
    )
    return actor_id is not None and actor_id == getattr(user, "pk", None)


def place_options(*, user: Any) -> list[tuple[int, str]]:
    """The grids an event may be placed in: those in the user's scope."""
    from pingan.areas.selectors import area_choices

    return area_choices(user=user, level=Level.GRID)
