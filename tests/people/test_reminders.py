from __future__ import annotations

import datetime as dt

from django.utils import timezone

from pingan.notifications.models import Notification
from pingan.people.models import FloatingRecord
from pingan.people.services import floating_register, person_register
from pingan.people.tasks import run_people_reminders


def test_permit_and_reverify_reminders(tree, community_a1, grid_a1, community_b1, person_data):
    today = timezone.localdate()
    soon, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=1, is_floating=True))
    floating_register(
        actor=community_a1,
        person_id=soon.pk,
        data={
            "permit_number": "R1",
            "valid_to": today + dt.timedelta(days=10),
            "registered_on": today,
            "last_verified_on": today,
        },
    )
    stale, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=3, is_floating=True))
    floating_register(
        actor=community_a1,
        person_id=stale.pk,
        data={
            "permit_number": "R2",
            "valid_to": today + dt.timedelta(days=300),
            "registered_on": today - dt.timedelta(days=400),
        },
    )
    counts = run_people_reminders(timezone.now())
    assert counts["permit_expiring"] >= 1 and counts["reverify"] >= 1
    users = set(Notification.objects.values_list("user__username", flat=True))
    assert community_a1.username in users and community_b1.username not in users
    assert all("测试张三" not in n.title for n in Notification.objects.all())  # masked
    before = Notification.objects.count()
    run_people_reminders(timezone.now())
    assert Notification.objects.count() == before
    assert FloatingRecord.objects.count() == 2
