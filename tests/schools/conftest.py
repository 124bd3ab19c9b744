from __future__ import annotations

from typing import Any

import pytest

from pingan.schools.services import school_create


@pytest.fixture
def schools(tree, community_a1, community_b1) -> dict[str, Any]:
    """A school in grid A1-1 (all four measures met) and one in B1-1 (none)."""
    a = school_create(
        actor=community_a1,
        area=tree.a1_1,
        data={
            "name": "甲一小学",
            "kind": "primary",
            "address": "甲路 1 号",
            "code": "1112000001",
            "students": 800,
            "guards": 2,
            "closed_campus": True,
            "alarm_linked": True,
            "guard_post": True,
        },
    )
    b = school_create(
        actor=community_b1,
        area=tree.b1_1,
        data={"name": "乙一幼儿园", "kind": "幼儿园", "address": "乙路 2 号"},
    )
    return {"a": a, "b": b}
