"""Search paths built for scale: the capped count of the list and 1–2 character infixes (through the
characters-and-pairs index on PostgreSQL, a scan elsewhere: same rows either way)."""

from __future__ import annotations

import pytest

from pingan.core.pagination import CappedPaginator
from pingan.people.models import House
from pingan.people.selectors import PersonFilter, person_list, person_pages
from pingan.people.services import house_create, person_register
from tests.factories import api_client_for


@pytest.fixture
def residents(tree, community_a1, person_data):
    house = house_create(actor=community_a1, area=tree.a1_1, data={"compound": "滦水园", "room": "101"})
    person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=1, name="欧阳明"), house=house)
    person_register(
        actor=community_a1, area=tree.a1_1, data=person_data(seq=2, name="张伟", former_name="张小明")
    )
    person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=3, name="李明伟"))


@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("明", {"欧阳明", "李明伟"}),  # infix, one character; former names count too
        ("伟", {"张伟", "李明伟"}),
        ("小明", {"张伟"}),  # two characters of the former name
        ("明伟", {"李明伟"}),
        ("阳明", {"欧阳明"}),
        ("滦水", {"欧阳明"}),  # house address, two characters
        ("水园", {"欧阳明"}),
        ("伟明", set()),
        ("滦水园", {"欧阳明"}),  # three characters: the trigram path
        ("滦", set()),  # one character: names only (an address is searched from two)
        ("园", set()),
    ],
)
def test_short_infix_search(residents, community_a1, q, names):
    found = {p.name for p in person_list(user=community_a1, filters=PersonFilter(q=q))}
    if q == "明":
        names = names | {"张伟"}  # 张小明 is 张伟's former name
    assert found == names


def test_list_count_is_capped(residents, community_a1, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "CAP", 2)
    page = CappedPaginator(person_list(user=community_a1), 50).get_page(1)
    assert page.paginator.count == 2 and page.paginator.capped
    assert len(page.object_list) == 2  # pages reach the first CAP rows: narrow the search for the rest
    response = api_client_for(community_a1).get("/people/")
    assert "超过 2 人" in response.content.decode()
    monkeypatch.setattr(CappedPaginator, "CAP", 10)
    assert "共 3 人" in api_client_for(community_a1).get("/people/").content.decode()


def test_pages_are_read_ids_first_in_the_list_order(residents, community_a1, person_data, tree):
    """The paginator reads a page's ids in the list's order (name, then id), then the rows: every page in
    order, none lost or repeated."""
    for seq, name in enumerate(["白一", "白二", "白三", "安四"], start=10):
        person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=seq, name=name))
    paginator = CappedPaginator(person_list(user=community_a1), 2)
    pages = [[p.name for p in paginator.get_page(n).object_list] for n in range(1, paginator.num_pages + 1)]
    expected = list(person_list(user=community_a1).values_list("name", flat=True))
    assert [name for page in pages for name in page] == expected and all(len(p) <= 2 for p in pages)
    assert paginator.count == 7 and expected == sorted(expected)


@pytest.mark.parametrize(("q", "found"), [("园", True), ("水园", True), ("滦水园", True), ("明", False)])
def test_house_search_by_a_short_infix(residents, community_a1, q, found):
    """The house list's text search: 1–2 characters through the stored pairs on PostgreSQL, a scan on
    SQLite, the trigram path from 3 characters: the same houses either way."""
    from pingan.people.selectors import house_list

    houses = list(house_list(user=community_a1, q=q))
    assert bool(houses) is found and all(q in h.address for h in houses)


# --- a search's pages: its first matches, newest first (selectors.person_pages) -----------------------


def _search(user, q):
    return person_pages(user=user, filters=PersonFilter(q=q))


def test_a_search_lists_its_matches_newest_first_and_the_roster_by_name(residents, community_a1):
    found = [p.name for p in _search(community_a1, "伟").get_page(1).object_list]
    assert found == ["李明伟", "张伟"]  # registered after 张伟
    roster = [p.name for p in person_pages(user=community_a1, filters=PersonFilter()).get_page(1)]
    assert roster == sorted(roster)


def test_a_search_reads_its_first_matches_in_one_query(residents, community_a1, django_assert_num_queries):
    paginator = _search(community_a1, "明")
    with django_assert_num_queries(1):  # the ids of the first CAP + 1 matches: count and pages
        assert paginator.count == 3 and not paginator.capped
    with django_assert_num_queries(1):  # the page's rows (area and house joined)
        assert len(paginator.get_page(1).object_list) == 3


def test_a_search_reaches_its_first_cap_matches(residents, community_a1, monkeypatch, tree, person_data):
    from pingan.core.pagination import FirstMatchesPaginator

    for seq, name in enumerate(["明一", "明二", "明三"], start=10):
        person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=seq, name=name))
    monkeypatch.setattr(FirstMatchesPaginator, "CAP", 4)
    paginator = FirstMatchesPaginator(person_list(user=community_a1, filters=PersonFilter(q="明")), 3)
    assert paginator.count == 4 and paginator.capped and paginator.num_pages == 2
    pages = [[p.name for p in paginator.get_page(n).object_list] for n in (1, 2)]
    assert pages == [["明三", "明二", "明一"], ["李明伟"]]  # newest first, none repeated, cut at CAP
    response = api_client_for(community_a1).get("/people/", {"q": "明"})
    assert "超过 4 人" in response.content.decode()


def test_the_list_page_reads_no_column_per_row(
    tree, community_a1, person_data, django_assert_max_num_queries
):
    """The page reads the columns a row shows (``selectors.LIST_COLUMNS``): a column left out and shown
    anyway would cost one query per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    house = house_create(actor=community_a1, area=tree.a1_1, data={"compound": "滦水园", "room": "101"})
    client = api_client_for(community_a1)

    def queries(q):
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/people/", {"q": q} if q else {})
        assert response.status_code == 200
        return len(captured.captured_queries)

    person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=1, name="甲一"), house=house)
    one = queries("甲"), queries("")
    for seq in range(2, 8):
        person_register(
            actor=community_a1, area=tree.a1_1, data=person_data(seq=seq, name=f"甲{seq}"), house=house
        )
    assert (queries("甲"), queries("")) == one
    assert "滦水园" in client.get("/people/", {"q": "甲"}).content.decode()


@pytest.mark.parametrize("q", ["滦水园", "滦水"])  # the trigram path; the characters-and-pairs path
@pytest.mark.parametrize("house_ids", [1, 2000])
def test_an_address_search_finds_the_same_people_as_a_list_or_a_subquery(
    residents, community_a1, community_b1, tree, person_data, monkeypatch, house_ids, q
):
    """Up to ``HOUSE_IDS`` matching houses are listed, more are searched through a subquery: same people.
    The list page's search in parts (``person_search_branches``: the name, then the houses' people through
    the house index) finds them too, newest first. Only the houses in the user's jurisdiction are looked
    at. (A two-character address in a subquery failed on PostgreSQL: the pairs column was named by its
    table, which a subquery renames.)"""
    from pingan.people import selectors

    for room in ("102", "103"):
        house = house_create(actor=community_a1, area=tree.a1_2, data={"compound": "滦水园", "room": room})
        person_register(
            actor=community_a1,
            area=tree.a1_2,
            data=person_data(seq=int(room), name=f"住户{room}"),
            house=house,
        )
    person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=7, name="滦水"))  # by name
    monkeypatch.setattr(selectors, "HOUSE_IDS", house_ids)
    expected = {"欧阳明", "住户102", "住户103"} | ({"滦水"} if q == "滦水" else set())
    listed = person_list(user=community_a1, filters=PersonFilter(q=q))
    assert {p.name for p in listed} == expected
    parts = selectors.person_search_branches(q, selectors._scoped(community_a1, House.objects.all()))
    assert len(parts) == (2 if house_ids > 1 else 1)
    paged = [p.name for p in _search(community_a1, q).get_page(1).object_list]
    assert paged == [p.name for p in listed.order_by("-pk")]  # the same people, newest first
    outsider = person_pages(user=community_b1, filters=PersonFilter(q=q))
    assert outsider.count == 0  # B1 finds nobody of A1 by A1's address


def test_search_indexes_keep_short_pending_lists_and_fine_statistics(db, postgres_only):
    """Migration 0008: a search through a GIN index reads its pending list first (kept under 64 kB), and
    the planner's estimates for pinyin and initials come from 1,000-bucket statistics."""
    from importlib import import_module

    from django.db import connection

    tuning = import_module("pingan.people.migrations.0008_postgres_search_tuning")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)", [list(tuning.GIN_INDEXES)]
        )
        options = dict(cursor.fetchall())
        cursor.execute(
            "SELECT attname, attstattarget FROM pg_attribute WHERE attrelid = 'people_person'::regclass "
            "AND attname = ANY(%s)",
            [list(tuning.FINE_STATISTICS)],
        )
        targets = dict(cursor.fetchall())
    assert options and all(value == ["gin_pending_list_limit=64"] for value in options.values())
    assert "people_house_address_grams_stored" in options
    assert targets == {"name_pinyin": 1000, "name_initials": 1000}


def test_names_are_indexed_with_their_grid(db, postgres_only, residents, community_a1):
    """Migration 0009: one GIN index of (grid, characters and pairs) serves a community's one-character
    search and a district-wide one; the index of 0007 it replaces is gone."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'people_person' "
            "AND indexdef LIKE '%%name_grams%%'"
        )
        indexes = dict(cursor.fetchall())
    assert list(indexes) == ["people_person_area_name_grams"]
    assert "gin (area_id, name_grams)" in indexes["people_person_area_name_grams"]
    found = {p.name for p in person_list(user=community_a1, filters=PersonFilter(q="明"))}
    assert found == {"欧阳明", "李明伟", "张伟"}


def test_list_pages_keep_every_filter_and_say_when_capped(
    residents, community_a1, monkeypatch, tree, person_data
):
    """The pager's links keep the list's filters (not only the search text), and past the cap it says the
    list is longer than what it pages through."""
    from pingan.core.pagination import FirstMatchesPaginator

    for seq in range(10, 14):
        person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=seq, name=f"明{seq}"))
    monkeypatch.setattr(FirstMatchesPaginator, "CAP", 3)
    client = api_client_for(community_a1)
    monkeypatch.setattr("pingan.people.selectors.PAGE_SIZE", 2)
    page = client.get("/people/", {"q": "明", "status": "all"}).content.decode()
    assert "q=%E6%98%8E&amp;status=all&amp;page=2" in page
    assert "超过 3 条" in page and "超过 3 人" in page


def test_a_search_in_parts_merges_their_first_matches_newest_first(
    residents, community_a1, tree, person_data, monkeypatch
):
    """Name and address read apart (two parts), then merged: the first CAP of the union, newest first."""
    from pingan.core.pagination import FirstMatchesPaginator

    house = house_create(actor=community_a1, area=tree.a1_2, data={"compound": "滦水园", "room": "201"})
    for seq, name in ((20, "住户甲"), (21, "滦水乙"), (22, "住户丙")):  # address, name, address: interleaved
        person_register(
            actor=community_a1,
            area=tree.a1_2,
            data=person_data(seq=seq, name=name),
            house=house if name.startswith("住户") else None,
        )
    monkeypatch.setattr(FirstMatchesPaginator, "CAP", 3)
    paginator = _search(community_a1, "滦水")
    assert len(paginator.branches) == 2
    assert paginator.count == 3 and paginator.capped  # 欧阳明 (滦水园 101) is the fourth, cut
    assert [p.name for p in paginator.get_page(1).object_list] == ["住户丙", "滦水乙", "住户甲"]


def test_the_people_of_houses_are_read_from_one_covering_index(db, postgres_only):
    """Migration 0010: (house, id) with the columns the list filters on, replacing the foreign key's index."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'people_person' "
            "AND indexdef LIKE '%%(current_house_id%%'"
        )
        indexes = dict(cursor.fetchall())
    assert list(indexes) == ["people_person_house_cover"]
    assert (
        "(current_house_id, id) INCLUDE (status, sealed, merged_into_id, area_id)"
        in indexes["people_person_house_cover"]
    )


def test_the_person_table_keeps_no_index_that_no_query_needs(db, postgres_only):
    """Migration 0011: no plain b-tree beside the pattern-ops one of pinyin and initials, no index of the
    grid alone (person_area_status starts with it), sealed rows in a partial index of their own."""
    from importlib import import_module

    from django.db import connection

    pruning = import_module("pingan.people.migrations.0011_postgres_fewer_person_indexes")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'people_person'")
        indexes = dict(cursor.fetchall())
    assert not set(pruning.DROPPED) & set(indexes)
    assert indexes[pruning.SEALED_ROWS].endswith("WHERE sealed")
    assert {"people_person_name_pinyin_4d35398e_like", "people_person_name_initials_a0be91d8_like"} <= set(
        indexes
    )
    assert indexes["person_area_status"].endswith("(area_id, status)")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "王",
        "张伟 ",
        "王王王",
        "欧阳 娜娜",
        "李 李小龙",
        "a1-B2 ",
        "滨海路 18 号 3 单元 502 室",
        "𠮷野家 吉",
    ],
)
def test_the_grams_function_returns_the_characters_and_their_pairs(db, postgres_only, text):
    """Migration 0013: ``people_grams`` in PL/pgSQL holds the same elements as the SQL version it replaced
    (every character, every pair of adjacent characters), so rows stored by either are searched alike."""
    from importlib import import_module

    from django.db import connection

    migration = import_module("pingan.people.migrations.0013_postgres_grams_plpgsql")
    expected = {text[i : i + 1] for i in range(len(text))} | {text[i : i + 2] for i in range(len(text) - 1)}
    with connection.cursor() as cursor:
        cursor.execute("SELECT people_grams(%s)", [text])
        now = cursor.fetchone()[0]
        cursor.execute("SAVEPOINT old_grams")
        cursor.execute(migration.SQL)
        cursor.execute("SELECT people_grams(%s)", [text])
        before = cursor.fetchone()[0]
        cursor.execute("ROLLBACK TO SAVEPOINT old_grams")
        cursor.execute("SELECT prosrc LIKE '%%string_to_array%%' FROM pg_proc WHERE proname = 'people_grams'")
        assert cursor.fetchone()[0]  # the savepoint rolled the old body back
    assert set(now) == set(before) == expected
