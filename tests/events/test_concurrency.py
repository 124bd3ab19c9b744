"""Two people acting on one event at the same moment: exactly one succeeds, the other gets a conflict
(EventConflict in the services, HTTP 409 in the API — tests/events/test_api.py), nothing is lost.

Real threads on PostgreSQL (each thread has its own connection; ``SELECT … FOR UPDATE`` makes the second
wait for the first to commit). The winner is slowed down while it holds the row lock, so the loser really
is waiting on it rather than arriving after the fact.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from pingan.accounts.models import User
from pingan.audit.models import AuditEvent
from pingan.events import services
from pingan.events.models import Event, EventPhoto, EventStep
from pingan.events.services import EventConflict
from tests.events.conftest import photo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def slow_lock_holder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoever gets the row lock first keeps it 0.3 s longer (inside the transaction, before commit)."""
    real = services.audit_record

    def slow(**kwargs: Any) -> Any:
        time.sleep(0.3)
        return real(**kwargs)

    monkeypatch.setattr(services, "audit_record", slow)


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment in threads; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            outcomes[index] = call()
        except BaseException as exc:  # collected and asserted on by the test
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def test_two_centre_staff_accept_at_once(
    postgres_only, slow_lock_holder, make_event, street_a, district_admin
):
    event = make_event("reported")
    outcomes = race(
        lambda: services.event_accept(actor=fresh(street_a), event_id=event.pk),
        lambda: services.event_accept(actor=fresh(district_admin), event_id=event.pk),
    )
    winners = [o for o in outcomes if isinstance(o, Event)]
    losers = [o for o in outcomes if isinstance(o, EventConflict)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert "不能立案" in losers[0].message and losers[0].status == "accepted"
    event.refresh_from_db()
    assert (event.status, event.version) == ("accepted", 2)
    assert EventStep.objects.filter(event=event, action="accept").count() == 1
    assert AuditEvent.objects.filter(action="event.accept", object_id=str(event.pk)).count() == 1


def test_accept_and_refuse_from_the_same_page_version(
    postgres_only, slow_lock_holder, make_event, street_a, district_admin
):
    event = make_event("reported")
    outcomes = race(
        lambda: services.event_accept(actor=fresh(street_a), event_id=event.pk, expected_version=1),
        lambda: services.event_refuse(
            actor=fresh(district_admin), event_id=event.pk, reason="重复上报", expected_version=1
        ),
    )
    winners = [o for o in outcomes if isinstance(o, Event)]
    losers = [o for o in outcomes if isinstance(o, EventConflict)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert "已被他人更新" in losers[0].message and losers[0].current_version == 2
    event.refresh_from_db()
    assert event.version == 2 and event.status == winners[0].status
    assert EventStep.objects.filter(event=event, action__in=["accept", "refuse"]).count() == 1


def test_the_losers_photos_are_not_kept(postgres_only, slow_lock_holder, make_event, dept_handler, settings):
    event = make_event("handling")
    before = {p.file.name for p in EventPhoto.objects.all()}
    outcomes = race(
        lambda: services.event_report_back(
            actor=fresh(dept_handler), event_id=event.pk, note="甲：已处置", photos=[photo()]
        ),
        lambda: services.event_report_back(
            actor=fresh(dept_handler), event_id=event.pk, note="乙：已处置", photos=[photo(), photo()]
        ),
    )
    assert sum(isinstance(o, Event) for o in outcomes) == 1
    assert sum(isinstance(o, EventConflict) for o in outcomes) == 1
    rows = {p.file.name for p in EventPhoto.objects.all()}
    on_disk = {str(p.relative_to(settings.MEDIA_ROOT)) for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()}
    assert on_disk == rows and len(rows - before) in (1, 2)


def report(user: User, grid: Any, title: str = "占道经营", photos: Any = ()) -> Event:
    return services.event_report(
        actor=fresh(user),
        area_id=grid.pk,
        category="0102",
        title=title,
        description="路口占道",
        photos=photos,
    )


def test_reports_at_once_get_the_next_numbers(postgres_only, slow_lock_holder, tree, grid_a1):
    """The day's number is drawn in a statement of its own: reports written at the same moment (each slowed
    while it holds the audit chain's lock) still get distinct numbers, one after another."""
    first = report(grid_a1, tree.a1_1)
    outcomes = race(*(lambda n=n: report(grid_a1, tree.a1_1, f"占道经营{n}") for n in range(4)))
    assert all(isinstance(o, Event) for o in outcomes), outcomes
    numbers = sorted(int(o.number) for o in outcomes)
    assert numbers == [int(first.number) + n for n in range(1, 5)]


def test_a_report_that_fails_after_its_number_says_so(tree, grid_a1, monkeypatch, settings):
    """A report whose rows fail to be written leaves its drawn number unused: nothing of it is kept (rows,
    photo files), the audit trail names the number, and the next report takes the one after."""
    first = report(grid_a1, tree.a1_1)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise DatabaseError("the disk is full")

    monkeypatch.setattr(services, "_notify", broken)
    with pytest.raises(DatabaseError):
        report(grid_a1, tree.a1_1, "没写成的事件", photos=[photo()])
    monkeypatch.undo()
    unused = f"{int(first.number) + 1}"
    assert not Event.objects.filter(title="没写成的事件").exists()
    row = AuditEvent.objects.get(action="event.number_unused")
    assert row.changes == {"number": unused} and row.outcome == "failure"
    assert row.actor_id == grid_a1.pk and row.area_code == tree.a1_1.code
    on_disk = {str(p.relative_to(settings.MEDIA_ROOT)) for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()}
    assert on_disk == {p.file.name for p in EventPhoto.objects.all()}
    assert int(report(grid_a1, tree.a1_1).number) == int(unused) + 1


def test_inside_a_transaction_the_number_rolls_back_with_it(tree, grid_a1):
    """Drawn inside an outer transaction (an Open311 report is one), the number rolls back with it and is
    given to the next report: no gap, and no audit row about it."""
    first = report(grid_a1, tree.a1_1)
    with pytest.raises(RuntimeError), transaction.atomic():
        report(grid_a1, tree.a1_1, "回滚的事件")
        raise RuntimeError("the outer service failed")
    assert int(report(grid_a1, tree.a1_1).number) == int(first.number) + 1
    assert not AuditEvent.objects.filter(action="event.number_unused").exists()
