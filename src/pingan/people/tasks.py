"""Periodic reminders for floating-population work (run by ``pingan worker``, daily is enough).

- residence permits that expire within ``PERMIT_REMINDER_DAYS`` (30) days;
- floating residents not re-verified (``last_verified_on``, else ``registered_on``) for
  ``REVERIFY_DAYS`` (180) days.

The rules of both are ``people.selectors`` (``expiring_permits``, ``overdue_verifications``), which the
流动人口提醒 page also lists and counts per grid. Each goes as a notification to the grid workers, community
staff and community police whose area contains the person's grid; the title shows the masked name only.
Idempotent: one notification per record, kind and user (a notification already written for that record and
kind is not written again).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from pingan.accounts.roles import Role
from pingan.core.masking import mask_name
from pingan.people.selectors import expiring_permits, overdue_verifications

REMINDER_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.POLICE)


def _recipients(area: Any) -> list[Any]:
    from pingan.accounts.models import User
    from pingan.areas.models import Area

    codes = [area.code[:n] for n in (12, 15) if len(area.code) >= n]
    areas = Area.objects.filter(code__in=codes)
    return list(
        User.objects.filter(is_active=True, role__in=REMINDER_ROLES, memberships__area__in=areas).distinct()
    )


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
                kind=kind, object_type="people.floatingrecord", object_id=str(record.pk)
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
