# No `from __future__ import annotations`: django-ninja must resolve Query[...] under @paginate
# (vitalik/django-ninja#1424).
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router
from ninja.pagination import paginate

from pingan.audit import selectors
from pingan.audit.schemas import AuditEventFilterIn, AuditEventOut
from pingan.core.api import ERROR_RESPONSES, Page, Shaped

router = Router(tags=["audit 审计"])


def _out(event: Any) -> dict[str, Any]:
    data = AuditEventOut.from_orm(event).dict()
    data["occurred_at"] = timezone.localtime(event.occurred_at)
    return data


@router.get("/events", response={200: list[AuditEventOut], **ERROR_RESPONSES})
@paginate(Page)
def list_events(request: HttpRequest, filters: Query[AuditEventFilterIn]) -> Any:
    """Audit events, newest first. The audit administrator only: everyone else gets 404."""
    events = selectors.event_list(
        user=request.user, filters=selectors.EventFilter.from_params(filters.dict())
    )
    return Shaped(events, _out)  # times in +08:00


@router.get("/events/{event_id}", response={200: AuditEventOut, **ERROR_RESPONSES})
def get_event(request: HttpRequest, event_id: int) -> Any:
    return _out(selectors.event_get(user=request.user, event_id=event_id))
