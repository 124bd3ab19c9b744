"""Correction reminders (run by ``pingan worker``; hourly, idempotent).

- ``correction.missing``: the 10-day reception deadline passed without a report (漏管) — once per client;
- ``correction.checkin_overdue``: an active client's check-in due date passed — once per due date
  (``reminded_checkin_due`` remembers the last one reminded);
- ``correction.term_ending``: the correction period ends within 30 days — once per client.

Recipients: the assistance/correction officers whose area contains the client's community, and the
handlers of the judicial offices serving it (the only roles that act on clients, ``correction.rules``).
Titles carry the correction number and the masked name only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pingan.accounts.roles import Role
from pingan.core.masking import mask_name
from pingan.correction.models import ClientStatus, CorrectionClient
from pingan.correction.selectors import ENDING_DAYS

REMINDER_ROLES = (Role.ASSISTANCE_OFFICER,)
LIMIT = 5000


def recipients(area: Any) -> list[Any]:
    from pingan.accounts.models import User
    from pingan.areas.models import Area

    codes = [area.code[:n] for n in (6, 9, 12, 15) if len(area.code) >= n]
    areas = Area.objects.filter(code__in=codes)
    return list(
        User.objects.filter(is_active=True)
        .filter(
            Q(role__in=REMINDER_ROLES, memberships__area__in=areas)
            | Q(
                role=Role.DEPARTMENT_HANDLER,
                memberships__department__kind="judicial",
                memberships__department__serves__in=areas,
            )
        )
        .distinct()
    )


def _already(kind: str, client: CorrectionClient) -> bool:
    from pingan.notifications.models import Notification

    return Notification.objects.filter(
        kind=kind, object_type="correction.correctionclient", object_id=str(client.pk)
    ).exists()


def run_correction_reminders(now: dt.datetime) -> dict[str, int]:
    from django.urls import reverse

    from pingan.notifications.services import notify

    today = timezone.localdate(now)
    counts = {"missing": 0, "checkin_overdue": 0, "term_ending": 0}
    base = CorrectionClient._base_manager.filter(sealed=False).select_related("person", "area")

    def send(kind: str, client: CorrectionClient, title: str) -> int:
        return notify(
            users=recipients(client.area),
            kind=kind,
            title=title,
            url=reverse("correction:detail", args=[client.pk]),
            obj=client,
        )

    missing = base.filter(
        status=ClientStatus.PENDING,
        reported_on__isnull=True,
        reception_deadline__lt=today,
        missing_resolved_at__isnull=True,
    )
    for client in missing.order_by("pk")[:LIMIT]:
        if _already("correction.missing", client):
            continue
        with transaction.atomic():
            counts["missing"] += send(
                "correction.missing",
                client,
                f"漏管预警：{client.number} {mask_name(client.person.name)} 逾期未报到"
                f"（期限 {client.reception_deadline}）",
            )
    overdue = base.filter(status=ClientStatus.ACTIVE, next_checkin_due__lt=today).exclude(
        reminded_checkin_due=models_F("next_checkin_due")
    )
    for client in overdue.order_by("pk")[:LIMIT]:
        with transaction.atomic():
            counts["checkin_overdue"] += send(
                "correction.checkin_overdue",
                client,
                f"报告逾期：{client.number} {mask_name(client.person.name)}"
                f"（应于 {client.next_checkin_due} 前报告）",
            )
            CorrectionClient._base_manager.filter(pk=client.pk).update(
                reminded_checkin_due=client.next_checkin_due
            )
    ending = base.filter(
        status=ClientStatus.ACTIVE, end_date__gte=today, end_date__lte=today + dt.timedelta(days=ENDING_DAYS)
    )
    for client in ending.order_by("pk")[:LIMIT]:
        if _already("correction.term_ending", client):
            continue
        with transaction.atomic():
            counts["term_ending"] += send(
                "correction.term_ending",
                client,
                f"矫正期即将届满：{client.number} {mask_name(client.person.name)}（{client.end_date} 届满）",
            )
    return counts


def models_F(name: str) -> Any:
    from django.db.models import F

    return F(name)
