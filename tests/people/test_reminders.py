from __future__ import annotations

import datetime as dt

from django.utils import timezone

from pingan.audit.models import AuditEvent
from pingan.notifications.models import Notification
from pingan.people.models import FloatingRecord
from pingan.people.services import floating_register, person_register
from pingan.people.tasks import run_people_reminders
from tests.factories import api_client_for


def test_permit_and_reverify_reminders(tree, community_a1, grid_a1, community_b1, person_data):
    today = timezone.localdate()
    soon, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=1, is_floating=True))
    floating_register(
        actor=community_a1,
        person_id=soon.pk,
        data={
            "permit_number": "R1",
            "valid_to": today + dt.timedelta(days=10),
            "registered_on": today,
            "last_verified_on": today,
        },
    )
    stale, _ = person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=3, is_floating=True))
    floating_register(
        actor=community_a1,
        person_id=stale.pk,
        data={
            "permit_number": "R2",
            "valid_to": today + dt.timedelta(days=300),
            "registered_on": today - dt.timedelta(days=400),
        },
    )
    counts = run_people_reminders(timezone.now())
    assert counts["permit_expiring"] >= 1 and counts["reverify"] >= 1
    users = set(Notification.objects.values_list("user__username", flat=True))
    assert community_a1.username in users and community_b1.username not in users
    assert all("测试张三" not in n.title for n in Notification.objects.all())  # masked
    before = Notification.objects.count()
    run_people_reminders(timezone.now())
    assert Notification.objects.count() == before
    assert FloatingRecord.objects.count() == 2


def _floating(actor, area, seq, person_data, **record):
    person, _ = person_register(actor=actor, area=area, data=person_data(seq=seq, is_floating=True))
    return floating_register(actor=actor, person_id=person.pk, data={"permit_number": f"R{seq}", **record})


def test_the_reminders_page_lists_and_counts_per_grid(tree, community_a1, community_b1, leader, person_data):
    """流动人口提醒: the worker's two rules as a page, counted per grid and listed in the user's sight;
    re-verified in one click (community staff), read only for a leader; B1 sees none of A1's."""
    today = timezone.localdate()
    later = _floating(community_a1, tree.a1_1, 5, person_data, valid_to=today + dt.timedelta(days=20))
    sooner = _floating(community_a1, tree.a1_2, 7, person_data, valid_to=today + dt.timedelta(days=3))
    _floating(community_a1, tree.a1_1, 9, person_data, valid_to=today + dt.timedelta(days=200))  # not yet
    stale = _floating(community_a1, tree.a1_1, 11, person_data, registered_on=today - dt.timedelta(days=400))
    _floating(community_b1, tree.b1_1, 13, person_data, valid_to=today + dt.timedelta(days=1))
    client = api_client_for(community_a1)
    page = client.get("/people/floating/reminders/")
    assert [r.pk for r in page.context["page"]] == [sooner.pk, later.pk]  # the nearest end first
    assert [(c["area"].code, c["expiring"], c["reverify"]) for c in page.context["counts"]] == [
        (tree.a1_1.code, 1, 1),
        (tree.a1_2.code, 1, 0),
    ]
    html = page.content.decode()
    assert "测试张三" not in html and "测**三" in html and "3 天" in html
    in_grid = client.get(f"/people/floating/reminders/?kind=reverify&area={tree.a1_1.pk}")
    assert [r.pk for r in in_grid.context["page"]] == [stale.pk]
    assert "已核查" in in_grid.content.decode()
    assert (
        "已核查"
        not in api_client_for(leader).get("/people/floating/reminders/?kind=reverify").content.decode()
    )
    assert api_client_for(leader).post(f"/people/floating/{stale.pk}/verify/").status_code == 403
    assert not api_client_for(community_b1).get("/people/floating/reminders/?kind=reverify").context["page"]
    assert api_client_for(community_b1).post(f"/people/floating/{stale.pk}/verify/").status_code == 404
    done = client.post(
        f"/people/floating/{stale.pk}/verify/", {"next": "/people/floating/reminders/?kind=reverify"}
    )
    assert done.status_code == 302 and done["Location"] == "/people/floating/reminders/?kind=reverify"
    stale.refresh_from_db()
    assert stale.last_verified_on == today
    assert AuditEvent.objects.filter(action="person.floating_update", object_id=str(stale.person_id)).exists()
    assert not client.get("/people/floating/reminders/?kind=reverify").context["page"]
    # elsewhere than the page itself, "next" is not followed
    assert client.post(f"/people/floating/{later.pk}/verify/", {"next": "//evil.example/"})["Location"] == (
        "/people/floating/reminders/"
    )


def test_the_reminders_through_the_api(tree, community_a1, community_b1, person_data):
    today = timezone.localdate()
    soon = _floating(community_a1, tree.a1_1, 5, person_data, valid_to=today + dt.timedelta(days=2))
    _floating(community_a1, tree.a1_2, 7, person_data, valid_to=today + dt.timedelta(days=9))
    client = api_client_for(community_a1)
    due = client.get(f"/api/v1/floating?due=expiring&area_id={tree.a1_1.pk}").json()
    assert [r["id"] for r in due["items"]] == [soon.pk]
    assert client.get("/api/v1/floating?due=sometime").status_code == 422
    counts = client.get("/api/v1/floating/reminder-counts").json()
    assert [(c["area_code"], c["expiring"], c["reverify"]) for c in counts] == [
        (tree.a1_1.code, 1, 0),
        (tree.a1_2.code, 1, 0),
    ]
    assert api_client_for(community_b1).get("/api/v1/floating/reminder-counts").json() == []
    assert api_client_for(community_b1).get("/api/v1/floating?due=expiring").json()["items"] == []


def test_the_reminders_export(tree, community_a1, community_b1, leader, person_data):
    """One kind as an xlsx: masked, IDs as text, who and when on top, audited; only the user's sight."""
    import io

    from python_calamine import CalamineWorkbook

    today = timezone.localdate()
    soon = _floating(community_a1, tree.a1_1, 5, person_data, valid_to=today + dt.timedelta(days=4))
    _floating(community_b1, tree.b1_1, 13, person_data, valid_to=today + dt.timedelta(days=1))
    client = api_client_for(community_a1)
    assert (
        "/people/floating/reminders/export/?kind=expiring"
        in client.get("/people/floating/reminders/").content.decode()
    )
    response = client.get("/people/floating/reminders/export/?kind=expiring")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    assert rows[0][0] == "居住证即将到期" and community_a1.username in rows[1][0] and "已脱敏" in rows[1][0]
    header = rows[2]
    assert header[:4] == ["姓名", "公民身份号码", "联系电话", "所属网格"]
    data = rows[3:]
    assert len(data) == 1 and data[0][0] == "测**三" and data[0][3] == tree.a1_1.name
    assert soon.person.id_number not in str(data) and "*" in data[0][1] and data[0][7] == 4
    event = AuditEvent.objects.get(action="person.floating_reminder_export")
    assert event.actor_username == community_a1.username and event.changes["rows"] == [None, 1]
    assert api_client_for(leader).get("/people/floating/reminders/export/").status_code == 403


def test_a_renewal_or_a_verification_starts_a_new_cycle(tree, community_a1, person_data):
    """Once per reminder, not once per record for ever: a renewed permit nearing its new end, and a resident
    verified and overdue again, are notified again (they were not: one notification per record and kind)."""
    from pingan.people.services import floating_update

    now = timezone.now()
    today = timezone.localdate()
    permit = _floating(
        community_a1,
        tree.a1_1,
        5,
        person_data,
        valid_to=today + dt.timedelta(days=10),
        registered_on=today - dt.timedelta(days=400),
    )

    def sent(kind):
        return Notification.objects.filter(kind=kind, object_id=str(permit.pk), user=community_a1).count()

    run_people_reminders(now)
    assert (sent("people.permit_expiring"), sent("people.reverify")) == (1, 1)
    run_people_reminders(now)  # the same cycle: nothing new
    assert (sent("people.permit_expiring"), sent("people.reverify")) == (1, 1)
    floating_update(
        actor=community_a1,
        record_id=permit.pk,
        data={"valid_to": today + dt.timedelta(days=365), "last_verified_on": today},
    )
    run_people_reminders(now)  # renewed and verified: nothing due
    assert (sent("people.permit_expiring"), sent("people.reverify")) == (1, 1)
    run_people_reminders(now + dt.timedelta(days=350))  # the new permit ends in 15 days; unverified 350 days
    assert (sent("people.permit_expiring"), sent("people.reverify")) == (2, 2)


def test_sealed_and_departed_people_are_not_reminded(tree, community_a1, district_admin, person_data):
    from pingan.core.actors import SYSTEM
    from pingan.core.sensitive import apply_seal
    from pingan.people.services import person_move_out

    today = timezone.localdate()
    sealed = _floating(community_a1, tree.a1_1, 5, person_data, valid_to=today + dt.timedelta(days=3))
    gone = _floating(community_a1, tree.a1_1, 7, person_data, valid_to=today + dt.timedelta(days=3))
    kept = _floating(community_a1, tree.a1_1, 9, person_data, valid_to=today + dt.timedelta(days=3))
    apply_seal(sealed.person, actor=SYSTEM, reason="未成年人犯罪记录封存")
    person_move_out(actor=community_a1, person_id=gone.person_id)
    for user in (community_a1, district_admin):
        page = api_client_for(user).get("/people/floating/reminders/")
        assert [r.pk for r in page.context["page"]] == [kept.pk]
        assert [c["expiring"] for c in page.context["counts"]] == [1]


def test_the_home_page_counts_the_reminders_of_those_who_act_on_them(
    tree, community_a1, community_b1, leader, person_data
):
    """Community staff (and grid workers, police) see the two totals of their jurisdiction on the home page,
    each a link to its tab of 流动人口提醒; B1 counts none of A1's; a leader's home page has no such tiles."""
    today = timezone.localdate()
    _floating(community_a1, tree.a1_1, 5, person_data, valid_to=today + dt.timedelta(days=20))
    _floating(community_a1, tree.a1_2, 7, person_data, valid_to=today + dt.timedelta(days=3))
    _floating(community_a1, tree.a1_1, 11, person_data, registered_on=today - dt.timedelta(days=400))
    _floating(community_b1, tree.b1_1, 13, person_data, valid_to=today + dt.timedelta(days=1))

    def tiles(user):
        figures = api_client_for(user).get("/").context["figures"]
        return {str(f.label): (f.value, f.url) for f in figures if "/floating/reminders/" in f.url}

    assert tiles(community_a1) == {
        "居住证即将到期": (2, "/people/floating/reminders/?kind=expiring"),
        "流动人口待核查": (1, "/people/floating/reminders/?kind=reverify"),
    }
    assert tiles(community_b1) == {
        "居住证即将到期": (1, "/people/floating/reminders/?kind=expiring"),
        "流动人口待核查": (0, "/people/floating/reminders/?kind=reverify"),
    }
    assert tiles(leader) == {}
    html = api_client_for(community_a1).get("/").content.decode()
    assert 'href="/people/floating/reminders/?kind=reverify"' in html
