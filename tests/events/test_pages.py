"""The event screens as the personas use them: report from a phone, triage, the event page's actions
(htmx and plain POST), queues, figures, the map, photos, the rules, navigation, home figures and search."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from pingan.events import services
from pingan.events.models import Event, EventCategoryRule, EventPolicy
from pingan.notifications.models import Notification
from tests.events.conftest import PNG, photo
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_phone_report_form(tree, grid_a1):
    client = api_client_for(grid_a1)
    page = client.get("/events/report/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'capture="environment"' in body and 'accept="image/jpeg,image/png,image/webp,image/*"' in body
    assert "pingan/js/events.js" in body and "<script>" not in body  # no inline script (CSP)
    assert "reporter_phone" not in body  # a grid worker reports what they see, not a citizen's contact
    response = client.post(
        "/events/report/",
        {
            "area": tree.a1_1.pk,
            "category": "0104",
            "title": "车辆堵塞消防通道",
            "description": "3号楼东侧",
            "urgency": "urgent",
            "address": "滦水道3号",
            "latitude": "39.101",
            "longitude": "117.201",
            "photos": [photo(), photo("b.png", PNG, "image/png")],
        },
    )
    event = Event.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/events/{event.pk}/"
    assert (event.urgency, event.photos.count(), str(event.latitude)) == ("urgent", 2, "39.101000")


def test_the_report_form_shows_service_errors(tree, grid_a1, street_a):
    client = api_client_for(grid_a1)
    response = client.post(
        "/events/report/",
        {
            "area": tree.a1_1.pk,
            "category": "0104",
            "title": "t",
            "description": "说明",
            "urgency": "normal",
            "photos": [photo("x.jpg", b"nope")],
        },
    )
    assert response.status_code == 200 and "不是 JPEG、PNG 或 WebP 图片" in response.content.decode()
    hotline_form = api_client_for(street_a).get("/events/report/").content.decode()
    assert "reporter_phone" in hotline_form  # others may enter a citizen's contact


def test_leaders_do_not_report(leader):
    assert api_client_for(leader).get("/events/report/").status_code == 403


def test_triage_queue(tree, street_a, make_event, grid_a1):
    reported, accepted = make_event("reported"), make_event("accepted")
    page = api_client_for(street_a).get("/events/triage/")
    assert page.status_code == 200
    groups = page.context["groups"]
    assert [e.pk for e in groups["reported"].events] == [reported.pk]
    assert [e.pk for e in groups["accepted"].events] == [accepted.pk]
    assert api_client_for(grid_a1).get("/events/triage/").status_code == 403


def test_triage_groups_are_read_separately_with_capped_counts(street_a, make_event, monkeypatch):
    """A backlog of late events must not push new reports off the page: every group has its own first
    rows (oldest first; most overdue first for the late ones) and its own count, capped."""
    from django.utils import timezone

    from pingan.events.selectors import triage_groups

    late = [make_event("dispatched") for _ in range(3)]
    for n, event in enumerate(late):  # deadlines 3, 2, 1 days ago
        Event.objects.filter(pk=event.pk).update(deadline=timezone.now() - dt.timedelta(days=3 - n))
    in_time = make_event("handling")
    extension = make_event("handling")
    Event.objects.filter(pk=extension.pk).update(extension_requested_days=3, extension_reason="材料未齐")
    reported = [make_event("reported") for _ in range(3)]

    groups = triage_groups(user=street_a, limit=2, cap=2)
    assert [e.pk for e in groups["reported"].events] == [reported[0].pk, reported[1].pk]
    assert (groups["reported"].count, groups["reported"].capped) == (2, True)  # 3 wait: "2+"
    assert [e.pk for e in groups["late"].events] == [late[0].pk, late[1].pk]  # most overdue first
    assert groups["late"].capped and in_time.pk not in [e.pk for e in groups["late"].events]
    assert [e.pk for e in groups["extension"].events] == [extension.pk]
    assert (groups["extension"].count, groups["extension"].capped) == (1, False)
    assert (groups["accepted"].events, groups["accepted"].count) == ([], 0)

    body = api_client_for(street_a).get("/events/triage/").content.decode()
    assert "没有待派遣的事件" in body and "?late=1" not in body  # everything shown: no "see all" link
    monkeypatch.setattr("pingan.events.views.TRIAGE_ROWS", 2)
    body = api_client_for(street_a).get("/events/triage/").content.decode()
    assert (
        "显示最早的 2 条，共 3 条" in body
        and "/events/list/?late=1" in body
        and "/events/list/?status=reported" in body
    )


def test_the_event_page_and_an_htmx_action(tree, street_a, make_event):
    event = make_event("reported")
    client = api_client_for(street_a)
    page = client.get(f"/events/{event.pk}/")
    assert page.status_code == 200
    assert page.context["actions"] == ["accept", "refuse", "escalate", "supervise"]
    body = page.content.decode()
    assert "办理过程" in body and event.number in body and f'hx-post="/events/{event.pk}/accept/"' in body
    response = client.post(f"/events/{event.pk}/accept/", {"version": 1, "note": "属实"}, **HTMX)
    assert response.status_code == 200
    assert 'id="pa-event"' in response.content.decode() and "<html" not in response.content.decode()
    assert response.context["done"] == "已立案"
    assert Event.objects.get(pk=event.pk).status == "accepted"
    response = client.post(
        f"/events/{event.pk}/dispatch/", {"version": 2, "target": f"d:{tree.law_enforcement.pk}"}, **HTMX
    )
    assert Event.objects.get(pk=event.pk).status == "dispatched", response.content.decode()


def test_a_stale_page_shows_the_conflict_and_the_fresh_state(street_a, district_admin, make_event):
    event = make_event("reported")
    api_client_for(street_a).post(f"/events/{event.pk}/accept/", {"version": 1})
    response = api_client_for(district_admin).post(
        f"/events/{event.pk}/refuse/", {"version": 1, "reason": "重复"}, **HTMX
    )
    assert response.status_code == 200
    assert "已被他人更新" in response.context["conflict"] and response.context["event"].status == "accepted"
    plain = api_client_for(district_admin).post(
        f"/events/{event.pk}/refuse/", {"version": 1, "reason": "重复"}
    )
    assert plain.status_code == 409


def test_an_action_the_page_does_not_offer_is_refused_with_a_message(street_a, make_event):
    """A form the page does not show cannot show its errors: the answer says why instead."""
    event = make_event("accepted")
    client = api_client_for(street_a)
    response = client.post(f"/events/{event.pk}/verify/", {"version": event.version}, **HTMX)
    assert "您不能执行此操作" in response.context["conflict"]
    assert (
        client.post(f"/events/{event.pk}/supervise/", {"version": "abc", "note": "x"}, **HTMX).context[
            "conflict"
        ]
        == "页面已过期，请刷新后再试"
    )
    assert Event.objects.get(pk=event.pk).version == event.version


def test_an_extension_decision_needs_a_choice(street_a, dept_handler, make_event):
    event = make_event("handling")
    event = services.event_request_extension(actor=dept_handler, event_id=event.pk, days=2, reason="协调")
    response = api_client_for(street_a).post(
        f"/events/{event.pk}/decide_extension/", {"version": event.version, "note": "同意"}, **HTMX
    )
    assert "请选择审批结果" in response.content.decode()
    assert Event.objects.get(pk=event.pk).extension_requested_days == 2  # neither approved nor refused


def test_a_report_with_an_error_says_what_was_not_kept(tree, grid_a1):
    """The form comes back: the bad coordinates say why (they are hidden fields), and the chosen photos —
    which a browser cannot be given back — say they must be chosen again."""
    response = api_client_for(grid_a1).post(
        "/events/report/",
        {
            "area": tree.a1_1.pk,
            "category": "0104",
            "title": "车辆堵塞消防通道",
            "description": "3号楼东侧",
            "urgency": "normal",
            "latitude": "117.2071",  # swapped
            "longitude": "39.0935",
            "photos": [photo(), photo("b.png", PNG, "image/png")],
        },
    )
    body = response.content.decode()
    assert response.status_code == 200 and not Event.objects.exists()
    assert "请检查是否填反了经纬度" in body
    assert "请重新选择这 2 张照片" in body


def test_the_same_form_sent_twice_reports_once(tree, grid_a1):
    client = api_client_for(grid_a1)
    token = client.get("/events/report/").context["submit_token"]
    data = {
        "area": tree.a1_1.pk,
        "category": "0104",
        "title": "车辆堵塞消防通道",
        "description": "3号楼东侧",
        "urgency": "normal",
        "submit_token": token,
    }
    first = client.post("/events/report/", data)
    second = client.post("/events/report/", data)
    event = Event.objects.get()
    assert first["Location"] == second["Location"] == f"/events/{event.pk}/"
    assert client.post("/events/report/", {**data, "submit_token": "another"}).status_code == 302
    assert Event.objects.count() == 2  # a new form is a new report


def test_a_hotline_operators_report_defaults_to_the_hotline(tree):
    from pingan.accounts.roles import Role
    from tests.factories import UserFactory

    operator = UserFactory(username="hotline_a", role=Role.HOTLINE_OPERATOR, areas=[tree.district])
    form = api_client_for(operator).get("/events/report/").context["form"]
    assert form["source"].value() == "hotline"


def test_a_conflict_keeps_what_was_typed(street_a, district_admin, make_event):
    event = make_event("reported")
    api_client_for(street_a).post(f"/events/{event.pk}/accept/", {"version": 1})
    response = api_client_for(district_admin).post(
        f"/events/{event.pk}/supervise/", {"version": 1, "note": "请今天内处理完毕"}, **HTMX
    )
    assert "已被他人更新" in response.context["conflict"] and response.context["open_action"] == "supervise"
    assert "请今天内处理完毕" in response.content.decode()  # the form is open again, with the note


def test_day_limits_follow_the_policy(street_a, make_event):
    """The form's limits are the policy's longest term (15), so its message agrees with the service's."""
    event = make_event("accepted")
    response = api_client_for(street_a).post(
        f"/events/{event.pk}/dispatch/",
        {"version": event.version, "target": "a:1", "working_days": 61},
        **HTMX,
    )
    assert "期限应在 0 到 15 个工作日之间" in response.content.decode()


def test_validation_errors_reopen_the_form(street_a, make_event):
    event = make_event("reported")
    response = api_client_for(street_a).post(
        f"/events/{event.pk}/refuse/", {"version": 1, "reason": ""}, **HTMX
    )
    assert response.status_code == 200 and response.context["open_action"] == "refuse"
    assert "请填写不予立案的理由" in response.content.decode()
    assert Event.objects.get(pk=event.pk).status == "reported"


def test_plain_post_without_javascript_redirects(street_a, make_event):
    event = make_event("reported")
    response = api_client_for(street_a).post(f"/events/{event.pk}/accept/", {"version": 1})
    assert response.status_code == 302 and response["Location"] == f"/events/{event.pk}/"


def test_verify_and_rate_from_the_phone(grid_a1, make_event):
    event = make_event("handled")
    client = api_client_for(grid_a1)
    assert "verify" in client.get(f"/events/{event.pk}/").context["actions"]
    tasks = client.get("/events/tasks/")
    assert [e.pk for e in tasks.context["events"]] == [event.pk]
    client.post(f"/events/{event.pk}/verify/", {"version": event.version, "passed": "1", "photos": [photo()]})
    event.refresh_from_db()
    assert event.status == "closed"
    client.post(f"/events/{event.pk}/rate/", {"version": event.version, "rating": "4"})
    assert Event.objects.get(pk=event.pk).rating == 4


def test_a_returned_event_leaves_the_department(dept_handler, make_event):
    event = make_event("dispatched")
    client = api_client_for(dept_handler)
    assert [e.pk for e in client.get("/events/department/").context["events"]] == [event.pk]
    response = client.post(
        f"/events/{event.pk}/return/", {"version": event.version, "reason": "非本部门"}, **HTMX
    )
    assert response.status_code == 204 and response["HX-Redirect"] == "/events/department/"
    assert client.get(f"/events/{event.pk}/").status_code == 404


def test_photos_only_for_those_who_see_the_event(community_b1, street_a, make_event):
    event = make_event("reported")
    photo_row = event.photos.get()
    url = f"/events/{event.pk}/photos/{photo_row.pk}/"
    response = api_client_for(street_a).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert "sandbox" in response["Content-Security-Policy"]
    assert api_client_for(community_b1).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page
    assert Client().get(f"/media/{photo_row.file.name}").status_code in (302, 404)  # never served as media


def test_lists_filters_and_scope(tree, street_a, community_b1, make_event):
    reported, closed = make_event("reported"), make_event("closed")
    client = api_client_for(street_a)
    assert [e.pk for e in client.get("/events/list/").context["events"]] == [closed.pk, reported.pk]
    assert [e.pk for e in client.get("/events/list/?status=closed").context["events"]] == [closed.pk]
    assert [e.pk for e in client.get(f"/events/list/?q={reported.number}").context["events"]] == [reported.pk]
    assert client.get("/events/").status_code == 302
    assert api_client_for(community_b1).get("/events/list/").context["events"] == []


def test_figures_page_and_export(district_admin, make_event):
    make_event("closed")
    make_event("reported")
    client = api_client_for(district_admin)
    page = client.get("/events/figures/?group=department")
    assert page.status_code == 200 and page.context["result"].total.count == 2
    assert page.context["group_by"] == "department"
    export = client.get("/events/figures/?group=area&format=xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_map_and_its_data(tree, district_admin, make_event):
    tree.a1_1.boundary = {
        "type": "Polygon",
        "coordinates": [[[117.2, 39.1], [117.21, 39.1], [117.21, 39.11], [117.2, 39.11], [117.2, 39.1]]],
    }
    tree.a1_1.save()
    make_event("reported", latitude="39.105", longitude="117.205")
    make_event("reported")  # no coordinates: counted on its grid only
    client = api_client_for(district_admin)
    page = client.get("/events/map/")
    assert page.status_code == 200
    shape = next(s for s in page.context["shapes"] if s["code"] == tree.a1_1.code)
    assert shape["count"] == 2
    data = client.get("/events/map/data/?bbox=117.1,39.0,117.3,39.2&zoom=14").json()
    assert data["total"] == 1 and data["points"][0]["lat"] == 39.105 and not data["clusters"]
    outside = client.get("/events/map/data/?bbox=116,38,116.5,38.5&zoom=14").json()
    assert outside["total"] == 0


def test_map_clusters_when_there_are_many(tree, district_admin, make_event):
    from pingan.events.selectors import map_markers

    for i in range(6):
        make_event("reported", latitude=f"39.10{i}", longitude="117.200", photos=[])
    result = map_markers(user=district_admin, zoom=12, max_points=3)
    assert result["points"] == [] and sum(c["count"] for c in result["clusters"]) == 6


def test_the_rules_screen(district_admin, street_a):
    client = api_client_for(district_admin)
    page = client.get("/events/rules/")
    assert page.status_code == 200
    data = {f: getattr(EventPolicy.current(), f) for f in EventPolicy.audit_public_fields}
    data.update({"form": "policy", "ordinary_days": 2, "verify_photo_required": ""})
    response = client.post("/events/rules/", data)
    assert response.status_code == 302
    policy = EventPolicy.current()
    assert policy.ordinary_days == 2 and policy.verify_photo_required is False
    response = client.post(
        "/events/rules/",
        {
            "form": "category",
            "category": "0702",
            "tier": "on_the_spot",
            "working_days": "",
            "public": "on",
            "default_department": "",
        },
    )
    assert (
        response.status_code == 302 and EventCategoryRule.objects.get(category="0702").tier == "on_the_spot"
    )
    bad = data | {"ordinary_days": 9, "difficult_days": 7}
    response = client.post("/events/rules/", bad)
    assert response.status_code == 200 and EventPolicy.current().ordinary_days == 2
    assert api_client_for(street_a).get("/events/rules/").status_code == 403


def test_navigation_home_figures_and_search(tree, street_a, dept_handler, auditor, make_event):
    event = make_event("dispatched")

    def labels(user):
        return [i["label"] for s in api_client_for(user).get("/").context["nav_sections"] for i in s["items"]]

    assert {"上报事件", "我的任务", "受理中心", "事件列表", "事件地图", "事件统计"} <= {
        str(x) for x in labels(street_a)
    }
    assert "部门待办" in {str(x) for x in labels(dept_handler)}
    assert not {"事件列表", "上报事件"} & {str(x) for x in labels(auditor)}
    figures = {str(f.label): f.value for f in api_client_for(street_a).get("/").context["figures"]}
    assert figures["在办事件"] == 1 and figures["超期事件"] == 0 and figures["本月结案"] == 0
    hits = api_client_for(street_a).get(f"/search/?q={event.number}").context["hits"]
    assert any(h.url == f"/events/{event.pk}/" for h in hits)
    assert not api_client_for(auditor).get(f"/search/?q={event.number}").context["hits"]


def test_the_bell(tree, street_a, make_event):
    make_event("reported")  # street_a is told
    client = api_client_for(street_a)
    bell = client.get("/notifications/bell/")
    assert bell.status_code == 200 and "1 条未读" in bell.content.decode()
    page = client.get("/notifications/")
    item = page.context["page"].object_list[0]
    assert item.kind == "event.reported"
    response = client.post(f"/notifications/{item.pk}/open/")
    assert response.status_code == 302 and response["Location"].startswith("/events/")
    assert not Notification.objects.filter(user=street_a, read_at__isnull=True).exists()
    home = client.get("/").content.decode()
    assert 'id="pa-bell"' in home


def test_nobody_reads_anothers_notifications(tree, street_a, grid_a1, make_event):
    make_event("reported")
    note = Notification.objects.get(user=street_a)
    assert api_client_for(grid_a1).post(f"/notifications/{note.pk}/open/").status_code == 404


def test_report_via_service_then_page_for_dept_masks_reporter(tree, street_a, dept_handler):
    event = services.event_report(
        actor=street_a,
        area_id=tree.a1_1.pk,
        category="0501",
        title="邻里纠纷",
        description="楼上漏水",
        source="citizen",
        reporter_name="王小明",
        reporter_phone="13812345678",
    )
    services.event_accept(actor=street_a, event_id=event.pk)
    services.event_dispatch(actor=street_a, event_id=event.pk, department_id=tree.law_enforcement.pk)
    body = api_client_for(dept_handler).get(f"/events/{event.pk}/").content.decode()
    assert "王*明" in body and "138****5678" in body
    assert "王小明" not in body and "13812345678" not in body


def test_the_department_queue_has_cards_for_a_phone(dept_handler, make_event):
    """The table for a desktop; the same events as cards (as in 我的任务) for a phone, with the deadline."""
    event = make_event("dispatched")
    html = api_client_for(dept_handler).get("/events/department/").content.decode()
    table, cards = html.split('class="d-md-none"')
    assert event.number in table and 'class="pa-card d-none d-md-block"' in table
    assert 'class="pa-task card' in cards and f'href="/events/{event.pk}/"' in cards and event.number in cards
    assert f"期限 {timezone.localtime(event.deadline):%m-%d %H:%M}" in cards
