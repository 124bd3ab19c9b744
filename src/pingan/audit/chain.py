"""The hash chain of the audit trail.

Each row stores ``prev_hash`` (the previous row's ``row_hash``) and ``row_hash`` = HMAC-SM3 with the
audit MAC key (``pingan.core.crypto``) over the canonical serialisation of the row:

    b"pingan-audit/1\\n" + JSON([seq, occurred_at, kind, actor_id, actor_username, actor_role, action,
                                object_type, object_id, object_repr, area_code, subject_type,
                                subject_id, subject_label, changes, reason, source_ip, user_agent,
                                outcome, prev_hash])

JSON with sorted keys, no whitespace, UTF-8 (``ensure_ascii=False``); ``occurred_at`` in UTC as ISO 8601
with microseconds (``2026-11-28T06:37:05.123456+00:00``); ``source_ip`` in its compressed form. The
values are normalised *before* they are stored (``normalise_json``) so that what the database gives
back serialises to the same bytes on SQLite and on PostgreSQL (jsonb).

``seq`` is a gapless sequence assigned inside the writing transaction while holding the chain lock:
``pg_advisory_xact_lock`` on PostgreSQL, the database write lock on SQLite (IMMEDIATE transactions).
A unique constraint on ``prev_hash`` makes a fork (two rows chaining onto one predecessor) impossible
even if the lock were bypassed.

``changes_json`` keeps the changes' canonical JSON text next to the ``jsonb`` column, so that on PostgreSQL
``verify`` lets the server rebuild each row's signed text (``_server_canonical_sql``) and Python only computes
the MAC; rows the server cannot rebuild identically are checked again the slow way.

The first row chains onto ``GENESIS``. After a retention purge the first remaining row chains onto the
last purged row; a purge record (action ``audit.purge``, itself a chained row) names that row's seq and
hash, so ``verify`` can tell a purge from rows removed by an attacker.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import ipaddress
import json
import math
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, hmac
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from pingan.core.crypto import key_ring
from pingan.core.inserts import insert

GENESIS = "0" * 64
VERSION = b"pingan-audit/1\n"
PURGE_ACTION = "audit.purge"
# verify(workers=N) splits the walk between processes only above this many rows
PARALLEL_MIN_ROWS = 50_000
# pg_advisory_xact_lock key: b"pinganAU" as a signed 64-bit integer. Every audit writer takes it.
CHAIN_LOCK_KEY = int.from_bytes(b"pinganAU", "big", signed=True)

# The chained columns, in the order they are serialised.
CHAIN_FIELDS = (
    "seq",
    "occurred_at",
    "kind",
    "actor_id",
    "actor_username",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "area_code",
    "subject_type",
    "subject_id",
    "subject_label",
    "changes",
    "reason",
    "source_ip",
    "user_agent",
    "outcome",
    "prev_hash",
)
_TIME = CHAIN_FIELDS.index("occurred_at")
_IP = CHAIN_FIELDS.index("source_ip")
_SEQ = CHAIN_FIELDS.index("seq")
_PREV = CHAIN_FIELDS.index("prev_hash")
_ACTION = CHAIN_FIELDS.index("action")
_CHANGES = CHAIN_FIELDS.index("changes")
_UTC = dt.UTC


# --- normalisation --------------------------------------------------------------------------------


def _clean_text(value: str) -> str:
    # PostgreSQL text and jsonb refuse NUL; lone surrogates cannot be encoded as UTF-8.
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def normalise_json(value: Any) -> Any:
    """The value as the database will give it back: JSON types only, keys as text, no NUL, floats that
    jsonb would turn into integers (1e16, 1e20) as integers, -0.0 as 0.0, NaN/Infinity as text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value == 0:
            return 0.0
        if value.is_integer() and abs(value) >= 1e16:
            return int(value)
        return value
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        return {_clean_text(str(k)): normalise_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [normalise_json(v) for v in items]
    from django.core.serializers.json import DjangoJSONEncoder

    try:
        converted = DjangoJSONEncoder().default(value)  # dates, decimals, UUIDs, lazy strings
    except TypeError:
        converted = str(value)
    return normalise_json(converted)


@functools.lru_cache(maxsize=1024)  # a user's address repeats from one audit row to the next
def normalise_ip(value: str | None) -> str | None:
    """The compressed form; an IPv4-mapped IPv6 address as the IPv4 address it carries."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped) if mapped is not None else address.compressed


_ZERO = dt.timedelta(0)


def utc_iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    if value.utcoffset() != _ZERO:
        value = value.astimezone(_UTC)
    return value.isoformat(timespec="microseconds")


# --- MAC --------------------------------------------------------------------------------------------


def _mac_function() -> Callable[[bytes], str]:
    """HMAC-SM3 with the audit key; the keyed state is set up once and copied per row (2x faster)."""
    base = hmac.HMAC(key_ring().mac_key, hashes.SM3())

    def mac(data: bytes) -> str:
        h = base.copy()
        h.update(data)
        return h.finalize().hex()

    return mac


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _not_json(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON (normalise_json first)")


# The C encoder behind json.dumps(..., ensure_ascii=False, sort_keys=True, separators=(",", ":")), built once:
# the same bytes, without building an encoder per row (half the cost of a row in ``verify``).
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODE = (
    _c_make_encoder(None, _not_json, json.encoder.encode_basestring, None, ":", ",", True, False, True)
    if _c_make_encoder is not None
    else None
)


def _encode(row: list[Any]) -> str:
    if _C_ENCODE is not None:
        return "".join(_C_ENCODE(row, 0))
    return _ENCODER.encode(row)


def canonical(values: Sequence[Any]) -> bytes:
    """The bytes the MAC covers, from the chained values in CHAIN_FIELDS order. Accepts them as the ORM
    reads them (a datetime, the parsed JSON) or as the fast PostgreSQL reader does (the UTC ISO time and
    the JSON as text)."""
    row = list(values)
    moment = row[_TIME]
    if moment.__class__ is not str:
        row[_TIME] = utc_iso(moment)
    address = row[_IP]
    if address is not None and ":" in address:  # IPv4 is stored and read back in its canonical form
        row[_IP] = normalise_ip(address)
    changes = row[_CHANGES]
    if changes.__class__ is str:
        row[_CHANGES] = json.loads(changes) if changes != "{}" else {}
    return VERSION + _encode(row).encode("utf-8")


def encode_changes(changes: Any) -> str:
    """The canonical JSON text of (normalised) changes, as stored in ``changes_json``."""
    return _encode(changes)


def row_hash(values: Sequence[Any], mac: Callable[[bytes], str] | None = None) -> str:
    return (mac or _mac_function())(canonical(values))


def chain_values(event: Any) -> list[Any]:
    return [getattr(event, name) for name in CHAIN_FIELDS]


# --- appending ----------------------------------------------------------------------------------------


def lock_chain(connection: BaseDatabaseWrapper) -> None:
    """Serialise audit writers until the end of the current transaction. PostgreSQL: a transaction-level
    advisory lock (released at commit or rollback). SQLite: the transaction already holds the database
    write lock (settings use IMMEDIATE transactions), so writers are serialised."""
    if not connection.in_atomic_block:
        raise RuntimeError("lock_chain must run inside transaction.atomic()")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    elif (
        connection.vendor == "sqlite"
        and connection.settings_dict.get("OPTIONS", {}).get("transaction_mode") != "IMMEDIATE"
    ):
        raise RuntimeError("SQLite must use IMMEDIATE transactions (settings.py) for the audit chain")


def _head_sql(connection: BaseDatabaseWrapper) -> str:
    """The statement reading the chain's last (seq, row_hash): run on every audited write, so written out
    once from the model's table name rather than built by the ORM each time."""
    from pingan.audit.models import AuditEvent

    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    return f"SELECT seq, row_hash FROM {table} ORDER BY seq DESC LIMIT 1"  # noqa: S608


def _head(last: Any) -> tuple[int, str]:
    return (last[0], last[1]) if last is not None else (0, GENESIS)


def chain_head(using: str = "default") -> tuple[int, str]:
    """(seq, row_hash) of the last row, or (0, GENESIS). Call under lock_chain."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(_head_sql(connection))
        return _head(cursor.fetchone())


def locked_head(using: str = "default") -> tuple[int, str]:
    """``lock_chain`` then ``chain_head``: the chain's last (seq, row_hash), read once this transaction holds
    the chain. On PostgreSQL with client-side binding (Django's default) both statements go in one round trip
    (one query string; each of its statements takes its own snapshot, so the head is read after the lock is
    granted, as with two round trips). Every audited write calls it."""
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.settings_dict["OPTIONS"].get("server_side_binding"):
        lock_chain(connection)
        return chain_head(using)
    if not connection.in_atomic_block:
        raise RuntimeError("locked_head must run inside transaction.atomic()")
    with connection.cursor() as cursor:  # the lock's key is a constant of this module, not input
        cursor.execute(f"SELECT pg_advisory_xact_lock({int(CHAIN_LOCK_KEY)}); {_head_sql(connection)}")
        cursor.nextset()
        return _head(cursor.fetchone())


def append(event: Any, using: str = "default") -> Any:
    """Chain and insert one unsaved AuditEvent in the current transaction (services.audit_record)."""
    # no savepoint of its own (two round trips on every audited write): if the insert fails, the whole
    # transaction must roll back anyway, since a write must not commit without its audit row
    with transaction.atomic(using=using, savepoint=False):
        seq, prev = locked_head(using)
        event.seq = seq + 1
        event.prev_hash = prev
        from django.utils import timezone

        event.occurred_at = timezone.now()  # taken under the lock: time order follows seq order
        event.changes_json = encode_changes(event.changes)
        event.row_hash = row_hash(chain_values(event))
        insert([event], using=using)  # the row save() would write, without building its query
    return event


def build_chain(
    rows: Iterable[dict[str, Any]], *, start_seq: int, prev_hash: str
) -> Iterator[dict[str, Any]]:
    """Chain ready-made row dicts (every CHAIN_FIELDS key but seq/prev_hash): yields them with seq,
    prev_hash and row_hash set. For bulk loads (benchmark, data migration)."""
    mac = _mac_function()
    seq, prev = start_seq, prev_hash
    for row in rows:
        row["seq"], row["prev_hash"] = seq, prev
        row["changes"] = normalise_json(row.get("changes") or {})
        row["changes_json"] = encode_changes(row["changes"])
        row["source_ip"] = normalise_ip(row.get("source_ip"))
        row["row_hash"] = prev = mac(canonical([row[name] for name in CHAIN_FIELDS]))
        seq += 1
        yield row


def append_bulk(rows: Iterable[dict[str, Any]], *, using: str = "default", batch: int = 5000) -> int:
    """Chain and insert many rows at the head of the chain in one transaction (COPY on PostgreSQL).
    Returns the number of rows written. Used by the benchmark; services use ``append``."""
    from pingan.audit.models import AuditEvent

    connection = connections[using]
    written = 0
    with transaction.atomic(using=using):
        seq, prev = locked_head(using)
        chained = build_chain(rows, start_seq=seq + 1, prev_hash=prev)
        columns = [*CHAIN_FIELDS, "row_hash", "changes_json"]
        if connection.vendor == "postgresql":
            table = AuditEvent._meta.db_table
            with connection.cursor() as cursor:
                copy_sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                with cursor.cursor.copy(copy_sql) as copy:
                    for row in chained:
                        values = [row[c] for c in columns]
                        values[_CHANGES] = row["changes_json"]  # the same JSON, as text for jsonb
                        copy.write_row(values)
                        written += 1
        else:
            pending: list[AuditEvent] = []
            for row in chained:
                pending.append(AuditEvent(**{c: row[c] for c in columns}))
                if len(pending) >= batch:
                    AuditEvent.objects.using(using).all()._chain_insert(pending)
                    written += len(pending)
                    pending = []
            if pending:
                AuditEvent.objects.using(using).all()._chain_insert(pending)
                written += len(pending)
    return written


# --- verification ----------------------------------------------------------------------------------


@dataclass
class Problem:
    kind: str  # changed | removed | inserted
    seq: int
    id: int | None
    message: str


@dataclass
class VerifyResult:
    ok: bool
    checked: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    seconds: float = 0.0
    workers: int = 1
    problem: Problem | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rows_per_second"] = round(self.checked / self.seconds) if self.seconds else None
        return data


@dataclass
class _Scan:
    """One walk over consecutive rows. The first row's link is left to the caller to check."""

    first_seq: int | None = None
    first_id: int | None = None
    first_link: str | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    checked: int = 0
    problem: Problem | None = None


def _changed(seq: int, row_id: int | None) -> Problem:
    return Problem("changed", seq, row_id, f"第 {seq} 条的内容与其校验码不符（被修改或伪造）")


# Rows as the readers give them: (seq, prev_hash, id, row_hash, ...) and a check of the rest.
_R_SEQ, _R_LINK, _R_ID, _R_HASH = 0, 1, 2, 3
RowCheck = Callable[[Sequence[Any]], bool]


def _scan(rows: Iterable[Sequence[Any]], check: RowCheck, stop_seq: int | None = None) -> _Scan:
    """Check seq continuity, links and MACs; stop at the first problem. Rows past ``stop_seq`` are read only
    to tell whether a row whose MAC failed was edited (the next row still chains onto it) or inserted (the
    next row skips it, chaining onto its predecessor)."""
    scan = _Scan()
    prev_seq = 0
    prev_hash = ""
    suspect: tuple[int, int, str] | None = None  # (seq, id, link) of a row whose MAC failed
    for row in rows:
        seq, link, row_id, stored = row[_R_SEQ], row[_R_LINK], row[_R_ID], row[_R_HASH]
        if suspect is not None:
            s_seq, s_id, s_link = suspect
            if link == s_link and seq != s_seq:
                scan.problem = Problem(
                    "inserted",
                    s_seq,
                    s_id,
                    f"第 {s_seq} 条是插入的记录：后一条（第 {seq} 条）越过它接在前一条之后",
                )
            else:
                scan.problem = _changed(s_seq, s_id)
            return scan
        if stop_seq is not None and seq > stop_seq:
            break
        if scan.first_seq is None:
            scan.first_seq, scan.first_id, scan.first_link = seq, row_id, link
        elif seq <= prev_seq:
            scan.problem = Problem(
                "inserted", seq, row_id, f"第 {seq} 条的序号重复或倒序（前一条为第 {prev_seq} 条）"
            )
            return scan
        elif seq > prev_seq + 1:
            missing = f"{prev_seq + 1}" if seq == prev_seq + 2 else f"{prev_seq + 1}–{seq - 1}"
            scan.problem = Problem(
                "removed", prev_seq + 1, None, f"第 {missing} 条被删除（序号在第 {seq} 条之前中断）"
            )
            return scan
        elif link != prev_hash:
            scan.problem = Problem(
                "inserted",
                seq,
                row_id,
                f"第 {seq} 条没有接在前一条（第 {prev_seq} 条）之后：被插入，或其前的记录被删除后重新编号",
            )
            return scan
        if check(row):
            scan.checked += 1
        else:
            suspect = (seq, row_id, link)
        prev_seq, prev_hash = seq, stored
        scan.last_seq, scan.last_hash = seq, stored
    if suspect is not None:
        scan.problem = _changed(suspect[0], suspect[1])
    return scan


def _orm_check(mac: Callable[[bytes], str]) -> RowCheck:
    """Rows (seq, prev_hash, id, row_hash, changes_json, *CHAIN_FIELDS): the signed text of the changes must
    say what the changes column says, and the MAC must match the canonical form."""

    def check(row: Sequence[Any]) -> bool:
        values = row[5:]
        return row[4] == encode_changes(values[_CHANGES]) and mac(canonical(values)) == row[_R_HASH]

    return check


def _check_by_id(row_id: int, mac: Callable[[bytes], str], using: str) -> bool:
    from pingan.audit.models import AuditEvent

    row = (
        AuditEvent.objects.using(using)
        .filter(pk=row_id)
        .values_list("seq", "prev_hash", "id", "row_hash", "changes_json", *CHAIN_FIELDS)
        .first()
    )
    return row is not None and _orm_check(mac)(row)


def _server_check(mac: Callable[[bytes], str], using: str) -> RowCheck:
    """Rows (seq, prev_hash, id, row_hash, canonical text built by PostgreSQL, changes consistent): one MAC
    per row and no parsing in Python. The server's text differs from Python's only for rare address forms
    (IPv4-compatible IPv6, ``::a.b.c.d``); such a row is checked again from its columns."""

    def check(row: Sequence[Any]) -> bool:
        if not row[5]:
            return False
        if mac(VERSION + row[4].encode("utf-8")) == row[_R_HASH]:
            return True
        return _check_by_id(row[_R_ID], mac, using)

    return check


def _purge_anchor(first_seq: int, first_prev: str, using: str, mac: Callable[[bytes], str]) -> str | None:
    """The purge record vouching that rows before ``first_seq`` were purged; None if there is none.
    The record's own MAC is checked here (it is checked again when the walk reaches it)."""
    from pingan.audit.models import AuditEvent

    candidates = (
        AuditEvent.objects.using(using).filter(action=PURGE_ACTION, seq__gt=first_seq).order_by("seq")
    )
    for values in candidates.values_list(*CHAIN_FIELDS, "row_hash"):
        changes = values[_CHANGES] or {}
        if (
            changes.get("purged_through_seq") == first_seq - 1
            and changes.get("purged_last_hash") == first_prev
            and mac(canonical(values[:-1])) == values[-1]
        ):
            return f"第 {first_seq} 条之前的记录已按保留期清除（清除记录 #{values[_SEQ]}）"
    return None


def _start_problem(
    seq: int, row_id: int | None, link: str, from_seq: int | None, using: str, mac: Callable[[bytes], str]
) -> Problem | str:
    """Check what the first row read chains onto. Returns the problem, or a note ("" when none)."""
    from pingan.audit.models import AuditEvent

    if from_seq is not None and seq != from_seq and _earliest_seq(using) <= from_seq:
        return Problem("removed", from_seq, None, f"第 {from_seq} 条被删除（从第 {seq} 条起才有记录）")
    expected: str | None = None
    note = ""
    if from_seq is not None and seq > 1:
        # rows before --from count as verified by an earlier run
        expected = (
            AuditEvent.objects.using(using).filter(seq=seq - 1).values_list("row_hash", flat=True).first()
        )
    if expected is None and seq == 1:
        expected = GENESIS
    if expected is None:
        anchor = _purge_anchor(seq, link, using, mac)
        if anchor is None:
            return Problem(
                "removed", seq - 1, None, f"第 {seq} 条之前的记录缺失，且没有清除记录说明（链头被删除）"
            )
        expected, note = link, anchor
    if link != expected:
        return Problem("inserted", seq, row_id, f"第 {seq} 条没有接在前一条之后：被插入，或其前的记录被删除")
    return note


def verify(
    *,
    from_seq: int | None = None,
    using: str = "default",
    chunk_size: int = 20000,
    expect_head: tuple[int, str] | None = None,
    workers: int = 1,
) -> VerifyResult:
    """Walk the chain in seq order and name the first row that was changed, removed or inserted.

    - changed: the row's content no longer matches its MAC (edited, or forged without the key);
    - removed: a seq is missing (a gap), or rows before the first one are gone without a purge record,
      or ``expect_head`` names a row that is no longer there (tail truncation);
    - inserted: the row does not chain onto its predecessor, repeats or goes back in seq, or is a forged
      row that the next row skips over.

    ``workers`` > 1 splits the seq range between processes on PostgreSQL (outside a transaction) and
    checks that the pieces join up; the result is the same as a single walk.
    """
    import time

    from pingan.audit.models import AuditEvent

    started = time.perf_counter()
    mac = _mac_function()
    result = VerifyResult(ok=True)

    def done(problem: Problem | None = None) -> VerifyResult:
        result.ok = problem is None
        result.problem = problem
        result.seconds = time.perf_counter() - started
        return result

    scans = _parallel_scans(using, from_seq, chunk_size, workers) if workers > 1 else None
    if scans is None:
        scans = [_scan_rows(using, from_seq, None, chunk_size, None)]
    else:
        result.workers = len(scans)
    scans = [scan for scan in scans if scan.first_seq is not None or scan.problem is not None]
    previous: _Scan | None = None
    for scan in scans:
        if scan.first_seq is not None:
            if previous is None:
                result.first_seq = scan.first_seq
                start = _start_problem(
                    scan.first_seq, scan.first_id, scan.first_link or "", from_seq, using, mac
                )
                if isinstance(start, Problem):
                    return done(start)
                if start:
                    result.notes.append(start)
            else:
                joined = _join_problem(previous, scan)
                if joined is not None:
                    return done(joined)
        result.checked += scan.checked
        if scan.problem is not None:
            return done(scan.problem)
        previous = scan
    if previous is not None:
        result.last_seq, result.last_hash = previous.last_seq, previous.last_hash
    elif from_seq is not None and _earliest_seq(using) <= from_seq:
        return done(Problem("removed", from_seq, None, f"第 {from_seq} 条及其后的记录不存在"))
    if expect_head is not None:
        head_seq, head_hash = expect_head
        if result.last_seq is None or result.last_seq < head_seq:
            return done(
                Problem(
                    "removed",
                    head_seq,
                    None,
                    f"第 {head_seq} 条不存在：链尾被截断（现存最后一条为第 {result.last_seq} 条）",
                )
            )
        found = (
            AuditEvent.objects.using(using).filter(seq=head_seq).values_list("row_hash", flat=True).first()
        )
        if found != head_hash:
            return done(Problem("changed", head_seq, None, f"第 {head_seq} 条的摘要与此前记下的链头不符"))
    return done()


def _join_problem(before: _Scan, after: _Scan) -> Problem | None:
    """Do two consecutive pieces of a parallel walk join up?"""
    assert before.last_seq is not None and after.first_seq is not None
    seq = after.first_seq
    if seq <= before.last_seq:
        return Problem("inserted", seq, after.first_id, f"第 {seq} 条的序号重复或倒序")
    if seq > before.last_seq + 1:
        last = before.last_seq
        missing = f"{last + 1}" if seq == last + 2 else f"{last + 1}–{seq - 1}"
        return Problem("removed", last + 1, None, f"第 {missing} 条被删除（序号在第 {seq} 条之前中断）")
    if after.first_link != before.last_hash:
        return Problem(
            "inserted", seq, after.first_id, f"第 {seq} 条没有接在前一条（第 {before.last_seq} 条）之后"
        )
    return None


_INHERITED: list[Any] = []


def _scan_range(args: tuple[str, int, int, int]) -> _Scan:
    """A worker process: scan seq in [low, high] (and read past high only to judge a failed last row)."""
    using, low, high, chunk_size = args
    # Never use a connection object inherited through fork: its socket belongs to the parent's session (and
    # to the sibling processes). Drop it without closing it (closing would end the parent's session) and keep
    # a reference so that no finaliser closes it either; the process exits without running finalisers.
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            _INHERITED.append(connection.connection)
            connection.connection = None
    try:
        return _scan_rows(using, low, None, chunk_size, high)
    finally:
        connections.close_all()


def _parallel_scans(using: str, from_seq: int | None, chunk_size: int, workers: int) -> list[_Scan] | None:
    """Scan seq ranges in ``workers`` processes; None when that is not possible (not PostgreSQL, inside a
    transaction, or too few rows to be worth it)."""
    from django.db.models import Max, Min

    from pingan.audit.models import AuditEvent
    from pingan.core.processes import fork_pool

    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    qs = AuditEvent.objects.using(using)
    if from_seq is not None:
        qs = qs.filter(seq__gte=from_seq)
    bounds = qs.aggregate(low=Min("seq"), high=Max("seq"))
    low, high = bounds["low"], bounds["high"]
    if low is None or high - low < PARALLEL_MIN_ROWS:
        return None
    step = (high - low + workers) // workers
    ranges = [(using, a, min(a + step - 1, high), chunk_size) for a in range(low, high + 1, step)]
    ranges[-1] = (using, ranges[-1][1], 2**62, chunk_size)  # the last piece reads to the end of the table
    connections.close_all()  # each process opens its own connection
    # one process per range (maxtasksperchild): no process scans twice on one connection
    with fork_pool(len(ranges), maxtasksperchild=1) as pool:
        return pool.map(_scan_range, ranges)


def _server_canonical_sql() -> str:
    """SQL that builds, on PostgreSQL, the same text as ``_encode`` of the chained values: ``to_json`` of a
    text escapes exactly as Python's JSON encoder (``ensure_ascii=False``) does, and the changes are spliced
    in from ``changes_json``."""
    special = {
        "seq": "seq::text",
        # digits and separators only: quoted without to_json
        "occurred_at": "'\"' || to_char(occurred_at AT TIME ZONE 'UTC', "
        '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\') || \'"\'',
        "actor_id": "coalesce(actor_id::text, 'null')",
        "changes": "changes_json",
        "source_ip": "coalesce(to_json(host(source_ip))::text, 'null')",
    }
    parts = [special.get(name, f"to_json({name})::text") for name in CHAIN_FIELDS]
    return "'[' || " + " || ',' || ".join(parts) + " || ']'"


def _read_rows(
    using: str, from_seq: int | None, to_seq: int | None, chunk_size: int, server: bool = True
) -> tuple[Generator[Sequence[Any], None, None], RowCheck]:
    """The rows in (seq, id) order, in batches, and the check for their layout.

    PostgreSQL (``server``): one server-side cursor in a read-only REPEATABLE READ snapshot (when not inside a
    transaction already); the server builds each row's canonical text and compares ``changes`` with
    ``changes_json``, so Python computes one MAC per row. Elsewhere: the ORM's values_list iterator and the
    canonical form computed in Python."""
    connection = connections[using]
    mac = _mac_function()
    low = from_seq if from_seq is not None else -(2**62)
    high = to_seq if to_seq is not None else 2**62
    if connection.vendor == "postgresql" and server:
        return _server_rows(using, low, high, chunk_size), _server_check(mac, using)
    return _orm_rows(using, low, high, chunk_size), _orm_check(mac)


def _orm_rows(using: str, low: int, high: int, chunk_size: int) -> Generator[Sequence[Any], None, None]:
    from pingan.audit.models import AuditEvent

    qs = AuditEvent.objects.using(using).filter(seq__gte=low, seq__lte=high).order_by("seq", "id")
    yield from qs.values_list("seq", "prev_hash", "id", "row_hash", "changes_json", *CHAIN_FIELDS).iterator(
        chunk_size=chunk_size
    )


def _server_rows(using: str, low: int, high: int, chunk_size: int) -> Generator[Sequence[Any], None, None]:
    from pingan.audit.models import AuditEvent

    connection = connections[using]
    table = AuditEvent._meta.db_table
    query = (
        f"SELECT seq, prev_hash, id, row_hash, {_server_canonical_sql()}, "  # noqa: S608 (constant names)
        f"changes = changes_json::jsonb FROM {table} WHERE seq BETWEEN %s AND %s ORDER BY seq, id"
    )
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        connection.ensure_connection()
        raw = connection.connection
        if outermost:
            with raw.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        with raw.cursor(name="pingan_audit_verify") as cursor:
            cursor.execute(query, [low, high])
            while batch := cursor.fetchmany(chunk_size):
                yield from batch


def _scan_rows(using: str, low: int | None, high: int | None, chunk_size: int, stop_seq: int | None) -> _Scan:
    """Scan with the server's help; if the server cannot read a row (``changes_json`` that is not JSON at all,
    a tampered row), scan again the slow way, which names it."""
    import psycopg
    from django.db import DatabaseError

    try:
        rows, check = _read_rows(using, low, high, chunk_size)
        with contextlib.closing(rows):
            return _scan(rows, check, stop_seq)
    except (DatabaseError, psycopg.Error):
        rows, check = _read_rows(using, low, high, chunk_size, server=False)
        with contextlib.closing(rows):
            return _scan(rows, check, stop_seq)


def _earliest_seq(using: str) -> int:
    from pingan.audit.models import AuditEvent

    return AuditEvent.objects.using(using).order_by("seq").values_list("seq", flat=True).first() or 0
