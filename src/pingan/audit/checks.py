"""System check: the audit retention may be raised, never lowered below 180 days (MLPS: six months)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from pingan.audit.services import MIN_RETENTION_DAYS


@checks.register(checks.Tags.security)
def audit_retention(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    days = getattr(settings, "PINGAN_AUDIT_RETENTION_DAYS", MIN_RETENTION_DAYS)
    if not isinstance(days, int) or days < MIN_RETENTION_DAYS:
        return [
            checks.Error(
                f"PINGAN_AUDIT_RETENTION_DAYS={days!r}: audit records must be kept "
                f"at least {MIN_RETENTION_DAYS} days",
                id="pingan.audit.E001",
            )
        ]
    return []
