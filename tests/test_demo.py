"""The demo district loader (``pingan demo``)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pingan.accounts.demo import DEMO_USERNAMES
from pingan.accounts.models import Membership, User
from pingan.accounts.roles import Role
from pingan.areas.models import Area, Department, Level
from pingan.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts_only(demo_only) -> None:
    """The tests about accounts and passwords need only the areas and accounts loaders."""
    demo_only("areas", "accounts")


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", "--no-serve", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def bbox(area: Area) -> tuple[float, float, float, float]:
    ring = area.boundary["coordinates"][0]
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    return min(lons), min(lats), max(lons), max(lats)


def snapshot() -> dict[str, object]:
    return {
        "areas": sorted(Area.objects.values_list("code", "name", "parent__code", "population", "households")),
        "boundaries": {a.code: a.boundary for a in Area.objects.all()},
        "area_updated": sorted(Area.objects.values_list("code", "updated_at")),
        "departments": sorted(
            Department.objects.values_list("code", "name", "kind", "area__code", "updated_at")
        ),
        "serves": sorted(Department.serves.through.objects.values_list("department__code", "area__code")),
        "users": sorted(
            User.objects.values_list("username", "role", "full_name", "password", "password_changed_at")
        ),
        "memberships": sorted(
            Membership.objects.values_list("user__username", "area__code", "department__code"), key=str
        ),
    }


def test_demo_loads_the_district_tree(db):
    output = run_demo()

    district = Area.objects.get(code="120103")
    assert district.level == Level.DISTRICT and district.name == "河西区"
    streets = Area.objects.filter(level=Level.STREET)
    communities = Area.objects.filter(level=Level.COMMUNITY)
    grids = Area.objects.filter(level=Level.GRID)
    assert 7 <= streets.count() <= 8
    assert 11 <= communities.count() <= 13
    assert 55 <= grids.count() <= 65
    street_names = set(streets.values_list("name", flat=True))
    assert {"挂甲寺街", "东海街", "天塔街", "越秀路街", "解放南路街"} <= street_names
    assert {"滦水里社区", "粤江里社区", "气象南里社区"} <= set(communities.values_list("name", flat=True))

    for street in streets:
        assert len(street.code) == 9 and street.code.startswith("120103")
        assert street.children.exists()
    for name in ("挂甲寺街", "东海街"):
        assert Area.objects.get(name=name, level=Level.STREET).children.count() == 2
    for community in communities:
        assert 4 <= community.children.count() <= 6
    for grid in grids:
        assert len(grid.code) == 15
        assert grid.code[:12] == grid.parent.code and grid.code[12:].isdigit()
    assert Area.objects.get(code=communities.get(name="滦水里社区").code + "001").name == "滦水里第1网格"

    for area in Area.objects.exclude(level=Level.DISTRICT).select_related("parent"):
        assert area.boundary["type"] == "Polygon"
        ring = area.boundary["coordinates"][0]
        assert len(ring) >= 4 and ring[0] == ring[-1]
        west, south, east, north = bbox(area)
        assert 117.1 < west < east < 117.4 and 39.0 < south < north < 39.2  # [lon, lat] order
        p_west, p_south, p_east, p_north = bbox(area.parent)
        assert p_west <= west and east <= p_east and p_south <= south and north <= p_north, area.code

    for area in [district, *streets]:
        children = area.children.all()
        assert area.population == sum(c.population for c in children)
        assert area.households == sum(c.households for c in children)
    for community in communities:
        assert 6000 <= community.population <= 15000
        assert 2.3 < community.population / community.households < 2.9

    assert Department.objects.get(code="hx-law-enforcement").kind == "law_enforcement"
    police = Department.objects.get(name="河西公安分局")
    assert police.kind == "police" and list(police.serves.all()) == [district]
    for street_name in ("挂甲寺街", "东海街"):
        judicial = Department.objects.get(name=f"{street_name}司法所")
        assert judicial.kind == "judicial" and judicial.area.name == street_name
        assert [a.name for a in judicial.serves.all()] == [street_name]
    station = Department.objects.get(name="挂甲寺街派出所")
    assert station.kind == "police" and station.area.name == "挂甲寺街"
    kinds = set(Department.objects.values_list("kind", flat=True))
    assert {
        "police",
        "traffic",
        "education",
        "law_enforcement",
        "judicial",
        "youth_league",
        "civil_affairs",
        "housing",
    } <= kinds

    assert "河西区" in output and "密码: Pa-" in output
    assert AuditEvent.objects.filter(action="demo.load").count() == 1


def test_demo_users_have_their_roles_and_scopes(db, monkeypatch, accounts_only):
    monkeypatch.delenv("PINGAN_DEMO_PASSWORD", raising=False)
    run_demo()
    expected = {
        "commander": Role.COMMANDER,
        "leader": Role.LEADER,
        "street1": Role.STREET_STAFF,
        "community1": Role.COMMUNITY_STAFF,
        "grid1": Role.GRID_WORKER,
        "grid2": Role.GRID_WORKER,
        "police1": Role.POLICE,
        "handler1": Role.DEPARTMENT_HANDLER,
        "mediator1": Role.MEDIATOR,
        "assist1": Role.ASSISTANCE_OFFICER,
        "hotline1": Role.HOTLINE_OPERATOR,
        "sysadmin": Role.SYSTEM_ADMIN,
        "secadmin": Role.SECURITY_ADMIN,
        "auditor": Role.AUDIT_ADMIN,
    }
    assert set(DEMO_USERNAMES) == set(expected)
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert user.role == role
        assert user.full_name and user.is_active and user.has_usable_password()
        assert user.password_changed_at is not None

    def areas(username: str) -> list[Area]:
        return [m.area for m in Membership.objects.filter(user__username=username, area__isnull=False)]

    def departments(username: str) -> list[str]:
        return [
            m.department.name
            for m in Membership.objects.filter(user__username=username, department__isnull=False)
        ]

    [street] = areas("street1")
    [community] = areas("community1")
    assert street.name == "挂甲寺街" and community.name == "滦水里社区"
    assert community.parent == street and community.code.startswith(street.code)
    [grid1] = areas("grid1")
    assert grid1.parent == community and grid1.code == community.code + "001"
    [grid2] = areas("grid2")
    assert grid2.level == Level.GRID and grid2.parent.parent.name == "东海街"
    assert [a.code for a in areas("commander")] == ["120103"]
    assert [a.code for a in areas("hotline1")] == ["120103"]
    assert areas("police1") == [community] and departments("police1") == ["挂甲寺街派出所"]
    assert areas("handler1") == [] and departments("handler1") == ["河西区综合执法局"]
    assert areas("assist1") == [street] and departments("assist1") == ["挂甲寺街司法所"]
    for admin in ("sysadmin", "secadmin", "auditor"):
        assert not Membership.objects.filter(user__username=admin).exists()


def test_generated_password_is_shared_strong_and_printed_once(db, monkeypatch, accounts_only):
    monkeypatch.delenv("PINGAN_DEMO_PASSWORD", raising=False)
    first = run_demo()
    line = next(line for line in first.splitlines() if line.startswith("密码: "))
    password = line.removeprefix("密码: ").strip()
    assert len(password) >= 12
    assert any(c.isupper() for c in password) and any(c.islower() for c in password)
    assert any(c.isdigit() for c in password) and any(not c.isalnum() for c in password)
    assert all(User.objects.get(username=u).check_password(password) for u in DEMO_USERNAMES)

    second = run_demo()
    assert password not in second
    assert "已在首次运行时打印" in second


def test_running_twice_changes_nothing(db, monkeypatch):
    monkeypatch.delenv("PINGAN_DEMO_PASSWORD", raising=False)
    run_demo()
    before = snapshot()
    run_demo()
    assert snapshot() == before
    assert Membership.objects.count() == len(before["memberships"])
    assert AuditEvent.objects.filter(action="demo.load").count() == 2


def test_env_password_is_set_on_every_demo_account(db, monkeypatch, accounts_only):
    monkeypatch.delenv("PINGAN_DEMO_PASSWORD", raising=False)
    run_demo()
    monkeypatch.setenv("PINGAN_DEMO_PASSWORD", "Demo-Pass-2026!")
    output = run_demo()
    assert "Demo-Pass-2026!" not in output and "$PINGAN_DEMO_PASSWORD" in output
    for username in DEMO_USERNAMES:
        assert User.objects.get(username=username).check_password("Demo-Pass-2026!")
    memberships = Membership.objects.count()

    monkeypatch.setenv("PINGAN_DEMO_PASSWORD", "Another-Pass-77?")
    run_demo()
    assert User.objects.get(username="grid1").check_password("Another-Pass-77?")
    assert Membership.objects.count() == memberships
    assert User.objects.filter(username__in=DEMO_USERNAMES).count() == 14


def test_demo_repairs_a_changed_demo_account(db, monkeypatch, accounts_only):
    monkeypatch.delenv("PINGAN_DEMO_PASSWORD", raising=False)
    run_demo()
    grid1 = User.objects.get(username="grid1")
    password = grid1.password
    grid1.role = Role.LEADER
    grid1.save()
    Membership.objects.filter(user=grid1).delete()
    Membership.objects.create(user=grid1, area=Area.objects.get(code="120103"))
    run_demo()
    grid1.refresh_from_db()
    assert grid1.role == Role.GRID_WORKER and grid1.password == password
    assert [m.area.level for m in grid1.memberships.all()] == [Level.GRID]


def test_only_accounts_created_in_this_run_get_the_new_password(db, monkeypatch, accounts_only):
    monkeypatch.delenv("PINGAN_DEMO_PASSWORD", raising=False)
    run_demo()
    kept = User.objects.get(username="leader").password
    User.objects.filter(username="auditor").delete()
    output = run_demo()
    password = next(line for line in output.splitlines() if line.startswith("密码: ")).removeprefix("密码: ")
    assert "auditor" in output.split(password, 1)[1].splitlines()[1]  # the note names the new account
    assert User.objects.get(username="auditor").check_password(password)
    assert User.objects.get(username="leader").password == kept


def test_demo_refuses_to_run_in_production(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="生产环境"):
        run_demo()
    assert not Area.objects.exists()
