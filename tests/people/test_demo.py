from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from pingan.core.validators import is_valid_id_number
from pingan.people.models import House, Household, OverseasRecord, Person

pytestmark = pytest.mark.django_db


def fingerprint() -> list[tuple]:
    return list(
        Person.objects.order_by("id_number_index").values_list("id_number_index", "name", "area__code")
    )


def test_demo_people_deterministic_and_idempotent(db, demo_only):
    demo_only("areas", "accounts", "people")
    call_command("demo", "--no-serve", stdout=io.StringIO(), stderr=io.StringIO())
    people = list(Person.objects.filter(id_type="111")[:50])
    assert 1500 <= Person.objects.count() <= 4000
    assert all(is_valid_id_number(p.id_number) and p.id_number.startswith("120103") for p in people)
    assert all("示例" in p.name for p in people)
    assert House.objects.count() >= 12 * 50 and Household.objects.exists()
    assert Person.objects.filter(is_floating=True).exists()
    overseas = OverseasRecord.objects.select_related("person")
    assert overseas.count() == 5 and all(r.person.is_overseas and r.person.id_type != "111" for r in overseas)
    assert all(r.entry_date < timezone.localdate() <= r.expected_departure <= r.stay_until for r in overseas)
    before = fingerprint()
    call_command("demo", "--no-serve", stdout=io.StringIO(), stderr=io.StringIO())
    assert fingerprint() == before
