from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from pingan.accounts.models import User
from pingan.accounts.roles import Role
from pingan.core.validators import id_check_char
from tests.factories import UserFactory, enrol_totp


def make_id(seq: int = 123, birth: dt.date = dt.date(1985, 3, 1), address: str = "120103") -> str:
    first17 = f"{address}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


@pytest.fixture
def assist_a(tree: Any) -> User:
    """An assistance officer of 挂甲寺街司法所 (serves street A)."""
    return UserFactory(
        username="assist_a", full_name="帮教甲", role=Role.ASSISTANCE_OFFICER, departments=[tree.judicial_a]
    )


# The case workers (rules.CASE_ROLES / WRITE_ROLES): assistance officers bound to community A1 and B1.
# assistance_officer must sign in with TOTP (accounts.roles.TOTP_MANDATORY_ROLES): enrolled here with
# tests.factories.TOTP_SECRET, like the shared personas in tests/conftest.py.
@pytest.fixture
def officer_a1(tree: Any) -> User:
    """An assistance officer bound to 滦水里社区 (community A1)."""
    user = UserFactory(
        username="officer_a1", full_name="帮教甲一", role=Role.ASSISTANCE_OFFICER, areas=[tree.a1]
    )
    enrol_totp(user)
    return user


@pytest.fixture
def officer_b1(tree: Any) -> User:
    """An assistance officer bound to community B1 (another street)."""
    user = UserFactory(
        username="officer_b1", full_name="帮教乙一", role=Role.ASSISTANCE_OFFICER, areas=[tree.b1]
    )
    enrol_totp(user)
    return user


@pytest.fixture
def leader_a(tree: Any) -> User:
    """A leader of street A (read-only, sees street A's cases only)."""
    return UserFactory(username="leader_a", full_name="街道领导甲", role=Role.LEADER, areas=[tree.street_a])


@pytest.fixture
def police_a1(tree: Any) -> User:
    return UserFactory(username="police_a1", full_name="民警甲", role=Role.POLICE, areas=[tree.a1])


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def register_case(tree: Any) -> Any:
    """``register_case(actor, seq=..., area=..., **case fields)``: a case through the service."""
    from pingan.aftercare.services import case_register

    def make(
        actor: Any,
        seq: int = 101,
        area: Any = None,
        name: str = "测试刑释",
        received_on: Any = None,
        **data: Any,
    ) -> Any:
        today = timezone.localdate()
        values = {"offence": "盗窃罪", "release_date": today - dt.timedelta(days=30), **data}
        return case_register(
            actor=actor,
            area=area or tree.a1_1,
            person_data={"name": name, "id_number": make_id(seq)},
            data=values,
            received_on=received_on,
        )

    return make
