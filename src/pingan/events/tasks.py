"""The worker's periodic jobs for events (``pingan worker`` runs them every minute; tests call them directly
with a chosen ``now``).

- ``mark_overdue``: an event with its assignee past its deadline is marked overdue once (timeline row,
  audit, a notification to the assignee and to the centre in charge);
- ``remind_due``: ``reminder_hours`` before the deadline the assignee is reminded once;
- ``auto_escalate``: ``escalation_grace_hours`` after the deadline, an event still with its assignee is
  handed to the next level up once (the district's centre supervises it from then on).

Every job is idempotent and safe to run from several workers at once: each event is claimed with a
conditional UPDATE or ``SELECT … FOR UPDATE SKIP LOCKED`` in its own short transaction, so a user acting on
the event is never blocked for long and nothing is done twice. Marks and reminders do not change the
event's ``version`` (they change nothing a user acts on), an escalation does.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.audit.services import audit_record
from pingan.core.actors import SYSTEM
from pingan.events import services
from pingan.events.models import WORKING_STATUSES, Event, EventPolicy, EventStep, StepAction

logger = logging.getLogger(__name__)
BATCH = 500


def _step(
    event: Event, action: str, at: dt.datetime, note: str = "", data: dict[str, Any] | None = None
) -> None:
    EventStep.objects.create(
        event=event,
        action=action,
        actor=None,
        actor_name=_("系统"),
        actor_role="system",
        at=at,
        from_status=event.status,
        to_status=event.status,
        note=note,
        data=data or {},
    )


def mark_overdue(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    ids = list(
        Event.objects.filter(status__in=WORKING_STATUSES, deadline__lt=now, overdue=False)
        .order_by("deadline")
        .values_list("pk", flat=True)[:BATCH]
    )
    marked = 0
    for pk in ids:
        with transaction.atomic():
            claimed = Event.objects.filter(
                pk=pk, status__in=WORKING_STATUSES, deadline__lt=now, overdue=False
            ).update(overdue=True, overdue_at=now)
            if not claimed:
                continue  # acted on, or marked by another worker, in the meantime
            event = Event.objects.select_related("area", "owner", "assignee_department", "assignee_area").get(
                pk=pk
            )
            assert event.deadline is not None
            deadline = timezone.localtime(event.deadline).strftime("%Y-%m-%d %H:%M")
            _step(event, StepAction.OVERDUE, now, _("已超过办理期限 %(d)s") % {"d": deadline})
            audit_record(actor=SYSTEM, action="event.overdue", obj=event, changes={"overdue": [False, True]})
            title = _("事件已超期：%(e)s") % {"e": services._label(event)}
            services._notify(
                [*services._assignee_users(event), *services._centre_staff(event.owner)],
                event,
                "overdue",
                title,
                _("办理期限 %(d)s") % {"d": deadline},
            )
            marked += 1
    return marked


def remind_due(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    policy = EventPolicy.current()
    if not policy.reminder_hours:
        return 0
    horizon = now + dt.timedelta(hours=policy.reminder_hours)
    ids = list(
        Event.objects.filter(
            status__in=WORKING_STATUSES, deadline__gte=now, deadline__lte=horizon, reminded_at__isnull=True
        )
        .order_by("deadline")
        .values_list("pk", flat=True)[:BATCH]
    )
    reminded = 0
    for pk in ids:
        with transaction.atomic():
            claimed = Event.objects.filter(
                pk=pk, status__in=WORKING_STATUSES, reminded_at__isnull=True
            ).update(reminded_at=now)
            if not claimed:
                continue
            event = Event.objects.select_related("area", "owner", "assignee_department", "assignee_area").get(
                pk=pk
            )
            assert event.deadline is not None
            deadline = timezone.localtime(event.deadline).strftime("%Y-%m-%d %H:%M")
            _step(event, StepAction.REMIND, now, _("将于 %(d)s 到期") % {"d": deadline})
            services._notify(
                services._assignee_users(event),
                event,
                "due_soon",
                _("即将到期：%(e)s") % {"e": services._label(event)},
                _("办理期限 %(d)s") % {"d": deadline},
            )
            reminded += 1
    return reminded


def auto_escalate(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    policy = EventPolicy.current()
    if not policy.escalation_grace_hours:
        return 0
    limit = now - dt.timedelta(hours=policy.escalation_grace_hours)
    due = Q(status__in=WORKING_STATUSES, deadline__lt=limit, owner__parent__isnull=False) & (
        Q(escalated_at__isnull=True) | Q(escalated_at__lt=F("deadline"))
    )
    ids = list(Event.objects.filter(due).order_by("deadline").values_list("pk", flat=True)[:BATCH])
    escalated = 0
    for pk in ids:
        with transaction.atomic():
            locked = Event.objects.select_for_update(skip_locked=True).filter(due, pk=pk)
            event = locked.select_related("area", "owner").first()
            if event is None:
                continue  # a user holds it right now, or it no longer qualifies: next round
            hours = policy.escalation_grace_hours
            services._escalate(
                event,
                actor=SYSTEM,
                automatic=True,
                reason=_("超期 %(h)d 小时未办结，系统自动提交上级督办") % {"h": hours},
            )
            escalated += 1
    return escalated


def run_event_jobs(now: dt.datetime | None = None) -> dict[str, int]:
    """One round of the event jobs (registered with the worker in ``EventsConfig.ready``)."""
    now = now or timezone.now()
    counts = {
        "overdue": mark_overdue(now),
        "reminded": remind_due(now),
        "escalated": auto_escalate(now),
    }
    if any(counts.values()):
        logger.info("event jobs: %s", counts)
    return counts
