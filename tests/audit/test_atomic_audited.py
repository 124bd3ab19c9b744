"""atomic_audited: a service's audit rows are appended when it returns, so the chain's lock (one writer at a
time, system-wide) is held from its last statements to the commit, not for the whole service."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest
from django.db import connection

from pingan.audit import chain
from pingan.audit.models import AuditEvent
from pingan.audit.services import atomic_audited, audit_record
from pingan.core.actors import SYSTEM

pytestmark = pytest.mark.django_db(transaction=True)


def _actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


@atomic_audited
def _service(actions: list[str], fail: bool = False, seen: list[int] | None = None) -> str:
    for action in actions:
        event = audit_record(actor=SYSTEM, action=action, changes={"a": action})
        assert event.pk is None  # recorded, not yet in the chain
    if seen is not None:
        seen.append(AuditEvent.objects.count())
    if fail:
        raise RuntimeError("the service failed")
    return "done"


def test_rows_are_appended_when_the_service_returns_in_the_order_recorded() -> None:
    seen: list[int] = []
    assert _service(["test.one", "test.two", "test.three"], seen=seen) == "done"
    assert seen == [0]  # nothing written while the service ran
    assert _actions() == ["test.one", "test.two", "test.three"]
    assert chain.verify().ok


def test_a_failed_service_writes_no_row_and_nothing_else() -> None:
    with pytest.raises(RuntimeError):
        _service(["test.lost"], fail=True)
    assert _actions() == []
    audit_record(actor=SYSTEM, action="test.after")  # outside a service: appended at once, as always
    assert _actions() == ["test.after"]
    assert chain.verify().ok


@atomic_audited
def _outer(inner_fails: bool) -> None:
    audit_record(actor=SYSTEM, action="test.outer.before")
    with contextlib.suppress(RuntimeError):  # its savepoint rolled back: its row must not be written either
        _service(["test.inner"], fail=inner_fails)
    audit_record(actor=SYSTEM, action="test.outer.after")


def test_a_nested_service_adds_to_the_outer_rows() -> None:
    _outer(inner_fails=False)
    assert _actions() == ["test.outer.before", "test.inner", "test.outer.after"]


def test_a_nested_service_that_fails_drops_only_its_own_rows() -> None:
    _outer(inner_fails=True)
    assert _actions() == ["test.outer.before", "test.outer.after"]
    assert chain.verify().ok


def test_the_chain_lock_is_free_while_an_audited_service_runs(postgres_only: Any) -> None:
    """Another writer appends while a service is between its audited steps: it waits for nothing."""
    inside, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    @atomic_audited
    def slow_service() -> None:
        audit_record(actor=SYSTEM, action="test.slow")
        inside.set()
        if not release.wait(timeout=30):
            raise TimeoutError

    def run() -> None:
        try:
            slow_service()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert inside.wait(timeout=30)
        with connection.cursor() as cursor:  # would block (lock_timeout: fail) if the chain were locked
            cursor.execute("SET lock_timeout = '2s'")
            audit_record(actor=SYSTEM, action="test.meanwhile")
            cursor.execute("SET lock_timeout = 0")
    finally:
        release.set()
        thread.join(timeout=30)
    assert not errors, errors
    assert _actions() == ["test.meanwhile", "test.slow"]
    assert chain.verify().ok
