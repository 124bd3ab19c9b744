from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from pingan.audit.models import AuditEvent
from pingan.correction.models import CorrectionClient, LeaveRequest
from tests.correction.conftest import make_id

TODAY = timezone.localdate()


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_pages_for_the_assistance_officer(tree, officer_a1, new_client):
    c = new_client(officer_a1, reported_on=TODAY)
    web = _client(officer_a1)
    page = web.get("/correction/")
    assert page.status_code == 200 and c.number in page.content.decode()
    assert "矫正测试1" not in page.content.decode()  # masked
    assert web.get("/correction/?due=missing&status=all&category=2&q=JZ").status_code == 200
    detail = web.get(f"/correction/{c.pk}/")
    assert detail.status_code == 200 and "报告与走访" in detail.content.decode()
    for url in (
        "/correction/alerts/",
        "/correction/leaves/",
        "/correction/figures/?year=2025&half=1",
        "/correction/new/",
        f"/correction/{c.pk}/edit/",
        "/correction/import/",
    ):
        assert web.get(url).status_code == 200, url
    export = web.get("/correction/export/")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditEvent.objects.filter(action="correction.client_export").exists()
    assert web.get("/correction/figures/export/?year=2025").status_code == 200
    assert web.get("/correction/import/template/").status_code == 200
    # the person page shows the correction tab
    person_page = web.get(f"/people/{c.person_id}/")
    assert person_page.status_code == 200 and c.number in person_page.content.decode()


def test_forms_post(tree, officer_a1, judicial_a):
    web = _client(officer_a1)
    data = {
        "name": "页面矫正",
        "id_number": make_id(41),
        "number": "JZ-WEB-1",
        "category": "2",
        "offence": "危险驾驶罪",
        "start_date": str(TODAY - dt.timedelta(days=2)),
        "end_date": str(TODAY + dt.timedelta(days=200)),
        "authority": "河西区人民法院",
        "judgment_effective_date": str(TODAY - dt.timedelta(days=2)),
        "checkin_every_days": "30",
        "visit_every_days": "30",
        "area": str(tree.a1.pk),
    }
    response = web.post("/correction/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    client = CorrectionClient.objects.get(number="JZ-WEB-1")
    bad = web.post("/correction/new/", {**data, "number": "JZ-WEB-2", "end_date": "2000-01-01"})
    assert bad.status_code == 200 and "矫正期止不能早于矫正期起" in bad.content.decode()
    assert web.post(f"/correction/{client.pk}/report/", {"reported_on": str(TODAY)}).status_code == 302
    web.post(f"/correction/{client.pk}/checkin/", {"date": str(TODAY), "kind": "phone"})
    web.post(
        f"/correction/{client.pk}/leave/",
        {
            "kind": "leave",
            "destination": "天津市南开区",
            "reason": "办事",
            "start": str(TODAY + dt.timedelta(days=1)),
            "end": str(TODAY + dt.timedelta(days=1)),
        },
    )
    leave = LeaveRequest.objects.get(client=client)
    _client(judicial_a).post(
        f"/correction/leaves/{leave.pk}/decide/", {"action": "approve", "next": "leaves"}
    )
    leave.refresh_from_db()
    assert leave.status == "approved"
    client.refresh_from_db()
    assert client.status == "active" and client.checkins.count() == 1
    assert web.post(f"/correction/{client.pk}/nonsense/", {}).status_code == 404


CLIENT_PAGES = ("/correction/", "/correction/alerts/", "/correction/leaves/", "/correction/export/")


def test_pages_scope_and_roles(
    tree,
    officer_a1,
    officer_b1,
    leader,
    grid_a1,
    community_a1,
    street_a,
    police_a1,
    district_admin,
    new_client,
):
    c = new_client(officer_a1, reported_on=TODAY)
    other = _client(officer_b1)
    assert other.get(f"/correction/{c.pk}/").status_code == 404
    assert other.post(f"/correction/{c.pk}/checkin/", {"date": str(TODAY)}).status_code == 404
    assert c.number not in other.get("/correction/").content.decode()
    assert CorrectionClient.objects.get(pk=c.pk).checkins.count() == 0
    # leaders of the jurisdiction: read only (no write form, writes refused)
    boss = _client(leader)
    assert c.number in boss.get("/correction/").content.decode()
    page = boss.get(f"/correction/{c.pk}/")
    assert page.status_code == 200 and c.number in page.content.decode()
    assert f"/correction/{c.pk}/checkin/" not in page.content.decode()
    assert "/correction/new/" not in boss.get("/correction/").content.decode()
    assert boss.post(f"/correction/{c.pk}/checkin/", {"date": str(TODAY)}).status_code == 404
    assert boss.get("/correction/new/").status_code == 404
    assert boss.get("/correction/figures/").status_code == 200
    assert CorrectionClient.objects.get(pk=c.pk).checkins.count() == 0
    # issue 6: community staff, street office, police, the district centre see nothing of the clients:
    # 404 on every client page, no nav entry, no tab on the person page
    for user in (community_a1, street_a, police_a1, district_admin, grid_a1):
        web = _client(user)
        for url in (*CLIENT_PAGES, f"/correction/{c.pk}/", "/correction/new/", "/correction/import/"):
            assert web.get(url).status_code == 404, (user.username, url)
        assert web.post(f"/correction/{c.pk}/checkin/", {"date": str(TODAY)}).status_code == 404
        home = web.get("/").content.decode()
        assert 'href="/correction/"' not in home and 'href="/correction/alerts/"' not in home, user.username
        assert c.number not in web.get(f"/people/{c.person_id}/").content.decode(), user.username
    # figures (aggregates): the district centre too; grid workers and the rest not
    assert _client(district_admin).get("/correction/figures/").status_code == 200
    assert 'href="/correction/figures/"' in _client(district_admin).get("/").content.decode()
    for user in (grid_a1, community_a1, street_a, police_a1):
        assert _client(user).get("/correction/figures/").status_code == 404, user.username


def test_group_member_page_remove_and_reveal(tree, officer_a1, officer_b1, new_client):
    from pingan.core.sensitive import sensitive_reveal
    from pingan.correction import services

    c = new_client(officer_a1, reported_on=TODAY)
    member = services.group_member_add(
        actor=officer_a1, client_id=c.pk, data={"name": "家属甲", "kind": "family", "phone": "13900001234"}
    )
    web = _client(officer_a1)
    page = web.get(f"/correction/{c.pk}/").content.decode()
    assert "13900001234" not in page and "139****1234" in page
    revealed = sensitive_reveal(
        actor=officer_a1,
        object_type="correction.groupmember",
        object_id=member.pk,
        field="phone",
        reason="联系家属核实",
    )
    assert revealed.value == "13900001234"
    assert AuditEvent.objects.filter(action="access.reveal", object_type="correction.groupmember").exists()
    import pytest
    from django.http import Http404

    with pytest.raises(Http404):
        sensitive_reveal(
            actor=officer_b1,
            object_type="correction.groupmember",
            object_id=member.pk,
            field="phone",
            reason="试图查看",
        )
    # a member id of another client is refused (404), the right one removed
    other = new_client(officer_a1, seq=2, reported_on=TODAY)
    assert web.post(f"/correction/{other.pk}/member_remove/", {"member_id": member.pk}).status_code == 404
    member.refresh_from_db()
    assert member.active
    web.post(f"/correction/{c.pk}/member_remove/", {"member_id": member.pk})
    member.refresh_from_db()
    assert not member.active


def test_home_figures_for_leader(tree, leader, officer_a1, new_client):
    old = TODAY - dt.timedelta(days=20)
    new_client(officer_a1, judgment_effective_date=old, start_date=old)
    home = _client(leader).get("/")
    assert home.status_code == 200
    text = home.content.decode()
    assert "社区矫正对象" in text and "漏管预警" in text
