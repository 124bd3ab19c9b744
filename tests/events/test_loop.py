"""The closed loop through the services, as the personas who act in it."""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import zoneinfo
from contextlib import contextmanager

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from pingan.audit.models import AuditEvent
from pingan.events import services
from pingan.events.models import Event, EventCounter, EventPhoto, EventPolicy, EventStep, Status
from pingan.events.selectors import event_get, event_list, my_tasks
from pingan.events.services import EventConflict
from pingan.notifications.models import Notification
from tests.events.conftest import JPEG, PNG, photo

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def actions(event: Event) -> list[str]:
    return list(EventStep.objects.filter(event=event).order_by("at", "id").values_list("action", flat=True))


def inbox(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("kind", flat=True))


# --- report ------------------------------------------------------------------------------------------


def test_a_grid_worker_reports_an_event(tree, grid_a1, street_a, district_admin):
    event = services.event_report(
        actor=grid_a1,
        area_id=tree.a1_1.pk,
        category="无证摊贩",
        title="人行道无证摊贩",
        description="早市摊贩占用人行道",
        latitude="39.101234",
        longitude="117.212345",
        address="滦水道12号",
        photos=[photo(), photo("b.png", PNG, "image/png")],
    )
    assert re.fullmatch(r"\d{8}\d{4}", event.number)
    assert (event.status, event.category, event.tier, event.source) == (
        "reported",
        "0102",
        "ordinary",
        "grid_worker",
    )
    assert event.owner == tree.street_a and event.area == tree.a1_1 and event.reporter == grid_a1
    assert event.version == 1
    assert actions(event) == ["report"]
    assert EventPhoto.objects.filter(event=event, kind="before").count() == 2
    stored = EventPhoto.objects.filter(event=event).first()
    assert stored.file.name.startswith("events/") and stored.content_type == "image/jpeg"
    assert AuditEvent.objects.filter(action="event.report", object_id=str(event.pk)).count() == 1
    assert inbox(street_a) == ["event.reported"]  # the street centre in charge
    assert inbox(district_admin) == []  # the district is told only about what is escalated to it


def test_text_is_kept_as_typed_lines_and_chinese_punctuation(tree, grid_a1, street_a):
    """Descriptions, titles and notes keep their line breaks (a description is shown line by line) and the
    full-width punctuation Chinese is written with; only full-width letters and digits are folded."""
    event = services.event_report(
        actor=grid_a1,
        area_id=tree.a1_1.pk,
        category="0102",
        title="人行道无证摊贩：早市\n东侧",
        description="1. 第一行：车辆占道，\r\n2. 第二行：已拍照！\n\n\n3. 车牌 ＡＢ１２３",
    )
    assert event.title == "人行道无证摊贩：早市 东侧"
    assert event.description == "1. 第一行：车辆占道，\n2. 第二行：已拍照！\n\n3. 车牌 AB123"
    accepted = services.event_accept(actor=street_a, event_id=event.pk, note="情况属实，立案。\n请尽快派遣")
    step = EventStep.objects.filter(event=accepted, action="accept").get()
    assert step.note == "情况属实，立案。\n请尽快派遣"


def test_numbers_follow_the_day(tree, grid_a1, make_event):
    first, second = make_event(), make_event()
    assert int(second.number) == int(first.number) + 1
    assert first.number[:8] == timezone.localdate().strftime("%Y%m%d")


def test_a_day_whose_counter_another_report_made_first_gives_the_next_number(make_event, monkeypatch):
    """The day's first reports race to make its counter row: the one that loses (IntegrityError) draws the
    number after the winner's."""
    real = services.prepared_cursor
    made: list[EventCounter] = []

    @contextmanager
    def then_another_report(alias):
        with real(alias) as cursor:  # the first increment finds no row for the day
            yield cursor
        if not made:  # the other report makes the row, with its number 1, before this one tries
            made.append(EventCounter.objects.create(day=timezone.localdate(), last=1))

    monkeypatch.setattr(services, "prepared_cursor", then_another_report)
    event = make_event()
    assert event.number == timezone.localdate().strftime("%Y%m%d") + "0002"


@pytest.mark.django_db(transaction=True)
def test_the_number_drawn_alone_commits_without_waiting_for_the_disk(postgres_only, make_event):
    """Drawn in a statement of its own, the increment commits asynchronously (set_config local to that
    statement); the session keeps synchronous commits for everything after it, the report's rows included.
    Drawn inside an outer transaction (as an Open311 report draws it), the plain increment runs and the
    outer transaction's commit stays synchronous."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    def counter_statements(queries: list[dict[str, str]]) -> list[str]:
        return [q["sql"] for q in queries if '"events_eventcounter"' in q["sql"] and "UPDATE" in q["sql"]]

    def synchronous_commit() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return str(cursor.fetchone()[0])

    make_event()  # the day's counter row exists from here on
    with CaptureQueriesContext(connection) as alone:
        first = make_event()
    [statement] = counter_statements(alone.captured_queries)
    assert "set_config('synchronous_commit', 'off', true)" in statement
    assert synchronous_commit() == "on"
    with CaptureQueriesContext(connection) as inside, transaction.atomic():
        second = make_event()
        assert synchronous_commit() == "on"
    [statement] = counter_statements(inside.captured_queries)
    assert "set_config" not in statement
    assert int(second.number) == int(first.number) + 1
    assert Event.objects.filter(number__in=[first.number, second.number]).count() == 2


def test_tier_comes_from_the_category_rule(make_event):
    assert make_event(category="0104").tier == "on_the_spot"  # 乱停乱放
    assert make_event(category="0101").tier == "difficult"  # 违章建筑
    assert make_event(category="0202").tier == "ordinary"  # inherits 02's rule


def test_a_saved_rule_applies_to_the_next_report_at_once(make_event, district_admin, monkeypatch):
    """Reports read the rules as their process keeps them (a minute): a save through the service clears
    that copy, a change made by another process shows when the minute is up."""
    from pingan.core import process_cache

    assert make_event(category="0202").tier == "ordinary"
    services.category_rule_save(actor=district_admin, category="0202", tier="difficult")
    assert make_event(category="0202").tier == "difficult"
    services.event_policy_update(actor=district_admin, data={"photo_max_count": 1})
    with pytest.raises(ValidationError, match="最多上传 1 张照片"):
        make_event(photos=[photo(), photo()])
    # another process's change (no signal here): seen once the kept copy is a minute old
    EventPolicy.objects.filter(pk=EventPolicy.SINGLETON_PK).update(photo_max_count=2)
    with pytest.raises(ValidationError, match="最多上传 1 张照片"):
        make_event(photos=[photo(), photo()])
    later = process_cache.time.monotonic() + 61
    monkeypatch.setattr(process_cache.time, "monotonic", lambda: later)
    assert make_event(photos=[photo(), photo()]).photos.count() == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "9876"}, "category"),
        ({"title": ""}, "title"),
        ({"title": "<script>"}, "title"),
        ({"description": ""}, "description"),
        ({"latitude": "39.1"}, "latitude"),
        ({"latitude": "139.1", "longitude": "117.2"}, "latitude"),
        ({"reporter_phone": "12345"}, "reporter_phone"),
        ({"urgency": "panic"}, "urgency"),
        ({"urgency": {"normal": 1}}, "urgency"),  # not a string: refused, not hashed into the choice set
        ({"source": "rumour"}, "source"),
        ({"source": ["grid_worker"]}, "source"),
    ],
)
def test_report_validation(tree, grid_a1, changes, field):
    data = {"area_id": tree.a1_1.pk, "category": "0102", "title": "标题", "description": "情况说明"} | changes
    with pytest.raises(ValidationError) as info:
        services.event_report(actor=grid_a1, **data)
    assert field in info.value.message_dict
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("latitude", "longitude", "words"),
    [
        ("10.5", "-70.2", "不在境内"),
        ("117.205", "39.105", "填反"),  # swapped
        ("31.2304", "121.4737", "不在本辖区"),  # Shanghai, for a grid in Tianjin
    ],
)
def test_a_reported_point_lies_within_reach_of_the_district(tree, grid_a1, latitude, longitude, words):
    tree.a1_1.boundary = {
        "type": "Polygon",
        "coordinates": [
            [[117.20, 39.10], [117.21, 39.10], [117.21, 39.11], [117.20, 39.11], [117.20, 39.10]]
        ],
    }
    tree.a1_1.save()  # clears the district's extent kept by this process
    data = {"area_id": tree.a1_1.pk, "category": "0102", "title": "标题", "description": "情况说明"}
    with pytest.raises(ValidationError, match=words):
        services.event_report(actor=grid_a1, latitude=latitude, longitude=longitude, **data)
    # across the boundary road (within 2 km of the grids): GPS error, accepted
    assert services.event_report(actor=grid_a1, latitude="39.115", longitude="117.215", **data).pk


def test_reports_land_in_a_grid_of_the_reporters_scope(tree, grid_a1, street_a, leader):
    with pytest.raises(PermissionDenied):
        services.event_report(
            actor=grid_a1, area_id=tree.b1_1.pk, category="0102", title="t", description="说明"
        )
    with pytest.raises(ValidationError):  # a community is not a grid
        services.event_report(
            actor=street_a, area_id=tree.a1.pk, category="0102", title="t", description="说明"
        )
    with pytest.raises(PermissionDenied):  # leaders read only
        services.event_report(
            actor=leader, area_id=tree.a1_1.pk, category="0102", title="t", description="说明"
        )


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (photo("x.jpg", b"<html>not an image</html>", "image/jpeg"), "不是 JPEG、PNG 或 WebP"),
        (photo("x.jpg", b"", "image/jpeg"), "空文件"),
        (photo("x.gif", b"GIF89a" + b"\x00" * 20, "image/gif"), "不是 JPEG、PNG 或 WebP"),
    ],
)
def test_photos_are_checked_by_content(tree, grid_a1, upload, message):
    with pytest.raises(ValidationError) as info:
        services.event_report(
            actor=grid_a1,
            area_id=tree.a1_1.pk,
            category="0102",
            title="t",
            description="说明",
            photos=[upload],
        )
    assert message in info.value.message_dict["photos"][0]


def test_photo_size_and_count_limits(tree, grid_a1, settings):
    policy = EventPolicy.current()
    policy.photo_max_bytes, policy.photo_max_count = 100, 2
    policy.save()
    with pytest.raises(ValidationError, match="超过"):
        services.event_report(
            actor=grid_a1,
            area_id=tree.a1_1.pk,
            category="0102",
            title="t",
            description="说明",
            photos=[photo()],
        )
    with pytest.raises(ValidationError, match="最多上传 2 张"):
        services.event_report(
            actor=grid_a1,
            area_id=tree.a1_1.pk,
            category="0102",
            title="t",
            description="说明",
            photos=[photo("a.png", PNG)] * 3,
        )


def test_a_failed_report_leaves_no_file_behind(tree, grid_a1, settings, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("notification store down")

    monkeypatch.setattr(services, "notify", boom)
    with pytest.raises(RuntimeError):
        services.event_report(
            actor=grid_a1,
            area_id=tree.a1_1.pk,
            category="0102",
            title="t",
            description="说明",
            photos=[photo()],
        )
    media = settings.MEDIA_ROOT
    assert not [p for p in media.rglob("*") if p.is_file()]


def test_a_photo_file_is_written_as_storage_save_writes_it(make_event, settings):
    settings.FILE_UPLOAD_PERMISSIONS = 0o640
    old = os.umask(0o077)  # the file's mode is the setting's, not the process's umask
    try:
        event = make_event(photos=[photo(), photo("b.png", PNG, "image/png")])
    finally:
        os.umask(old)
    files = [p.file for p in EventPhoto.objects.filter(event=event).order_by("pk")]
    assert [f.read() for f in files] == [JPEG, PNG]  # the month's directory was made on the way
    for f in files:
        f.close()
        assert re.fullmatch(r"events/\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png)", f.name)
        assert stat.S_IMODE(os.stat(f.path).st_mode) == 0o640


def test_a_photo_whose_name_is_taken_gets_another(settings, monkeypatch):
    field = EventPhoto._meta.get_field("file")
    monkeypatch.setattr(field, "upload_to", lambda instance, filename: "events/2026/12/taken.jpg")
    first = services._save_file(field, ".jpg", b"first")
    second = services._save_file(field, ".jpg", b"second")  # O_EXCL refused it: Storage.save() renamed it
    assert (
        first == "events/2026/12/taken.jpg" and second != first and second.startswith("events/2026/12/taken_")
    )
    media = settings.MEDIA_ROOT
    assert (media / first).read_bytes() == b"first" and (media / second).read_bytes() == b"second"


# --- the whole loop ------------------------------------------------------------------------------------


def test_the_whole_loop(tree, grid_a1, street_a, dept_handler, make_event):
    event = make_event("reported")
    event = services.event_accept(actor=street_a, event_id=event.pk, expected_version=1)
    assert (event.status, event.version) == ("accepted", 2) and event.accepted_at
    event = services.event_dispatch(
        actor=street_a,
        event_id=event.pk,
        department_id=tree.law_enforcement.pk,
        note="请尽快处置",
        expected_version=2,
    )
    assert event.status == "dispatched" and event.assignee_department == tree.law_enforcement
    assert event.deadline_days == 3 and event.deadline > timezone.now()
    assert "event.dispatched" in inbox(dept_handler)
    event = services.event_start(actor=dept_handler, event_id=event.pk)
    event = services.event_report_back(
        actor=dept_handler, event_id=event.pk, note="摊贩已劝离", photos=[photo()]
    )
    assert event.status == "handled" and event.handled_at
    assert "event.handled" in inbox(grid_a1)
    event = services.event_verify(
        actor=grid_a1, event_id=event.pk, passed=True, note="现场已恢复", photos=[photo()]
    )
    assert event.status == "closed" and event.closed_on_time is True
    assert event.verification_count == 1 and event.failed_verification_count == 0
    assert event.handling_seconds is not None and event.handling_seconds >= 0
    event = services.event_rate(actor=grid_a1, event_id=event.pk, rating=5, note="满意")
    assert event.rating == 5
    assert actions(event) == [
        "report",
        "accept",
        "dispatch",
        "start",
        "report_back",
        "verify_pass",
        "close",
        "rate",
    ]
    assert EventPhoto.objects.filter(event=event, kind="after").count() == 2
    audited = list(
        AuditEvent.objects.filter(object_id=str(event.pk), object_type="events.event")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert audited == [
        "event.report",
        "event.accept",
        "event.dispatch",
        "event.start",
        "event.report_back",
        "event.verify_pass",
        "event.rate",
    ]
    step = EventStep.objects.get(event=event, action="dispatch")
    assert step.actor == street_a and step.actor_name == "街道甲" and step.data["to"] == "综合执法局"
    assert "event.closed" in inbox(street_a)  # the reporter verified it themself: no need to tell them


def test_status_is_never_assigned_directly(make_event):
    event = make_event()
    with pytest.raises(AttributeError):
        event.status = "closed"


def test_refusal_needs_a_reason(street_a, make_event):
    event = make_event()
    with pytest.raises(ValidationError):
        services.event_refuse(actor=street_a, event_id=event.pk, reason=" ")
    event = services.event_refuse(
        actor=street_a, event_id=event.pk, reason="已电话联系李四（13900001111），属误报"
    )
    # the reason stays inside (the timeline); the public sees a fixed text
    assert event.status == "refused" and event.public_note == "经核实，不予立案"
    assert event.steps.get(action="refuse").note == "已电话联系李四（13900001111），属误报"


def test_a_failed_verification_is_rework(grid_a1, dept_handler, make_event):
    event = make_event("handled")
    with pytest.raises(ValidationError):  # the reason is required
        services.event_verify(actor=grid_a1, event_id=event.pk, passed=False)
    event = services.event_verify(actor=grid_a1, event_id=event.pk, passed=False, note="摊贩又回来了")
    assert event.status == "handling"
    assert (event.verification_count, event.failed_verification_count) == (1, 1)
    assert "event.rework" in inbox(dept_handler)
    services.event_report_back(actor=dept_handler, event_id=event.pk, note="已再次清理")
    event = services.event_verify(actor=grid_a1, event_id=event.pk, passed=True, photos=[photo()])
    assert event.status == "closed" and (event.verification_count, event.failed_verification_count) == (2, 1)


def test_rework_after_the_deadline_gets_a_new_one(grid_a1, make_event):
    """A failed verification after the task's deadline would leave it late at once: the rework gets as many
    working days as the task had, from the failed verification (shown in its timeline row)."""
    event = make_event("handled")
    past = timezone.now() - dt.timedelta(days=20)
    Event.objects.filter(pk=event.pk).update(deadline=past)
    event = services.event_verify(actor=grid_a1, event_id=event.pk, passed=False, note="摊贩又回来了")
    assert event.deadline is not None and event.deadline > timezone.now() and not event.is_late
    step = event.steps.get(action="verify_fail")
    assert step.data["deadline"] == event.deadline.isoformat()


def test_two_pairs_of_hands_for_an_extension_and_a_verification(tree, street_a, grid_a1, make_event):
    """A street office dispatching to its own community could otherwise ask for an extension and grant it,
    then report the work done and verify it."""
    from pingan.events.selectors import available_actions

    event = make_event("accepted")
    services.event_dispatch(actor=street_a, event_id=event.pk, area_id=tree.a1.pk)
    services.event_start(actor=street_a, event_id=event.pk)
    event = services.event_request_extension(actor=street_a, event_id=event.pk, days=2, reason="需协调")
    assert "decide_extension" not in available_actions(user=street_a, event=event)
    with pytest.raises(ValidationError, match="不能审批自己提交的延期申请"):
        services.event_decide_extension(actor=street_a, event_id=event.pk, approve=True)
    event = services.event_report_back(actor=street_a, event_id=event.pk, note="已协调处理")
    assert "verify" not in available_actions(user=street_a, event=event)
    with pytest.raises(ValidationError, match="不能核查自己反馈的处置结果"):
        services.event_verify(actor=street_a, event_id=event.pk, passed=True, photos=[photo()])
    assert "verify" in available_actions(user=grid_a1, event=event)  # the reporter checks it
    assert (
        services.event_verify(actor=grid_a1, event_id=event.pk, passed=True, photos=[photo()]).status
        == "closed"
    )


def test_reporting_back_without_signing_signs_too(dept_handler, make_event):
    event = make_event("dispatched")
    version = event.version
    event = services.event_report_back(actor=dept_handler, event_id=event.pk, note="已当场处置")
    assert event.status == "handled" and event.version == version + 1
    actions = list(event.steps.order_by("pk").values_list("action", flat=True))
    assert actions[-2:] == ["start", "report_back"]


def test_a_passed_verification_needs_a_photo_unless_the_policy_says_otherwise(grid_a1, make_event):
    event = make_event("handled")
    with pytest.raises(ValidationError, match="照片"):
        services.event_verify(actor=grid_a1, event_id=event.pk, passed=True)
    EventPolicy.objects.filter(pk=1).update(verify_photo_required=False)
    assert services.event_verify(actor=grid_a1, event_id=event.pk, passed=True).status == "closed"


def test_return_and_redispatch(tree, street_a, dept_handler, make_event, community_a1):
    event = make_event("dispatched")
    with pytest.raises(ValidationError):
        services.event_return(actor=dept_handler, event_id=event.pk, reason="")
    event = services.event_return(actor=dept_handler, event_id=event.pk, reason="不属于本部门职责")
    assert event.status == "accepted" and event.return_count == 1
    assert event.assignee_department is None and event.deadline is None
    assert "event.returned" in inbox(street_a)
    with pytest.raises(Http404):  # no longer the department's event
        event_get(user=dept_handler, event_id=event.pk)
    event = services.event_dispatch(actor=street_a, event_id=event.pk, area_id=tree.a1.pk, tier="difficult")
    assert event.assignee_area == tree.a1 and event.deadline_days == 7
    assert "event.dispatched" in inbox(community_a1)
    services.event_start(actor=community_a1, event_id=event.pk)


def test_dispatch_targets_must_serve_the_event(tree, street_a, make_event):
    event = make_event("accepted")
    with pytest.raises(ValidationError):  # neither
        services.event_dispatch(actor=street_a, event_id=event.pk)
    with pytest.raises(ValidationError):  # both
        services.event_dispatch(
            actor=street_a, event_id=event.pk, department_id=tree.law_enforcement.pk, area_id=tree.a1.pk
        )
    with pytest.raises(ValidationError):  # another community
        services.event_dispatch(actor=street_a, event_id=event.pk, area_id=tree.a2.pk)
    with pytest.raises(ValidationError):  # the street itself is not a lower level
        services.event_dispatch(actor=street_a, event_id=event.pk, area_id=tree.street_a.pk)
    assert Event.objects.get(pk=event.pk).status == "accepted"


def test_a_department_not_serving_the_area_is_refused(tree, district_admin, grid_b1):
    event = services.event_report(
        actor=grid_b1, area_id=tree.b1_1.pk, category="0102", title="t", description="说明"
    )
    services.event_accept(actor=district_admin, event_id=event.pk)
    with pytest.raises(
        ValidationError, match="不负责"
    ):  # 综合执法局 serves street A only (tests/conftest.py)
        services.event_dispatch(
            actor=district_admin, event_id=event.pk, department_id=tree.law_enforcement.pk
        )


# --- deadlines, extensions ------------------------------------------------------------------------------


def at(moment: dt.datetime):
    return lambda: moment


def test_deadline_across_the_national_day_holiday(tree, street_a, make_event, monkeypatch):
    monkeypatch.setattr(timezone, "now", at(dt.datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)))
    event = make_event("accepted")
    event = services.event_dispatch(actor=street_a, event_id=event.pk, department_id=tree.law_enforcement.pk)
    # 3 working days after Wednesday 30 September: 8 Oct, 9 Oct and the adjusted working Saturday 10 Oct.
    assert timezone.localtime(event.deadline, SHANGHAI) == dt.datetime(
        2026, 10, 10, 23, 59, 59, 999999, tzinfo=SHANGHAI
    )
    on_the_spot = make_event("accepted", category="0104")
    on_the_spot = services.event_dispatch(actor=street_a, event_id=on_the_spot.pk, area_id=tree.a1_1.pk)
    assert timezone.localtime(on_the_spot.deadline, SHANGHAI).date() == dt.date(2026, 9, 30)


def test_extension_request_and_approval(tree, street_a, dept_handler, make_event, monkeypatch):
    monkeypatch.setattr(timezone, "now", at(dt.datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)))
    event = make_event("handling")
    with pytest.raises(ValidationError, match="最多还能延期 12"):  # 3 + 13 > 15
        services.event_request_extension(actor=dept_handler, event_id=event.pk, days=13, reason="需协调")
    event = services.event_request_extension(
        actor=dept_handler, event_id=event.pk, days=5, reason="需协调房管部门"
    )
    assert event.extension_requested_days == 5 and "event.extension_requested" in inbox(street_a)
    with pytest.raises(EventConflict):  # one pending request at a time
        services.event_request_extension(actor=dept_handler, event_id=event.pk, days=1, reason="再延")
    with pytest.raises(PermissionDenied):  # the department does not approve its own request
        services.event_decide_extension(actor=dept_handler, event_id=event.pk, approve=True)
    event = services.event_decide_extension(actor=street_a, event_id=event.pk, approve=True)
    # 3 + 5 = 8 working days after 30 September: 8, 9, 10 (Sat), 12, 13, 14, 15, 16 October.
    assert timezone.localtime(event.deadline, SHANGHAI).date() == dt.date(2026, 10, 16)
    assert (event.extension_days, event.extension_count, event.extension_requested_days) == (5, 1, None)
    event = services.event_request_extension(actor=dept_handler, event_id=event.pk, days=7, reason="再协调")
    with pytest.raises(ValidationError):  # a refusal says why
        services.event_decide_extension(actor=street_a, event_id=event.pk, approve=False)
    event = services.event_decide_extension(
        actor=street_a, event_id=event.pk, approve=False, note="请按期办结"
    )
    assert event.extension_days == 5 and event.extension_requested_days is None
    assert actions(event)[-3:] == ["extension_approve", "extension_request", "extension_reject"]


def test_no_extension_after_the_deadline(dept_handler, make_event, monkeypatch):
    event = make_event("handling")
    monkeypatch.setattr(timezone, "now", at(event.deadline + dt.timedelta(minutes=1)))
    with pytest.raises(ValidationError, match="已超过办理期限"):
        services.event_request_extension(actor=dept_handler, event_id=event.pk, days=2, reason="来不及")


# --- escalation, supervision, reopening, rating -------------------------------------------------------


def test_escalation_moves_the_event_to_the_district(tree, street_a, district_admin, make_event):
    event = make_event("reported")
    event = services.event_escalate(actor=street_a, event_id=event.pk, reason="涉及多部门，需区级协调")
    assert event.owner == tree.district and event.escalation_count == 1
    assert "event.escalated" in inbox(district_admin)
    with pytest.raises(PermissionDenied):  # the street is no longer in charge
        services.event_accept(actor=street_a, event_id=event.pk)
    event_get(user=street_a, event_id=event.pk)  # but still sees it
    services.event_accept(actor=district_admin, event_id=event.pk)
    with pytest.raises(EventConflict, match="最高层级"):
        services.event_escalate(actor=district_admin, event_id=event.pk, reason="再上报")


def test_supervision_reaches_the_assignee(street_a, dept_handler, make_event):
    event = make_event("dispatched")
    with pytest.raises(ValidationError):
        services.event_supervise(actor=street_a, event_id=event.pk, note="")
    event = services.event_supervise(actor=street_a, event_id=event.pk, note="请今天内反馈进展")
    assert event.supervision_count == 1 and "event.supervised" in inbox(dept_handler)
    closed = make_event("closed")
    with pytest.raises(EventConflict):
        services.event_supervise(actor=street_a, event_id=closed.pk, note="督办")


def test_reopen_within_thirty_days(grid_a1, street_a, make_event, monkeypatch):
    event = make_event("closed")
    services.event_rate(actor=grid_a1, event_id=event.pk, rating=2)
    event = services.event_reopen(actor=grid_a1, event_id=event.pk, reason="问题又出现了")
    assert event.status == "accepted" and event.reopen_count == 1
    assert event.closed_at is None and event.rating is None and event.assignee_department is None
    assert "event.reopened" in inbox(street_a)
    late = make_event("closed")
    monkeypatch.setattr(timezone, "now", at(late.closed_at + dt.timedelta(days=31)))
    with pytest.raises(ValidationError, match="超过 30 天"):
        services.event_reopen(actor=street_a, event_id=late.pk, reason="又出现")


def test_rating_rules(grid_a1, dept_handler, street_a, make_event):
    event = make_event("handled")
    with pytest.raises(EventConflict, match="尚未结案"):
        services.event_rate(actor=grid_a1, event_id=event.pk, rating=5)
    event = make_event("closed")
    with pytest.raises(ValidationError):
        services.event_rate(actor=grid_a1, event_id=event.pk, rating=6)
    with pytest.raises(PermissionDenied):  # the department does not rate itself
        services.event_rate(actor=dept_handler, event_id=event.pk, rating=5)
    services.event_rate(actor=street_a, event_id=event.pk, rating=4, note="回访：满意")  # a return call
    with pytest.raises(EventConflict, match="已评价"):
        services.event_rate(actor=grid_a1, event_id=event.pk, rating=5)


# --- every transition: legal ones succeed, every other is refused ---------------------------------------

ACTIONS = {
    "accept": (lambda e, u: services.event_accept(actor=u["street_a"], event_id=e.pk), {"reported"}),
    "refuse": (
        lambda e, u: services.event_refuse(actor=u["street_a"], event_id=e.pk, reason="重复"),
        {"reported"},
    ),
    "dispatch": (
        lambda e, u: services.event_dispatch(actor=u["street_a"], event_id=e.pk, area_id=e.area.parent_id),
        {"accepted"},
    ),
    "start": (lambda e, u: services.event_start(actor=u["dept_handler"], event_id=e.pk), {"dispatched"}),
    "report_back": (
        lambda e, u: services.event_report_back(actor=u["dept_handler"], event_id=e.pk, note="已处置"),
        {"dispatched", "handling"},
    ),
    "return": (
        lambda e, u: services.event_return(actor=u["dept_handler"], event_id=e.pk, reason="非本部门"),
        {"dispatched", "handling"},
    ),
    "verify_pass": (
        lambda e, u: services.event_verify(actor=u["grid_a1"], event_id=e.pk, passed=True, photos=[photo()]),
        {"handled"},
    ),
    "verify_fail": (
        lambda e, u: services.event_verify(actor=u["grid_a1"], event_id=e.pk, passed=False, note="未处置"),
        {"handled"},
    ),
    "reopen": (
        lambda e, u: services.event_reopen(actor=u["street_a"], event_id=e.pk, reason="复发"),
        {"closed"},
    ),
    "rate": (lambda e, u: services.event_rate(actor=u["grid_a1"], event_id=e.pk, rating=4), {"closed"}),
    "request_extension": (
        lambda e, u: services.event_request_extension(
            actor=u["dept_handler"], event_id=e.pk, days=1, reason="协调"
        ),
        {"dispatched", "handling"},
    ),
    "escalate": (
        lambda e, u: services.event_escalate(actor=u["street_a"], event_id=e.pk, reason="需区级协调"),
        {"reported", "accepted", "dispatched", "handling", "handled"},
    ),
    "supervise": (
        lambda e, u: services.event_supervise(actor=u["street_a"], event_id=e.pk, note="请加快"),
        {"reported", "accepted", "dispatched", "handling", "handled"},
    ),
}
TARGETS = {
    "accept": "accepted",
    "refuse": "refused",
    "dispatch": "dispatched",
    "start": "handling",
    "report_back": "handled",
    "return": "accepted",
    "verify_pass": "closed",
    "verify_fail": "handling",
    "reopen": "accepted",
}
STATES = ("reported", "accepted", "refused", "dispatched", "handling", "handled", "closed")


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_transition(state, action, make_event, grid_a1, street_a, dept_handler):
    users = {"grid_a1": grid_a1, "street_a": street_a, "dept_handler": dept_handler}
    event = make_event(state)
    call, legal_from = ACTIONS[action]
    before = Event.objects.get(pk=event.pk)
    if state in legal_from:
        result = call(event, users)
        assert result.version == before.version + 1
        assert result.status == TARGETS.get(action, state)
    else:
        # Refused: by its state (409 conflict), or because nobody holds that role on the event in this state.
        with pytest.raises((EventConflict, PermissionDenied, Http404)):
            call(event, users)
        after = Event.objects.get(pk=event.pk)
        assert (after.status, after.version) == (before.status, before.version)


# --- scope ----------------------------------------------------------------------------------------------


def test_community_b1_cannot_see_a1_events(tree, community_b1, community_a1, make_event):
    event = make_event()
    assert list(event_list(user=community_b1)) == []
    with pytest.raises(Http404):
        event_get(user=community_b1, event_id=event.pk)
    assert list(event_list(user=community_a1)) == [event]
    with pytest.raises(Http404):  # acting on it looks the same as it not existing
        services.event_accept(actor=community_b1, event_id=event.pk)


def test_a_department_sees_only_what_was_dispatched_to_it(tree, dept_handler, street_a, make_event):
    waiting = make_event("accepted")  # in street A, which the department serves, but not dispatched to it
    assert list(event_list(user=dept_handler)) == []
    mine = make_event("dispatched")
    elsewhere = make_event("dispatched", department=tree.judicial_a)
    assert list(event_list(user=dept_handler)) == [mine]
    with pytest.raises(Http404):
        event_get(user=dept_handler, event_id=elsewhere.pk)
    with pytest.raises(Http404):
        services.event_start(actor=dept_handler, event_id=elsewhere.pk)
    assert waiting.pk != mine.pk


def test_leaders_read_and_never_write(leader, make_event):
    event = make_event()
    assert event_get(user=leader, event_id=event.pk) == event
    with pytest.raises(PermissionDenied):
        services.event_accept(actor=leader, event_id=event.pk)


def test_a_grid_worker_of_another_grid_cannot_verify(tree, grid_b1, make_event):
    event = make_event("handled")
    with pytest.raises(Http404):
        services.event_verify(actor=grid_b1, event_id=event.pk, passed=True, photos=[photo()])


def test_administrators_see_no_events(auditor, system_admin, make_event):
    make_event()
    assert list(event_list(user=auditor)) == [] and list(event_list(user=system_admin)) == []


# --- concurrency (single thread: the version the caller saw) ------------------------------------------


def test_a_stale_version_is_a_conflict(street_a, district_admin, make_event):
    event = make_event()
    services.event_accept(actor=street_a, event_id=event.pk, expected_version=1)
    with pytest.raises(EventConflict, match="已被他人更新") as info:
        services.event_refuse(actor=district_admin, event_id=event.pk, reason="重复", expected_version=1)
    assert info.value.current_version == 2 and info.value.status == Status.ACCEPTED
    assert Event.objects.get(pk=event.pk).status == "accepted"


def test_my_tasks_put_the_work_before_closures_waiting_for_a_rating(grid_a1, make_event):
    """A grid worker who never rates keeps every closed report in the list: the work comes first."""
    closed = make_event("closed")
    Event.objects.filter(pk=closed.pk).update(
        deadline=closed.deadline - dt.timedelta(days=20)
    )  # the earliest
    rated = make_event("closed")
    services.event_rate(actor=grid_a1, event_id=rated.pk, rating=5)
    to_verify = make_event("handled")
    waiting = make_event("reported")  # no deadline yet
    tasks = list(my_tasks(user=grid_a1))
    assert tasks == [to_verify, waiting, closed]
