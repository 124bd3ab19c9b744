"""The school registry's rules: validation with Chinese messages, one school per name in a community or grid
and per 学校标识码, scope (B1 can neither read nor write A1's schools), audit, and the "4 个 100%" figures."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from hypothesis import given
from hypothesis import strategies as st

from pingan.audit.models import AuditEvent
from pingan.schools import selectors, services
from pingan.schools.models import School

pytestmark = pytest.mark.django_db


def test_create_validates_every_field_at_once(tree, community_a1):
    with pytest.raises(ValidationError) as exc:
        services.school_create(
            actor=community_a1,
            area=tree.a1_1,
            data={
                "name": "<b>学校</b>",
                "kind": "大学预科",
                "address": "",
                "code": "12345",
                "latitude": "117.2",
                "longitude": "39.1",
                "students": "-3",
                "phone": "12345",
                "closed_campus": "也许",
            },
        )
    errors = exc.value.message_dict
    assert "标记字符" in errors["name"][0]
    assert "学校类别" in errors["kind"][0]
    assert errors["address"] == ["请填写地址"]
    assert errors["code"] == ["学校标识码应为 10 位数字"]
    assert "填反了经纬度" in errors["latitude"][0]
    assert "0 到 100000" in errors["students"][0]
    assert "电话" in errors["phone"][0] or "区号" in errors["phone"][0]
    assert "是" in errors["closed_campus"][0]
    assert not School.objects.exists()


def test_coordinates_both_or_neither(tree, community_a1):
    with pytest.raises(ValidationError) as exc:
        services.school_create(
            actor=community_a1,
            area=tree.a1_1,
            data={"name": "学校", "kind": "primary", "address": "路", "latitude": "39.1"},
        )
    assert exc.value.message_dict["longitude"] == ["经度和纬度应同时填写或同时留空"]


def test_labels_and_codes_both_accepted_and_audited(tree, community_a1):
    school = services.school_create(
        actor=community_a1,
        area=tree.a1_1,
        data={
            "name": " 甲一　小学 ",
            "kind": "小学",
            "ownership": "民办",
            "address": "甲路 1 号",
            "guards": "2",
        },
    )
    assert (school.name, school.kind, school.ownership, school.guards) == (
        "甲一 小学",
        "primary",
        "private",
        2,
    )
    assert school.active
    audit = AuditEvent.objects.get(action="school.create")
    assert audit.changes["name"] == [None, "甲一 小学"]


def test_same_name_in_the_same_grid_or_same_code_is_refused(tree, community_a1, schools):
    with pytest.raises(ValidationError) as exc:
        services.school_create(
            actor=community_a1, area=tree.a1_1, data={"name": "甲一小学", "kind": "primary", "address": "x"}
        )
    assert exc.value.message_dict["name"] == ["该社区（网格）已登记同名学校"]
    with pytest.raises(ValidationError) as exc:
        services.school_create(
            actor=community_a1,
            area=tree.a1_2,
            data={"name": "甲二小学", "kind": "primary", "address": "x", "code": "1112000001"},
        )
    assert "已登记" in exc.value.message_dict["code"][0]
    # the same name in another grid is another school
    services.school_create(
        actor=community_a1, area=tree.a1_2, data={"name": "甲一小学", "kind": "primary", "address": "x"}
    )


def test_scope_b1_cannot_read_or_write_a1(tree, community_b1, schools):
    assert list(selectors.school_list(user=community_b1)) == [schools["b"]]
    with pytest.raises(Http404):
        selectors.school_get(user=community_b1, school_id=schools["a"].pk)
    with pytest.raises(Http404):
        services.school_update(actor=community_b1, school_id=schools["a"].pk, data={"guards": 0})
    with pytest.raises(ValidationError) as exc:
        services.school_create(
            actor=community_b1, area=tree.a1_1, data={"name": "x", "kind": "primary", "address": "y"}
        )
    assert exc.value.message_dict["area"] == ["所选社区或网格不在您的辖区内"]


def test_roles_that_do_not_read_the_registry(dept_handler, auditor, leader, schools):
    assert not selectors.school_list(user=dept_handler).exists()
    assert not selectors.school_list(user=auditor).exists()
    assert selectors.school_list(user=leader).count() == 2
    with pytest.raises(PermissionDenied):
        services.school_create(
            actor=leader, area=schools["a"].area, data={"name": "x", "kind": "primary", "address": "y"}
        )


def test_update_moves_within_scope_and_audits_the_difference(tree, street_a, schools):
    school = services.school_update(
        actor=street_a, school_id=schools["a"].pk, data={"guards": "0", "principal": "王校长"}, area=tree.a1_2
    )
    assert (school.area_id, school.guards, school.principal) == (tree.a1_2.pk, 0, "王校长")
    audit = AuditEvent.objects.filter(action="school.update").latest("id")
    assert audit.changes["guards"] == ["2", "0"] and audit.changes["area"] == [tree.a1_1.code, tree.a1_2.code]
    with pytest.raises(ValidationError) as exc:
        services.school_update(actor=street_a, school_id=school.pk, data={}, area=tree.b1_1)
    assert exc.value.message_dict["area"] == ["所选社区或网格不在您的辖区内"]


def test_figures_count_each_measure_by_street(tree, district_admin, community_a1, schools):
    services.school_create(
        actor=community_a1,
        area=tree.a1_2,
        data={"name": "甲二中学", "kind": "junior", "address": "x", "guards": 1},
    )
    figures = selectors.school_figures(user=district_admin)
    assert figures["by"] == "street"
    rows = {r["name"]: r for r in figures["rows"]}
    a = rows[tree.street_a.name]
    assert (a["schools"], a["guards"], a["closed_campus"], a["all"], a["rate"]) == (2, 2, 1, 1, 50.0)
    b = rows[tree.street_b.name]
    assert (b["schools"], b["all"], b["rate"]) == (1, 0, 0.0)
    assert figures["total"]["schools"] == 3 and figures["total"]["students"] == 800
    # a street's user sees its communities
    assert selectors.school_figures(user=community_a1)["by"] == "community"
    missing = selectors.school_list(user=district_admin, filters=selectors.SchoolFilter(missing="any"))
    assert set(missing.values_list("name", flat=True)) == {"乙一幼儿园", "甲二中学"}


@given(st.sampled_from(["是", "√", "Y", "1", "true", "有"]), st.sampled_from(["否", "×", "n", "0", "", "无"]))
def test_yes_no_words(yes, no):
    assert services.parse_yes_no(yes, "护学岗") is True
    assert services.parse_yes_no(no, "护学岗") is False
