"""The worker's check of the holiday table: warn the system administrators when the current or the next
year has no arrangement (once per year set, in-app, and in the worker's log every round)."""

from __future__ import annotations

import datetime as dt
import logging

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.workdays.selectors import calendar_missing_years

logger = logging.getLogger(__name__)


def calendar_check(now: dt.datetime | None = None) -> dict[str, int]:
    from pingan.accounts.models import User
    from pingan.accounts.roles import Role
    from pingan.notifications.services import notify

    now = now or timezone.now()
    missing = calendar_missing_years(timezone.localdate(now))
    if not missing:
        return {"missing_years": 0}
    years = "、".join(str(y) for y in missing)
    logger.warning("no holiday arrangement for %s: deadlines count weekends only", years)
    title = _("%(y)s 年节假日安排缺失，期限暂按周末推算") % {"y": years}
    admins = User.objects.filter(role=Role.SYSTEM_ADMIN, is_active=True).exclude(
        notifications__kind="workdays.missing", notifications__title=title
    )
    sent = notify(
        users=admins,
        kind="workdays.missing",
        title=title,
        url=reverse("workdays:holidays"),
        body=_("请在“节假日与调休”中录入或导入国务院公布的放假安排"),
    )
    return {"missing_years": len(missing), "notified": sent}
