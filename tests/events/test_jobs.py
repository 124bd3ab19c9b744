"""The worker's jobs, called directly with a chosen ``now``: overdue marks, reminders, automatic
escalation, the calendar check, and the ``pingan worker --once`` command."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command

from pingan.audit.models import AuditEvent
from pingan.core import periodic
from pingan.events import services
from pingan.events.models import Event, EventPolicy, EventStep
from pingan.events.tasks import auto_escalate, mark_overdue, remind_due, run_event_jobs
from pingan.notifications.models import Notification
from pingan.workdays.tasks import calendar_check

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


def kinds(user) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


def test_overdue_is_marked_once_and_tells_the_handler_and_the_centre(make_event, dept_handler, street_a):
    event = make_event("handling")
    assert mark_overdue(event.deadline - HOUR) == 0
    assert mark_overdue(event.deadline + dt.timedelta(minutes=1)) == 1
    assert mark_overdue(event.deadline + 2 * HOUR) == 0
    after = Event.objects.get(pk=event.pk)
    assert after.overdue and after.overdue_at == event.deadline + dt.timedelta(minutes=1)
    assert after.version == event.version  # a mark, not a change anyone acted on
    step = EventStep.objects.get(event=event, action="overdue")
    assert step.actor is None and step.actor_name == "系统"
    assert "event.overdue" in kinds(dept_handler) and "event.overdue" in kinds(street_a)
    assert AuditEvent.objects.filter(action="event.overdue", actor_username="system").count() == 1


def test_events_no_longer_with_the_assignee_are_not_overdue(make_event):
    handled = make_event("handled")
    closed = make_event("closed")
    assert mark_overdue(max(handled.deadline, closed.deadline) + 10 * HOUR) == 0


def test_a_reminder_before_the_deadline(make_event, dept_handler):
    event = make_event("dispatched")
    assert remind_due(event.deadline - 30 * HOUR) == 0  # more than 24 hours ahead
    assert remind_due(event.deadline - 10 * HOUR) == 1
    assert remind_due(event.deadline - 9 * HOUR) == 0
    assert kinds(dept_handler).count("event.due_soon") == 1
    assert EventStep.objects.filter(event=event, action="remind").count() == 1


def test_an_approved_extension_allows_a_new_reminder(make_event, dept_handler, street_a):
    event = make_event("handling")
    remind_due(event.deadline - HOUR)
    services.event_request_extension(actor=dept_handler, event_id=event.pk, days=2, reason="协调")
    event = services.event_decide_extension(actor=street_a, event_id=event.pk, approve=True)
    assert event.reminded_at is None
    assert remind_due(event.deadline - HOUR) == 1


def test_automatic_escalation_after_the_grace(tree, make_event, district_admin):
    event = make_event("handling")
    assert EventPolicy.current().escalation_grace_hours == 24
    assert auto_escalate(event.deadline + 23 * HOUR) == 0
    assert auto_escalate(event.deadline + 25 * HOUR) == 1
    assert auto_escalate(event.deadline + 26 * HOUR) == 0  # once
    after = Event.objects.get(pk=event.pk)
    assert after.owner == tree.district and after.escalation_count == 1 and after.version == event.version + 1
    step = EventStep.objects.get(event=event, action="escalate")
    assert step.data["automatic"] is True and "自动提交上级" in step.note
    assert "event.escalated" in kinds(district_admin)
    assert auto_escalate(event.deadline + 100 * HOUR) == 0  # the district has no level above it


def test_no_automatic_escalation_when_switched_off(make_event):
    EventPolicy.objects.filter(pk=1).update(escalation_grace_hours=0)
    event = make_event("handling")
    assert auto_escalate(event.deadline + 100 * HOUR) == 0


def test_one_round(make_event):
    event = make_event("dispatched")
    counts = run_event_jobs(event.deadline + 30 * HOUR)
    assert counts == {"overdue": 1, "reminded": 0, "escalated": 1}


def test_the_calendar_check_warns_the_system_administrator_once(tree, system_admin, district_admin):
    now = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
    assert calendar_check(now) == {"missing_years": 1, "notified": 1}
    assert calendar_check(now) == {"missing_years": 1, "notified": 0}
    note = Notification.objects.get(user=system_admin)
    assert "2027 年节假日安排缺失" in note.title and note.url == "/calendar/holidays/"
    assert not Notification.objects.filter(user=district_admin).exists()
    assert calendar_check(dt.datetime(2025, 6, 1, tzinfo=dt.UTC)) == {"missing_years": 0}


def test_the_worker_command_runs_one_round(make_event, capsys):
    make_event("dispatched")
    call_command("worker", "--once")
    results = json.loads(capsys.readouterr().out)
    assert results["events"] == {"overdue": 0, "reminded": 0, "escalated": 0}
    assert "missing_years" in results["workdays"]


def test_a_failing_job_does_not_stop_the_others(monkeypatch):
    calls: list[str] = []

    def broken(now):
        raise RuntimeError("boom")

    monkeypatch.setattr(periodic, "_JOBS", {})
    periodic.register_job("a-broken", broken, every=60)
    periodic.register_job("b-fine", lambda now: calls.append("b") or {"ok": 1}, every=60)
    results = periodic.run_due_jobs(force=True)
    assert results == {"a-broken": "failed", "b-fine": {"ok": 1}} and calls == ["b"]
