"""Duplicate suggestion: same category within 50 m in the last 7 days (49 m yes, 51 m no; 6 days yes, 8 days
no), only among the events the user may see; on the report form (htmx), in the API and on triage."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from pingan.events import selectors, services
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db

LAT, LNG = 39.100000, 117.210000


def north(metres: float) -> str:
    """The latitude ``metres`` north of LAT (on the haversine sphere)."""
    return f"{LAT + metres / selectors._M_PER_DEGREE:.6f}"


def east(metres: float) -> str:
    import math

    return f"{LNG + metres / (selectors._M_PER_DEGREE * math.cos(math.radians(LAT))):.6f}"


def report(actor, area, *, lat=f"{LAT:.6f}", lng=f"{LNG:.6f}", category="0102", days_ago=0.0):
    return services.event_report(
        actor=actor,
        area_id=area.pk,
        category=category,
        title="占道经营",
        description="商户占道经营",
        latitude=lat,
        longitude=lng,
        reported_at=timezone.now() - dt.timedelta(days=days_ago),
    )


def numbers(found):
    return {d.event.number for d in found}


def test_haversine_distance_is_exact_enough():
    assert selectors.distance_m(LAT, LNG, float(north(49)), LNG) == pytest.approx(49, abs=0.2)
    assert selectors.distance_m(LAT, LNG, LAT, float(east(51))) == pytest.approx(51, abs=0.2)


def test_within_50_metres_and_7_days(tree, grid_a1):
    near = report(grid_a1, tree.a1_1, lat=north(49))
    far = report(grid_a1, tree.a1_1, lat=north(51))
    near_east = report(grid_a1, tree.a1_1, lng=east(49))
    far_east = report(grid_a1, tree.a1_1, lng=east(51))
    recent = report(grid_a1, tree.a1_1, days_ago=6)
    old = report(grid_a1, tree.a1_1, days_ago=8)
    other_category = report(grid_a1, tree.a1_1, category="0104")
    found = selectors.event_duplicates(user=grid_a1, category="0102", latitude=LAT, longitude=LNG)
    assert numbers(found) == {near.number, near_east.number, recent.number}
    assert not numbers(found) & {far.number, far_east.number, old.number, other_category.number}
    assert found[0].event == recent and found[0].distance_m == 0  # nearest first
    assert 48.5 < next(d.distance_m for d in found if d.event == near) < 49.5


def test_only_events_the_user_may_see(tree, grid_a1, grid_b1, community_b1):
    report(grid_a1, tree.a1_1)  # in A1: community B1 does not see it
    assert selectors.event_duplicates(user=community_b1, category="0102", latitude=LAT, longitude=LNG) == []
    assert len(selectors.event_duplicates(user=grid_a1, category="0102", latitude=LAT, longitude=LNG)) == 1


def test_duplicates_of_an_event_exclude_itself_and_merged(tree, grid_a1, street_a):
    first = report(grid_a1, tree.a1_1, days_ago=2)
    second = report(grid_a1, tree.a1_1, lat=north(20))
    third = report(grid_a1, tree.a1_1, lat=north(10), days_ago=1)
    assert numbers(selectors.event_duplicates_of(user=street_a, event=second)) == {first.number, third.number}
    services.event_merge(actor=street_a, event_id=third.pk, into_id=first.pk)
    assert numbers(selectors.event_duplicates_of(user=street_a, event=second)) == {first.number}


def test_api_duplicates(tree, grid_a1):
    near = report(grid_a1, tree.a1_1, lat=north(30))
    report(grid_a1, tree.a1_1, lat=north(80))
    client = api_client_for(grid_a1)
    response = client.get("/api/v1/events/duplicates", {"category": "0102", "lat": LAT, "lng": LNG})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [d["event"]["number"] for d in body] == [near.number]
    assert 29.5 < body[0]["distance_m"] < 30.5
    assert (
        client.get("/api/v1/events/duplicates", {"category": "0102", "lat": 95, "lng": LNG}).status_code
        == 422
    )
    label = client.get("/api/v1/events/duplicates", {"category": "乱停乱放", "lat": LAT, "lng": LNG})
    assert label.status_code == 200 and label.json() == []  # 乱停乱放 is 0104


def test_report_form_fetches_duplicates(tree, grid_a1):
    near = report(grid_a1, tree.a1_1, lat=north(10))
    client = api_client_for(grid_a1)
    page = client.get("/events/report/").content.decode()
    assert 'id="pa-report-duplicates"' in page and "pa:located" in page
    partial = client.get(
        "/events/report/duplicates/",
        {"category": "0102", "latitude": LAT, "longitude": LNG},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert near.number in partial and "请确认是否重复" in partial
    nothing = client.get("/events/report/duplicates/", {"category": "0102"}).content.decode()
    assert near.number not in nothing


def test_triage_marks_possible_duplicates(tree, grid_a1, street_a):
    report(grid_a1, tree.a1_1, days_ago=1)
    report(grid_a1, tree.a1_1, lat=north(5))
    page = api_client_for(street_a).get("/events/triage/").content.decode()
    assert page.count("可能重复 1") == 2


def test_duplicate_counts_for_a_queue_match_each_events_own_list(tree, grid_a1, street_a, grid_b1):
    """The triage page counts every row's duplicates in one query; the counts are those of the event
    page's list (window around each event, 50 m, same category, merged ones and the event itself left out,
    only what the user may see)."""
    events = [
        report(grid_a1, tree.a1_1, days_ago=9),
        report(grid_a1, tree.a1_1, days_ago=3),
        report(grid_a1, tree.a1_1, lat=north(30)),
        report(grid_a1, tree.a1_1, lat=north(120)),
        report(grid_a1, tree.a1_1, category="0104", lng=east(10)),
        report(grid_a1, tree.a1_1, days_ago=16),
    ]
    report(grid_b1, tree.b1_1)  # same place, another street: not street A's to see
    counts = selectors.duplicate_counts(user=street_a, events=events)
    expected = {e.pk: len(selectors.event_duplicates_of(user=street_a, event=e)) for e in events}
    assert counts == expected and counts[events[1].pk] == 2 and counts[events[3].pk] == 0
    assert selectors.duplicate_counts(user=street_a, events=[]) == {}
