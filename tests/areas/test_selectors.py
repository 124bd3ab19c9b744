"""Scoped reads of the tree and departments."""

from __future__ import annotations

import pytest
from django.http import Http404

from pingan.areas.models import Department
from pingan.areas.selectors import (
    AreaFilter,
    DepartmentFilter,
    area_choices,
    area_get,
    area_level_counts,
    area_list,
    area_path,
    area_search,
    department_get,
    department_list,
    street_overview,
)
from tests.conftest import Tree

pytestmark = pytest.mark.django_db


def codes(qs) -> set[str]:
    return {a.code for a in qs}


def expected_areas(tree: Tree) -> dict[str, set[str]]:
    a1 = {tree.a1.code, tree.a1_1.code, tree.a1_2.code}
    return {
        "district_admin": codes(tree.areas),
        "leader": codes(tree.areas),
        "street_a": codes(tree.street_a_subtree),
        "community_a1": a1,
        "community_b1": {tree.b1.code, tree.b1_1.code},
        "grid_a1": {tree.a1_1.code},
        "dept_handler": codes(tree.street_a_subtree),
        "auditor": set(),
        # The system administrator maintains the whole tree (and sees no business data).
        "system_admin": codes(tree.areas),
        "security_admin": set(),
    }


@pytest.mark.parametrize(
    "name",
    [
        "district_admin",
        "leader",
        "street_a",
        "community_a1",
        "community_b1",
        "grid_a1",
        "dept_handler",
        "auditor",
        "system_admin",
        "security_admin",
    ],
)
def test_area_list_per_persona(tree, persona, name):
    user = persona(name)
    assert codes(area_list(user=user)) == expected_areas(tree)[name]


def test_area_list_is_ordered_by_code(tree, district_admin):
    listed = [a.code for a in area_list(user=district_admin)]
    assert listed == sorted(listed)


def test_area_get_inside_scope(tree, street_a):
    assert area_get(user=street_a, area_id=tree.a1_2.pk) == tree.a1_2


def test_b1_gets_404_for_a1(tree, community_b1):
    for area in (tree.a1, tree.a1_1, tree.street_a, tree.district):
        with pytest.raises(Http404):
            area_get(user=community_b1, area_id=area.pk)


def test_grid_worker_cannot_read_its_community(tree, grid_a1):
    with pytest.raises(Http404):
        area_get(user=grid_a1, area_id=tree.a1.pk)


def test_area_get_missing_id_is_404(tree, district_admin):
    with pytest.raises(Http404):
        area_get(user=district_admin, area_id=10**9)


@pytest.mark.parametrize("name", ["auditor", "security_admin"])
def test_admins_other_than_system_get_404(tree, persona, name):
    with pytest.raises(Http404):
        area_get(user=persona(name), area_id=tree.district.pk)


def test_system_admin_reads_every_area(tree, system_admin):
    for area in tree.areas:
        assert area_get(user=system_admin, area_id=area.pk) == area


def test_filter_by_level(tree, district_admin, street_a):
    assert codes(area_list(user=district_admin, filters=AreaFilter(level="grid"))) == {
        tree.a1_1.code,
        tree.a1_2.code,
        tree.b1_1.code,
    }
    assert codes(area_list(user=street_a, filters=AreaFilter(level="community"))) == {
        tree.a1.code,
        tree.a2.code,
    }


def test_filter_by_parent(tree, district_admin, community_b1):
    assert codes(area_list(user=district_admin, filters=AreaFilter(parent_id=tree.a1.pk))) == {
        tree.a1_1.code,
        tree.a1_2.code,
    }
    assert codes(area_list(user=district_admin, filters=AreaFilter(level="grid", parent_id=tree.b1.pk))) == {
        tree.b1_1.code
    }
    # B1 asking for A1's children gets nothing, not A1's grids.
    assert not area_list(user=community_b1, filters=AreaFilter(parent_id=tree.a1.pk)).exists()


def test_filter_by_text_and_code_prefix(tree, district_admin, community_b1):
    assert codes(area_list(user=district_admin, filters=AreaFilter(q="滦水"))) == {
        tree.a1.code,
        tree.a1_1.code,
        tree.a1_2.code,
    }
    assert codes(area_list(user=district_admin, filters=AreaFilter(q="120103012"))) == codes(
        tree.street_b_subtree
    )
    assert not area_list(user=community_b1, filters=AreaFilter(q="滦水")).exists()


def test_filter_within_code(tree, district_admin):
    assert codes(area_list(user=district_admin, filters=AreaFilter(within_code=tree.street_a.code))) == codes(
        tree.street_a_subtree
    )


def test_area_path(tree, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        path = area_path(tree.a1_2)
    assert path == [tree.district, tree.street_a, tree.a1, tree.a1_2]
    assert area_path(tree.district) == [tree.district]
    assert area_path(tree.b1) == [tree.district, tree.street_b, tree.b1]


def test_area_level_counts(tree, district_admin, street_a, auditor):
    assert area_level_counts(user=district_admin) == {"district": 1, "street": 2, "community": 3, "grid": 3}
    assert area_level_counts(user=street_a) == {"street": 1, "community": 2, "grid": 2}
    assert area_level_counts(user=auditor) == {}


def test_area_choices_stay_in_scope(tree, community_b1):
    assert [label for _, label in area_choices(user=community_b1)] == [
        f"{tree.b1.code} 粤江里社区",
        f"{tree.b1_1.code} 粤江里第1网格",
    ]
    assert area_choices(user=community_b1, level="community") == [(tree.b1.pk, f"{tree.b1.code} 粤江里社区")]


def test_street_overview(tree, district_admin, community_b1):
    assert street_overview(user=district_admin) == [
        {"name": "挂甲寺街", "communities": 2, "grids": 2},
        {"name": "东海街", "communities": 1, "grids": 1},
    ]
    # A community worker has no street in scope, so no bars.
    assert street_overview(user=community_b1) == []


def test_area_search_in_scope(tree, community_b1, street_a):
    assert area_search(community_b1, "滦水", 10) == []
    hits = area_search(street_a, "滦水", 10)
    assert {h.title for h in hits} == {"滦水里社区", "滦水里第1网格", "滦水里第2网格"}
    assert all(h.url.startswith("/areas/") for h in hits)


# --- departments -------------------------------------------------------------------------------


def names(qs) -> set[str]:
    return {d.name for d in qs}


BOTH = {"综合执法局", "挂甲寺街司法所"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("district_admin", BOTH),
        ("leader", BOTH),
        ("street_a", BOTH),  # the judicial office is located in A, law enforcement serves A
        ("community_a1", BOTH),  # both serve street A, which contains A1
        ("grid_a1", BOTH),
        ("community_b1", set()),  # law enforcement is located in the district but serves only A
        ("dept_handler", BOTH),
        ("system_admin", BOTH),
        ("auditor", set()),
        ("security_admin", set()),
    ],
)
def test_department_list_per_persona(tree, persona, name, expected):
    assert names(department_list(user=persona(name))) == expected


def test_department_list_no_duplicates(tree, district_admin):
    listed = list(department_list(user=district_admin))
    assert len(listed) == len({d.pk for d in listed}) == 2


def test_department_of_b_street_is_hidden_from_a(tree, community_a1, community_b1, street_a):
    police_b = Department.objects.create(
        code="dh-police", name="东海派出所", kind="police", area=tree.street_b
    )
    police_b.serves.set([tree.b1])
    assert "东海派出所" in names(department_list(user=community_b1))
    assert "东海派出所" not in names(department_list(user=community_a1))
    assert "东海派出所" not in names(department_list(user=street_a))
    with pytest.raises(Http404):
        department_get(user=community_a1, department_id=police_b.pk)


def test_department_handler_sees_own_department_even_when_it_serves_nothing(tree):
    from tests.factories import UserFactory

    idle = Department.objects.create(code="idle", name="闲置部门", kind="other", area=tree.district)
    user = UserFactory(role="department_handler", departments=[idle])
    assert names(department_list(user=user)) == {"闲置部门"}


def test_department_filter(tree, district_admin):
    assert names(department_list(user=district_admin, filters=DepartmentFilter(kind="judicial"))) == {
        "挂甲寺街司法所"
    }
    assert names(department_list(user=district_admin, filters=DepartmentFilter(q="执法"))) == {"综合执法局"}


def test_department_get(tree, community_b1, street_a, auditor):
    assert department_get(user=street_a, department_id=tree.law_enforcement.pk) == tree.law_enforcement
    with pytest.raises(Http404):
        department_get(user=community_b1, department_id=tree.law_enforcement.pk)
    with pytest.raises(Http404):
        department_get(user=auditor, department_id=tree.judicial_a.pk)


def test_area_with_ancestors_in_one_statement(tree: Tree, django_assert_num_queries) -> None:
    from pingan.areas.selectors import area_with_ancestors

    with django_assert_num_queries(1):
        grid = area_with_ancestors(tree.a1_1.pk)
        assert grid is not None
        assert (grid.code, grid.name, grid.level, grid.active) == (
            tree.a1_1.code,
            tree.a1_1.name,
            tree.a1_1.level,
            True,
        )
        assert (grid.parent.code, grid.parent.parent.code) == (tree.a1.code, tree.street_a.code)
    street = area_with_ancestors(tree.street_a.pk)
    assert street is not None and street.parent.code == tree.district.code
    assert street.parent.parent_id is None and "parent" not in street.parent._state.fields_cache
    assert area_with_ancestors(10**9) is None
    tree.a1_1.active = False
    tree.a1_1.save()
    assert area_with_ancestors(tree.a1_1.pk).active is False  # type: ignore[union-attr]
