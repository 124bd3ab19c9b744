"""Helpers for the audit tests: writing events, tampering as a database administrator would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from pingan.audit import chain
from pingan.audit.models import AuditEvent
from pingan.audit.services import audit_record
from pingan.core.actors import SYSTEM
from tests.audit.db import as_dba_attacker

TABLE = AuditEvent._meta.db_table


def write_events(n: int, action: str = "test.write") -> list[AuditEvent]:
    return [audit_record(actor=SYSTEM, action=action, changes={"i": i, "note": f"第{i}条"}) for i in range(n)]


def sql(statement: str, params: list[Any] | None = None) -> None:
    """Raw SQL with DBA rights: the append-only trigger is bypassed on PostgreSQL."""
    with as_dba_attacker(), connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def row(seq: int) -> dict[str, Any]:
    return (
        AuditEvent.objects.filter(seq=seq).values(*chain.CHAIN_FIELDS, "id", "row_hash", "changes_json").get()
    )


def shift_seqs(from_seq: int, by: int) -> None:
    """Renumber rows seq >= from_seq by ``by`` (two steps, so the unique index never collides)."""
    sql(f"UPDATE {TABLE} SET seq = seq + 1000000 WHERE seq >= %s", [from_seq])  # noqa: S608
    sql(f"UPDATE {TABLE} SET seq = seq - 1000000 + %s WHERE seq >= 1000000", [by])  # noqa: S608


def insert_raw(values: dict[str, Any]) -> None:
    """INSERT a row as the attacker spells it (all chained columns, row_hash, no id)."""
    import json

    columns = [*chain.CHAIN_FIELDS, "row_hash", "changes_json"]
    data = dict(values)
    data.setdefault("changes_json", chain.encode_changes(data["changes"]))
    data["changes"] = json.dumps(data["changes"], ensure_ascii=False)
    data["occurred_at"] = connection.ops.adapt_datetimefield_value(data["occurred_at"])
    placeholders = ", ".join(["%s"] * len(columns))
    sql(
        f"INSERT INTO {TABLE} ({', '.join(columns)}) VALUES ({placeholders})",  # noqa: S608
        [data[c] for c in columns],
    )


@pytest.fixture
def days_ago(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[float], None]]:
    """``days_ago(200)``: audit rows written from now on carry a time 200 days in the past."""
    real_now = timezone.now
    offset = {"value": dt.timedelta(0)}
    monkeypatch.setattr(timezone, "now", lambda: real_now() - offset["value"])

    def set_days(days: float) -> None:
        offset["value"] = dt.timedelta(days=days)

    yield set_days
