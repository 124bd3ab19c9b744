"""Login (MLPS level 3 identity authentication): lockout per account and per source address, one generic
message, audit rows, a new session id at login, two-step login with TOTP and recovery codes, and the API
token endpoint."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from pingan.accounts import security
from pingan.accounts.models import LoginAttempt, RecoveryCode, TotpDevice, User, UserSession
from pingan.audit.models import AuditEvent
from tests.factories import PASSWORD, enrol_totp, totp_now

pytestmark = pytest.mark.django_db

GENERIC = "用户名、密码或验证码不正确，或账号已被暂时锁定"
LOGIN = "/accounts/login/"
VERIFY = "/accounts/login/verify/"
ENROL = "/accounts/login/enrol/"
JSON = "application/json"


def stored_secret(device: TotpDevice) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM accounts_totpdevice WHERE id = %s", [device.pk])
        return str(cursor.fetchone()[0])


def client_from(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip)


def login(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def sign_in(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    """Both steps: the password, then (for a user with an authenticator) the current TOTP code."""
    response = login(client, username, password, **extra)
    if response.status_code == 302 and response["Location"] == VERIFY:
        response = client.post(VERIFY, {"code": totp_now(User.objects.get(username=username))})
    return response


def signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def failed_events(username: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="auth.login_failed", actor_username=username).order_by("id"))


# --- password step, lockout, generic message -----------------------------------------------------------


def test_plain_login_audited_with_a_new_session_key(leader):
    # the leader's role does not need a second factor: the password alone signs in
    client = Client()
    client.get(LOGIN)
    client.session.save()  # an anonymous session exists before the login
    anonymous_key = client.session.session_key
    assert anonymous_key
    response = login(client, "leader")
    assert response.status_code == 302 and response["Location"] == "/"
    new_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key != anonymous_key  # no session fixation: Django's cycle_key at login
    assert signed_in(client)
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor == leader and event.outcome == "success" and event.kind == "auth"
    assert event.changes == {"second_factor": "none"}
    assert UserSession.objects.get(user=leader).session_key == new_key
    assert LoginAttempt.objects.filter(username="leader", success=True).count() == 1


def test_logout_is_audited_and_ends_the_session(street_a):
    client = Client()
    sign_in(client, "street_a")
    assert client.post("/accounts/logout/").status_code == 302
    assert not signed_in(client)
    assert AuditEvent.objects.filter(action="auth.logout", actor=street_a).count() == 1
    assert not UserSession.objects.filter(user=street_a).exists()


@pytest.mark.parametrize(
    ("username", "password"),
    [("street_a", "wrong-Password-1"), ("nobody", PASSWORD), ("STREET_A ", PASSWORD)],
)
def test_failures_show_one_generic_message(street_a, username, password):
    response = login(Client(), username, password)
    assert response.status_code == 200
    body = response.content.decode()
    assert GENERIC in body
    for telltale in ("密码不正确", "用户不存在", "锁定至", "没有这个用户"):
        assert telltale not in body.replace(GENERIC, "")


def test_inactive_account_gets_the_generic_message(street_a):
    User.objects.filter(pk=street_a.pk).update(is_active=False)
    response = login(Client(), "street_a")
    assert GENERIC in response.content.decode()
    assert failed_events("street_a")[-1].changes == {"reason": "credentials"}


def test_failed_login_is_audited_without_the_password(street_a):
    login(Client(), "street_a", "Guessed-Pw-99")
    [event] = failed_events("street_a")
    assert event.outcome == "failure" and event.actor is None
    assert event.changes == {"reason": "credentials"}
    assert "Guessed-Pw-99" not in str(event.__dict__)


def test_account_lockout_after_five_failures(street_a, clock):
    # five failures from five different addresses still lock the account
    for i in range(5):
        assert GENERIC in login(client_from(f"10.9.0.{i + 1}"), "street_a", f"wrong-{i}").content.decode()
    assert security.locked_until(username="street_a", ip=None) is not None
    # the right password is refused now, with the same message, before it is even checked
    response = login(client_from("10.9.0.77"), "street_a")
    assert response.status_code == 200 and GENERIC in response.content.decode()
    assert failed_events("street_a")[-1].changes == {"reason": "locked"}
    assert LoginAttempt.objects.filter(username="street_a", blocked=True).count() == 1
    clock.advance(minutes=29)
    assert GENERIC in login(client_from("10.9.0.77"), "street_a").content.decode()
    clock.advance(minutes=1, seconds=1)  # 30 minutes after the fifth failure: unlocked
    client = client_from("10.9.0.77")
    assert login(client, "street_a")["Location"] == VERIFY  # the password step passes again
    assert client.post(VERIFY, {"code": totp_now(street_a)})["Location"] == "/"
    assert signed_in(client)


def test_blocked_attempts_do_not_extend_the_lock(street_a, clock):
    for i in range(5):
        login(client_from("10.9.1.1"), "street_a", f"wrong-{i}")
    for _ in range(3):
        clock.advance(minutes=9)
        login(client_from("10.9.1.2"), "street_a")  # refused while locked
    clock.advance(minutes=4)  # 31 minutes after the fifth failure
    assert login(client_from("10.9.1.2"), "street_a").status_code == 302


def test_failures_spread_beyond_the_window_do_not_lock(street_a, clock):
    for i in range(4):
        login(client_from("10.9.2.1"), "street_a", f"wrong-{i}")
    clock.advance(minutes=16)
    login(client_from("10.9.2.1"), "street_a", "wrong-5")
    assert security.locked_until(username="street_a", ip="10.9.2.1") is None
    assert login(client_from("10.9.2.1"), "street_a").status_code == 302


def test_a_success_resets_the_account_count(street_a):
    for i in range(4):
        login(client_from("10.9.3.1"), "street_a", f"wrong-{i}")
    assert sign_in(client_from("10.9.3.2"), "street_a")["Location"] == "/"
    login(client_from("10.9.3.3"), "street_a", "wrong-again")
    assert security.locked_until(username="street_a", ip=None) is None


def test_source_address_lockout(street_a, community_a1, clock):
    # five failures against five different (even non-existent) accounts lock the address
    for name in ("a", "b", "c", "d", "e"):
        login(client_from("10.9.4.4"), name, "wrong")
    response = login(client_from("10.9.4.4"), "community_a1")
    assert GENERIC in response.content.decode()
    assert failed_events("community_a1")[-1].changes == {"reason": "locked"}
    # the account itself is fine from elsewhere
    assert login(client_from("10.9.4.5"), "community_a1").status_code == 302
    clock.advance(minutes=31)
    assert login(client_from("10.9.4.4"), "community_a1").status_code == 302


def test_old_attempts_are_pruned(street_a, clock):
    login(client_from("10.9.7.1"), "street_a", "wrong")
    clock.advance(days=8)
    login(client_from("10.9.7.1"), "street_a", "wrong")
    assert security.prune_login_attempts() == 1
    assert LoginAttempt.objects.count() == 1


def test_lockout_follows_the_policy(street_a, security_admin):
    security.security_policy_update(actor=security_admin, data={"lockout_threshold": 3, "lockout_minutes": 5})
    for i in range(3):
        login(client_from("10.9.5.1"), "street_a", f"wrong-{i}")
    until = security.locked_until(username="street_a", ip=None)
    assert until is not None and until - timezone.now() < dt.timedelta(minutes=5, seconds=1)


def test_login_rate_limit_per_address(street_a, settings):
    settings.LOGIN_RATE_PER_MINUTE = 3
    for _ in range(3):
        login(client_from("10.9.6.1"), "nobody", "x")
    assert login(client_from("10.9.6.1"), "street_a").status_code == 429
    assert login(client_from("10.9.6.2"), "street_a").status_code == 302


def test_next_is_kept_and_must_be_local(leader, street_a):
    response = Client().post(LOGIN + "?next=/areas/", {"username": "leader", "password": PASSWORD})
    assert response["Location"] == "/areas/"
    response = Client().post(
        LOGIN + "?next=https://evil.example/", {"username": "leader", "password": PASSWORD}
    )
    assert response["Location"] == "/"
    # through the second step too
    response = sign_in(Client(), "street_a", QUERY_STRING="next=/areas/")
    assert response["Location"] == "/areas/"


# --- second factor ------------------------------------------------------------------------------------


def test_user_with_totp_needs_the_code(street_a):
    enrol_totp(street_a)
    client = Client()
    response = login(client, "street_a")
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert not signed_in(client)  # the password alone does not sign in
    assert client.get("/areas/")["Location"].startswith(LOGIN)

    wrong = client.post(VERIFY, {"code": "000000"})
    assert wrong.status_code == 200 and GENERIC in wrong.content.decode()
    assert failed_events("street_a")[-1].changes == {"reason": "otp"}
    assert not signed_in(client)

    response = client.post(VERIFY, {"code": totp_now(street_a)})
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in(client)
    assert AuditEvent.objects.get(action="auth.login").changes == {"second_factor": "totp"}


def test_a_totp_code_is_accepted_once(street_a):
    enrol_totp(street_a)
    code = totp_now(street_a)
    first = Client()
    login(first, "street_a")
    assert first.post(VERIFY, {"code": code}).status_code == 302
    second = Client()
    login(second, "street_a")
    assert GENERIC in second.post(VERIFY, {"code": code}).content.decode()  # replay refused


def test_codes_from_a_neighbouring_step_are_accepted_and_older_ones_not(street_a):
    secret = enrol_totp(street_a)
    device = TotpDevice.objects.get(user=street_a)
    step = int(timezone.now().timestamp()) // 30
    assert not security.totp_verify(device, security.totp_code(secret, step - 2))
    assert security.totp_verify(device, security.totp_code(secret, step + 1))
    assert not security.totp_verify(device, security.totp_code(secret, step))  # older than the used one


def test_otp_failures_count_towards_the_lockout(street_a):
    enrol_totp(street_a)
    client = Client()
    login(client, "street_a")
    for _ in range(5):
        client.post(VERIFY, {"code": "123456"})
    response = client.post(VERIFY, {"code": totp_now(street_a)})  # even the right code now
    assert GENERIC in response.content.decode()
    assert not signed_in(client)


def test_recovery_code_signs_in_once(street_a):
    enrol_totp(street_a)
    codes = security._issue_recovery_codes(street_a)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = list(RecoveryCode.objects.filter(user=street_a).values_list("code_hash", flat=True))
    assert not set(codes) & set(stored)  # only keyed hashes are stored
    client = Client()
    login(client, "street_a")
    response = client.post(VERIFY, {"code": codes[3].upper()}, follow=True)
    assert response.redirect_chain[0] == ("/", 302)
    assert "还剩 9 个" in response.content.decode()
    assert AuditEvent.objects.get(action="auth.login").changes == {"second_factor": "recovery_code"}

    again = Client()
    login(again, "street_a")
    assert GENERIC in again.post(VERIFY, {"code": codes[3]}).content.decode()
    assert not signed_in(again)


def test_pending_login_expires(street_a, clock):
    enrol_totp(street_a)
    client = Client()
    login(client, "street_a")
    clock.advance(minutes=6)
    response = client.post(VERIFY, {"code": totp_now(street_a)})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert not signed_in(client)


def test_verify_page_without_a_pending_login_goes_back(db):
    assert Client().get(VERIFY)["Location"] == LOGIN
    assert Client().get(ENROL)["Location"] == LOGIN


@pytest.mark.parametrize(
    "name",
    ["system_admin", "security_admin", "auditor", "district_admin", "street_a", "community_a1", "grid_a1"],
)
def test_required_roles_enrol_right_after_the_password(persona, name):
    user = persona(name)
    TotpDevice.objects.filter(user=user).delete()  # not enrolled yet
    client = Client()
    response = login(client, user.username)
    assert response["Location"] == ENROL
    assert not signed_in(client)
    page = client.get(ENROL)
    body = page.content.decode()
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in body
    device = TotpDevice.objects.get(user=user, confirmed_at__isnull=True)
    secret = security.totp_secret(device)
    assert secret in body  # for manual entry
    stored = stored_secret(device)
    assert stored.startswith("sm4gcm:") and secret not in stored  # SM4-GCM encrypted at rest
    assert client.get(ENROL).content.decode().count(secret) >= 1  # a reload keeps the same secret

    wrong = client.post(ENROL, {"code": "000000"})
    assert wrong.status_code == 200 and "验证码不正确" in wrong.content.decode()
    assert not signed_in(client)

    step = int(timezone.now().timestamp()) // 30
    done = client.post(ENROL, {"code": security.totp_code(secret, step)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10
    assert all(code in done.content.decode() for code in codes)
    assert signed_in(client)
    assert security.totp_device(user) is not None
    assert AuditEvent.objects.filter(action="auth.totp_enrol", actor=user).count() == 1
    assert AuditEvent.objects.get(action="auth.login", actor=user).changes == {"second_factor": "totp_enrol"}


def test_second_factor_roles_are_the_administrators_and_the_reveal_roles(security_admin):
    from pingan.accounts.roles import ADMIN_ROLES, Role
    from pingan.core.sensitive import REVEAL_ROLES

    required = {role for role in Role if security.totp_required(User(role=role))}
    assert required == set(ADMIN_ROLES) | set(REVEAL_ROLES)
    assert {
        Role.COMMANDER,
        Role.STREET_STAFF,
        Role.COMMUNITY_STAFF,
        Role.GRID_WORKER,
        Role.POLICE,
    } <= required
    assert {Role.LEADER, Role.DEPARTMENT_HANDLER, Role.MEDIATOR, Role.HOTLINE_OPERATOR}.isdisjoint(required)
    # even a policy row saved with fewer roles (before this rule) cannot drop them
    from pingan.accounts.models import SecurityPolicy

    SecurityPolicy.objects.update_or_create(pk=1, defaults={"totp_required_roles": ["system_admin"]})
    assert security.totp_required(User(role=Role.GRID_WORKER))


def test_optional_roles_sign_in_without_totp(leader, dept_handler):
    assert not security.totp_required(leader) and not security.totp_required(dept_handler)
    assert login(Client(), "leader")["Location"] == "/"
    assert login(Client(), "dept_handler")["Location"] == "/"


# --- the API token endpoint ------------------------------------------------------------------------------


def token(payload: dict[str, Any], ip: str = "127.0.0.1") -> Any:
    return Client(REMOTE_ADDR=ip).post("/api/v1/auth/token", payload, content_type=JSON)


def test_token_needs_the_otp_of_an_enrolled_user(street_a):
    enrol_totp(street_a)
    without = token({"username": "street_a", "password": PASSWORD})
    assert without.status_code == 401
    assert without.json()["error"] == {"code": "invalid_credentials", "message": GENERIC, "details": []}
    wrong = token({"username": "street_a", "password": PASSWORD, "otp": "000000"})
    assert wrong.status_code == 401
    ok = token({"username": "street_a", "password": PASSWORD, "otp": totp_now(street_a)})
    assert ok.status_code == 200, ok.content
    assert ok.json()["token"].startswith("pa_")
    reasons = [
        e.changes.get("reason") for e in AuditEvent.objects.filter(action="auth.token_failed").order_by("id")
    ]
    assert reasons == ["otp", "otp"]


def test_token_refuses_a_required_role_without_a_device(system_admin):
    response = token({"username": "system_admin", "password": PASSWORD, "otp": "123456"})
    assert response.status_code == 401
    assert response.json()["error"]["message"] == GENERIC


def test_token_refuses_recovery_codes(street_a):
    enrol_totp(street_a)
    codes = security._issue_recovery_codes(street_a)
    assert token({"username": "street_a", "password": PASSWORD, "otp": codes[0]}).status_code == 401
    assert RecoveryCode.objects.filter(user=street_a, used_at__isnull=True).count() == 10


def test_token_without_totp_for_optional_roles(leader):
    assert token({"username": "leader", "password": PASSWORD}).status_code == 200


@pytest.mark.parametrize("name", ["district_admin", "street_a", "community_a1", "grid_a1", "auditor"])
def test_token_needs_the_otp_for_every_required_role(persona, name):
    user = persona(name)
    assert token({"username": user.username, "password": PASSWORD}).status_code == 401
    ok = token({"username": user.username, "password": PASSWORD, "otp": totp_now(user)})
    assert ok.status_code == 200, ok.content


def test_token_endpoint_shares_the_lockout(street_a):
    for i in range(5):
        token({"username": "street_a", "password": f"wrong-{i}"}, ip=f"10.8.0.{i}")
    response = token({"username": "street_a", "password": PASSWORD}, ip="10.8.0.99")
    assert response.status_code == 401 and response.json()["error"]["message"] == GENERIC
    # and the web login sees the same lock
    assert GENERIC in login(client_from("10.8.0.98"), "street_a").content.decode()


def test_token_rate_limit_per_address(leader, settings):
    settings.TOKEN_RATE_PER_MINUTE = 2
    assert token({"username": "leader", "password": PASSWORD}, ip="10.8.1.1").status_code == 200
    assert token({"username": "leader", "password": PASSWORD}, ip="10.8.1.1").status_code == 200
    limited = token({"username": "leader", "password": PASSWORD}, ip="10.8.1.1")
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert token({"username": "leader", "password": PASSWORD}, ip="10.8.1.2").status_code == 200


def test_token_refused_while_the_password_is_expired(street_a):
    User.objects.filter(pk=street_a.pk).update(password_changed_at=timezone.now() - dt.timedelta(days=91))
    response = token({"username": "street_a", "password": PASSWORD, "otp": totp_now(street_a)})
    assert response.status_code == 401 and response.json()["error"]["code"] == "password_expired"
