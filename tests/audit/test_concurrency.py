"""Concurrent writers never chain onto the same predecessor (PostgreSQL: pg_advisory_xact_lock)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction

from pingan.audit import chain
from pingan.audit.models import AuditEvent
from pingan.audit.services import audit_record
from pingan.core.actors import SYSTEM

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 4
PER_THREAD = 40


def _writer(name: str, barrier: threading.Barrier, errors: list[BaseException], slow: bool) -> None:
    try:
        barrier.wait()
        for i in range(PER_THREAD):
            with transaction.atomic():
                audit_record(actor=SYSTEM, action="test.concurrent", changes={"thread": name, "i": i})
                if slow and i % 10 == 0:
                    time.sleep(0.01)  # hold the lock while others queue behind it
                audit_record(actor=SYSTEM, action="test.concurrent", changes={"thread": name, "i": i, "n": 2})
    except BaseException as exc:
        errors.append(exc)
    finally:
        connection.close()


def test_concurrent_writers_produce_one_valid_chain(postgres_only: Any) -> None:
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=_writer, args=(f"t{n}", barrier, errors, n % 2 == 0)) for n in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    total = THREADS * PER_THREAD * 2
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, total + 1))
    result = chain.verify()
    assert result.ok and result.checked == total
    # the two rows of one transaction are adjacent: nobody chained in between
    rows = list(AuditEvent.objects.order_by("seq").values_list("changes", flat=True))
    for first, second in zip(rows[::2], rows[1::2], strict=True):
        assert (first["thread"], first["i"]) == (second["thread"], second["i"]) and second["n"] == 2


def test_a_rolled_back_writer_leaves_no_gap(postgres_only: Any) -> None:
    audit_record(actor=SYSTEM, action="test.one")
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=SYSTEM, action="test.rolled_back")
        raise RuntimeError
    audit_record(actor=SYSTEM, action="test.two")
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", "action")) == [
        (1, "test.one"),
        (2, "test.two"),
    ]
    assert chain.verify().ok


@pytest.fixture
def small_parallel_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain, "PARALLEL_MIN_ROWS", 10)


def _problem(result: chain.VerifyResult) -> tuple[str, int] | None:
    return (result.problem.kind, result.problem.seq) if result.problem is not None else None


def test_parallel_verify_agrees_with_a_single_walk(
    postgres_only: Any, small_parallel_threshold: None
) -> None:
    from django.utils import timezone

    from tests.audit.conftest import TABLE, insert_raw, row, sql

    now = timezone.now()
    chain.append_bulk(
        {
            "occurred_at": now,
            "kind": "write",
            "actor_id": None,
            "actor_username": "bulk",
            "actor_role": "system",
            "action": "test.bulk",
            "object_type": "",
            "object_id": str(i),
            "object_repr": "",
            "area_code": "",
            "subject_type": "",
            "subject_id": "",
            "subject_label": "",
            "changes": {"i": i},
            "reason": "",
            "source_ip": "10.0.0.1",
            "user_agent": "",
            "outcome": "success",
        }
        for i in range(300)
    )
    single, parallel = chain.verify(), chain.verify(workers=3)
    assert single.ok and parallel.ok and parallel.workers == 3
    assert (parallel.checked, parallel.last_seq, parallel.last_hash) == (300, 300, single.last_hash)

    def both() -> tuple[str, int] | None:
        one, three = _problem(chain.verify()), _problem(chain.verify(workers=3))
        assert one == three
        return one

    # the pieces are seq 1-100, 101-200, 201-300
    for seq in (150, 100, 300):  # inside a piece, the last row of a piece (judged by reading on), the end
        sql(f"UPDATE {TABLE} SET action = 'x' WHERE seq = %s", [seq])  # noqa: S608
        assert both() == ("changed", seq)
        sql(f"UPDATE {TABLE} SET action = 'test.bulk' WHERE seq = %s", [seq])  # noqa: S608
    assert both() is None
    kept = row(201)
    kept.pop("id")
    sql(f"DELETE FROM {TABLE} WHERE seq = 201")  # noqa: S608  (the first row of the third piece)
    assert both() == ("removed", 201)
    insert_raw(kept)
    assert both() is None
    sql(f"UPDATE {TABLE} SET prev_hash = %s WHERE seq = 101", ["a" * 64])  # noqa: S608
    assert both() == ("inserted", 101)


def test_the_lock_and_the_head_take_one_round_trip(postgres_only: Any) -> None:
    """An audited write: the chain's lock and head in one query string, then the row (and begin, commit)."""
    from django.test.utils import CaptureQueriesContext

    audit_record(actor=SYSTEM, action="test.first")
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        audit_record(actor=SYSTEM, action="test.second")
    sqls = [q["sql"] for q in queries.captured_queries]
    assert len(sqls) == 4, sqls  # BEGIN, lock + head, INSERT, COMMIT
    assert "pg_advisory_xact_lock" in sqls[1] and "ORDER BY seq DESC LIMIT 1" in sqls[1]
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2]
    assert chain.verify().ok
