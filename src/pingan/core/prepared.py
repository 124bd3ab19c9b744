"""Prepared statements for the few fixed statements on a hot path (PostgreSQL).

Django sends every statement as text with its values quoted in (psycopg's client-side binding), and PostgreSQL
parses and plans it each time. For the statements an event report runs and nothing else does (its inserts,
the day's counter, the grid's ancestors, the centre's notifications) and every audit row, that was a fifth of
the database's time per report (docs/benchmarks.md, "Eleventh session"). ``prepared_cursor()`` gives a cursor
that sends the values apart and has PostgreSQL keep each statement parsed for the life of the connection.

Only statements whose text is fixed and whose plan cannot depend on the values belong here: an INSERT …
VALUES, or a lookup by a key. A query whose best plan depends on its values (a filtered list) must not be
prepared, since PostgreSQL may then settle on one generic plan for all values.

The settings give psycopg a threshold of automatic preparation that is never reached, so nothing else is
prepared (Django's own cursors bind on the client and never prepare). With a threshold set, psycopg still
counts every statement in a table of its last 100 (microseconds each; in the measurements above), and a
``ROLLBACK`` or ``DROP`` makes it forget what it prepared: the next run prepares the statement again.

``PINGAN_PG_PREPARED=0`` leaves the threshold unset and then nothing is prepared at all: for a connection
pooler that cannot keep prepared statements (PgBouncer in transaction mode before 1.21, or without
``max_prepared_statements``). The statements still run, binding on the server. SQLite: an ordinary cursor.

It goes through Django's cursor wrapper, so query logging, ``CaptureQueriesContext`` and execute wrappers see
these statements as they see any other.
"""

from __future__ import annotations

import functools
import re
from typing import Any, cast

from django.db import connections


def prepared_cursor(using: str = "default") -> Any:
    """A cursor of ``using`` whose statements are prepared (PostgreSQL), to use as ``with … as cursor``."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return connection.cursor()
    # as connection.cursor() does, with this cursor class: a live connection, the cursor wrapped for logging
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = _cursor_class()(connection.connection)
    return cast(Any, connection)._prepare_cursor(cursor)


@functools.cache
def _cursor_class() -> type:
    """Django's cursor (its ``callproc``) on psycopg's raw cursor, asking psycopg to prepare what it executes
    (made on first use: the psycopg backend is imported only when PostgreSQL is in use). The raw cursor sends
    the text as it is, with PostgreSQL's ``$1`` placeholders (``numbered()``, once per statement): psycopg's
    own cursors parse the text for ``%s`` on every run once a statement has more than 50 values (a report's
    event with its step and photo has about 60; docs/benchmarks.md)."""
    import psycopg
    from django.db.backends.postgresql import base

    mixin: Any = base.CursorMixin

    class PreparedCursor(mixin, psycopg.RawCursor):
        def execute(self, query: Any, params: Any = None, *, prepare: Any = None, binary: Any = None) -> Any:
            if params is not None:
                query = numbered(query)
            return super().execute(query, params, prepare=True, binary=binary)

        def _send_query_prepared(self, name: bytes, pgq: Any, **kwargs: Any) -> None:
            # psycopg keeps the statement it sent only when it did not prepare it; Django's query log reads it
            # from there (tests/core/test_prepared.py)
            self._query = pgq
            super()._send_query_prepared(name, pgq, **kwargs)

    return PreparedCursor


_PLACEHOLDER = re.compile(r"%(.|$)", re.DOTALL)


@functools.lru_cache(maxsize=1024)
def numbered(query: str) -> str:
    """``query`` with psycopg's placeholders ``%s`` as PostgreSQL's ``$1``, ``$2``… and ``%%`` as ``%``.
    Raises ValueError for any other ``%`` (a named placeholder ``%(name)s``, a stray ``%``)."""
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(1) == "%":
            return "%"
        if match.group(1) != "s":
            raise ValueError(f"prepared statements take %s placeholders only: {query[:80]!r}")
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(replace, query)
