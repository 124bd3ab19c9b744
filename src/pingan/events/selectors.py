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
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from pingan.accounts.roles import ADMIN_ROLES, Role
from pingan.accounts.selectors import user_scope
from pingan.areas.models import Area, subtree_q
from pingan.events.models import (
    OPEN_STATUSES,
    WORKING_STATUSES,
    Event,
    EventCategoryRule,
    EventPhoto,
    EventPolicy,
    EventStep,
    Status,
    Tier,
)

NOTHING = Q(pk__in=[])


def event_visible_q(user: Any) -> Q | None:
    """The filter of the events ``user`` may see; None means every event (a district-wide user)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.role in ADMIN_ROLES:
        return NOTHING
    scope = user_scope(user)
    q = Q(reporter_id=user.pk)
    if scope.department_ids:
        q |= Q(assignee_department_id__in=sorted(scope.department_ids))
    if user.role != Role.DEPARTMENT_HANDLER:
        if scope.everything:
            return None
        if scope.area_ids:
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

    def apply(self, qs: QuerySet[Event]) -> QuerySet[Event]:
        if self.status:
            qs = qs.filter(status__in=self.status)
        if self.open_only:
            qs = qs.filter(status__in=OPEN_STATUSES)
        if self.category:
            qs = qs.filter(category__startswith=self.category)
        if self.source:
            qs = qs.filter(source=self.source)
        if self.urgency:
            qs = qs.filter(urgency=self.urgency)
        if self.tier:
            qs = qs.filter(tier=self.tier)
        if self.area_id:
            node = Area.objects.filter(pk=self.area_id).values_list("code", flat=True).first()
            qs = qs.filter(subtree_q(node, "area__code")) if node else qs.none()
        if self.department_id:
            qs = qs.filter(assignee_department_id=self.department_id)
        if self.overdue is not None:
            late = Q(status__in=WORKING_STATUSES, deadline__lt=timezone.now())
            qs = qs.filter(late) if self.overdue else qs.exclude(late)
        if self.ever_overdue is not None:
            qs = qs.filter(overdue=self.ever_overdue)
        if self.q:
            text = self.q.strip()[:50]
            qs = qs.filter(Q(number=text) | Q(title__icontains=text)) if text else qs
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


def triage_queue(*, user: Any) -> QuerySet[Event]:
    """Centre staff: events their centre is in charge of that wait for them (to accept, to dispatch, an
    extension to decide), then everything past its deadline in their scope."""
    scope = user_scope(user)
    if scope.is_empty:
        return Event.objects.none()
    owned = Q() if scope.everything else Q(owner_id__in=sorted(scope.area_ids))
    waiting = Q(status__in=[Status.REPORTED, Status.ACCEPTED]) | Q(
        status__in=WORKING_STATUSES, extension_requested_days__isnull=False
    )
    late = Q(status__in=WORKING_STATUSES, deadline__lt=timezone.now())
    return event_list(user=user).filter(owned & (waiting | late))


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


def my_tasks(*, user: Any) -> QuerySet[Event]:
    """What waits for this user: events dispatched to their area or department, handled events to verify in
    their grid or that they reported, and their own open reports."""
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
    return event_list(user=user).filter(q).order_by("deadline", "-reported_at")


# --- rules -------------------------------------------------------------------------------------------


def category_rule(category: str) -> EventCategoryRule | None:
    """The rule of a category, or of its nearest ancestor that has one (codes nest: 0104 in 01)."""
    from pingan.core.codes import code_table

    parents = {c.code: c.parent for c in code_table("event_category")}
    chain: list[str] = []
    code: str | None = category
    while code and code not in chain:
        chain.append(code)
        code = parents.get(code) or None
    rules = {r.category: r for r in EventCategoryRule.objects.filter(category__in=chain)}
    for code in chain:
        if code in rules:
            return rules[code]
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
