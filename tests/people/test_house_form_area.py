"""Registering a house in any of the user's areas, not only the first one in the list (the form view read
the chosen area once per candidate area: a KeyError, answered 500, for every area but the first)."""

from __future__ import annotations

import pytest

from pingan.people.models import House
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db


def test_house_in_a_later_area(tree, community_a1):
    response = api_client_for(community_a1).post(
        "/people/houses/new/",
        {"compound": "网格小区", "building": "3", "use": "residential", "area": str(tree.a1_1.pk)},
    )
    house = House.objects.get(compound="网格小区")
    assert response.status_code == 302 and house.area == tree.a1_1
