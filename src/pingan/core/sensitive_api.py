"""API: reveal one sensitive value (the same service and audit as the page's "显示" button)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Schema

from pingan.core.api import ERROR_RESPONSES
from pingan.core.ratelimit import RateLimited
from pingan.core.sensitive import RevealRateLimited, sensitive_reveal

router = Router(tags=["personal data 个人信息"])


class RevealIn(Schema):
    object_type: str
    object_id: str
    field: str
    reason: str


class RevealOut(Schema):
    object_type: str
    object_id: str
    field: str
    value: str
    masked: str


@router.post("/sensitive/reveal", response={200: RevealOut, **ERROR_RESPONSES})
def reveal(request: HttpRequest, payload: RevealIn) -> RevealOut:
    """The full value of one field of one record, with a stated reason (at least 4 characters).
    Audited as an access event; 404 when the record is missing, outside the caller's scope, or the
    caller's role may not reveal; 429 when revealing too often."""
    try:
        result = sensitive_reveal(
            actor=request.user,
            object_type=payload.object_type[:100],
            object_id=payload.object_id[:40],
            field=payload.field[:60],
            reason=payload.reason,
        )
    except RevealRateLimited as exc:
        raise RateLimited("reveal", message=str(exc.args[0] if exc.args else "")) from None
    except ValidationError:
        raise
    return RevealOut(
        object_type=result.object_type,
        object_id=str(result.obj.pk),
        field=result.field,
        value=result.value,
        masked=result.masked,
    )
