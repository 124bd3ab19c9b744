"""Writing notifications. ``notify`` is called by other modules' services inside their transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from pingan.notifications.models import Notification


def notify(
    *,
    users: Iterable[Any],
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    obj: Any = None,
    exclude: Any = None,
) -> int:
    """One notification per distinct active user (``exclude``: the actor, who need not be told what they
    just did). Returns the number written."""
    seen: set[int] = set()
    rows: list[Notification] = []
    skip = getattr(exclude, "pk", None)
    object_type = obj._meta.label_lower if obj is not None else ""
    object_id = str(obj.pk) if obj is not None else ""
    for user in users:
        pk = getattr(user, "pk", None)
        if pk is None or pk in seen or pk == skip or not getattr(user, "is_active", True):
            continue
        seen.add(pk)
        rows.append(
            Notification(
                user_id=pk,
                kind=kind[:40],
                title=title[:120],
                body=body[:300],
                url=url[:200],
                object_type=object_type,
                object_id=object_id,
            )
        )
    Notification.objects.bulk_create(rows)
    return len(rows)


@transaction.atomic
def notification_mark_read(*, user: Any, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) read. Returns the number changed."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
