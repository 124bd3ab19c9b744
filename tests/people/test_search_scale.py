"""Search paths built for scale: the capped count of the list and 1–2 character infixes (through the
characters-and-pairs index on PostgreSQL, a scan elsewhere: same rows either way)."""

from __future__ import annotations

import pytest

from pingan.core.pagination import CappedPaginator
from pingan.people.selectors import PersonFilter, person_list
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
