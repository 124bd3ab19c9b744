from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from pingan.accounts.models import User
from pingan.aftercare.models import AftercareCase
from pingan.aftercare.selectors import case_list

pytestmark = pytest.mark.django_db


def test_demo_cases_in_both_communities_and_idempotent(db, demo_only):
    demo_only("areas", "accounts", "people", "aftercare")
    call_command("demo", "--no-serve", stdout=io.StringIO(), stderr=io.StringIO())
    cases = AftercareCase.objects.select_related("area", "person")
    names = {c.area.parent.name if c.area.level == "grid" else c.area.name for c in cases}
    assert names == {"滦水里社区", "粤江里社区"}
    assert all("示例" in c.person.name for c in cases)
    statuses = set(cases.values_list("status", flat=True))
    assert {"pending", "assisting", "reoffended"} <= statuses
    before = sorted(cases.values_list("person_id", "release_date", "status"))
    call_command("demo", "--no-serve", stdout=io.StringIO(), stderr=io.StringIO())
    assert sorted(AftercareCase.objects.values_list("person_id", "release_date", "status")) == before
    # only the assistance officer of 挂甲寺街 (and leaders) see them; community staff see none
    assert not case_list(user=User.objects.get(username="community1")).exists()
    assist1 = User.objects.get(username="assist1")
    assert case_list(user=assist1).exists()
    assert {c.area.code[:12] for c in case_list(user=assist1)} == {
        c.area.code[:12] for c in cases if "滦水里" in c.area.name
    }
