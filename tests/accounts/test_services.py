"""Account writes: user_save, sessions, tokens; each audited."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from pingan.accounts.models import ApiToken, Membership, User
from pingan.accounts.roles import Role
from pingan.accounts.selectors import user_list, user_scope
from pingan.accounts.services import token_issue, token_revoke, token_user, user_end_sessions, user_save
from pingan.audit.models import AuditEvent
from tests.factories import PASSWORD, api_client_for

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Luanshui-2024-new!"


def new_events(before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("id")[before:])


def sessions_of(user: User) -> int:
    return sum(1 for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk))


# --- user_save: creation and validation -------------------------------------------------------------


def test_create_business_user(tree, system_admin):
    before = AuditEvent.objects.count()
    user = user_save(
        actor=system_admin,
        data={"username": " Wang.Li ", "full_name": "王丽", "role": Role.COMMUNITY_STAFF},
        areas=[tree.a1],
        password=NEW_PASSWORD,
    )
    assert user.username == "wang.li"
    assert user.check_password(NEW_PASSWORD)
    assert user.password_changed_at is not None
    assert [m.area for m in user.memberships.all()] == [tree.a1]
    events = new_events(before)
    assert [e.action for e in events] == ["user.create"]
    assert events[0].actor == system_admin
    assert events[0].changes["role"] == [None, "community_staff"]
    assert events[0].changes["memberships"][1] == [f"王丽 @ {tree.a1.name}"]
    assert NEW_PASSWORD not in str(events[0].changes)
    assert user_scope(user).root_codes == (tree.a1.code,)
    assert Client().login(username="wang.li", password=NEW_PASSWORD)


def test_create_without_password_gives_an_unusable_one(tree, system_admin):
    user = user_save(
        actor=system_admin, data={"username": "nopass", "role": Role.STREET_STAFF}, areas=[tree.street_a]
    )
    assert not user.has_usable_password()


def test_create_department_handler(tree, system_admin):
    user = user_save(
        actor=system_admin,
        data={"username": "zf01", "role": Role.DEPARTMENT_HANDLER},
        departments=[tree.law_enforcement],
    )
    assert [m.department for m in user.memberships.all()] == [tree.law_enforcement]


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
def test_admin_roles_cannot_have_memberships(tree, system_admin, role):
    with pytest.raises(ValidationError) as exc_info:
        user_save(actor=system_admin, data={"username": "adm2", "role": role}, areas=[tree.district])
    assert "areas" in exc_info.value.message_dict
    with pytest.raises(ValidationError):
        user_save(actor=system_admin, data={"username": "adm3", "role": role}, departments=[tree.judicial_a])
    assert not User.objects.filter(username__in=["adm2", "adm3"]).exists()


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN])
def test_admin_roles_without_memberships_are_fine(tree, system_admin, role):
    user = user_save(actor=system_admin, data={"username": "adm2", "role": role}, areas=[], departments=[])
    assert not user.memberships.exists()


@pytest.mark.parametrize("role", [Role.COMMANDER, Role.COMMUNITY_STAFF, Role.DEPARTMENT_HANDLER, Role.LEADER])
def test_business_roles_need_a_membership(tree, system_admin, role):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc_info:
        user_save(actor=system_admin, data={"username": "biz", "role": role}, areas=[], departments=[])
    assert "areas" in exc_info.value.message_dict
    assert not User.objects.filter(username="biz").exists()
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": "", "role": Role.GRID_WORKER}, "username"),
        ({"username": "张三", "role": Role.GRID_WORKER}, "username"),
        ({"username": "a b", "role": Role.GRID_WORKER}, "username"),
        ({"username": "street_a", "role": Role.GRID_WORKER}, "username"),  # taken
        ({"username": "STREET_A", "role": Role.GRID_WORKER}, "username"),  # taken, case-insensitively
        ({"username": "ok", "role": Role.GRID_WORKER, "full_name": "<img src=x>"}, "full_name"),
        ({"username": "ok", "role": Role.GRID_WORKER, "full_name": "长" * 41}, "full_name"),
        ({"username": "ok", "role": "superuser"}, "role"),
        ({"username": "ok"}, "role"),
    ],
)
def test_user_validation(tree, system_admin, street_a, data, field):
    with pytest.raises(ValidationError) as exc_info:
        user_save(actor=system_admin, data=data, areas=[tree.a1_1])
    assert field in exc_info.value.message_dict


@pytest.mark.parametrize("password", ["short1!", "12345678901", "password123", "grid_new_1"])
def test_weak_passwords_are_refused(tree, system_admin, password):
    with pytest.raises(ValidationError):
        user_save(
            actor=system_admin,
            data={"username": "grid_new_1", "role": Role.GRID_WORKER},
            areas=[tree.a1_1],
            password=password,
        )
    assert not User.objects.filter(username="grid_new_1").exists()


@pytest.mark.parametrize("name", ["district_admin", "street_a", "auditor", "security_admin", "dept_handler"])
def test_only_the_system_admin_manages_users(tree, persona, name):
    with pytest.raises(PermissionDenied):
        user_save(actor=persona(name), data={"username": "x1", "role": Role.GRID_WORKER}, areas=[tree.a1_1])
    assert not User.objects.filter(username="x1").exists()


def test_operator_command_may_save_without_an_actor(tree):
    user = user_save(actor=None, data={"username": "root2", "role": Role.SYSTEM_ADMIN}, password=NEW_PASSWORD)
    event = AuditEvent.objects.get(action="user.create", object_id=str(user.pk))
    assert event.actor is None
    assert event.actor_username == "system"


# --- user_save: updates ------------------------------------------------------------------------


def test_update_memberships_replaces_them(tree, system_admin, community_a1):
    before = AuditEvent.objects.count()
    user_save(actor=system_admin, user_id=community_a1.pk, data={}, areas=[tree.b1])
    assert [m.area for m in Membership.objects.filter(user=community_a1)] == [tree.b1]
    events = new_events(before)
    assert [e.action for e in events] == ["user.update"]
    old, new = events[0].changes["memberships"]
    assert old == ["社区甲一 @ 滦水里社区"]
    assert new == ["社区甲一 @ 粤江里社区"]


def test_update_without_membership_arguments_keeps_them(tree, system_admin, community_a1):
    user_save(actor=system_admin, user_id=community_a1.pk, data={"full_name": "新名字"})
    community_a1.refresh_from_db()
    assert community_a1.full_name == "新名字"
    assert [m.area for m in community_a1.memberships.all()] == [tree.a1]


def test_changing_role_to_admin_with_memberships_is_refused(tree, system_admin, community_a1):
    with pytest.raises(ValidationError):
        user_save(
            actor=system_admin, user_id=community_a1.pk, data={"role": Role.AUDIT_ADMIN}, areas=[tree.a1]
        )
    community_a1.refresh_from_db()
    assert community_a1.role == Role.COMMUNITY_STAFF


def test_password_change_ends_sessions_and_revokes_tokens(tree, system_admin, street_a, token_for):
    browser = api_client_for(street_a)
    other_browser = api_client_for(street_a)
    bystander = api_client_for(system_admin)
    key = token_for(street_a)
    assert sessions_of(street_a) == 2

    before = AuditEvent.objects.count()
    user_save(actor=system_admin, user_id=street_a.pk, data={}, password=NEW_PASSWORD)
    assert [e.action for e in new_events(before)] == ["user.update"]
    assert new_events(before)[0].changes["password"] == ["***", "***"]

    assert sessions_of(street_a) == 0
    assert sessions_of(system_admin) == 1  # other users keep theirs
    assert token_user(key) is None
    assert not ApiToken.objects.filter(user=street_a, revoked_at__isnull=True).exists()
    for client in (browser, other_browser):
        response = client.get("/areas/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert bystander.get("/areas/").status_code == 200
    street_a.refresh_from_db()
    assert street_a.check_password(NEW_PASSWORD)
    assert not street_a.check_password(PASSWORD)


def test_deactivating_a_user_ends_sessions(tree, system_admin, street_a, token_for):
    client = api_client_for(street_a)
    key = token_for(street_a)
    user_save(actor=system_admin, user_id=street_a.pk, data={"is_active": False})
    assert sessions_of(street_a) == 0
    assert token_user(key) is None
    assert client.get("/").status_code == 302


def test_plain_update_keeps_sessions(tree, system_admin, street_a):
    api_client_for(street_a)
    user_save(actor=system_admin, user_id=street_a.pk, data={"full_name": "街道甲乙"})
    assert sessions_of(street_a) == 1


def test_user_end_sessions(tree, system_admin, street_a, token_for):
    api_client_for(street_a)
    api_client_for(street_a)
    key = token_for(street_a)
    before = AuditEvent.objects.count()
    assert user_end_sessions(actor=system_admin, user_id=street_a.pk) == 2
    events = new_events(before)
    assert [e.action for e in events] == ["user.end_sessions"]
    assert events[0].changes == {"sessions": 2}
    assert events[0].object_id == str(street_a.pk)
    assert sessions_of(street_a) == 0
    assert token_user(key) is None
    assert user_end_sessions(actor=system_admin, user_id=street_a.pk) == 0


def test_user_end_sessions_needs_the_system_admin(tree, security_admin, street_a):
    api_client_for(street_a)
    with pytest.raises(PermissionDenied):
        user_end_sessions(actor=security_admin, user_id=street_a.pk)
    assert sessions_of(street_a) == 1


def test_end_sessions_view(tree, system_admin, street_a):
    api_client_for(street_a)
    response = api_client_for(system_admin).post(f"/accounts/users/{street_a.pk}/end-sessions/")
    assert response.status_code == 302
    assert sessions_of(street_a) == 0


# --- tokens --------------------------------------------------------------------------------------


def test_token_issue_and_revoke(street_a, community_b1):
    key, token = token_issue(user=street_a)
    assert token_user(key) == street_a
    assert token.key_hash != key
    assert not token_revoke(user=community_b1, key=key)  # not theirs
    assert token_user(key) == street_a
    assert token_revoke(user=street_a, key=key)
    assert token_user(key) is None
    assert not token_revoke(user=street_a, key=key)  # already revoked: no second audit row
    assert AuditEvent.objects.filter(action="auth.token_revoke").count() == 1


# --- user_list -------------------------------------------------------------------------------------


def test_user_list_scoping(
    tree, system_admin, street_a, community_a1, community_b1, grid_a1, auditor, district_admin
):
    everyone = set(User.objects.values_list("username", flat=True))
    assert set(user_list(user=system_admin).values_list("username", flat=True)) == everyone
    assert set(user_list(user=street_a).values_list("username", flat=True)) == {
        "street_a",
        "community_a1",
        "grid_a1",
    }
    assert set(user_list(user=community_b1).values_list("username", flat=True)) == {"community_b1"}
    assert not user_list(user=auditor).exists()
    # a district-wide scope lists the district's accounts, not the three administrators (bound to none)
    district_wide = set(user_list(user=district_admin).values_list("username", flat=True))
    assert "district_admin" in district_wide and "grid_a1" in district_wide
    assert not district_wide & {"system_admin", "auditor"}
    assert set(
        user_list(user=system_admin, filters={"role": "grid_worker"}).values_list("username", flat=True)
    ) == {"grid_a1"}
    assert set(user_list(user=system_admin, filters={"q": "社区"}).values_list("username", flat=True)) == {
        "community_a1",
        "community_b1",
    }
