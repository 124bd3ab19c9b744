"""``{% load masking %}``: filters that mask personal data for display, and the reveal control.

{{ person.id_number|mask_id }}   {{ person.phone|mask_phone }}   {{ person.name|mask_name }}
{{ person.address|mask_address }}
{% sensitive person "id_number" %}   masked value + "显示" button when the user may reveal it
"""

from __future__ import annotations

from typing import Any

from django import template
from django.db import models

from pingan.core import masking
from pingan.core.sensitive import dom_id, field_label, masked, may_reveal, sensitive_spec

register = template.Library()


@register.filter(name="mask_id")
def mask_id(value: Any) -> str:
    return masking.mask_id_number(None if value is None else str(value))


@register.filter(name="mask_phone")
def mask_phone(value: Any) -> str:
    return masking.mask_phone(None if value is None else str(value))


@register.filter(name="mask_name")
def mask_name(value: Any) -> str:
    return masking.mask_name(None if value is None else str(value))


@register.filter(name="mask_address")
def mask_address(value: Any) -> str:
    return masking.mask_address(None if value is None else str(value))


@register.inclusion_tag("core/_sensitive_value.html", takes_context=True)
def sensitive(context: template.Context, obj: models.Model, field: str) -> dict[str, Any]:
    """The masked value of ``obj.field`` and, if the user may reveal it, the "显示" control (reason
    input, htmx POST to core:sensitive_reveal, the answer swaps in the full value)."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    spec = sensitive_spec(obj)
    return {
        "value": masked(obj, field),
        "may_reveal": bool(user is not None and may_reveal(user, obj, field)),
        "object_type": spec.object_type if spec else obj._meta.label_lower,
        "object_id": obj.pk,
        "field": field,
        "dom_id": dom_id(spec.object_type if spec else obj._meta.label_lower, obj.pk, field),
        "field_label": field_label(obj, field),
        "csrf_token": context.get("csrf_token"),
    }
