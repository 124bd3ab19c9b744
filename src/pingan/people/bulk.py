"""Bulk writes of people: the roster import (``people/importers.py``) and ``pingan seed --people``.

A person row is encoded once, without model instances: every concrete column in table order, the
encrypted fields as SM4-GCM tokens, the blind indexes computed from their sources by the fields
themselves (``BlindIndexField.index_for``, so the values are exactly what ``save()`` would store), the
pinyin and initials of the name. On PostgreSQL the rows go in with ``COPY`` (ids reserved from the
sequence first, so the history and permit rows can refer to them without reading anything back);
elsewhere with ``bulk_create``.

Encoding is the expensive part (two to four encryptions, five HMACs and the pinyin per row): for large
batches it runs in worker processes (``encode_parallel`` through ``parallel_chunks``), while this process
streams the encoded rows into COPY as they arrive. (Validating in the workers too was tried on 2026-12-06:
sending the rows there and the cleaned values back cost more CPU than it moved off this process, and on two
cores the import got no faster.)
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import functools
import itertools
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence, Sized
from typing import Any, TypeVar

from django.db import connection, connections

from pingan.core import crypto
from pingan.core.fields import BlindIndexField, EncryptedTextField
from pingan.core.processes import can_fork, fork_pool
from pingan.people.models import Person
from pingan.people.pinyin import name_pinyin, phrase_dependent

PARALLEL_MIN_ROWS = 5000  # below this, worker processes cost more than they save
CHUNK = 2000
IN_FLIGHT = 2  # chunks per worker sent ahead of the consumer (encode_parallel)


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: str) -> str:
    """A text value as COPY's text format writes it (backslash, tab, newline and return escaped)."""
    return value.translate(_COPY_ESCAPES)


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, str):
        return copy_text(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):  # datetimes too (aware: isoformat keeps the offset)
        return value.isoformat()
    raise TypeError(f"no COPY text for {type(value).__name__}")


def copy_line(values: Sequence[Any]) -> str:
    """One row in COPY's text format (what psycopg's ``write_row`` sends), for the types a person row has:
    text, booleans, integers, dates and aware datetimes, None (NULL). Plain strings are taken as they are
    when no string of the row holds a character to escape (the common case, checked once per row)."""
    texts = "".join(v for v in values if type(v) is str)
    if "\\" in texts or "\t" in texts or "\n" in texts or "\r" in texts:
        return "\t".join(map(_copy_value, values)) + "\n"
    return "\t".join(v if type(v) is str else _copy_value(v) for v in values) + "\n"


class PersonEncoder:
    """Cleaned person values (keyed by attname: ``area_id``…) → a tuple of every concrete column."""

    def __init__(self, now: dt.datetime) -> None:
        self.fields = list(Person._meta.concrete_fields)
        self.columns = [str(f.column) for f in self.fields]
        self.defaults: dict[str, Any] = {}
        for f in self.fields:
            if f.primary_key or isinstance(f, BlindIndexField):
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                self.defaults[f.attname] = now
            else:
                self.defaults[f.attname] = f.get_default()
        # (kind, attname, field): kind 0 plain, 1 encrypted, 2 blind index, 3 primary key
        self.plan: list[tuple[int, str, Any]] = []
        for f in self.fields:
            if f.primary_key:
                self.plan.append((3, f.attname, f))
            elif isinstance(f, BlindIndexField):
                self.plan.append((2, f.source, f))
            elif isinstance(f, EncryptedTextField):
                self.plan.append((1, f.attname, f))
            else:
                self.plan.append((0, f.attname, f))

    def encode(self, pk: int | None, values: dict[str, Any]) -> tuple[Any, ...]:
        row = {**self.defaults, **values}
        if "name_pinyin" not in values:
            row["name_pinyin"], row["name_initials"] = name_pinyin(row["name"])
        out: list[Any] = []
        encrypt = crypto.encrypt
        for kind, attname, f in self.plan:
            if kind == 0:
                out.append(row[attname])
            elif kind == 1:
                value = row[attname]
                out.append(encrypt(str(value)) if value not in (None, "") else value)
            elif kind == 2:
                out.append(f.index_for(row[attname]))
            else:
                out.append(pk)
        return tuple(out)


# --- worker processes --------------------------------------------------------------------------------

T = TypeVar("T")
R = TypeVar("R")

_worker_encoder: PersonEncoder | None = None


def _encode_chunk(now: dt.datetime, lines: bool, items: list[tuple[int | None, dict[str, Any]]]) -> list[Any]:
    global _worker_encoder
    if _worker_encoder is None or _worker_encoder.defaults.get("created_at") != now:
        _worker_encoder = PersonEncoder(now)
    encode = _worker_encoder.encode
    if lines:
        return [copy_line(encode(pk, values)) for pk, values in items]
    return [encode(pk, values) for pk, values in items]


def workers() -> int:
    """Worker processes for encoding: the CPUs this process may use (``PINGAN_IMPORT_WORKERS`` overrides;
    0 or 1 = encode here)."""
    setting = os.environ.get("PINGAN_IMPORT_WORKERS", "")
    if setting.isdigit():
        return int(setting)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _refuse_database(*args: Any) -> Any:
    raise RuntimeError("worker processes of an import have no database connection of their own")


def _worker_without_database() -> None:
    """A forked worker shares the parent's database socket: a query from it would corrupt the parent's
    session, so every query is refused (what the workers need is loaded before the fork)."""
    for conn in connections.all(initialized_only=True):
        conn.execute_wrappers.append(_refuse_database)


def parallel_chunks(
    func: Callable[[list[T]], list[R]], items: Iterable[T], *, size: int | None = None
) -> Generator[R, None, None]:
    """``func`` applied to the items chunk by chunk (``CHUNK``), results in the order given; in forked
    worker processes when there are many (``size``, when the items are a generator). ``func`` is a
    module-level function (or a partial of one) that touches no database; the workers inherit what the
    parent loaded before the call. The items are consumed lazily: at most ``IN_FLIGHT`` chunks per worker
    are sent ahead, and the next one only when the consumer takes a chunk's results (``Pool.imap`` would
    send every chunk at once and keep every result the consumer has not taken yet in this process —
    unbounded when the consumer, e.g. COPY, is slower than the workers)."""
    count = workers()
    if size is None and isinstance(items, Sized):
        size = len(items)
    iterator = iter(items)
    chunks = iter(lambda: list(itertools.islice(iterator, CHUNK)), [])
    if (size or 0) < PARALLEL_MIN_ROWS or count < 2 or not can_fork():
        for chunk in chunks:
            yield from func(chunk)
        return
    with fork_pool(count, initializer=_worker_without_database) as pool:
        pending: collections.deque[Any] = collections.deque()
        for chunk in chunks:
            pending.append(pool.apply_async(func, (chunk,)))
            if len(pending) >= IN_FLIGHT * count:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


def encode_parallel(
    items: Iterable[tuple[int | None, dict[str, Any]]],
    now: dt.datetime,
    *,
    size: int | None = None,
    lines: bool = False,
) -> Iterator[Any]:
    """Encoded rows in the order given (``parallel_chunks``: in worker processes when there are many): tuples
    of column values, or with ``lines`` COPY text lines (``copy_line``, for ``copy_lines``), which the
    workers format and send back as one string a row instead of a tuple of fifty values."""
    phrase_dependent()  # pinyin's table, built once here rather than in every worker
    return parallel_chunks(functools.partial(_encode_chunk, now, lines), items, size=size)


# --- PostgreSQL ----------------------------------------------------------------------------------------


def reserve_ids(table: str, count: int) -> list[int]:
    """``count`` ids from the table's identity sequence (so COPY can write them explicitly)."""
    if count == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
        )
        return [r[0] for r in cursor.fetchall()]


def _no_query_during_copy(*args: Any) -> Any:
    raise RuntimeError(
        "a query while COPY is writing would wait for the COPY for ever: load what the rows need first"
    )


@contextlib.contextmanager
def _copy_into(table: str, columns: Sequence[str]) -> Iterator[Any]:
    """psycopg's COPY … FROM STDIN into ``table``; a query on the connection meanwhile is refused (it would
    wait for the COPY for ever)."""
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    with (
        connection.execute_wrapper(_no_query_during_copy),
        connection.cursor() as cursor,
        cursor.copy(f"COPY {connection.ops.quote_name(table)} ({cols}) FROM STDIN") as copy,
    ):
        yield copy


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY rows into ``table`` (psycopg 3, text format); returns the number written. ``rows`` may be a
    generator that does work as it goes, but no database query: the connection is busy with the COPY (a
    query is refused with RuntimeError rather than left waiting)."""
    written = 0
    with _copy_into(table, columns) as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def copy_keyed(table: str, columns: Sequence[str], keys: Iterable[int], rest: Sequence[str]) -> int:
    """COPY rows that differ only in their first column, an integer (``keys``); the other columns take the
    same text values (``rest``; "" is an empty string, not NULL). One line of text per key, written in large
    pieces: for the import's status rows, ten times cheaper than ``copy_rows``."""
    suffix = "".join("\t" + copy_text(v) for v in rest) + "\n"
    return copy_lines(table, columns, (f"{key}{suffix}" for key in keys))


def copy_lines(table: str, columns: Sequence[str], lines: Iterable[str]) -> int:
    """COPY rows given as text lines (``copy_line``), written in pieces of many lines; returns the number
    written. As with ``copy_rows``, producing the lines may not query the database."""
    written = 0
    with _copy_into(table, columns) as copy:
        iterator = iter(lines)
        while piece := list(itertools.islice(iterator, 2000)):
            copy.write("".join(piece))
            written += len(piece)
    return written


def update_table(table: str) -> str:
    return f"_upd_{table}"


def start_update(table: str, key: str, columns: Sequence[str]) -> None:
    """A temporary table (dropped at commit) to COPY new values into: ``key`` then ``columns``."""
    q = connection.ops.quote_name
    temp = update_table(table)
    selected = ", ".join(q(c) for c in [key, *columns])  # quoted identifiers, no values
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {q(temp)}")
        create = f"CREATE TEMPORARY TABLE {q(temp)} ON COMMIT DROP AS SELECT {selected} FROM {q(table)}"  # noqa: S608
        cursor.execute(create + " WITH NO DATA")


def finish_update(table: str, key: str, columns: Sequence[str]) -> int:
    """One ``UPDATE … FROM`` the temporary table (Django's ``bulk_update`` writes a ``CASE`` per column
    and row instead); returns the number of rows updated."""
    q = connection.ops.quote_name
    temp = update_table(table)
    assignments = ", ".join(f"{q(c)} = t.{q(c)}" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {q(table)} AS p SET {assignments} FROM {q(temp)} AS t WHERE p.{q(key)} = t.{q(key)}"  # noqa: S608
        )
        updated = int(cursor.rowcount)
        cursor.execute(f"DROP TABLE {q(temp)}")
    return updated


def copy_update(table: str, key: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Update ``columns`` of the rows whose ``key`` is the first value of each row: COPY into a temporary
    table, then one ``UPDATE … FROM``."""
    start_update(table, key, columns)
    copy_rows(update_table(table), [key, *columns], rows)
    return finish_update(table, key, columns)
