"""Sessions and passwords: idle timeout and absolute lifetime, the change-password page (history, classes,
expiry, ending the other sessions), ending sessions when an account is disabled, the 账号安全 page."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from pingan.accounts import security
from pingan.accounts.models import ApiToken, PasswordHistory, User, UserSession
from pingan.accounts.services import user_end_sessions, user_save
from pingan.audit.models import AuditEvent
from tests.factories import PASSWORD, api_client_for, enrol_totp, totp_now

pytestmark = pytest.mark.django_db

CHANGE = "/accounts/password/"


def sessions_of(user: User) -> int:
    return sum(1 for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk))


def signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def web_login(
    username: str, password: str = PASSWORD, client: Client | None = None, path: str = ""
) -> Client:
    """Sign in through the login form: the password, then the TOTP code when the user has an authenticator."""
    client = client or Client()
    response = client.post("/accounts/login/" + path, {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()[-2000:]
    if response["Location"] == "/accounts/login/verify/":
        code = totp_now(User.objects.get(username=username))
        response = client.post("/accounts/login/verify/", {"code": code})
        assert response.status_code == 302, response.content.decode()[-2000:]
    return client


# --- timeouts -----------------------------------------------------------------------------------------


def test_idle_timeout(street_a, clock):
    client = web_login("street_a")
    clock.advance(minutes=29)
    assert signed_in(client)  # activity moves the idle deadline
    clock.advance(minutes=29)
    assert signed_in(client)
    clock.advance(minutes=31)
    response = client.get("/areas/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not signed_in(client)


def test_the_session_row_is_written_at_most_once_a_minute(street_a, clock):
    client = web_login("street_a")
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    saved = Session.objects.get(session_key=key).expire_date
    clock.advance(seconds=30)
    for _ in range(3):
        assert signed_in(client)
    assert Session.objects.get(session_key=key).expire_date == saved  # nothing changed: not written
    clock.advance(seconds=40)  # 70 s after the last write
    assert signed_in(client)
    moved = Session.objects.get(session_key=key).expire_date - saved  # the clock fixture still ticks
    assert dt.timedelta(seconds=70) <= moved < dt.timedelta(seconds=75)


def test_idle_timeout_detected_by_the_middleware_is_audited(street_a, clock, security_admin):
    client = web_login("street_a")
    # the session row still lives (e.g. the policy was shortened since): the middleware catches it
    security.security_policy_update(actor=security_admin, data={"idle_timeout_minutes": 5})
    clock.advance(minutes=6)
    Session.objects.update(expire_date=timezone.now() + dt.timedelta(hours=1))
    response = client.get("/areas/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    event = AuditEvent.objects.get(action="auth.session_expired")
    assert event.actor == street_a and event.changes == {"reason": "idle"}
    page = client.get("/accounts/login/")
    assert "长时间未操作" in page.content.decode()


def test_idle_timeout_follows_the_policy(street_a, clock, security_admin):
    security.security_policy_update(actor=security_admin, data={"idle_timeout_minutes": 10})
    client = web_login("street_a")
    session = Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)
    assert dt.timedelta(minutes=9) < session.expire_date - timezone.now() <= dt.timedelta(minutes=10)
    clock.advance(minutes=11)
    assert not signed_in(client)


def test_absolute_lifetime(street_a, clock):
    client = web_login("street_a")
    for _ in range(24):  # active all day, never idle for long
        clock.advance(minutes=29)
        assert signed_in(client)
    clock.advance(minutes=29)  # 12 h 5 min after the login
    response = client.get("/areas/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert AuditEvent.objects.get(action="auth.session_expired").changes == {"reason": "lifetime"}
    assert "最长时限" in client.get("/accounts/login/").content.decode()


def test_cookie_ends_with_the_browser(street_a):
    client = web_login("street_a")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"] and not cookie["expires"]
    assert cookie["httponly"]


# --- ending sessions --------------------------------------------------------------------------------------


def test_password_change_page_ends_the_other_sessions_and_rekeys_this_one(street_a, token_for):
    here = web_login("street_a")
    elsewhere = web_login("street_a")
    forced = api_client_for(street_a)  # force_login sessions are tracked too
    key = token_for(street_a)
    old_key = here.cookies[settings.SESSION_COOKIE_NAME].value
    response = here.post(
        CHANGE,
        {
            "old_password": PASSWORD,
            "new_password1": "Changed-Pass-2026",
            "new_password2": "Changed-Pass-2026",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/security/"
    new_key = here.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key != old_key
    assert signed_in(here)
    assert not signed_in(elsewhere) and not signed_in(forced)
    assert sessions_of(street_a) == 1
    assert list(UserSession.objects.filter(user=street_a).values_list("session_key", flat=True)) == [new_key]
    assert not ApiToken.objects.filter(user=street_a, revoked_at__isnull=True).exists()
    assert Client().get("/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    street_a.refresh_from_db()
    assert street_a.check_password("Changed-Pass-2026")
    assert timezone.now() - street_a.password_changed_at < dt.timedelta(minutes=1)
    event = AuditEvent.objects.get(action="auth.password_change", outcome="success")
    assert event.changes["sessions_ended"] == 2 and "password" in event.changes
    assert "Changed-Pass-2026" not in str(event.changes)


def test_wrong_old_password_is_refused_and_counted(street_a):
    client = web_login("street_a")
    response = client.post(
        CHANGE,
        {
            "old_password": "not-it",
            "new_password1": "Changed-Pass-2026",
            "new_password2": "Changed-Pass-2026",
        },
    )
    assert response.status_code == 200 and "当前密码不正确" in response.content.decode()
    street_a.refresh_from_db()
    assert street_a.check_password(PASSWORD)
    assert AuditEvent.objects.filter(action="auth.password_change", outcome="failure").count() == 1


def test_disabling_an_account_ends_its_sessions(street_a, system_admin):
    client = web_login("street_a")
    other = api_client_for(street_a)
    user_save(actor=system_admin, user_id=street_a.pk, data={"is_active": False})
    assert not signed_in(client) and not signed_in(other)
    assert sessions_of(street_a) == 0
    assert not UserSession.objects.filter(user=street_a).exists()


def test_admin_password_reset_ends_every_session(street_a, system_admin):
    client = web_login("street_a")
    user_save(actor=system_admin, user_id=street_a.pk, data={}, password="Reset-By-Admin-77")
    assert not signed_in(client)


def test_system_admin_ends_a_users_sessions(street_a, system_admin):
    web_login("street_a")
    web_login("street_a")
    api_client_for(system_admin)
    assert user_end_sessions(actor=system_admin, user_id=street_a.pk) == 2
    assert sessions_of(street_a) == 0 and sessions_of(system_admin) == 1


def test_ending_sessions_does_not_scan_the_session_table(street_a, django_assert_max_num_queries):
    for _ in range(3):
        web_login("street_a")
    with django_assert_max_num_queries(6):
        assert security.end_user_sessions(street_a) == 3


def test_own_sessions_on_the_account_page(street_a):
    here = web_login("street_a")
    there = Client(REMOTE_ADDR="10.7.0.9", HTTP_USER_AGENT="Firefox/128")
    web_login("street_a", client=there)
    page = here.get("/accounts/security/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "10.7.0.9" in body and "Firefox/128" in body and "当前会话" in body
    assert len(page.context["sessions"]) == 2
    response = here.post("/accounts/security/sessions/end-others/")
    assert response.status_code == 302
    assert signed_in(here) and not signed_in(there)
    assert AuditEvent.objects.get(action="auth.sessions_end_others").changes == {"sessions": 1}


# --- password rules ----------------------------------------------------------------------------------------


def change(client: Client, old: str, new: str):
    return client.post(CHANGE, {"old_password": old, "new_password1": new, "new_password2": new})


def test_history_refuses_the_last_five(street_a):
    client = web_login("street_a")
    passwords = [PASSWORD] + [f"History-Pass-{i}x" for i in range(1, 6)]
    for old, new in itertools.pairwise(passwords):
        assert change(client, old, new).status_code == 302, new
    # the current one and the four before it are refused; the sixth-last is allowed again
    for reused in passwords[1:-1]:
        response = change(client, passwords[-1], reused)
        assert response.status_code == 200
        assert "不能使用最近 5 次用过的密码" in response.content.decode(), reused
    assert "不能与当前密码相同" in change(client, passwords[-1], passwords[-1]).content.decode()
    assert change(client, passwords[-1], PASSWORD).status_code == 302
    assert PasswordHistory.objects.filter(user=street_a).count() == 6


def test_history_length_follows_the_policy(street_a, security_admin):
    security.security_policy_update(actor=security_admin, data={"history_count": 2})
    street_a.set_password("First-Pass-111")
    street_a.save()
    street_a.set_password("Second-Pass-222")
    street_a.save()
    with pytest.raises(ValidationError):
        security.PasswordHistoryValidator().validate("First-Pass-111", street_a)
    street_a.set_password("Third-Pass-333")
    street_a.save()
    security.PasswordHistoryValidator().validate("First-Pass-111", street_a)  # 3 changes ago: allowed


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("alllowercase", False),  # 1 class
        ("lowerUPPERonly", False),  # 2 classes
        ("lower-and-1234", True),  # lower, digit, symbol
        ("UPPER_LOWER_x", True),  # upper, lower, symbol
        ("Mixed1234abc", True),  # upper, lower, digit
        ("中文口令abc123", True),  # other (non-ASCII), lower, digit
        ("Ab1-", False),  # too short
    ],
)
def test_character_classes_and_length(password, ok):
    if ok:
        security.CharacterClassesValidator().validate(password)
        security.PolicyMinimumLengthValidator().validate(password)
    else:
        with pytest.raises(ValidationError):
            security.CharacterClassesValidator().validate(password)
            security.PolicyMinimumLengthValidator().validate(password)


def test_common_passwords_are_refused(db):
    with pytest.raises(ValidationError):
        security.PolicyCommonPasswordValidator().validate("Password1")


def test_validators_are_installed(street_a):
    from django.contrib.auth import password_validation

    for weak in ("short1A", "onlylowercase", "Password123", PASSWORD):
        with pytest.raises(ValidationError):
            password_validation.validate_password(weak, street_a)
    password_validation.validate_password("Quite-Fine-2026", street_a)


# --- expiry ------------------------------------------------------------------------------------------------


def test_expired_password_forces_the_change_page_first(street_a):
    User.objects.filter(pk=street_a.pk).update(password_changed_at=timezone.now() - dt.timedelta(days=91))
    client = web_login("street_a", path="?next=/areas/")
    for path in ("/", "/areas/", "/accounts/security/"):
        blocked = client.get(path)
        assert blocked.status_code == 302 and blocked["Location"] == CHANGE, path
    api = client.get("/api/v1/areas")
    assert api.status_code == 403 and api.json()["error"]["code"] == "password_expired"
    page = client.get(CHANGE)
    assert page.status_code == 200 and "密码已过期" in page.content.decode()
    assert change(client, PASSWORD, "Fresh-Pass-2026").status_code == 302
    assert client.get("/areas/").status_code == 200


def test_expiry_follows_the_policy(street_a, security_admin):
    User.objects.filter(pk=street_a.pk).update(password_changed_at=timezone.now() - dt.timedelta(days=40))
    client = web_login("street_a")
    assert client.get("/areas/").status_code == 200
    security.security_policy_update(actor=security_admin, data={"max_age_days": 30})
    assert client.get("/areas/")["Location"] == CHANGE
    security.security_policy_update(actor=security_admin, data={"max_age_days": 0})  # never expires
    assert client.get("/areas/").status_code == 200


def test_unknown_change_time_starts_the_clock_at_login(street_a):
    User.objects.filter(pk=street_a.pk).update(password_changed_at=None)
    web_login("street_a")
    street_a.refresh_from_db()
    assert street_a.password_changed_at is not None


# --- the 账号安全 page: enrol, regenerate codes, disable ---------------------------------------------------


def test_optional_user_enrols_and_disables_totp(leader):
    client = web_login("leader")
    page = client.get("/accounts/security/")
    assert "绑定动态口令" in page.content.decode()
    form = client.get("/accounts/security/totp/")
    assert form.status_code == 200
    secret = form.context["secret"]
    step = int(timezone.now().timestamp()) // 30
    wrong_password = client.post("/accounts/security/totp/", {"password": "nope", "code": "123456"})
    assert "当前密码不正确" in wrong_password.content.decode()
    done = client.post(
        "/accounts/security/totp/", {"password": PASSWORD, "code": security.totp_code(secret, step)}
    )
    assert done.status_code == 200 and len(done.context["codes"]) == 10
    assert security.totp_device(leader) is not None

    regenerated = client.post("/accounts/security/recovery-codes/", {"password": PASSWORD})
    assert regenerated.status_code == 200
    assert set(regenerated.context["codes"]).isdisjoint(done.context["codes"])
    assert security.recovery_codes_left(leader) == 10

    assert client.post("/accounts/security/totp/disable/", {"password": PASSWORD}).status_code == 302
    assert security.totp_device(leader) is None
    actions = set(AuditEvent.objects.filter(actor=leader).values_list("action", flat=True))
    assert {"auth.totp_enrol", "auth.recovery_codes_regenerate", "auth.totp_disable"} <= actions


def test_required_roles_cannot_disable_totp(district_admin):
    enrol_totp(district_admin)
    client = api_client_for(district_admin)
    response = client.post("/accounts/security/totp/disable/", {"password": PASSWORD}, follow=True)
    assert "必须使用动态口令" in response.content.decode()
    assert security.totp_device(district_admin) is not None
