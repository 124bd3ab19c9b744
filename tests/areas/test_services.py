"""Writes to the tree and departments: validation, permission, one audit row per write."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pingan.areas.models import Area, Department
from pingan.areas.services import area_create, area_update, department_save
from pingan.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

SQUARE = {"type": "Polygon", "coordinates": [[[117.2, 39.1], [117.21, 39.1], [117.21, 39.11], [117.2, 39.1]]]}


@contextmanager
def one_audit_event(action: str):
    """The block writes exactly one audit event, with this action."""
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    holder: dict[str, AuditEvent] = {}
    yield holder
    new = list(AuditEvent.objects.exclude(pk__in=before))
    assert [e.action for e in new] == [action]
    holder["event"] = new[0]


@contextmanager
def no_writes():
    areas, departments, events = Area.objects.count(), Department.objects.count(), AuditEvent.objects.count()
    yield
    assert (Area.objects.count(), Department.objects.count(), AuditEvent.objects.count()) == (
        areas,
        departments,
        events,
    )


def errors_of(exc_info) -> dict[str, list[str]]:
    return exc_info.value.message_dict


# --- area_create -------------------------------------------------------------------------------


def test_create_community(tree, system_admin):
    with one_audit_event("area.create") as audit:
        area = area_create(
            actor=system_admin,
            code="120103004003",
            name=" 大沽南路社区 ",
            level="community",
            parent=tree.street_a,
            population=3000,
            households=1200,
            boundary=SQUARE,
        )
    area.refresh_from_db()
    assert (area.code, area.name, area.level, area.parent) == (
        "120103004003",
        "大沽南路社区",
        "community",
        tree.street_a,
    )
    assert area.boundary == SQUARE
    event = audit["event"]
    assert event.actor == system_admin
    assert event.actor_role == "system_admin"
    assert event.object_type == "areas.area"
    assert event.object_id == str(area.pk)
    assert event.area_code == "120103004003"
    assert event.changes["code"] == [None, "120103004003"]


def test_create_normalises_full_width_code(tree, system_admin):
    area = area_create(
        actor=system_admin,
        code="１２０１０３００４００３",
        name="社区",
        level="community",
        parent=tree.street_a,
    )
    assert area.code == "120103004003"


def test_create_district_without_parent(db, tree, system_admin):
    area = area_create(actor=system_admin, code="120104", name="南开区", level="district")
    assert area.parent is None


@pytest.mark.parametrize(
    ("code", "level", "parent_attr", "field"),
    [
        ("12010300401", "community", "street_a", "code"),  # 11 digits for a community
        ("1201030040011", "community", "street_a", "code"),  # 13 digits
        ("12010300400a", "community", "street_a", "code"),  # not digits
        ("12010300", "street", "district", "code"),
        ("1201030040010010", "grid", "a1", "code"),
        ("120103012003", "community", "street_a", "code"),  # does not start with the parent code
        ("120104001", "street", "district", "code"),
        ("120103004001003", "grid", "street_a", "parent"),  # a grid's parent must be a community
        ("120103004003", "community", "district", "parent"),
        ("120103013", "street", None, "parent"),  # a street needs a parent
        ("120104", "district", "district", "parent"),  # a district has none
        ("120103004001", "community", "street_a", "code"),  # duplicate
    ],
)
def test_create_rejects(tree, system_admin, code, level, parent_attr, field):
    parent = getattr(tree, parent_attr) if parent_attr else None
    with no_writes(), pytest.raises(ValidationError) as exc_info:
        area_create(actor=system_admin, code=code, name="新节点", level=level, parent=parent)
    assert field in errors_of(exc_info)


def test_create_rejects_unknown_level(tree, system_admin):
    with pytest.raises(ValidationError) as exc_info:
        area_create(actor=system_admin, code="120103004003", name="x", level="village", parent=tree.street_a)
    assert "level" in errors_of(exc_info)


@pytest.mark.parametrize(
    "name", ["", "   ", "<script>alert(1)</script>", "滦水&lt;", "javascript:x", "长" * 61]
)
def test_create_rejects_bad_names(tree, system_admin, name):
    with no_writes(), pytest.raises(ValidationError) as exc_info:
        area_create(
            actor=system_admin, code="120103004003", name=name, level="community", parent=tree.street_a
        )
    assert "name" in errors_of(exc_info)


@pytest.mark.parametrize(
    "boundary",
    [
        "{not json",
        "[1, 2]",
        {"type": "Point", "coordinates": [117.2, 39.1]},
        {"type": "Polygon", "coordinates": "nope"},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}},
    ],
)
def test_create_rejects_bad_boundaries(tree, system_admin, boundary):
    with no_writes(), pytest.raises(ValidationError) as exc_info:
        area_create(
            actor=system_admin,
            code="120103004003",
            name="新社区",
            level="community",
            parent=tree.street_a,
            boundary=boundary,
        )
    assert "boundary" in errors_of(exc_info)


def test_create_accepts_feature_and_text_boundaries(tree, system_admin):
    import json

    feature = {"type": "Feature", "properties": {"name": "x"}, "geometry": SQUARE}
    area = area_create(
        actor=system_admin,
        code="120103004003",
        name="甲",
        level="community",
        parent=tree.street_a,
        boundary=feature,
    )
    assert area.boundary == SQUARE  # the geometry only
    area = area_create(
        actor=system_admin,
        code="120103004004",
        name="乙",
        level="community",
        parent=tree.street_a,
        boundary=json.dumps(SQUARE),
    )
    assert area.boundary == SQUARE
    area = area_create(
        actor=system_admin,
        code="120103004005",
        name="丙",
        level="community",
        parent=tree.street_a,
        boundary="",
    )
    assert area.boundary is None


@pytest.mark.parametrize(
    "name",
    [
        "district_admin",
        "leader",
        "street_a",
        "community_a1",
        "grid_a1",
        "dept_handler",
        "auditor",
        "security_admin",
    ],
)
def test_only_the_system_admin_creates_areas(tree, persona, name):
    with no_writes(), pytest.raises(PermissionDenied):
        area_create(
            actor=persona(name), code="120103004003", name="新社区", level="community", parent=tree.street_a
        )


def test_inactive_system_admin_is_refused(tree, system_admin):
    system_admin.is_active = False
    system_admin.save()
    with pytest.raises(PermissionDenied):
        area_create(
            actor=system_admin, code="120103004003", name="新社区", level="community", parent=tree.street_a
        )


# --- area_update -------------------------------------------------------------------------------


def test_update_name_and_figures(tree, system_admin):
    with one_audit_event("area.update") as audit:
        area = area_update(
            actor=system_admin,
            area_id=tree.a2.pk,
            data={"name": "庆建南里", "population": 4200, "active": False},
        )
    area.refresh_from_db()
    assert (area.name, area.population, area.active) == ("庆建南里", 4200, False)
    assert audit["event"].changes == {
        "name": ["庆建南里社区", "庆建南里"],
        "population": [4100, 4200],
        "active": [True, False],
    }


def test_update_boundary_is_audited_without_the_geometry(tree, system_admin):
    with one_audit_event("area.update") as audit:
        area_update(actor=system_admin, area_id=tree.a2.pk, data={"boundary": SQUARE})
    assert audit["event"].changes["boundary"] == ["…", "…"]
    tree.a2.refresh_from_db()
    assert tree.a2.boundary == SQUARE


def test_update_code_of_a_leaf(tree, system_admin):
    area = area_update(actor=system_admin, area_id=tree.a2.pk, data={"code": "120103004009"})
    assert area.code == "120103004009"


def test_update_code_of_a_node_with_children_is_refused(tree, system_admin):
    with no_writes(), pytest.raises(ValidationError) as exc_info:
        area_update(actor=system_admin, area_id=tree.a1.pk, data={"code": "120103004009"})
    assert "code" in errors_of(exc_info)


def test_update_code_outside_the_parent_is_refused(tree, system_admin):
    with pytest.raises(ValidationError) as exc_info:
        area_update(actor=system_admin, area_id=tree.a2.pk, data={"code": "120103012009"})
    assert "code" in errors_of(exc_info)


def test_update_to_a_used_code_is_refused(tree, system_admin):
    with pytest.raises(ValidationError) as exc_info:
        area_update(actor=system_admin, area_id=tree.a2.pk, data={"code": tree.a1.code})
    assert "code" in errors_of(exc_info)


def test_update_markup_name_is_refused(tree, system_admin):
    with no_writes(), pytest.raises(ValidationError):
        area_update(actor=system_admin, area_id=tree.a2.pk, data={"name": "<b>x</b>"})


def test_update_by_district_admin_is_refused(tree, district_admin):
    with no_writes(), pytest.raises(PermissionDenied):
        area_update(actor=district_admin, area_id=tree.a2.pk, data={"name": "x"})


# --- department_save ---------------------------------------------------------------------------


def test_department_create(tree, system_admin):
    with one_audit_event("department.create") as audit:
        department = department_save(
            actor=system_admin,
            data={
                "code": "HX-Police",
                "name": " 河西公安分局 ",
                "kind": "公安分局/派出所",
                "area": tree.district,
                "phone": "022-12345678",
            },
            serves=[tree.street_a, tree.street_b],
        )
    department.refresh_from_db()
    assert (department.code, department.name, department.kind) == ("hx-police", "河西公安分局", "police")
    assert set(department.serves.all()) == {tree.street_a, tree.street_b}
    changes = audit["event"].changes
    assert changes["serves"] == [None, [tree.street_a.code, tree.street_b.code]]
    assert audit["event"].area_code == tree.district.code


def test_department_update_keeps_unchanged_fields(tree, system_admin):
    with one_audit_event("department.update") as audit:
        department = department_save(
            actor=system_admin, department_id=tree.judicial_a.pk, data={"phone": "022-88888888"}
        )
    assert (department.code, department.name, department.kind, department.area) == (
        "gjs-judicial",
        "挂甲寺街司法所",
        "judicial",
        tree.street_a,
    )
    assert department.phone == "022-88888888"
    assert set(department.serves.all()) == {tree.street_a}  # serves untouched when not given
    assert audit["event"].changes == {"phone": ["", "022-88888888"]}


def test_department_kind_accepts_english_label(tree, system_admin):
    department = department_save(
        actor=system_admin,
        data={"code": "hx-civil", "name": "民政局", "kind": "Civil affairs bureau", "area": tree.district},
    )
    assert department.kind == "civil_affairs"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"code": "hx law", "name": "甲", "kind": "police"}, "code"),
        ({"code": "公安", "name": "甲", "kind": "police"}, "code"),
        ({"code": "hx-law", "name": "甲", "kind": "police"}, "code"),  # already used
        ({"code": "hx-new", "name": "", "kind": "police"}, "name"),
        ({"code": "hx-new", "name": "<i>x</i>", "kind": "police"}, "name"),
        ({"code": "hx-new", "name": "甲", "kind": "bakery"}, "kind"),
        ({"code": "hx-new", "name": "甲", "kind": ""}, "kind"),
    ],
)
def test_department_validation(tree, system_admin, data, field):
    with no_writes(), pytest.raises(ValidationError) as exc_info:
        department_save(actor=system_admin, data=data | {"area": tree.district})
    assert field in errors_of(exc_info)


def test_department_needs_an_area(tree, system_admin):
    with pytest.raises(ValidationError) as exc_info:
        department_save(actor=system_admin, data={"code": "hx-new", "name": "甲", "kind": "police"})
    assert "area" in errors_of(exc_info)


@pytest.mark.parametrize("name", ["district_admin", "street_a", "dept_handler", "auditor", "security_admin"])
def test_only_the_system_admin_saves_departments(tree, persona, name):
    with no_writes(), pytest.raises(PermissionDenied):
        department_save(actor=persona(name), department_id=tree.judicial_a.pk, data={"name": "改名"})
