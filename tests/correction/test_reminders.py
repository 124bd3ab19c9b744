from __future__ import annotations

import datetime as dt

from django.utils import timezone

from pingan.correction.tasks import run_correction_reminders
from pingan.notifications.models import Notification

TODAY = timezone.localdate()


def _titles(user) -> list[str]:
    return sorted(Notification.objects.filter(user=user).values_list("kind", flat=True))


def test_reminders_once_each(
    tree, officer_a1, officer_b1, judicial_a, assist_a, community_a1, leader, dept_handler, new_client
):
    # 漏管: judgment 20 days ago, not reported
    missing = new_client(
        officer_a1,
        seq=1,
        judgment_effective_date=TODAY - dt.timedelta(days=20),
        start_date=TODAY - dt.timedelta(days=20),
    )
    # check-in overdue: reported 40 days ago, nothing since (due 10 days ago)
    overdue = new_client(
        officer_a1,
        seq=2,
        judgment_effective_date=TODAY - dt.timedelta(days=42),
        start_date=TODAY - dt.timedelta(days=42),
        reported_on=TODAY - dt.timedelta(days=40),
    )
    # term ending in 20 days
    new_client(
        officer_a1,
        seq=3,
        judgment_effective_date=TODAY - dt.timedelta(days=3),
        start_date=TODAY - dt.timedelta(days=300),
        end_date=TODAY + dt.timedelta(days=20),
        reported_on=TODAY - dt.timedelta(days=2),
    )
    # not yet due: judgment 5 days ago
    new_client(officer_a1, seq=4)
    counts = run_correction_reminders(timezone.now())
    recipients = 3  # officer_a1, assist_a (street A), judicial_a (serves street A)
    assert counts == {"missing": recipients, "checkin_overdue": recipients, "term_ending": recipients}
    for user in (officer_a1, assist_a, judicial_a):
        assert _titles(user) == ["correction.checkin_overdue", "correction.missing", "correction.term_ending"]
    # issue 6: community staff (and every other role, leaders included) get no reminder about a client
    for user in (officer_b1, community_a1, leader, dept_handler):
        assert _titles(user) == []
    note = Notification.objects.filter(kind="correction.missing").first()
    assert missing.number in note.title and "矫正测试1" not in note.title  # masked name
    # once each
    assert run_correction_reminders(timezone.now()) == {"missing": 0, "checkin_overdue": 0, "term_ending": 0}
    # a new overdue due date reminds again
    from pingan.correction.models import CorrectionClient

    CorrectionClient.objects.filter(pk=overdue.pk).update(next_checkin_due=TODAY - dt.timedelta(days=1))
    assert run_correction_reminders(timezone.now())["checkin_overdue"] == recipients


def test_sealed_and_resolved_are_not_reminded(tree, officer_a1, judicial_a, new_client):
    from pingan.correction import services

    old = TODAY - dt.timedelta(days=30)
    new_client(officer_a1, seq=1, judgment_effective_date=old, start_date=old, minor_at_offence=True)
    late = new_client(officer_a1, seq=2, judgment_effective_date=old, start_date=old)
    services.client_report(actor=officer_a1, client_id=late.pk, reported_on=TODAY)
    assert run_correction_reminders(timezone.now())["missing"] == 0
