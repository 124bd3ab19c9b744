from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from pingan.accounts.models import User
from pingan.correction import selectors
from pingan.correction.models import CorrectionClient

pytestmark = pytest.mark.django_db


def test_demo_clients_in_both_communities_idempotent(db, demo_only):
    demo_only("areas", "accounts", "people", "correction")
    call_command("demo", "--no-serve", stdout=io.StringIO(), stderr=io.StringIO())
    clients = list(CorrectionClient.objects.select_related("area", "person"))
    assert len(clients) == 12
    communities = {c.area.code[:12] for c in clients}
    assert len(communities) == 2
    assert all("示例" in c.person.name and c.number.startswith("DEMO-JZ-") for c in clients)
    statuses = {c.status for c in clients}
    assert statuses == {"pending", "active", "terminated"}
    assert any(c.reported_late() for c in clients)
    before = sorted(CorrectionClient.objects.values_list("number", "person_id", "status"))
    call_command("demo", "--no-serve", stdout=io.StringIO(), stderr=io.StringIO())
    assert sorted(CorrectionClient.objects.values_list("number", "person_id", "status")) == before
    every = selectors.ClientFilter(status="all")
    assist1 = User.objects.get(username="assist1")  # assistance officer of 挂甲寺街
    assert selectors.client_list(user=assist1, filters=every).count() == 6
    assert selectors.missing_list(user=assist1).count() >= 1
    leader = User.objects.get(username="leader")  # the district's leader: all, read-only
    assert selectors.client_list(user=leader, filters=every).count() == 12
    for name in ("community1", "street1", "police1", "commander"):  # issue 6: nothing
        assert selectors.client_list(user=User.objects.get(username=name), filters=every).count() == 0
