from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from pingan.accounts.models import User
from pingan.accounts.roles import Role
from pingan.areas.models import Area
from pingan.core.validators import id_check_char
from pingan.correction import services
from pingan.correction.models import CorrectionClient
from tests.factories import UserFactory, enrol_totp


def make_id(seq: int, birth: dt.date = dt.date(1985, 3, 4)) -> str:
    first17 = f"120103{birth:%Y%m%d}{seq % 1000:03d}"
    return first17 + id_check_char(first17)


@pytest.fixture
def judicial_a(tree: Any) -> User:
    """A handler of 挂甲寺街司法所 (judicial office serving street A)."""
    return UserFactory(
        username="judicial_a",
        full_name="司法所甲",
        role=Role.DEPARTMENT_HANDLER,
        departments=[tree.judicial_a],
    )


@pytest.fixture
def assist_a(tree: Any) -> User:
    """An assistance/correction officer of street A (TOTP enrolled: the role must sign in with it)."""
    user = UserFactory(
        username="assist_a", full_name="矫正员甲", role=Role.ASSISTANCE_OFFICER, areas=[tree.street_a]
    )
    enrol_totp(user)
    return user


@pytest.fixture
def officer_a1(tree: Any) -> User:
    """The assistance/correction officer of community A1: registers and manages A1's clients."""
    user = UserFactory(
        username="officer_a1", full_name="矫正官甲一", role=Role.ASSISTANCE_OFFICER, areas=[tree.a1]
    )
    enrol_totp(user)
    return user


@pytest.fixture
def officer_b1(tree: Any) -> User:
    """The assistance/correction officer of community B1 (another street: sees nothing of A1)."""
    user = UserFactory(
        username="officer_b1", full_name="矫正官乙一", role=Role.ASSISTANCE_OFFICER, areas=[tree.b1]
    )
    enrol_totp(user)
    return user


@pytest.fixture
def police_a1(tree: Any) -> User:
    return UserFactory(username="police_a1", full_name="民警甲", role=Role.POLICE, areas=[tree.a1])


def client_data(seq: int = 1, **extra: Any) -> dict[str, Any]:
    today = timezone.localdate()
    data: dict[str, Any] = {
        "name": f"矫正测试{seq}",
        "id_number": make_id(seq),
        "number": f"JZ-T-{seq:04d}",
        "category": "缓刑",
        "offence": "盗窃罪",
        "sentence": "有期徒刑一年，缓刑二年",
        "sentence_months": 24,
        "start_date": today - dt.timedelta(days=5),
        "end_date": today + dt.timedelta(days=700),
        "authority": "天津市河西区人民法院",
        "judgment_effective_date": today - dt.timedelta(days=5),
    }
    data.update(extra)
    return data


@pytest.fixture
def new_client(tree: Any) -> Callable[..., CorrectionClient]:
    def make(actor: Any, area: Area | None = None, seq: int = 1, **extra: Any) -> CorrectionClient:
        return services.client_register(actor=actor, area=area or tree.a1_1, data=client_data(seq, **extra))

    return make
