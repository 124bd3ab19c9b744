"""Periodic reminders for released-person cases (run by ``pingan worker``; hourly, daily would do).

- visits due: the latest visit of a case under assistance names a next visit date within
  ``visit_due_days()`` (7) days or already past;
- assistance periods ending within ``ending_days()`` (30) days;
- hand-overs not received after the expected release date (flagged: ``Handover.flagged_at``).

Each goes as an in-app notification to the assistance officers (``rules.REMINDER_ROLES``: the only
role that works cases) whose scope contains the case's area (memberships on the area or an ancestor, or
a department serving one). Titles show the masked name only. Once each: a visit, a case ending, a
hand-over is reminded once (marked on the row, and a notification for the same object and kind is
never written twice). Sealed cases are not reminded (nobody may see them without a stated reason).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from pingan.aftercare.models import AftercareCase, CaseStatus, Handover, HandoverStatus, Visit
from pingan.aftercare.rules import REMINDER_ROLES
from pingan.aftercare.selectors import ending_days, visit_due_days
from pingan.core.masking import mask_name

LIMIT = 5000


def recipients(area: Any) -> list[Any]:
    from pingan.accounts.models import User
    from pingan.areas.models import Area

    codes = [area.code[:n] for n in (6, 9, 12, 15) if len(area.code) >= n]
    nodes = Area.objects.filter(code__in=codes)
    return list(
        User.objects.filter(is_active=True, role__in=REMINDER_ROLES)
        .filter(Q(memberships__area__in=nodes) | Q(memberships__department__serves__in=nodes))
        .distinct()
        .order_by("pk")
    )


def visits_due(today: dt.date) -> Any:
    """The latest visit of each case under assistance, when its next date is within the due window."""
    newest = Subquery(
        Visit.objects.filter(case=OuterRef("case")).order_by("-visited_on", "-pk").values("pk")[:1]
    )
    return (
        Visit.objects.annotate(_newest=newest)
        .filter(
            pk=F("_newest"),
            reminded_at__isnull=True,
            next_visit_on__lte=today + dt.timedelta(days=visit_due_days()),
            case__status=CaseStatus.ASSISTING,
            case__sealed=False,
        )
        .select_related("case", "case__person", "case__area")
    )


def periods_ending(today: dt.date) -> Any:
    return AftercareCase.objects.filter(
        status=CaseStatus.ASSISTING,
        sealed=False,
        assistance_end__gte=today,
        assistance_end__lte=today + dt.timedelta(days=ending_days()),
    ).select_related("person", "area")


def handovers_overdue(today: dt.date) -> Any:
    return (
        Handover.objects.exclude(status=HandoverStatus.RECEIVED)
        .filter(
            expected_release_date__lt=today,
            flagged_at__isnull=True,
            case__status=CaseStatus.PENDING,
            case__sealed=False,
        )
        .select_related("case", "case__person", "case__area")
    )


def _already(kind: str, obj: Any) -> bool:
    from pingan.notifications.models import Notification

    return Notification.objects.filter(
        kind=kind, object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).exists()


def run_aftercare_reminders(now: dt.datetime) -> dict[str, int]:
    from pingan.notifications.services import notify

    today = timezone.localdate(now)
    counts = {"visit_due": 0, "ending": 0, "handover_overdue": 0}
    for visit in list(visits_due(today)[:LIMIT]):
        case = visit.case
        with transaction.atomic():
            if not _already("aftercare.visit_due", visit):
                late = "已逾期" if visit.next_visit_on < today else "将到期"
                counts["visit_due"] += notify(
                    users=recipients(case.area),
                    kind="aftercare.visit_due",
                    title=f"帮教走访{late}：{mask_name(case.person.name)}（应于 {visit.next_visit_on} 走访）",
                    url=reverse("aftercare:detail", args=[case.pk]),
                    obj=visit,
                )
            Visit.objects.filter(pk=visit.pk).update(reminded_at=now)
    for case in list(periods_ending(today)[:LIMIT]):
        with transaction.atomic():
            if _already("aftercare.ending", case):
                continue
            counts["ending"] += notify(
                users=recipients(case.area),
                kind="aftercare.ending",
                title=f"帮教期将满：{mask_name(case.person.name)}（{case.assistance_end} 届满）",
                url=reverse("aftercare:detail", args=[case.pk]),
                obj=case,
            )
    for handover in list(handovers_overdue(today)[:LIMIT]):
        case = handover.case
        with transaction.atomic():
            if not _already("aftercare.handover_overdue", handover):
                key = "（必接必送）" if handover.must_meet else ""
                counts["handover_overdue"] += notify(
                    users=recipients(case.area),
                    kind="aftercare.handover_overdue",
                    title=(
                        f"刑释人员未衔接{key}：{mask_name(case.person.name)}"
                        f"（{handover.expected_release_date} 释放）"
                    ),
                    url=reverse("aftercare:detail", args=[case.pk]),
                    obj=handover,
                )
            Handover.objects.filter(pk=handover.pk).update(flagged_at=now)
    return counts
