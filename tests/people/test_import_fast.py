"""The roster import's fast paths: the stored import digest (an unchanged row costs nothing), its
invalidation by every other write, and the column encoder used by COPY (same values as ``save()``)."""

from __future__ import annotations

import datetime as dt

import pytest

from pingan.core import crypto
from pingan.core.fields import BlindIndexField, EncryptedTextField
from pingan.people.bulk import PersonEncoder
from pingan.people.models import FloatingRecord, Person
from pingan.people.services import person_register, person_update
from tests.people.conftest import make_id
from tests.people.test_import import good, run, xlsx


def test_import_stores_a_digest_and_recognises_the_unchanged_row(tree, community_a1):
    data = xlsx([good(1), good(2, cat="流动人口", permit="R1", valid="2031-01-01")])
    run(community_a1, data)
    digests = set(Person.objects.values_list("import_digest", flat=True))
    assert len(digests) == 2 and all(len(d) == 64 for d in digests)
    again = run(community_a1, data)
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 2, 0)
    assert FloatingRecord.objects.count() == 1


def test_a_form_edit_forgets_the_digest_and_the_import_restores_the_file_values(tree, community_a1):
    data = xlsx([good(1)])
    run(community_a1, data)
    person = Person.objects.get()
    person_update(actor=community_a1, person_id=person.pk, data={"phone": "13700000000"})
    person.refresh_from_db()
    assert person.import_digest == "" and person.phone == "13700000000"
    again = run(community_a1, data)
    assert (again.updated, again.unchanged) == (1, 0)
    person.refresh_from_db()
    assert person.phone == "13812345678" and person.import_digest
    assert Person.objects.filter_exact(phone="13812345678").get() == person  # index rewritten too


def test_queryset_update_of_a_compared_field_forgets_the_digest(tree, community_a1):
    run(community_a1, xlsx([good(1)]))
    Person.objects.update(current_house=None)  # not a compared field: the digest stays
    assert Person.objects.get().import_digest
    Person.objects.update(is_floating=True)
    assert Person.objects.get().import_digest == ""
    again = run(community_a1, xlsx([good(1)]))
    assert again.updated == 1 and not Person.objects.get().is_floating


def test_a_registered_person_with_the_same_values_is_unchanged_and_gets_a_digest(tree, community_a1):
    person, _created = person_register(
        actor=community_a1,
        area=tree.a1_1,
        data={
            "name": "测试居民1",
            "id_number": make_id(seq=1),
            "phone": "13812345678",
            "is_registered": True,
        },
    )
    assert person.import_digest == ""
    result = run(community_a1, xlsx([good(1)]))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1), result.errors
    assert Person.objects.get().import_digest


def test_duplicate_of_an_unchanged_row_points_to_the_first(tree, community_a1):
    run(community_a1, xlsx([good(1)]))
    result = run(community_a1, xlsx([good(1), good(1)]))
    assert result.unchanged == 1 and result.rejected == 1
    assert result.errors[0]["row"] == 4 and "第 3 行" in result.errors[0]["reason"]


def test_other_jurisdiction_never_takes_the_fast_path(tree, community_a1, community_b1):
    data = xlsx([good(1)])
    run(community_a1, data)
    result = run(community_b1, data)  # A1's grid is outside B1's scope
    assert result.unchanged == 0 and result.rejected == 1


def test_encoder_columns_match_what_save_stores(tree):
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    values = {
        "name": "测试单田芳",
        "id_number": make_id(seq=7),
        "phone": "13812345678",
        "registered_address": "天津市河西区示例路1号",
        "current_address": "",
        "sex": "1",
        "birth_date": dt.date(1990, 1, 1),
        "area_id": tree.a1_1.pk,
        "is_registered": True,
    }
    encoder = PersonEncoder(now)
    row = dict(zip(encoder.columns, encoder.encode(99, values), strict=True))
    saved = Person(area=tree.a1_1, **{k: v for k, v in values.items() if k != "area_id"})
    saved.save()
    for field in Person._meta.concrete_fields:
        value = row[field.column]
        if isinstance(field, BlindIndexField):
            assert value == getattr(saved, field.attname), field.name
        elif isinstance(field, EncryptedTextField):
            plain = values.get(field.name, "")
            assert (crypto.decrypt(value) if value else value) == plain, field.name
    assert row["id"] == 99 and row["created_at"] == now and row["status"] == "active"
    assert (row["name_pinyin"], row["name_initials"]) == (saved.name_pinyin, saved.name_initials)


def test_parallel_encoding_gives_the_rows_in_order(monkeypatch):
    from pingan.people import bulk

    monkeypatch.setattr(bulk, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(bulk, "CHUNK", 3)
    monkeypatch.setenv("PINGAN_IMPORT_WORKERS", "2")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    items = [(i, {"name": f"测试{i}", "id_number": make_id(seq=i), "area_id": 1}) for i in range(1, 11)]
    rows = list(bulk.encode_parallel(iter(items), now, size=len(items)))
    columns = PersonEncoder(now).columns
    assert [dict(zip(columns, r, strict=True))["id"] for r in rows] == list(range(1, 11))
    serial = PersonEncoder(now)
    for (pk, values), row in zip(items, rows, strict=True):
        mine = dict(zip(columns, row, strict=True))
        expected = dict(zip(columns, serial.encode(pk, values), strict=True))
        assert crypto.decrypt(mine["id_number"]) == values["id_number"]
        assert mine["id_number_index"] == expected["id_number_index"]
        assert mine["name_pinyin"] == expected["name_pinyin"]


def test_parallel_encoding_sends_only_a_few_chunks_ahead_of_the_consumer(monkeypatch):
    """Backpressure: the input is read as the encoded rows are taken, so neither the pending input nor the
    encoded rows of a large roster pile up in the importer's memory."""
    from pingan.people import bulk

    monkeypatch.setattr(bulk, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(bulk, "CHUNK", 3)
    monkeypatch.setenv("PINGAN_IMPORT_WORKERS", "2")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    taken = 0

    def items():
        nonlocal taken
        for i in range(1, 61):
            taken += 1
            yield i, {"name": f"测试{i}", "id_number": make_id(seq=i), "area_id": 1}

    rows = bulk.encode_parallel(items(), now, size=60)
    first = next(rows)
    assert taken <= bulk.IN_FLIGHT * 2 * 3  # 4 chunks of 3 sent ahead, not all 20
    assert len([first, *rows]) == 60 and taken == 60


def _query(items: list[int]) -> list[int]:
    return [Person.objects.count() for _i in items]


def test_worker_processes_may_not_use_the_parent_database_connection(db, monkeypatch):
    from pingan.people import bulk

    monkeypatch.setattr(bulk, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setenv("PINGAN_IMPORT_WORKERS", "2")
    with pytest.raises(RuntimeError, match="no database connection"):
        list(bulk.parallel_chunks(_query, [1, 2, 3]))
    assert Person.objects.count() == 0  # this process's connection still works


def _mixed_roster() -> bytes:
    """Valid rows, rejected rows, a normalised ID, a duplicate after an invalid first claim, a permit."""
    number = make_id(seq=7)
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in make_id(seq=8))
    return xlsx(
        [
            good(1),
            good(2, phone="12345"),  # rejected
            good(3, cat="流动人口", permit="R3", valid="2031-01-01"),
            good(7, id=number, sex="女"),  # rejected: the first claim of 7 is invalid…
            good(7, id=number),  # …so this one takes the number
            good(7, id=number, name="测试重复"),  # duplicate of the row above
            good(8, id=fullwidth),  # normalised (its index is looked up after validation)
            good(9, grid="不存在的网格"),  # rejected
            *(good(seq) for seq in range(10, 30)),
        ]
    )


@pytest.mark.parametrize("workers", ["0", "2"])
def test_new_rows_streamed_into_copy_give_the_dry_run_result(tree, community_a1, monkeypatch, workers):
    """On PostgreSQL new rows go to COPY while the next ones are validated (the dry run validates them all
    first): the counts, the errors and what is written are the same."""
    from pingan.people import bulk

    monkeypatch.setattr(bulk, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(bulk, "CHUNK", 3)
    monkeypatch.setenv("PINGAN_IMPORT_WORKERS", workers)
    data = _mixed_roster()
    preview = run(community_a1, data, dry_run=True).as_dict()
    result = run(community_a1, data)
    assert result.as_dict() == preview
    assert (result.created, result.rejected, result.normalised) == (24, 4, 1)
    assert [e["row"] for e in result.errors] == [4, 6, 8, 10]
    assert Person.objects.count() == 24
    assert Person.objects.filter_exact(id_number=make_id(seq=7)).get().name == "测试居民7"
    assert FloatingRecord.objects.get().permit_number == "R3"
    again = run(community_a1, data)
    assert (again.created, again.unchanged, again.rejected) == (0, 24, 4)


def test_a_query_while_copy_writes_is_refused_not_left_waiting(db, postgres_only):
    from pingan.people.bulk import copy_rows

    def rows():
        Person.objects.count()
        yield (1,)

    with pytest.raises(RuntimeError, match="COPY"):
        copy_rows("people_person", ["id"], rows())


def test_status_rows_of_an_import_are_written_as_copy_text(tree, community_a1, postgres_only):
    from pingan.people.bulk import copy_text
    from pingan.people.models import PersonStatusChange

    assert copy_text("a\\b\tc\nd\re") == "a\\\\b\\tc\\nd\\re"
    run(community_a1, xlsx([good(1), good(2)]))
    rows = list(
        PersonStatusChange.objects.values_list("person__name", "from_status", "to_status", "event", "note")
    )
    assert sorted(rows) == [
        ("测试居民1", "", "active", "import", ""),
        ("测试居民2", "", "active", "import", ""),
    ]
    change = PersonStatusChange.objects.first()
    assert change is not None and change.actor_username == community_a1.username and change.at is not None


def test_copy_lines_store_what_copy_rows_stores(tree, postgres_only):
    """The workers' COPY text (``copy_line``) and psycopg's ``write_row`` write the same row."""
    from pingan.people.bulk import copy_line, copy_lines, copy_rows, reserve_ids

    now = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
    encoder = PersonEncoder(now)
    values = {
        "name": "测试\t\\居民\n",  # escapes
        "phone": "13812345678",
        "birth_date": dt.date(1990, 1, 1),
        "is_floating": True,
        "remarks": "",
        "current_house_id": None,
        "area_id": tree.a1_1.pk,
    }
    first, second = reserve_ids("people_person", 2)
    copy_rows(
        "people_person", encoder.columns, [encoder.encode(first, {**values, "id_number": make_id(seq=5)})]
    )
    line = copy_line(encoder.encode(second, {**values, "id_number": make_id(seq=7)}))
    copy_lines("people_person", encoder.columns, [line])
    by_rows, by_lines = Person._base_manager.get(pk=first), Person._base_manager.get(pk=second)
    differ = {"id", "id_number", "id_number_index", "id_tail4_index", "id_tail6_index"}
    for field in Person._meta.concrete_fields:
        if field.attname not in differ:
            assert getattr(by_rows, field.attname) == getattr(by_lines, field.attname), field.name
    assert by_lines.name == "测试\t\\居民\n" and by_lines.created_at == now and by_lines.is_floating is True
    assert by_lines.id_number == make_id(seq=7) and by_lines.current_house_id is None


def test_copy_line_quick_path_is_the_escaped_text():
    from pingan.people.bulk import _copy_value, copy_line
    from pingan.people.models import PersonStatus

    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    for row in [
        ("a", None, True, False, 7, dt.date(1990, 1, 2), now, PersonStatus.ACTIVE, ""),
        ("a\tb", None, "c\\d", "e\nf\rg", 0),
    ]:
        assert copy_line(row) == "\t".join(map(_copy_value, row)) + "\n"
    assert copy_line(("x", None, True, 3, now)) == "x\t\\N\tt\t3\t2026-01-02T03:04:05+00:00\n"
    assert copy_line(("a\tb",)) == "a\\tb\n"
    with pytest.raises(TypeError):
        copy_line((1.5,))
