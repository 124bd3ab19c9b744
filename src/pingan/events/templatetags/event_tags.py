"""``{% load event_tags %}``: ``{{ rate|pct }}`` shows a 0–1 rate as a percentage (— when undefined)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def pct(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.1f}%"
