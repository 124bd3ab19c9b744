"""core.prepared: the hot path's fixed statements are prepared once per connection on PostgreSQL, still logged
as every statement is, still run after a rollback; nothing is prepared when PINGAN_PG_PREPARED=0; SQLite gets
an ordinary cursor."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from pingan.core.prepared import numbered, prepared_cursor
from pingan.events import services

pytestmark = pytest.mark.django_db

STATEMENT = "SELECT %s::int + 1"


def prepared_statements() -> list[str]:
    """The statements this connection holds prepared (PostgreSQL's own view)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        return [row[0] for row in cursor.fetchall()]


def run(value: int) -> int:
    with prepared_cursor() as cursor:
        cursor.execute(STATEMENT, [value])
        return int(cursor.fetchone()[0])


def test_a_statement_is_prepared_once_and_answers_for_every_value(postgres_only):
    assert [run(n) for n in (1, 2, 41)] == [2, 3, 42]
    assert prepared_statements().count("SELECT $1::int + 1") == 1


def test_it_is_logged_as_any_statement(postgres_only):
    run(1)  # prepared on its first run: the log must show it from then on too
    with CaptureQueriesContext(connection) as queries:
        run(2)
    assert [q["sql"] for q in queries] == ["SELECT $1::int + 1"]


def test_it_still_runs_after_a_rollback(postgres_only):
    """A rollback makes psycopg forget what it prepared; the next run prepares the statement again."""
    run(1)
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        run(2)
        raise ZeroDivisionError
    assert run(3) == 4


def test_a_statement_of_more_than_fifty_values_runs_prepared(postgres_only):
    """The raw cursor takes the text as numbered() wrote it: no limit on the values (psycopg's own cursor
    parses a statement of more than 50 values again on every run)."""
    statement = "SELECT " + " + ".join(["%s::int"] * 60)
    with prepared_cursor() as cursor:
        for n in (1, 2):
            cursor.execute(statement, [n] * 60)
            assert cursor.fetchone()[0] == 60 * n
    assert prepared_statements().count("SELECT " + " + ".join(f"${i}::int" for i in range(1, 61))) == 1


def test_numbered_placeholders():
    assert numbered("SELECT %s, %s WHERE a LIKE 'x%%'") == "SELECT $1, $2 WHERE a LIKE 'x%'"
    assert numbered("SELECT 1") == "SELECT 1"
    for other in ("SELECT %(name)s", "SELECT 5 %", "SELECT %d"):
        with pytest.raises(ValueError, match="placeholders only"):
            numbered(other)


def test_nothing_is_prepared_without_a_threshold(postgres_only):
    """PINGAN_PG_PREPARED=0 leaves psycopg's threshold unset (Django's default): the statements run, binding
    on the server, and none is kept prepared (a pooler in transaction mode)."""
    connection.ensure_connection()
    raw: Any = connection.connection
    kept = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        assert [run(n) for n in (1, 2)] == [2, 3]
        assert "SELECT $1::int + 1" not in prepared_statements()
    finally:
        raw.prepare_threshold = kept


def test_an_event_report_prepares_its_own_statements(postgres_only, tree, grid_a1, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    for title in ("占道经营", "占道经营又来了"):  # the second report runs them prepared
        services.event_report(
            actor=grid_a1, area_id=tree.a1_1.pk, category="0102", title=title, description="路口占道"
        )
    held = prepared_statements()
    for start in (
        'SELECT a."id"',  # the grid with its community and street
        'UPDATE "events_eventcounter"',
        'WITH l0 AS (INSERT INTO "events_event" ',  # with its step (core.inserts.insert_linked)
        'INSERT INTO "notifications_notification" ',
        'INSERT INTO "audit_auditevent" ',
    ):
        assert sum(s.startswith(start) for s in held) == 1, (start, held)
    # the lists and pages' queries stay unprepared: their plans depend on their values
    assert not any(s.startswith('SELECT "events_event"') for s in held)


def test_sqlite_gets_an_ordinary_cursor():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's side")
    with CaptureQueriesContext(connection) as queries, prepared_cursor() as cursor:
        cursor.execute("SELECT %s + 1", [41])
        assert cursor.fetchone()[0] == 42
    assert [q["sql"] for q in queries] == ["SELECT 41 + 1"]


@pytest.mark.parametrize(("value", "threshold"), [(None, "2147483647"), ("0", "None"), ("1", "2147483647")])
def test_the_setting(value, threshold):
    env = {k: v for k, v in os.environ.items() if k != "PINGAN_PG_PREPARED"}
    env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/test"
    if value is not None:
        env["PINGAN_PG_PREPARED"] = value
    code = (
        "from pingan.config import settings; "
        "print(settings.DATABASES['default'].get('OPTIONS', {}).get('prepare_threshold'))"
    )
    found = subprocess.run(  # noqa: S603 — this interpreter, a fixed program
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == threshold
