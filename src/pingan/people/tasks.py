"""Periodic reminders for floating-population work (run by ``pingan worker``, daily is enough).

- residence permits that expire within ``PERMIT_REMINDER_DAYS`` (30) days;
- floating residents not re-verified (``last_verified_on``, else ``registered_on``) for
  ``REVERIFY_DAYS`` (180) days.

The rules of both are ``people.selectors`` (``expiring_permits``, ``overdue_verifications``), which the
流动人口提醒 page also lists and counts per grid. Each goes as a notification to the grid workers, community
staff and community police whose area contains the person's grid; the title shows the masked name only.
Idempotent within a cycle: a record is notified once per kind while its reminder stands; after a renewal
(a new "valid to") or a re-verification the next reminder is a new cycle and is sent again when it is due.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from pingan.accounts.roles import Role
from pingan.core.masking import mask_name
from pingan.people.selectors import (
    expiring_permits,
    overdue_verifications,
    permit_reminder_days,
    reverify_days,
)

REMINDER_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.POLICE)


def _recipients(area: Any) -> list[Any]:
    from pingan.accounts.models import User
    from pingan.areas.models import Area

    codes = [area.code[:n] for n in (12, 15) if len(area.code) >= n]
    areas = Area.objects.filter(code__in=codes)
    return list(
        User.objects.filter(is_active=True, role__in=REMINDER_ROLES, memberships__area__in=areas).distinct()
    )


def _cycle_start(record: Any, key: str) -> dt.datetime:
    """When the record's current reminder became due: a notification since then is this cycle's; an older
    one was for the permit before its renewal, or for the verification before the last one."""
    if key == "permit_expiring":
        day = record.valid_to - dt.timedelta(days=permit_reminder_days())
    else:
        day = (record.last_verified_on or record.registered_on) + dt.timedelta(days=reverify_days())
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def run_people_reminders(now: dt.datetime) -> dict[str, int]:
    from django.urls import reverse

    from pingan.notifications.models import Notification
    from pingan.notifications.services import notify

    today = timezone.localdate(now)
    counts = {"permit_expiring": 0, "reverify": 0}
    jobs = (
        (
            "people.permit_expiring",
            expiring_permits(today),
            "居住证即将到期：%s（有效期至 %s）",
            "permit_expiring",
        ),
        ("people.reverify", overdue_verifications(today), "流动人口待核查：%s（最近核查 %s）", "reverify"),
    )
    for kind, records, template, key in jobs:
        for record in records[:5000]:
            if Notification.objects.filter(
                kind=kind,
                object_type="people.floatingrecord",
                object_id=str(record.pk),
                created_at__gte=_cycle_start(record, key),
            ).exists():
                continue
            person = record.person
            when = record.valid_to if key == "permit_expiring" else (record.last_verified_on or "无")
            with transaction.atomic():
                counts[key] += notify(
                    users=_recipients(person.area),
                    kind=kind,
                    title=template % (mask_name(person.name), when),
                    url=reverse("people:detail", args=[person.pk]),
                    obj=record,
                )
    return counts
