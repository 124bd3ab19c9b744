"""Shared fixtures: a small jurisdiction tree and one user per persona (ARCHITECTURE.md, "Tests by
persona").

    河西区 120103 (district)
    ├── 挂甲寺街 120103004 (street A)
    │   ├── 滦水里社区 120103004001 (community A1)
    │   │   ├── 滦水里第1网格 120103004001001 (grid A1-1)
    │   │   └── 滦水里第2网格 120103004001002 (grid A1-2)
    │   └── 庆建南里社区 120103004002 (community A2)
    └── 东海街 120103012 (street B)
        └── 粤江里社区 120103012001 (community B1)
            └── 粤江里第1网格 120103012001001 (grid B1-1)

Departments: 综合执法局 (law_enforcement, located in the district, serves street A only) and
挂甲寺街司法所 (judicial, located in and serving street A).

Every persona's password is ``tests.factories.PASSWORD``. Passwords are hashed with MD5 in tests
(autouse fixture, for speed); a test about the production hasher sets PASSWORD_HASHERS itself.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from pingan.accounts.models import User
from pingan.accounts.roles import Role
from pingan.areas.models import Area, Department
from tests.factories import (
    PASSWORD,
    AreaFactory,
    DepartmentFactory,
    UserFactory,
    api_client_for,
    enrol_totp,
    totp_now,
)

PERSONAS = (
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
)
ADMIN_PERSONAS = ("auditor", "system_admin", "security_admin")


@dataclass(frozen=True)
class Tree:
    district: Area
    street_a: Area
    a1: Area
    a1_1: Area
    a1_2: Area
    a2: Area
    street_b: Area
    b1: Area
    b1_1: Area
    law_enforcement: Department
    judicial_a: Department

    @property
    def areas(self) -> list[Area]:
        return [
            self.district,
            self.street_a,
            self.a1,
            self.a1_1,
            self.a1_2,
            self.a2,
            self.street_b,
            self.b1,
            self.b1_1,
        ]

    @property
    def street_a_subtree(self) -> list[Area]:
        return [self.street_a, self.a1, self.a1_1, self.a1_2, self.a2]

    @property
    def street_b_subtree(self) -> list[Area]:
        return [self.street_b, self.b1, self.b1_1]


def pytest_configure(config: pytest.Config) -> None:
    # On PostgreSQL a statement that waits more than two minutes for a lock fails (and names itself) instead
    # of waiting for ever: no test legitimately waits that long, and a forgotten open transaction in another
    # connection of the same test process (a live-server thread) then shows up as an error, not a stalled
    # CI. libpq reads PGOPTIONS at every connect, in this process and in the processes it starts.
    os.environ.setdefault("PGOPTIONS", "-c lock_timeout=120s")
    # WhiteNoise warns on every test client when `collectstatic` has not filled STATIC_ROOT yet.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")


@pytest.fixture(autouse=True)
def _empty_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Rate limits count in the cache: every test starts with none used, and counts in one window — the
    windows are minutes of real time, and a test's requests split across a minute's end reset the count
    (it failed CI once: the fourth search of three allowed answered 200)."""
    from django.core.cache import cache

    from pingan.core import ratelimit

    cache.clear()
    started = ratelimit.clock()
    monkeypatch.setattr(ratelimit, "clock", lambda: started)
    yield


@pytest.fixture(autouse=True)
def _signal_handlers_restored() -> Iterator[None]:
    """A command run in-process (django-tasks' ``db_worker``) installs SIGTERM/SIGINT/SIGQUIT handlers and
    leaves them: later tests in the same process (and processes they fork) must not inherit them."""
    kept = {number: signal.getsignal(number) for number in _HANDLED_SIGNALS}
    yield
    for number, handler in kept.items():
        if signal.getsignal(number) is not handler:
            signal.signal(number, handler)


_HANDLED_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGQUIT") if hasattr(signal, name)
)


@pytest.fixture
def postgres_only() -> None:
    """Skips the test unless the suite runs on PostgreSQL (DATABASE_URL)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (set DATABASE_URL)")


@pytest.fixture
def demo_only(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``demo_only("areas", "accounts")``: the real ``pingan demo`` with only these loaders (a module's demo
    test does not need every other module's data, which costs about 10 s per run)."""
    from pingan.core import demo

    def only(*names: str) -> None:
        assert set(names) <= set(demo._REGISTRY), set(names) - set(demo._REGISTRY)
        monkeypatch.setattr(demo, "_REGISTRY", {n: e for n, e in demo._REGISTRY.items() if n in names})

    return only


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_code_cache() -> Iterator[None]:
    """core.codes caches code tables per process, core.process_cache the event rules: each test starts
    from the database."""
    from pingan.core.codes import code_table
    from pingan.core.process_cache import clear_process_caches

    code_table.cache_clear()
    clear_process_caches()
    yield
    code_table.cache_clear()
    clear_process_caches()


@pytest.fixture
def tree(db: None) -> Tree:
    district = AreaFactory(code="120103", name="河西区")
    street_a = AreaFactory(code="120103004", name="挂甲寺街", parent=district)
    a1 = AreaFactory(
        code="120103004001", name="滦水里社区", parent=street_a, population=5200, households=2100
    )
    a2 = AreaFactory(
        code="120103004002", name="庆建南里社区", parent=street_a, population=4100, households=1700
    )
    street_b = AreaFactory(code="120103012", name="东海街", parent=district)
    b1 = AreaFactory(
        code="120103012001", name="粤江里社区", parent=street_b, population=3900, households=1500
    )
    law_enforcement = DepartmentFactory(
        code="hx-law", name="综合执法局", kind="law_enforcement", area=district, serves=[street_a]
    )
    judicial_a = DepartmentFactory(
        code="gjs-judicial", name="挂甲寺街司法所", kind="judicial", area=street_a, serves=[street_a]
    )
    return Tree(
        district=district,
        street_a=street_a,
        a1=a1,
        a1_1=AreaFactory(code="120103004001001", name="滦水里第1网格", parent=a1),
        a1_2=AreaFactory(code="120103004001002", name="滦水里第2网格", parent=a1),
        a2=a2,
        street_b=street_b,
        b1=b1,
        b1_1=AreaFactory(code="120103012001001", name="粤江里第1网格", parent=b1),
        law_enforcement=law_enforcement,
        judicial_a=judicial_a,
    )


# --- personas -------------------------------------------------------------------------------------
# Personas whose role must sign in with TOTP (the three administrators and every role that may reveal
# sensitive fields, accounts.roles.TOTP_MANDATORY_ROLES) have an authenticator enrolled with
# tests.factories.TOTP_SECRET; tests signing in through the form or the token endpoint pass
# ``totp_now(user)``. force_login (api_client_for) skips the login steps.


def _enrolled(user: Any) -> User:
    from pingan.accounts.roles import TOTP_MANDATORY_ROLES

    if user.role in TOTP_MANDATORY_ROLES:
        enrol_totp(user)
    return user


@pytest.fixture
def district_admin(tree: Tree) -> User:
    return _enrolled(
        UserFactory(username="district_admin", full_name="区指挥", role=Role.COMMANDER, areas=[tree.district])
    )


@pytest.fixture
def leader(tree: Tree) -> User:
    return _enrolled(
        UserFactory(username="leader", full_name="区领导", role=Role.LEADER, areas=[tree.district])
    )


@pytest.fixture
def street_a(tree: Tree) -> User:
    return _enrolled(
        UserFactory(username="street_a", full_name="街道甲", role=Role.STREET_STAFF, areas=[tree.street_a])
    )


@pytest.fixture
def community_a1(tree: Tree) -> User:
    return _enrolled(
        UserFactory(username="community_a1", full_name="社区甲一", role=Role.COMMUNITY_STAFF, areas=[tree.a1])
    )


@pytest.fixture
def community_b1(tree: Tree) -> User:
    return _enrolled(
        UserFactory(username="community_b1", full_name="社区乙一", role=Role.COMMUNITY_STAFF, areas=[tree.b1])
    )


@pytest.fixture
def grid_a1(tree: Tree) -> User:
    return _enrolled(
        UserFactory(username="grid_a1", full_name="网格员甲", role=Role.GRID_WORKER, areas=[tree.a1_1])
    )


@pytest.fixture
def dept_handler(tree: Tree) -> User:
    return _enrolled(
        UserFactory(
            username="dept_handler",
            full_name="执法队员",
            role=Role.DEPARTMENT_HANDLER,
            departments=[tree.law_enforcement],
        )
    )


@pytest.fixture
def auditor(tree: Tree) -> User:
    return _enrolled(UserFactory(username="auditor", full_name="审计员", role=Role.AUDIT_ADMIN))


@pytest.fixture
def system_admin(tree: Tree) -> User:
    return _enrolled(UserFactory(username="system_admin", full_name="系统管理员", role=Role.SYSTEM_ADMIN))


@pytest.fixture
def security_admin(tree: Tree) -> User:
    return _enrolled(UserFactory(username="security_admin", full_name="安全管理员", role=Role.SECURITY_ADMIN))


@pytest.fixture
def persona(request: pytest.FixtureRequest) -> Callable[[str], User]:
    """``persona("street_a")``: the persona fixture by name (for parametrised tests)."""

    def get(name: str) -> User:
        assert name in PERSONAS, name
        return request.getfixturevalue(name)

    return get


# --- clients --------------------------------------------------------------------------------------


@pytest.fixture(name="api_client_for")
def api_client_for_fixture(db: None) -> Callable[[User | None], Client]:
    """``api_client_for(user)``: a test client signed in with a session (force_login)."""
    return api_client_for


@pytest.fixture
def token_for(db: None) -> Callable[[User], str]:
    """``token_for(user)``: a bearer token from POST /api/v1/auth/token with the persona password."""

    def issue(user: User) -> str:
        from pingan.accounts import security

        payload = {"username": user.username, "password": PASSWORD}
        if security.totp_required(user) or security.totp_device(user) is not None:
            payload["otp"] = totp_now(user)  # enrols the persona's authenticator when needed
        response = Client().post("/api/v1/auth/token", payload, content_type="application/json")
        assert response.status_code == 200, response.content
        return response.json()["token"]

    return issue


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """PostgreSQL: the audit table refuses TRUNCATE; the test database lets Django's flush (between
    transactional tests) use it. See tests/audit/db.py."""
    from tests.audit.db import allow_audit_truncate

    with django_db_blocker.unblock():
        allow_audit_truncate()
