"""A user reads only their own notifications."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from pingan.notifications.models import Notification


def notification_list(*, user: Any, unread_only: bool = False) -> QuerySet[Notification]:
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    qs = Notification.objects.filter(user=user)
    return qs.filter(read_at__isnull=True) if unread_only else qs


def notification_get(*, user: Any, notification_id: int) -> Notification:
    return get_object_or_404(notification_list(user=user), pk=notification_id)


def unread_count(*, user: Any) -> int:
    return notification_list(user=user, unread_only=True).count()
