"""core.inserts.insert writes the rows save() and bulk_create() write, keys and all."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, models
from django.db.models.signals import pre_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pingan.core.inserts import insert, insert_linked
from pingan.events.models import Event, EventPhoto, EventStep

pytestmark = pytest.mark.django_db

SKIP = {"id", "created_at", "updated_at", "number", "at", "reported_at"}


def stored(obj: models.Model) -> dict[str, Any]:
    """The row as read back, every column but the key, the number and the times of the moment."""
    row = type(obj)._default_manager.filter(pk=obj.pk).values().get()
    return {k: v for k, v in row.items() if k not in SKIP}


def new_event(tree: Any, user: Any, number: str) -> Event:
    return Event(
        number=number,
        title="占道经营",
        description="路口有人占道经营",
        category="0102",
        tier="ordinary",
        source="grid",
        urgency="normal",
        area=tree.a1_1,
        owner=tree.street_a,
        latitude="39.100001",
        longitude="117.210002",
        reporter=user,
        reporter_name="张三",  # encrypted (pre_save) and read back decrypted
        reporter_phone="13812345678",
        reported_at=timezone.now(),
        public_note="已上报，等待受理",
    )


def test_an_event_as_save_writes_it(tree, grid_a1):
    saved = new_event(tree, grid_a1, "202612070001")
    saved.save()
    inserted = new_event(tree, grid_a1, "202612070002")
    with CaptureQueriesContext(connection) as queries:
        [same] = insert([inserted])
    assert same is inserted and inserted.pk is not None and inserted.pk != saved.pk
    assert not inserted._state.adding and inserted._state.db == "default"
    assert len(queries) == 1 and queries[0]["sql"].startswith("INSERT INTO")
    assert stored(inserted) == stored(saved)
    fresh = Event.objects.get(pk=inserted.pk)
    assert (fresh.reporter_name, fresh.reporter_phone) == ("张三", "13812345678")
    assert fresh.created_at is not None and fresh.created_at == inserted.created_at  # auto_now_add ran


def test_several_rows_in_one_statement_get_their_keys_in_order(tree, grid_a1):
    event = new_event(tree, grid_a1, "202612070003")
    insert([event])
    step = EventStep(event=event, action="report", actor=grid_a1, actor_name="网格员甲", to_status="reported")
    insert([step])
    photos = [
        EventPhoto(
            event=event, step=step, kind="before", file=f"events/p{n}.jpg", content_type="image/jpeg", size=n
        )
        for n in range(3)
    ]
    with CaptureQueriesContext(connection) as queries:
        insert(photos)
    assert len(queries) == 1
    assert [p.file.name for p in EventPhoto.objects.filter(pk__in=[p.pk for p in photos]).order_by("pk")] == [
        "events/p0.jpg",
        "events/p1.jpg",
        "events/p2.jpg",
    ]
    assert [p.pk for p in photos] == sorted(p.pk for p in photos)
    assert EventStep.objects.get(pk=step.pk).data == {}  # the field's default went through


def test_a_model_with_receivers_is_saved_by_save(tree, grid_a1):
    seen: list[Any] = []

    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(instance)

    pre_save.connect(receiver, sender=Event)
    try:
        event = new_event(tree, grid_a1, "202612070004")
        insert([event])
    finally:
        pre_save.disconnect(receiver, sender=Event)
    assert seen == [event] and Event.objects.filter(pk=event.pk).exists()


def test_it_refuses_saved_rows_and_mixed_models(tree, grid_a1):
    event = new_event(tree, grid_a1, "202612070005")
    event.save()
    with pytest.raises(ValueError, match="new instances"):
        insert([event])
    with pytest.raises(ValueError, match="one model"):
        insert([new_event(tree, grid_a1, "202612070006"), EventStep(action="report")])
    assert insert([]) == []


def test_an_unsaved_related_object_is_refused_as_save_refuses_it(tree, grid_a1):
    event = new_event(tree, grid_a1, "202612070007")
    with pytest.raises(ValueError, match="unsaved related object"):
        insert([EventStep(event=event, action="report", actor_name="x", to_status="reported")])


# --- insert_linked: a new event, its step and the step's photos ------------------------------------------


def report_rows(tree: Any, user: Any, number: str, photos: int) -> tuple[Event, EventStep, list[EventPhoto]]:
    event = new_event(tree, user, number)
    step = EventStep(event=event, action="report", actor=user, actor_name="网格员甲", to_status="reported")
    rows = [
        EventPhoto(
            event=event,
            step=step,
            kind="before",
            file=f"events/{number}-{n}.jpg",
            content_type="image/jpeg",
            size=n,
        )
        for n in range(photos)
    ]
    return event, step, rows


def test_linked_rows_as_insert_writes_them_level_by_level(tree, grid_a1):
    event, step, photos = report_rows(tree, grid_a1, "202612070011", photos=2)
    with CaptureQueriesContext(connection) as queries:
        insert_linked([event], [step], photos)
    # one statement on PostgreSQL; SQLite has no INSERT inside WITH, so one per level
    assert len(queries) == (1 if connection.vendor == "postgresql" else 3)
    assert all(not obj._state.adding and obj.pk is not None for obj in (event, step, *photos))
    assert step.event_id == event.pk and {(p.event_id, p.step_id) for p in photos} == {(event.pk, step.pk)}
    with CaptureQueriesContext(connection) as queries:  # the instances stay linked, as save() leaves them
        assert step.event is event and photos[0].step is step and photos[0].event is event
    assert len(queries) == 0
    assert [p.file.name for p in EventPhoto.objects.filter(step=step).order_by("pk")] == [
        "events/202612070011-0.jpg",
        "events/202612070011-1.jpg",
    ]
    assert [p.pk for p in photos] == sorted(p.pk for p in photos)  # each photo got its own row's key
    assert EventPhoto.objects.get(pk=photos[1].pk).size == 1

    e2, s2, p2 = report_rows(tree, grid_a1, "202612070012", photos=2)
    insert([e2])
    insert([s2])
    insert(p2)
    assert stored(event) == stored(e2) and stored(step) | {"event_id": 0} == stored(s2) | {"event_id": 0}
    assert [stored(p) | {"event_id": 0, "step_id": 0, "file": ""} for p in photos] == [
        stored(p) | {"event_id": 0, "step_id": 0, "file": ""} for p in p2
    ]
    fresh = Event.objects.get(pk=event.pk)
    assert (fresh.reporter_name, fresh.reporter_phone) == ("张三", "13812345678")  # pre_save encrypted them


def test_an_empty_level_is_left_out_and_the_statement_is_made_once_per_shape(tree, grid_a1):
    for n in (13, 14):
        event, step, _photos = report_rows(tree, grid_a1, f"2026120700{n}", photos=0)
        with CaptureQueriesContext(connection) as queries:
            insert_linked([event], [step], [])
        assert Event.objects.get(pk=event.pk).steps.get().pk == step.pk
        if connection.vendor == "postgresql":
            [query] = queries
            assert query["sql"].startswith("WITH l0 AS (INSERT INTO") and "l2" not in query["sql"]


def test_a_reference_to_an_unsaved_row_outside_the_call_is_refused(tree, grid_a1):
    event, step, _photos = report_rows(tree, grid_a1, "202612070015", photos=0)
    with pytest.raises(ValueError, match="unsaved related object"):
        insert_linked([step])
    with pytest.raises(ValueError, match="each instance once"):
        insert_linked([event], [event])
    assert not Event.objects.filter(number="202612070015").exists()


def test_a_reference_into_a_level_of_several_rows_goes_level_by_level(tree, grid_a1):
    first, step, _photos = report_rows(tree, grid_a1, "202612070016", photos=0)
    second = new_event(tree, grid_a1, "202612070017")
    with CaptureQueriesContext(connection) as queries:
        insert_linked([first, second], [step])
    assert len(queries) == 2 and step.event_id == first.pk and second.pk is not None


def test_the_tables_a_report_writes_have_no_index_another_one_covers():
    """Every index is written by every insert: a step's event and a notification's user are looked up
    through their composite indexes (eventstep_event_at, notification_user_recent), not an index of their
    own (events 0011, notifications 0002)."""
    from pingan.notifications.models import Notification

    with connection.cursor() as cursor:
        for model, column, covering, dropped in (
            (EventStep, "event_id", "eventstep_event_at", "events_eventstep_event_id_8dbd7940"),
            (
                Notification,
                "user_id",
                "notification_user_recent",
                "notifications_notification_user_id_b5e8c0ff",
            ),
        ):
            found = connection.introspection.get_constraints(cursor, model._meta.db_table)
            assert found[covering]["index"] and found[covering]["columns"][0] == column
            assert dropped not in found  # the one-column index Django would make for the foreign key
