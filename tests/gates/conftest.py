"""Fixtures of the quality gates (docs/testing.md): the demo district loaded once per module, demo
personas, and a summary printed at the end of the run (and written under var/gates/).

The demo district is loaded with ``pingan demo --no-serve`` inside an outer transaction that the module
rolls back at its end; each test runs in a savepoint inside it (pytest-django's ``db``), so the data is
loaded once per module on SQLite and PostgreSQL alike. The page gate commits it for its own live server
(tests/gates/test_pages.py::demo_server).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client

# The second community persona: a community in another street than community1 (滦水里社区, 挂甲寺街).
# The demo has no such account, so the gates add it (with the same role as community1).
COMMUNITY_B = ("community2", "粤江里社区")
# The second assistance officer (安置帮教 and 社区矫正 cases are seen only by assistance officers, judicial
# offices and leaders): assist1 works in 挂甲寺街; the gates add assist2 in 东海街.
ASSIST_B = ("assist2", "东海街")

FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


def load_demo_district() -> None:
    """``pingan demo --no-serve`` plus the second community persona and the second assistance officer."""
    from pingan.accounts.models import Membership, User
    from pingan.accounts.roles import Role
    from pingan.accounts.selectors import forget_scope
    from pingan.areas.models import Area

    call_command("demo", "--no-serve", stdout=io.StringIO(), stderr=io.StringIO())
    username, community = COMMUNITY_B
    user, _ = User.objects.get_or_create(
        username=username, defaults={"full_name": "社区乙", "role": Role.COMMUNITY_STAFF, "is_active": True}
    )
    Membership.objects.get_or_create(user=user, area=Area.objects.get(name=community, level="community"))
    forget_scope(user)
    username, street = ASSIST_B
    user, _ = User.objects.get_or_create(
        username=username,
        defaults={"full_name": "帮教乙", "role": Role.ASSISTANCE_OFFICER, "is_active": True},
    )
    Membership.objects.get_or_create(user=user, area=Area.objects.get(name=street, level="street"))
    forget_scope(user)


@pytest.fixture(scope="module")
def demo_district(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The demo district, loaded once for the module and rolled back after it."""
    from django.test import override_settings

    # tests/conftest.py hashes with MD5 per test; this module-wide fixture runs before that (the demo
    # sets 15 passwords: PBKDF2 would take 10 s)
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=[FAST_HASHER]):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            load_demo_district()
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def demo_user(username: str) -> Any:
    from pingan.accounts.models import User

    return User.objects.get(username=username)


def signed_in_client(username: str) -> Client:
    """A test client with a session for the demo user (``force_login``: no password, no TOTP step)."""
    client = Client()
    client.force_login(demo_user(username))
    return client
