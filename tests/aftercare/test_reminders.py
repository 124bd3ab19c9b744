"""Worker reminders: visits due, assistance periods ending, unreceived hand-overs — once each, to the
right people, across month ends."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from pingan.aftercare import services
from pingan.aftercare.models import AftercareCase, Handover, Visit
from pingan.aftercare.tasks import run_aftercare_reminders
from pingan.core.periodic import registered_jobs
from pingan.notifications.models import Notification


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))


def test_job_is_registered():
    assert "aftercare" in [j.name for j in registered_jobs()]


def test_unreceived_handover_flagged_once(
    tree, officer_a1, officer_b1, assist_a, grid_a1, community_a1, police_a1, street_a, register_case, today
):
    case = register_case(officer_a1, seq=401, release_date=today - dt.timedelta(days=1), is_key_person=True)
    on_time = register_case(officer_a1, seq=402, release_date=today)  # released today: not yet overdue
    counts = run_aftercare_reminders(at(today))
    assert counts["handover_overdue"] == 2  # the two assistance officers whose scope holds A1
    notes = Notification.objects.filter(kind="aftercare.handover_overdue")
    # only assistance officers: community staff, police and the street office of A1 get nothing
    assert {n.user.username for n in notes} == {"officer_a1", "assist_a"}
    assert all(n.object_id == str(case.handover.pk) for n in notes)
    assert "必接必送" in notes[0].title and "测试刑释" not in notes[0].title
    assert Handover.objects.get(case=case).flagged_at is not None
    assert run_aftercare_reminders(at(today))["handover_overdue"] == 0
    assert not Notification.objects.filter(object_id=str(on_time.handover.pk)).exists()
    services.handover_receive(actor=officer_a1, case_id=on_time.pk, received_on=today)
    assert run_aftercare_reminders(at(today + dt.timedelta(days=3)))["handover_overdue"] == 0


def test_visit_due_across_month_end(tree, officer_a1, register_case):
    # the next visit falls on 1 March; the due window (7 days) opens on 22 February
    release = dt.date(2025, 12, 1)
    case = register_case(officer_a1, seq=411, release_date=release, received_on=dt.date(2025, 12, 1))
    AftercareCase.objects.filter(pk=case.pk).update(release_date=release)
    Visit.objects.create(
        case=case,
        visited_on=dt.date(2026, 1, 31),
        visitors="社区",
        content="了解情况",
        next_visit_on=dt.date(2026, 3, 1),
        recorded_by="t",
    )
    assert run_aftercare_reminders(at(dt.date(2026, 2, 21)))["visit_due"] == 0
    assert run_aftercare_reminders(at(dt.date(2026, 2, 22)))["visit_due"] == 1
    assert run_aftercare_reminders(at(dt.date(2026, 2, 23)))["visit_due"] == 0  # once
    # a newer visit replaces the old one as "latest": its own next date is reminded in its own time
    Visit.objects.create(
        case=case,
        visited_on=dt.date(2026, 2, 28),
        visitors="社区",
        content="了解情况",
        next_visit_on=dt.date(2026, 4, 30),
        recorded_by="t",
    )
    assert run_aftercare_reminders(at(dt.date(2026, 3, 31)))["visit_due"] == 0
    assert run_aftercare_reminders(at(dt.date(2026, 4, 23)))["visit_due"] == 1


def test_assistance_period_ending(tree, officer_a1, register_case, today):
    release = today - dt.timedelta(days=200)
    case = register_case(
        officer_a1,
        seq=421,
        release_date=release,
        received_on=release,
        assistance_end=today + dt.timedelta(days=30),
    )
    far = register_case(officer_a1, seq=422, release_date=release, received_on=release)
    assert run_aftercare_reminders(at(today))["ending"] == 1
    assert run_aftercare_reminders(at(today))["ending"] == 0
    note = Notification.objects.get(kind="aftercare.ending")
    assert note.object_id == str(case.pk) and str(case.assistance_end) in note.title
    assert not Notification.objects.filter(kind="aftercare.ending", object_id=str(far.pk)).exists()


def test_sealed_and_other_street_not_reminded(tree, officer_a1, officer_b1, register_case, today):
    register_case(officer_a1, seq=431, release_date=today - dt.timedelta(days=3), offence_under_18=True)
    register_case(officer_b1, seq=432, area=tree.b1_1, release_date=today - dt.timedelta(days=3))
    run_aftercare_reminders(at(today))
    notes = Notification.objects.filter(kind="aftercare.handover_overdue")
    assert [n.user.username for n in notes] == ["officer_b1"]
