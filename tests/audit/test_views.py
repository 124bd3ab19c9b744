"""The audit administrator's screen, export and API: the auditor only (404 for everyone else), filters,
pagination, the export as xlsx that is itself audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from pingan.areas.services import area_update
from pingan.audit import chain
from pingan.audit.models import AuditEvent, Kind, Outcome
from pingan.audit.selectors import EventFilter, event_list, format_time
from pingan.audit.services import audit_access, audit_record
from pingan.core.excel import read_table
from tests.audit.conftest import write_events
from tests.conftest import PERSONAS
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db

OTHERS = [p for p in PERSONAS if p != "auditor"]


@pytest.fixture
def trail(tree, system_admin, district_admin, street_a):
    """A small trail: writes by two users in two streets, a failed login, an access event."""
    area_update(actor=system_admin, area_id=tree.a1.pk, data={"population": 6000})
    area_update(actor=system_admin, area_id=tree.b1.pk, data={"population": 4000})
    audit_record(
        actor=None,
        action="auth.login_failed",
        actor_username="street_a",
        outcome=Outcome.FAILURE,
        changes={"reason": "credentials"},
    )
    audit_access(actor=district_admin, obj=street_a, purpose="view")
    return AuditEvent.objects.order_by("seq")


@pytest.mark.parametrize("name", OTHERS)
def test_nobody_but_the_auditor_sees_the_audit_trail(trail, persona, name):
    user = persona(name)
    client = api_client_for(user)
    event = trail.first()
    assert client.get("/audit/").status_code == 404
    assert client.get(f"/audit/{event.pk}/").status_code == 404
    before = AuditEvent.objects.count()
    assert client.post("/audit/export/", {"kind": "write"}).status_code == 404
    assert AuditEvent.objects.count() == before  # a refused export writes nothing
    for url in ("/api/v1/audit/events", f"/api/v1/audit/events/{event.pk}"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    home = client.get("/")
    assert "/audit/" not in home.content.decode()  # no navigation entry
    assert not any(str(f.label) == "今日审计事件" for f in home.context["figures"])


def test_the_auditor_sees_the_list_detail_and_navigation(trail, auditor):
    client = api_client_for(auditor)
    response = client.get("/audit/")
    assert response.status_code == 200
    page = response.context["page"]
    assert [e.action for e in page] == ["access.view", "auth.login_failed", "area.update", "area.update"][
        : len(page)
    ]
    content = response.content.decode()
    assert 'href="/audit/"' in content and "+08:00" in content
    event = AuditEvent.objects.get(action="access.view")
    detail = client.get(f"/audit/{event.pk}/")
    assert detail.status_code == 200 and detail.context["mac_valid"] is True
    assert "街*甲" in detail.content.decode()  # the subject, masked
    update = AuditEvent.objects.filter(action="area.update").order_by("seq").first()
    assert update is not None
    detail = client.get(f"/audit/{update.pk}/").content.decode()
    assert "population" in detail and "5200" in detail and "6000" in detail
    assert client.get("/audit/999999/").status_code == 404


def test_home_figures_for_the_auditor(trail, auditor):
    figures = {str(f.label): f.value for f in api_client_for(auditor).get("/").context["figures"]}
    today = AuditEvent.objects.filter(
        occurred_at__gte=timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    ).count()
    assert figures["今日审计事件"] == today
    assert figures["今日登录失败"] == 1
    assert figures["今日敏感访问"] == 1


def filtered(auditor, **params):
    return list(
        event_list(user=auditor, filters=EventFilter.from_params(params)).values_list("action", flat=True)
    )


def test_filters(trail, auditor, tree, system_admin):
    assert filtered(auditor, user="system_admin") == ["area.update", "area.update"]
    assert filtered(auditor, action="auth.login_failed") == ["auth.login_failed"]
    assert filtered(auditor, action="area.") == ["area.update", "area.update"]
    assert filtered(auditor, action="area*") == ["area.update", "area.update"]
    assert filtered(auditor, kind="access") == ["access.view"]
    assert filtered(auditor, kind="auth", outcome="failure") == ["auth.login_failed"]
    assert filtered(auditor, object_type="areas.area", object_id=str(tree.a1.pk)) == ["area.update"]
    assert filtered(auditor, area=tree.street_a.code) == ["area.update"]  # a1 is inside street A
    assert filtered(auditor, area=tree.district.code) == ["area.update", "area.update"]
    assert filtered(auditor, subject_id=str(AuditEvent.objects.get(kind=Kind.ACCESS).subject_id)) == [
        "access.view"
    ]
    today = timezone.localdate()
    assert len(filtered(auditor, since=today.isoformat(), until=today.isoformat())) == trail.count()
    assert filtered(auditor, until=(today - dt.timedelta(days=1)).isoformat()) == []
    assert filtered(auditor, since=(today + dt.timedelta(days=1)).isoformat()) == []
    # junk in the query is dropped, not an error
    assert len(filtered(auditor, kind="nonsense", area="x'; drop", since="2024-13-45")) == trail.count()


def test_filters_through_the_page(trail, auditor):
    response = api_client_for(auditor).get("/audit/", {"kind": "auth", "user": "street_a"})
    assert [e.action for e in response.context["page"]] == ["auth.login_failed"]


def test_pagination_keeps_the_filters(db, auditor):
    write_events(120)
    client = api_client_for(auditor)
    response = client.get("/audit/", {"action": "test.write"})
    page = response.context["page"]
    assert page.paginator.count == 120 and len(page) == 50 and page.object_list[0].seq == 120
    assert "action=test.write&amp;page=2" in response.content.decode()
    second = client.get("/audit/", {"action": "test.write", "page": 2}).context["page"]
    assert second.object_list[0].seq == 70


def test_export_writes_an_xlsx_and_is_itself_audited(trail, auditor):
    client = api_client_for(auditor)
    before = AuditEvent.objects.count()
    response = client.post("/audit/export/", {"action": "area.", "since": timezone.localdate().isoformat()})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    table = read_table(response.content, "audit.xlsx", {"seq": ["序号"], "action": ["操作"]})
    assert table.header_row_number == 3  # title, then the note naming the exporter
    assert [row[table.header.index("操作")] for row in table.rows] == ["area.update", "area.update"]
    import io

    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    note = str(rows[1][0])
    assert "导出人：auditor（审计员）" in note and "+08:00" in note and "操作=area." in note
    exported = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() == before + 1
    assert (exported.action, exported.kind, exported.actor) == ("audit.export", Kind.EXPORT, auditor)  # type: ignore[union-attr]
    assert exported.changes == {
        "filters": {"action": "area.", "since": timezone.localdate().isoformat()},  # type: ignore[union-attr]
        "rows": 2,
    }
    assert chain.verify().ok


def test_export_needs_post(trail, auditor):
    assert api_client_for(auditor).get("/audit/export/").status_code == 405


def test_export_refuses_too_many_rows(trail, auditor, monkeypatch):
    from pingan.audit import services

    monkeypatch.setattr(services, "EXPORT_MAX_ROWS", 1)
    before = AuditEvent.objects.count()
    response = api_client_for(auditor).post("/audit/export/", {"kind": "write"}, follow=True)
    assert response.redirect_chain[-1][0].startswith("/audit/?kind=write")
    assert "超过单次导出上限" in response.content.decode()
    assert AuditEvent.objects.count() == before


def test_api_lists_events_paginated_with_local_times(trail, auditor):
    client = api_client_for(auditor)
    response = client.get("/api/v1/audit/events", {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == trail.count() and body["page_size"] == 2 and len(body["items"]) == 2
    first = body["items"][0]
    assert first["action"] == "access.view" and first["occurred_at"].endswith("+08:00")
    assert first["subject_label"] == "街*甲" and len(first["row_hash"]) == 64
    filtered_body = client.get("/api/v1/audit/events", {"kind": "write", "area": "120103004"}).json()
    assert [i["action"] for i in filtered_body["items"]] == ["area.update"]
    one = client.get(f"/api/v1/audit/events/{first['id']}").json()
    assert one["seq"] == first["seq"]
    assert client.get("/api/v1/audit/events", {"kind": "bogus"}).status_code == 422


def test_times_show_with_the_offset():
    value = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert format_time(value) == "2026-01-02 11:04:05 +08:00"
