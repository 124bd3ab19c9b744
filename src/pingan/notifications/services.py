"""Writing notifications. ``notify`` is called by other modules' services inside their transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from pingan.core.prepared import prepared_cursor
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
    just did). Returns the number written. ``users`` as a queryset, or as an object with ``id_select``
    (``accounts.selectors.StaffAt``): written by one INSERT … SELECT, the users never read into Python."""
    object_type = obj._meta.label_lower if obj is not None else ""
    object_id = str(obj.pk) if obj is not None else ""
    values = [kind[:40], title[:120], body[:300], url[:200], object_type, object_id, timezone.now()]
    skip = getattr(exclude, "pk", None)
    alias = Notification.objects.db
    if isinstance(users, QuerySet):
        selected = users.filter(is_active=True).order_by().values(notified_user=F("pk")).distinct()
        if skip is not None:
            selected = selected.exclude(pk=skip)
        select_sql, params = selected.query.sql_with_params()
        return _notify_selected(select_sql, params, values, alias)
    if hasattr(users, "id_select"):  # a statement of fixed text, selecting by key: prepared (core.prepared)
        select_sql, params = users.id_select(alias, exclude=skip)
        return _notify_selected(select_sql, params, values, alias, prepared=True)
    seen: set[int] = set()
    rows: list[Notification] = []
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


def _notify_selected(
    select_sql: str, params: Sequence[Any], values: list[Any], alias: str, *, prepared: bool = False
) -> int:
    """INSERT … SELECT: one notification per id the statement ``select_sql`` selects (its one column).
    ``prepared``: the statement's text is fixed and its plan does not depend on the values."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    columns = ("kind", "title", "body", "url", "object_type", "object_id", "created_at")
    sql = (
        f"INSERT INTO {quote(Notification._meta.db_table)} ({quote('user_id')}, "  # noqa: S608 — names from the model
        f"{', '.join(quote(c) for c in columns)}) "
        f"SELECT u.*, {', '.join(['%s'] * len(columns))} FROM ({select_sql}) u"
    )
    row = [*values[:-1], connection.ops.adapt_datetimefield_value(values[-1])]
    with prepared_cursor(alias) if prepared else connection.cursor() as cursor:
        cursor.execute(sql, [*row, *params])
        return max(cursor.rowcount, 0)


@transaction.atomic
def notification_mark_read(*, user: Any, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) read. Returns the number changed."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
