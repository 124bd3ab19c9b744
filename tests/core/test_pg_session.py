"""Every PostgreSQL connection's settings (core.apps.postgres_session_settings): no JIT, and the random page
cost of SSD or memory unless PINGAN_PG_RANDOM_PAGE_COST says otherwise."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from pingan.core.apps import postgres_session_settings


class _Connection:
    vendor = "postgresql"

    def __init__(self) -> None:
        self.executed: list[str] = []

    @contextmanager
    def cursor(self):
        yield self

    def execute(self, sql: str) -> None:
        self.executed.append(sql)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("1.1", ["SET jit = off", "SET random_page_cost = 1.1"]),
        ("2", ["SET jit = off", "SET random_page_cost = 2.0"]),
        ("", ["SET jit = off"]),  # the server's own setting
    ],
)
def test_statements(settings, setting, expected):
    settings.PG_RANDOM_PAGE_COST = setting
    connection = _Connection()
    postgres_session_settings(sender=None, connection=connection)
    assert connection.executed == expected


def test_a_cost_that_is_not_a_number_is_refused(settings):
    settings.PG_RANDOM_PAGE_COST = "1; DROP TABLE people_person"
    with pytest.raises(ValueError):
        postgres_session_settings(sender=None, connection=_Connection())


def test_other_databases_are_left_alone(settings):
    connection = _Connection()
    connection.vendor = "sqlite"
    postgres_session_settings(sender=None, connection=connection)
    assert connection.executed == []


def test_a_real_connection(db, postgres_only):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
        cursor.execute("SHOW random_page_cost")
        cost = cursor.fetchone()[0]
    assert (jit, cost) == ("off", "1.1")
