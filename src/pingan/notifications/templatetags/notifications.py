"""``{% load notifications %}{% notification_bell %}``: the bell with the unread count (top bar)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context: template.Context) -> dict[str, Any]:
    from pingan.notifications.selectors import unread_count

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread": 0, "hidden": True}
    return {"unread": unread_count(user=user)}
