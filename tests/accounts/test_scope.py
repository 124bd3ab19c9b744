"""user_scope: which nodes of the tree each persona acts in."""

from __future__ import annotations

import pytest

from pingan.accounts.models import Membership
from pingan.accounts.selectors import NO_SCOPE, forget_scope, scope_switch_options, user_scope
from pingan.areas.models import Area, Department
from pingan.core.middleware import FOCUS_SESSION_KEY
from tests.conftest import ADMIN_PERSONAS, Tree
from tests.factories import UserFactory, api_client_for

pytestmark = pytest.mark.django_db


def visible(user, tree: Tree) -> set[str]:
    """Codes of the tree's nodes inside the user's scope."""
    scope = user_scope(user)
    return {a.code for a in tree.areas if scope.contains_area_id(a.pk)}


def codes(areas) -> set[str]:
    return {a.code for a in areas}


def test_district_commander_sees_everything(tree, district_admin):
    scope = user_scope(district_admin)
    assert scope.everything
    assert scope.root_codes == ("120103",)
    assert visible(district_admin, tree) == codes(tree.areas)
    assert Area.objects.filter(scope.area_q()).count() == len(tree.areas)


def test_leader_on_district_sees_everything(tree, leader):
    assert user_scope(leader).everything


def test_street_staff_sees_street_a_subtree_only(tree, street_a):
    scope = user_scope(street_a)
    assert not scope.everything
    assert scope.root_codes == ("120103004",)
    assert visible(street_a, tree) == codes(tree.street_a_subtree)
    assert not visible(street_a, tree) & codes(tree.street_b_subtree)
    assert not scope.contains_area_id(tree.district.pk)
    assert set(Area.objects.filter(scope.area_q()).values_list("code", flat=True)) == codes(
        tree.street_a_subtree
    )


def test_community_a1_sees_its_community_and_grids(tree, community_a1):
    assert visible(community_a1, tree) == {tree.a1.code, tree.a1_1.code, tree.a1_2.code}


def test_community_b1_cannot_see_a1_nodes(tree, community_b1):
    scope = user_scope(community_b1)
    assert visible(community_b1, tree) == {tree.b1.code, tree.b1_1.code}
    for area in (tree.a1, tree.a1_1, tree.a1_2, tree.street_a, tree.district):
        assert not scope.contains_area_id(area.pk)
    assert not Area.objects.filter(scope.area_q(), pk=tree.a1.pk).exists()


def test_grid_worker_sees_only_its_grid(tree, grid_a1):
    assert visible(grid_a1, tree) == {tree.a1_1.code}


@pytest.mark.parametrize("name", ADMIN_PERSONAS)
def test_separated_administrators_see_no_area(tree, persona, name):
    scope = user_scope(persona(name))
    assert scope == NO_SCOPE
    assert scope.is_empty
    assert not Area.objects.filter(scope.area_q()).exists()
    assert not scope.filter(Department.objects.all()).exists()


def test_department_handler_scope_is_what_the_department_serves(tree, dept_handler):
    scope = user_scope(dept_handler)
    assert visible(dept_handler, tree) == codes(tree.street_a_subtree)
    assert scope.department_ids == frozenset({tree.law_enforcement.pk})
    assert not scope.everything


def test_department_serving_nothing_gives_empty_area_scope(tree):
    idle = Department.objects.create(code="idle", name="闲置部门", kind="other", area=tree.district)
    user = UserFactory(role="department_handler", departments=[idle])
    scope = user_scope(user)
    assert scope.is_empty
    assert scope.department_ids == frozenset({idle.pk})


def test_inactive_user_has_no_scope(tree, street_a):
    street_a.is_active = False
    street_a.save()
    forget_scope(street_a)
    assert user_scope(street_a) == NO_SCOPE


def test_anonymous_has_no_scope():
    from django.contrib.auth.models import AnonymousUser

    assert user_scope(AnonymousUser()) == NO_SCOPE
    assert user_scope(None) == NO_SCOPE


def test_inactive_area_membership_gives_nothing(tree, community_a1):
    tree.a1.active = False
    tree.a1.save()
    assert user_scope(community_a1).is_empty


def test_several_memberships_union(tree):
    user = UserFactory(role="community_staff", areas=[tree.a1, tree.b1])
    assert visible(user, tree) == {tree.a1.code, tree.a1_1.code, tree.a1_2.code, tree.b1.code, tree.b1_1.code}


def test_nested_memberships_collapse_to_the_outer_root(tree):
    user = UserFactory(role="street_staff", areas=[tree.street_a, tree.a1])
    assert user_scope(user).root_codes == (tree.street_a.code,)


def test_memberships_covering_every_root_mean_everything(tree):
    user = UserFactory(role="street_staff", areas=[tree.street_a, tree.street_b, tree.district])
    assert user_scope(user).everything


def test_scope_is_cached_per_user_object(tree, street_a, django_assert_num_queries):
    user_scope(street_a)
    with django_assert_num_queries(0):
        user_scope(street_a)


# --- the scope switcher (focus) -----------------------------------------------------------------


def test_focus_narrows_to_a_node_inside_the_scope(tree, street_a):
    street_a.focus_area_code = tree.a1.code
    scope = user_scope(street_a)
    assert scope.root_codes == (tree.a1.code,)
    assert visible(street_a, tree) == {tree.a1.code, tree.a1_1.code, tree.a1_2.code}


def test_focus_on_a_district_user_narrows_everything_to_a_street(tree, district_admin):
    district_admin.focus_area_code = tree.street_b.code
    scope = user_scope(district_admin)
    assert not scope.everything
    assert visible(district_admin, tree) == codes(tree.street_b_subtree)


def test_focus_outside_the_scope_is_ignored(tree, street_a):
    street_a.focus_area_code = tree.b1.code
    assert visible(street_a, tree) == codes(tree.street_a_subtree)


def test_focus_on_an_unknown_code_outside_the_scope_is_ignored(tree, community_b1):
    community_b1.focus_area_code = "999999"
    assert visible(community_b1, tree) == {tree.b1.code, tree.b1_1.code}


def test_switch_scope_view_sets_and_clears_the_focus(tree, street_a):
    client = api_client_for(street_a)
    options = codes(scope_switch_options(street_a))
    assert options == {tree.street_a.code, tree.a1.code, tree.a2.code}

    response = client.post("/scope/", {"area": tree.a1.code, "next": "/areas/"})
    assert response.status_code == 302
    assert response["Location"] == "/areas/"
    assert client.session[FOCUS_SESSION_KEY] == tree.a1.code
    shown = codes(client.get("/areas/").context["areas"])
    assert shown == {tree.a1.code, tree.a1_1.code, tree.a1_2.code}

    # A node outside the switch options clears the focus rather than widening the view.
    client.post("/scope/", {"area": tree.b1.code})
    assert FOCUS_SESSION_KEY not in client.session
    assert codes(client.get("/areas/").context["areas"]) == codes(tree.street_a_subtree)


def test_the_switcher_offers_what_the_view_accepts(tree, district_admin, auditor):
    offered = api_client_for(district_admin).get("/").context["scope_areas"]
    assert codes(offered) == {tree.district.code, tree.street_a.code, tree.street_b.code}
    assert codes(offered) == codes(scope_switch_options(district_admin))
    assert api_client_for(auditor).get("/").context["scope_areas"] == []


def test_switch_scope_refuses_an_offsite_next(tree, street_a):
    response = api_client_for(street_a).post("/scope/", {"area": "", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_scope_switch_options_empty_for_admins(tree, auditor):
    assert scope_switch_options(auditor) == []


# --- Scope.filter on querysets linked to an area ---------------------------------------------------


def test_scope_filter_on_an_area_linked_queryset(tree, street_a, community_b1, district_admin):
    departments = Department.objects.all()
    assert set(user_scope(street_a).filter(departments)) == {tree.judicial_a}
    assert not user_scope(community_b1).filter(departments).exists()
    assert set(user_scope(district_admin).filter(departments)) == {tree.judicial_a, tree.law_enforcement}


def test_scope_filter_with_another_field_name(tree, street_a, community_b1):
    memberships = Membership.objects.filter(area__isnull=False)
    assert set(user_scope(community_b1).filter(memberships)) == set(Membership.objects.filter(area=tree.b1))
    assert set(user_scope(street_a).filter(memberships, area_field="area")) == set(
        Membership.objects.filter(area=tree.street_a)
    )


@pytest.mark.parametrize("name", ("district_admin", "street_a", "community_a1", "community_b1", "grid_a1"))
def test_an_area_is_checked_by_its_code_as_its_id_would_be_and_without_reading_the_ids(
    tree, persona, name, django_assert_num_queries
):
    user = persona(name)
    scope = user_scope(user)
    with django_assert_num_queries(0):  # the scope's area ids are read only when a list needs them
        by_code = {a.code for a in tree.areas if scope.contains_area(a)}
    assert "area_ids" not in scope.__dict__
    assert by_code == visible(user, tree)
    assert not scope.contains_area(Area(code=tree.a1.code))  # an unsaved area is in no scope
