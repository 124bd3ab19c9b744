"""Test-database helpers for the audit trail on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, connections, transaction


def allow_audit_truncate() -> None:
    """The audit table refuses TRUNCATE (migration 0004) unless ``pingan.audit_allow_truncate`` is on.
    Django's flush after transactional tests TRUNCATEs every table, so the *test* database turns it on for
    every session (ALTER DATABASE ... SET) and for the connection already open."""
    if connection.vendor != "postgresql":
        return
    from psycopg import sql

    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("ALTER DATABASE {} SET pingan.audit_allow_truncate = 'on'")
            .format(sql.Identifier(connection.settings_dict["NAME"]))
            .as_string(cursor.connection)
        )
        cursor.execute("SET pingan.audit_allow_truncate = 'on'")
    for other in connections.all():
        if other is not connection:
            other.close()


@contextmanager
def as_dba_attacker() -> Iterator[None]:
    """Raw SQL as someone with database-administrator rights: on PostgreSQL the append-only trigger is
    bypassed (``session_replication_role = replica`` disables ordinary triggers for this session)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            with transaction.atomic():  # a savepoint: a refused statement leaves the reset below possible
                yield
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
