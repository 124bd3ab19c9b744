"""Registering a client in any of the user's areas, not only the first one in the list (the form view read
the chosen area once per candidate area: a KeyError, answered 500, for every area but the first)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from pingan.correction.models import CorrectionClient
from tests.correction.conftest import make_id
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db


def test_register_in_a_later_area(tree, officer_a1):
    today = timezone.localdate()
    web = api_client_for(officer_a1)
    data = {
        "name": "网格矫正",
        "id_number": make_id(71),
        "number": "JZ-AREA-1",
        "category": "2",
        "offence": "危险驾驶罪",
        "start_date": str(today - dt.timedelta(days=2)),
        "end_date": str(today + dt.timedelta(days=200)),
        "authority": "河西区人民法院",
        "judgment_effective_date": str(today - dt.timedelta(days=2)),
        "checkin_every_days": "30",
        "visit_every_days": "30",
        "area": str(tree.a1_1.pk),  # a grid: after its community in the list
    }
    response = web.post("/correction/new/", data)
    client = CorrectionClient.objects.get(number="JZ-AREA-1")
    assert response.status_code == 302 and response["Location"] == f"/correction/{client.pk}/"
    assert client.area == tree.a1_1
