"""Merging duplicates: the centre in charge merges B into A. B becomes 已合并 (a new transition) pointing at
A; B's reporter is told and follows A (sees it, is notified of its progress, B's follow page shows A);
timeline rows on both, audit; 409 when B was already merged or changed; concurrent merges on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404

from pingan.accounts.roles import Role
from pingan.audit.models import AuditEvent
from pingan.events import selectors, services
from pingan.events.models import Event, EventStep
from pingan.events.services import EventConflict
from pingan.notifications.models import Notification
from tests.events.conftest import photo
from tests.factories import UserFactory, api_client_for

LAT, LNG = "39.100000", "117.210000"


@pytest.fixture
def grid_a2(tree):
    """A grid worker of grid A1-2: does not see A1-1's events."""
    return UserFactory(username="grid_a12", full_name="网格员丙", role=Role.GRID_WORKER, areas=[tree.a1_2])


def report(actor, area):
    return services.event_report(
        actor=actor,
        area_id=area.pk,
        category="0102",
        title="占道经营",
        description="商户占道经营",
        latitude=LAT,
        longitude=LNG,
        photos=[photo()],
    )


@pytest.mark.django_db
def test_merge_b_into_a(tree, grid_a1, grid_a2, street_a, dept_handler):
    a = report(grid_a1, tree.a1_1)
    b = report(grid_a2, tree.a1_2)
    with pytest.raises(Http404):
        selectors.event_get(user=grid_a2, event_id=a.pk)
    keep = services.event_merge(
        actor=street_a, event_id=b.pk, into_id=a.pk, reason="同一摊位", expected_version=1
    )
    assert keep.pk == a.pk and keep.version == 2
    b.refresh_from_db()
    assert (b.status, b.merged_into_id, b.version) == ("merged", a.pk, 2)
    assert "已与事件" in b.public_note and a.number in b.public_note
    assert EventStep.objects.filter(event=b, action="merged").get().data["into"] == a.number
    assert EventStep.objects.filter(event=a, action="merge").get().data["from"] == b.number
    assert AuditEvent.objects.filter(action__in=["event.merge", "event.merged"]).count() == 2
    assert Notification.objects.filter(user=grid_a2, kind="event.merged").exists()
    # B's reporter now follows A: sees it, and hears when it closes
    assert selectors.event_get(user=grid_a2, event_id=a.pk) == a
    services.event_accept(actor=street_a, event_id=a.pk)
    services.event_dispatch(actor=street_a, event_id=a.pk, department_id=tree.law_enforcement.pk)
    services.event_start(actor=dept_handler, event_id=a.pk)
    services.event_report_back(actor=dept_handler, event_id=a.pk, note="已清理", photos=[photo()])
    services.event_verify(actor=grid_a1, event_id=a.pk, passed=True, photos=[photo()])
    assert Notification.objects.filter(user=grid_a2, kind="event.closed").exists()
    # the KPIs count the problem once
    assert selectors.event_kpis(user=street_a).total.count == 1


@pytest.mark.django_db
def test_follow_page_of_b_shows_a(tree, grid_a1, grid_a2, street_a):
    a = report(grid_a1, tree.a1_1)
    b = report(grid_a2, tree.a1_2)
    services.event_merge(actor=street_a, event_id=b.pk, into_id=a.pk)
    services.event_accept(actor=street_a, event_id=a.pk)
    page = api_client_for(None).get(f"/follow/{b.number}/")
    body = page.content.decode()
    assert page.status_code == 200 and a.number in body and "已合并办理" in body and "立案" in body


@pytest.mark.django_db
def test_merge_refusals(tree, grid_a1, grid_b1, street_a, community_a1):
    a = report(grid_a1, tree.a1_1)
    b = report(grid_a1, tree.a1_1)
    other_street = report(grid_b1, tree.b1_1)
    with pytest.raises(ValidationError):
        services.event_merge(actor=street_a, event_id=a.pk, into_id=a.pk)
    with pytest.raises(Http404):  # street A does not see street B's event: same as missing
        services.event_merge(actor=street_a, event_id=b.pk, into_id=other_street.pk)
    with pytest.raises(Http404):
        services.event_merge(actor=street_a, event_id=b.pk, into_id=999999)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):  # sees both, but is not the centre in charge
        services.event_merge(actor=community_a1, event_id=b.pk, into_id=a.pk)
    with pytest.raises(EventConflict):  # the version the caller saw is stale
        services.event_merge(actor=street_a, event_id=b.pk, into_id=a.pk, expected_version=7)
    services.event_merge(actor=street_a, event_id=b.pk, into_id=a.pk)
    with pytest.raises(EventConflict):  # already merged
        services.event_merge(actor=street_a, event_id=b.pk, into_id=a.pk)
    with pytest.raises(EventConflict):  # nothing merges into a merged event
        services.event_merge(actor=street_a, event_id=a.pk, into_id=b.pk)
    assert Event.objects.get(pk=a.pk).status == "reported"


@pytest.mark.django_db
def test_merge_through_the_api_and_the_page(tree, grid_a1, street_a, grid_b1):
    a, b, c = (report(grid_a1, tree.a1_1) for _ in range(3))
    client = api_client_for(street_a)
    detail = client.get(f"/api/v1/events/{b.pk}").json()
    assert detail["can_merge"] is True and detail["actions"] == ["accept", "refuse", "escalate", "supervise"]
    ok = client.post(
        f"/api/v1/events/{b.pk}/merge", {"into_id": a.pk, "version": 1}, content_type="application/json"
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["number"] == a.number and ok.json()["merged_events"] == [
        {"id": b.pk, "number": b.number}
    ]
    again = client.post(f"/api/v1/events/{b.pk}/merge", {"into_id": a.pk}, content_type="application/json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert client.get(f"/api/v1/events/{b.pk}").json()["merged_into"] == {"id": a.pk, "number": a.number}
    forbidden = api_client_for(grid_b1).post(
        f"/api/v1/events/{c.pk}/merge", {"into_id": a.pk}, content_type="application/json"
    )
    assert forbidden.status_code == 404
    # the page: C lists A as a possible duplicate with a merge button
    page = client.get(f"/events/{c.pk}/").content.decode()
    assert "可能重复的事件" in page and f"并入 {a.number}" in page
    response = client.post(f"/events/{c.pk}/merge/", {"into": a.pk, "version": 1})
    assert response.status_code == 302 and response["Location"] == f"/events/{a.pk}/"
    assert Event.objects.get(pk=c.pk).status == "merged"
    assert b.number in client.get(f"/events/{a.pk}/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_merges_at_once_one_gets_409(tree, grid_a1, street_a, district_admin, monkeypatch):
    """B→A and A→B at the same moment (PostgreSQL, real threads): exactly one wins."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (set DATABASE_URL)")
    import time

    real = services.audit_record

    def slow(**kwargs):
        time.sleep(0.3)  # the winner holds both row locks a little longer
        return real(**kwargs)

    monkeypatch.setattr(services, "audit_record", slow)
    a = report(grid_a1, tree.a1_1)
    b = report(grid_a1, tree.a1_1)
    clients = [api_client_for(street_a), api_client_for(district_admin)]
    pairs = [(b.pk, a.pk), (a.pk, b.pk)]
    barrier = threading.Barrier(2)
    responses: list = [None, None]

    def run(index: int) -> None:
        try:
            barrier.wait()
            source, target = pairs[index]
            responses[index] = clients[index].post(
                f"/api/v1/events/{source}/merge", {"into_id": target}, content_type="application/json"
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(r.status_code for r in responses) == [200, 409], [r.content for r in responses]
    statuses = sorted(Event.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True))
    assert statuses == ["merged", "reported"]
    assert EventStep.objects.filter(action="merged").count() == 1
    assert AuditEvent.objects.filter(action="event.merged").count() == 1
