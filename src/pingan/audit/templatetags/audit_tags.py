from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import template

from pingan.audit.selectors import format_time

register = template.Library()


@register.filter
def audit_time(value: dt.datetime | None) -> str:
    """``2026-11-28 14:37:05 +08:00``: local time with its offset (the row stores UTC)."""
    return format_time(value)


@register.filter
def audit_value(value: Any) -> str:
    """A changed value for display: text as is, anything else as JSON."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@register.filter
def role_label(value: str) -> str:
    """The role as users know it (岗位); the command-line operator is 系统."""
    from django.utils.translation import gettext

    from pingan.accounts.roles import Role

    if value == "system":
        return gettext("系统")
    return str(Role(value).label) if value in Role.values else value
