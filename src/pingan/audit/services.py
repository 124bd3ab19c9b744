"""Writing the audit trail. Every write service calls ``audit_record`` inside its transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from pingan.audit.context import current_request_info
from pingan.audit.models import AuditEvent, Outcome


def _area_code_of(obj: Any) -> str:
    from pingan.areas.models import Area

    if isinstance(obj, Area):
        return obj.code
    area = getattr(obj, "area", None)
    return getattr(area, "code", "") if area is not None else ""


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    outcome: str = Outcome.SUCCESS,
    reason: str = "",
    area_code: str | None = None,
    actor_username: str | None = None,
) -> AuditEvent:
    info = current_request_info.get()
    authenticated = bool(actor is not None and getattr(actor, "is_authenticated", False))
    return AuditEvent.objects.create(
        actor=actor if authenticated else None,
        actor_username=str(
            actor_username or (actor.get_username() if authenticated else getattr(actor, "username", ""))
        ),
        actor_role=getattr(actor, "role", "") if authenticated else "",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        area_code=area_code if area_code is not None else (_area_code_of(obj) if obj is not None else ""),
        changes=changes or {},
        reason=reason[:200],
        source_ip=info.ip,
        user_agent=info.user_agent,
        outcome=outcome,
    )


def diff_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{field: [before, after]} for the fields that changed."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}
