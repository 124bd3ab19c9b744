"""Login security (等级保护 2.0 level 3, GB/T 22239-2019 §8.1.4.1 identity authentication):

- the security policy (one row, edited by the security administrator, audited as a policy change);
- password validators that read the policy (AUTH_PASSWORD_VALIDATORS): length, character classes,
  common passwords, the last N passwords; and password expiry (enforced by the middleware);
- lockout per account and per source address, counted in the database so that every server process
  agrees, checked before the password is verified, with one generic message whatever failed;
- TOTP second factor (RFC 6238) with QR enrolment and one-time recovery codes;
- session bookkeeping (``UserSession``): login time for the absolute lifetime, ending a user's sessions
  without scanning the session table, the list of a user's own sessions.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, OperationalError, ProgrammingError, connection, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.accounts.models import (
    ApiToken,
    LoginAttempt,
    PasswordHistory,
    RecoveryCode,
    SecurityPolicy,
    TotpDevice,
    User,
    UserSession,
)
from pingan.accounts.roles import ADMIN_ROLES, TOTP_MANDATORY_ROLES, Role
from pingan.audit.context import client_ip
from pingan.audit.models import Outcome
from pingan.audit.services import audit_record, diff_fields
from pingan.core import crypto

# The one message a failed login shows, whatever part was wrong (never says which).
GENERIC_LOGIN_ERROR = gettext_lazy("用户名、密码或验证码不正确，或账号已被暂时锁定")

TOTP_ISSUER = "平安综治"
TOTP_PERIOD = 30
TOTP_DIGITS = 6
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no i, l, o, 0, 1
RECOVERY_CODE_LENGTH = 10
PASSWORD_HISTORY_KEEP = 24  # rows kept per user (the policy may ask for up to 24)
LOGIN_ATTEMPT_KEEP_DAYS = 7
PRUNE_ONE_IN = 500  # record_attempt prunes old attempts once in this many calls

# Session keys.
LOGIN_AT_KEY = "pingan_login_at"
LAST_ACTIVITY_KEY = "pingan_last_activity"
# The idle clock moves in steps: the last activity (and the session row's expiry with it) is written at most
# this often, so an idle session ends up to this much before its full idle timeout, never after.
ACTIVITY_STEP_SECONDS = 60
SEEN_SAVED_KEY = "pingan_seen_saved"
PENDING_KEY = "pingan_pending_login"
LOGOUT_REASON_KEY = "pingan_logout_reason"
PENDING_SECONDS = 300  # between the password and the second factor


# --- the policy ------------------------------------------------------------------------------------

_request_policy: ContextVar[SecurityPolicy | None] = ContextVar("pingan_security_policy", default=None)


def security_policy() -> SecurityPolicy:
    """The policy in force: the stored row, or the defaults while none was saved. Inside a request it
    is read once (``policy_for_request``); elsewhere every call reads the database, so that a change
    made in one server process holds in all of them at once."""
    cached = _request_policy.get()
    if cached is not None:
        return cached
    rows = SecurityPolicy.objects.filter(pk=SecurityPolicy.SINGLETON_PK)
    try:
        if connection.in_atomic_block:
            with transaction.atomic():  # a savepoint: a missing table must not break the caller's transaction
                stored = rows.first()
        else:
            stored = rows.first()
    except (OperationalError, ProgrammingError):  # before `migrate` (e.g. the demo checks its password first)
        stored = None
    return stored or SecurityPolicy(pk=SecurityPolicy.SINGLETON_PK)


@contextmanager
def policy_for_request() -> Iterator[SecurityPolicy]:
    policy = security_policy()
    token = _request_policy.set(policy)
    try:
        yield policy
    finally:
        _request_policy.reset(token)


@dataclass(frozen=True)
class PolicyField:
    name: str
    low: int
    high: int


POLICY_NUMBERS = (
    PolicyField("min_length", 8, 64),
    PolicyField("min_classes", 1, 4),
    PolicyField("history_count", 0, 24),
    PolicyField("max_age_days", 0, 365),
    PolicyField("lockout_threshold", 3, 20),
    PolicyField("ip_lockout_threshold", 3, 1000),
    PolicyField("lockout_window_minutes", 1, 1440),
    PolicyField("lockout_minutes", 1, 1440),
    PolicyField("idle_timeout_minutes", 1, 120),
    PolicyField("session_lifetime_hours", 1, 24),
)
POLICY_FIELDS = (*(f.name for f in POLICY_NUMBERS), "reject_common", "totp_required_roles")


def _clean_policy(data: dict[str, Any], current: SecurityPolicy) -> dict[str, Any]:
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for spec in POLICY_NUMBERS:
        raw = data.get(spec.name, getattr(current, spec.name))
        try:
            value = int(raw)
        except (TypeError, ValueError):
            errors[spec.name] = _("请输入整数")
            continue
        if not spec.low <= value <= spec.high:
            errors[spec.name] = _("取值范围是 %(low)d 到 %(high)d") % {"low": spec.low, "high": spec.high}
        cleaned[spec.name] = value
    cleaned["reject_common"] = bool(data.get("reject_common", current.reject_common))
    roles = data.get("totp_required_roles", current.totp_required_roles)
    roles = sorted({str(r) for r in roles or []})
    if any(r not in Role.values for r in roles):
        errors["totp_required_roles"] = _("岗位不正确")
    elif not {r.value for r in TOTP_MANDATORY_ROLES} <= set(roles):
        errors["totp_required_roles"] = _(
            "系统管理员、安全管理员、审计管理员以及可查看敏感信息原文的岗位（%(roles)s）必须使用动态口令"
        ) % {"roles": "、".join(str(Role(r).label) for r in sorted(TOTP_MANDATORY_ROLES - ADMIN_ROLES))}
    cleaned["totp_required_roles"] = roles
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def security_policy_update(*, actor: Any, data: dict[str, Any]) -> SecurityPolicy:
    """Change the policy. Only the security administrator; audited as a policy change."""
    if not actor.has_perm("accounts.manage_security_policy"):
        raise PermissionDenied
    policy, _created = SecurityPolicy.objects.select_for_update().get_or_create(
        pk=SecurityPolicy.SINGLETON_PK
    )
    before = {f: getattr(policy, f) for f in POLICY_FIELDS}
    before["totp_required_roles"] = sorted(before["totp_required_roles"] or [])
    cleaned = _clean_policy(data, policy)
    for key, value in cleaned.items():
        setattr(policy, key, value)
    policy.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    policy.save()
    changes = diff_fields(before, {f: getattr(policy, f) for f in POLICY_FIELDS})
    if "totp_required_roles" in changes:  # the audit trail masks names containing "totp" as secrets
        changes["second_factor_roles"] = changes.pop("totp_required_roles")
    audit_record(actor=actor, action="security.policy_update", obj=policy, changes=changes)
    return policy


# --- passwords -------------------------------------------------------------------------------------


def character_classes(password: str) -> int:
    """How many of upper case, lower case, digits and other characters the password uses."""
    return sum(
        (
            any(c.isascii() and c.isupper() for c in password),
            any(c.isascii() and c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not (c.isascii() and c.isalnum()) for c in password),
        )
    )


class PolicyMinimumLengthValidator:
    def validate(self, password: str, user: Any = None) -> None:
        minimum = security_policy().min_length
        if len(password) < minimum:
            raise ValidationError(_("密码至少需要 %(n)d 个字符") % {"n": minimum}, code="password_too_short")

    def get_help_text(self) -> str:
        return _("至少 %(n)d 个字符") % {"n": security_policy().min_length}


class CharacterClassesValidator:
    def validate(self, password: str, user: Any = None) -> None:
        needed = security_policy().min_classes
        if character_classes(password) < needed:
            raise ValidationError(
                _("密码须包含大写字母、小写字母、数字、符号中的至少 %(n)d 类") % {"n": needed},
                code="password_classes",
            )

    def get_help_text(self) -> str:
        return _("包含大写字母、小写字母、数字、符号中的至少 %(n)d 类") % {"n": security_policy().min_classes}


class PolicyCommonPasswordValidator(CommonPasswordValidator):
    """Django's list of 20,000 common passwords, switched by the policy."""

    def validate(self, password: str, user: Any = None) -> None:
        if security_policy().reject_common:
            try:
                super().validate(password, user)
            except ValidationError:
                raise ValidationError(_("这个密码太常见，容易被猜到"), code="password_too_common") from None

    def get_help_text(self) -> str:
        return _("不能是常见弱密码")


class PasswordHistoryValidator:
    """Refuses the current password and the previous ones (the policy's ``history_count`` in all), and
    records every new password's hash (``password_changed``, called by ``User.save`` after
    ``set_password``)."""

    def validate(self, password: str, user: Any = None) -> None:
        count = security_policy().history_count
        if user is None or user.pk is None or count == 0:
            return
        hashes = list(
            PasswordHistory.objects.filter(user_id=user.pk)
            .order_by("-created_at", "-id")
            .values_list("password", flat=True)[:count]
        )
        stored = User.objects.filter(pk=user.pk).values_list("password", flat=True).first()
        if stored and stored not in hashes:
            hashes.insert(0, stored)
        if any(check_password(password, h) for h in hashes[:count]):
            raise ValidationError(_("不能使用最近 %(n)d 次用过的密码") % {"n": count}, code="password_reused")

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None or not user.password:
            return
        PasswordHistory.objects.create(user_id=user.pk, password=user.password, created_at=timezone.now())
        stale = (
            PasswordHistory.objects.filter(user_id=user.pk)
            .order_by("-created_at", "-id")
            .values_list("pk", flat=True)[PASSWORD_HISTORY_KEEP:]
        )
        stale_ids = list(stale)
        if stale_ids:
            PasswordHistory.objects.filter(pk__in=stale_ids).delete()

    def get_help_text(self) -> str:
        return _("不能与最近 %(n)d 次用过的密码相同") % {"n": security_policy().history_count}


def password_expires_at(user: User, policy: SecurityPolicy | None = None) -> dt.datetime | None:
    policy = policy or security_policy()
    if not policy.max_age_days or user.password_changed_at is None or not user.has_usable_password():
        return None
    return user.password_changed_at + dt.timedelta(days=policy.max_age_days)


def password_expired(user: User, policy: SecurityPolicy | None = None) -> bool:
    expires = password_expires_at(user, policy)
    return expires is not None and expires <= timezone.now()


# --- lockout ---------------------------------------------------------------------------------------


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()[:150]


def _lock_end(
    times: list[dt.datetime], threshold: int, window: dt.timedelta, lock: dt.timedelta
) -> dt.datetime | None:
    """The end of the latest lock: ``threshold`` failures within ``window`` lock for ``lock`` from the
    last of them. ``times`` ascending."""
    end = None
    for j in range(threshold - 1, len(times)):
        if times[j] - times[j - threshold + 1] <= window:
            end = times[j] + lock
    return end


def locked_until(*, username: str, ip: str | None) -> dt.datetime | None:
    """When the lock on this account or this source address ends (None: not locked)."""
    policy = security_policy()
    now = timezone.now()
    window = dt.timedelta(minutes=policy.lockout_window_minutes)
    lock = dt.timedelta(minutes=policy.lockout_minutes)
    since = now - window - lock
    failures = LoginAttempt.objects.filter(success=False, blocked=False, attempted_at__gte=since)
    ends: list[dt.datetime] = []
    name = normalise_username(username)
    if name:
        last_ok = LoginAttempt.objects.filter(username=name, success=True, attempted_at__gte=since).aggregate(
            t=Max("attempted_at")
        )["t"]
        mine = failures.filter(username=name)
        if last_ok is not None:
            mine = mine.filter(attempted_at__gt=last_ok)
        times = list(mine.order_by("attempted_at").values_list("attempted_at", flat=True)[:1000])
        end = _lock_end(times, policy.lockout_threshold, window, lock)
        if end is not None:
            ends.append(end)
    if ip:
        times = list(
            failures.filter(ip=ip).order_by("attempted_at").values_list("attempted_at", flat=True)[:5000]
        )
        end = _lock_end(times, policy.ip_lockout_threshold, window, lock)
        if end is not None:
            ends.append(end)
    latest = max(ends, default=None)
    return latest if latest is not None and latest > now else None


def record_attempt(
    *,
    username: str,
    ip: str | None,
    success: bool,
    kind: str = LoginAttempt.Kind.PASSWORD,
    blocked: bool = False,
) -> None:
    LoginAttempt.objects.create(
        username=normalise_username(username),
        ip=ip,
        success=success,
        kind=kind,
        blocked=blocked,
        attempted_at=timezone.now(),
    )
    if secrets.randbelow(PRUNE_ONE_IN) == 0:
        prune_login_attempts()


def prune_login_attempts(*, keep_days: int = LOGIN_ATTEMPT_KEEP_DAYS) -> int:
    """Forget attempts older than ``keep_days`` (the lockout looks back 45 minutes by default, at most two
    days; the audit trail keeps the login history). Called now and then by ``record_attempt``."""
    return LoginAttempt.objects.filter(
        attempted_at__lt=timezone.now() - dt.timedelta(days=keep_days)
    ).delete()[0]


@dataclass(frozen=True)
class PasswordCheck:
    user: User | None
    reason: str = ""  # for the audit trail only, never shown: "locked", "credentials"


def check_password_step(
    *, request: HttpRequest, username: str, password: str, kind: str = LoginAttempt.Kind.PASSWORD
) -> PasswordCheck:
    """The first step of a login: refuse at once while the account or address is locked, then verify
    the password. Failures are counted and audited; the caller shows ``GENERIC_LOGIN_ERROR``."""
    ip = client_ip(request)
    action = "auth.token_failed" if kind == LoginAttempt.Kind.TOKEN else "auth.login_failed"
    if locked_until(username=username, ip=ip) is not None:
        record_attempt(username=username, ip=ip, success=False, kind=kind, blocked=True)
        audit_record(
            actor=None,
            action=action,
            outcome=Outcome.FAILURE,
            actor_username=username[:150],
            changes={"reason": "locked"},
        )
        return PasswordCheck(None, "locked")
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        record_attempt(username=username, ip=ip, success=False, kind=kind)
        audit_record(
            actor=None,
            action=action,
            outcome=Outcome.FAILURE,
            actor_username=username[:150],
            changes={"reason": "credentials"},
        )
        return PasswordCheck(None, "credentials")
    return PasswordCheck(user)


def second_factor_failed(
    *, request: HttpRequest, user: User, kind: str = LoginAttempt.Kind.OTP, reason: str = "otp"
) -> None:
    record_attempt(username=user.username, ip=client_ip(request), success=False, kind=kind)
    action = "auth.token_failed" if kind == LoginAttempt.Kind.TOKEN else "auth.login_failed"
    audit_record(
        actor=None,
        action=action,
        outcome=Outcome.FAILURE,
        actor_username=user.username,
        changes={"reason": reason},
    )


# --- TOTP and recovery codes ----------------------------------------------------------------------


def totp_required(user: User, policy: SecurityPolicy | None = None) -> bool:
    """The user must sign in with TOTP: the three administrators and every role that may reveal sensitive
    fields always (``roles.TOTP_MANDATORY_ROLES``), other roles when the security policy adds them."""
    if user.role in TOTP_MANDATORY_ROLES:
        return True
    policy = policy or security_policy()
    return user.role in set(policy.totp_required_roles or [])


def totp_device(user: User) -> TotpDevice | None:
    """The user's confirmed device."""
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def totp_secret(device: TotpDevice) -> str:
    return str(device.secret)


def _current_step() -> int:
    return int(timezone.now().timestamp()) // TOTP_PERIOD


def totp_code(secret: str, step: int | None = None) -> str:
    """The code for a time step (the current one by default)."""
    import pyotp

    step = _current_step() if step is None else step
    return str(pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD).at(step * TOTP_PERIOD))


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "") if not ch.isspace() and ch != "-").lower()


def totp_verify(device: TotpDevice, code: str) -> bool:
    """Accepts the code of the current 30-second step or a neighbouring one (clock drift), once: the
    accepted step is stored and older or equal steps are refused (no replay)."""
    code = _normalise_code(code)
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return False
    secret = totp_secret(device)
    current = _current_step()
    for step in (current - 1, current, current + 1):
        if step <= device.last_used_step:
            continue
        if hmac.compare_digest(totp_code(secret, step), code):
            # the conditional update makes two concurrent uses of one code accept only one
            used = TotpDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(
                last_used_step=step
            )
            if used:
                device.last_used_step = step
                return True
            return False
    return False


def totp_provisioning_uri(user: User, secret: str) -> str:
    import pyotp

    issuer = getattr(settings, "PINGAN_DISTRICT_NAME", "") or TOTP_ISSUER
    return str(
        pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD).provisioning_uri(
            name=user.username, issuer_name=issuer
        )
    )


def qr_svg_data_uri(text: str) -> str:
    """The QR code of ``text`` as an SVG data URI, drawn on the server (no external service)."""
    import base64

    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    svg = svg.replace("<svg ", '<svg style="background:#fff" ', 1) if "<svg " in svg else svg
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def totp_enrolment_start(*, user: User) -> tuple[TotpDevice, str]:
    """A pending device with a fresh secret (an unconfirmed one younger than 10 minutes is reused, so
    reloading the page keeps the QR code the user may already have scanned)."""
    import pyotp

    pending = TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    if pending is not None and pending.created_at > timezone.now() - dt.timedelta(minutes=10):
        return pending, totp_secret(pending)
    if pending is not None:
        pending.delete()
    secret = pyotp.random_base32()
    device = TotpDevice.objects.create(user=user, secret=secret, created_at=timezone.now())
    return device, secret


def _recovery_hash(user: User, code: str) -> str:
    return crypto.blind_index(_normalise_code(code), purpose=f"recovery_code:{user.pk}")


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def _issue_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    now = timezone.now()
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, code_hash=_recovery_hash(user, c), created_at=now) for c in codes]
    )
    return codes


@transaction.atomic
def totp_enrolment_confirm(*, user: User, code: str) -> list[str]:
    """Confirm the pending device with a code from the authenticator; it replaces any earlier device.
    Returns 10 new recovery codes (shown once; only their keyed hashes are stored)."""
    pending = TotpDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=True).first()
    if pending is None:
        raise ValidationError({"code": _("绑定已过期，请重新扫描二维码")})
    if not totp_verify(pending, code):
        raise ValidationError({"code": _("验证码不正确，请核对手机上的时间后重试")})
    replaced = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).delete()[0] > 0
    pending.confirmed_at = timezone.now()
    pending.save(update_fields=["confirmed_at"])
    codes = _issue_recovery_codes(user)
    audit_record(
        actor=user,
        action="auth.totp_enrol",
        obj=user,
        changes={"replaced": replaced},
        actor_username=user.username,
    )
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user: User) -> list[str]:
    if totp_device(user) is None:
        raise ValidationError(_("尚未绑定动态口令"))
    codes = _issue_recovery_codes(user)
    audit_record(actor=user, action="auth.recovery_codes_regenerate", obj=user)
    return codes


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def recovery_code_use(user: User, code: str) -> bool:
    code = _normalise_code(code)
    if len(code) != RECOVERY_CODE_LENGTH:
        return False
    return bool(
        RecoveryCode.objects.filter(
            user=user, code_hash=_recovery_hash(user, code), used_at__isnull=True
        ).update(used_at=timezone.now())
    )


def second_factor_verify(user: User, code: str, *, allow_recovery: bool = True) -> str | None:
    """ "totp" or "recovery_code" when the code is right, else None."""
    device = totp_device(user)
    if device is None:
        return None
    digits = _normalise_code(code)
    if len(digits) == TOTP_DIGITS and digits.isdigit():
        return "totp" if totp_verify(device, digits) else None
    if allow_recovery and recovery_code_use(user, code):
        return "recovery_code"
    return None


@transaction.atomic
def totp_disable(*, user: User) -> None:
    """A user whose role does not require TOTP may switch it off (after confirming the password)."""
    if totp_required(user):
        raise ValidationError(_("您的岗位必须使用动态口令，不能停用"))
    deleted = TotpDevice.objects.filter(user=user).delete()[0]
    RecoveryCode.objects.filter(user=user).delete()
    if deleted:
        audit_record(actor=user, action="auth.totp_disable", obj=user)


@transaction.atomic
def totp_reset(*, actor: Any, username: str) -> User:
    """The security administrator removes a user's authenticator (lost phone and recovery codes): the
    user enrols again at the next login. The user's sessions end."""
    if not actor.has_perm("accounts.manage_security_policy"):
        raise PermissionDenied
    user = User.objects.filter(username=normalise_username(username)).first()
    if user is None:
        raise ValidationError({"username": _("没有这个用户")})
    deleted = TotpDevice.objects.filter(user=user).delete()[0]
    RecoveryCode.objects.filter(user=user).delete()
    ended = end_user_sessions(user)
    audit_record(
        actor=actor, action="security.totp_reset", obj=user, changes={"devices": deleted, "sessions": ended}
    )
    return user


# --- sessions --------------------------------------------------------------------------------------


def end_user_sessions(user: User, *, keep_session_key: str | None = None) -> int:
    """End the user's browser sessions (all but ``keep_session_key``); returns how many were live."""
    rows = UserSession.objects.filter(user=user)
    if keep_session_key:
        rows = rows.exclude(session_key=keep_session_key)
    keys = list(rows.values_list("session_key", flat=True))
    if not keys:
        return 0
    sessions = Session.objects.filter(session_key__in=keys)
    live = sessions.filter(expire_date__gt=timezone.now()).count()
    sessions.delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    return live


@transaction.atomic
def sessions_end_others(*, user: User, current_key: str | None) -> int:
    """The user ends their own sessions elsewhere (the 账号安全 page)."""
    ended = end_user_sessions(user, keep_session_key=current_key)
    audit_record(actor=user, action="auth.sessions_end_others", obj=user, changes={"sessions": ended})
    return ended


def user_sessions_active(user: User) -> list[UserSession]:
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return list(UserSession.objects.filter(user=user, session_key__in=live).order_by("-last_seen_at"))


def session_started(request: HttpRequest, user: User) -> None:
    """At every login (``user_logged_in``; Django has already given the session a new key)."""
    session = getattr(request, "session", None)
    if session is None:
        return
    if session.session_key is None:
        session.save()
    now = timezone.now()
    session[LOGIN_AT_KEY] = now.timestamp()
    session[LAST_ACTIVITY_KEY] = now.timestamp()
    session[SEEN_SAVED_KEY] = now.timestamp()
    try:
        live = Session.objects.filter(expire_date__gt=now).values("session_key")
        UserSession.objects.filter(user=user).exclude(session_key__in=live).delete()
        UserSession.objects.update_or_create(
            session_key=session.session_key,
            defaults={
                "user": user,
                "created_at": now,
                "last_seen_at": now,
                "ip": client_ip(request),
                "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            },
        )
    except DatabaseError:  # pragma: no cover — before migrate
        return


def session_ended(session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def session_rekeyed(old_key: str | None, new_key: str | None) -> None:
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)


def session_seen(request: HttpRequest, now: float) -> None:
    """Refresh ``UserSession.last_seen_at`` at most once a minute."""
    session = request.session
    if now - float(session.get(SEEN_SAVED_KEY, 0)) >= 60 and session.session_key:
        session[SEEN_SAVED_KEY] = now
        UserSession.objects.filter(session_key=session.session_key).update(last_seen_at=timezone.now())


def revoke_tokens(user: User) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def password_change(
    *,
    user: User,
    old_password: str,
    new_password: str,
    request: HttpRequest | None = None,
    keep_session_key: str | None = None,
) -> int:
    """The user changes their own password. Every other session of the user ends and the API tokens are
    revoked; the caller gives the current session a fresh key (``update_session_auth_hash``). Returns the
    number of other sessions ended. A wrong current password counts as a failed login and is audited."""
    ip = client_ip(request) if request is not None else None
    if locked_until(username=user.username, ip=ip) is not None:
        raise ValidationError({"old_password": str(GENERIC_LOGIN_ERROR)})
    if not user.check_password(old_password):
        record_attempt(username=user.username, ip=ip, success=False)
        audit_record(
            actor=user,
            action="auth.password_change",
            obj=user,
            outcome=Outcome.FAILURE,
            changes={"reason": "old_password"},
        )
        raise ValidationError({"old_password": _("当前密码不正确")})
    return _password_change(
        user=user, old_password=old_password, new_password=new_password, keep_session_key=keep_session_key
    )


@transaction.atomic
def _password_change(
    *, user: User, old_password: str, new_password: str, keep_session_key: str | None
) -> int:
    if new_password == old_password:
        raise ValidationError({"new_password1": _("新密码不能与当前密码相同")})
    password_validation.validate_password(new_password, user)
    user.set_password(new_password)
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at"])
    ended = end_user_sessions(user, keep_session_key=keep_session_key)
    revoked = revoke_tokens(user)
    audit_record(
        actor=user,
        action="auth.password_change",
        obj=user,
        changes={"password": ["***", "***"], "sessions_ended": ended, "tokens_revoked": revoked},
    )
    return ended


# --- completing a login ----------------------------------------------------------------------------


def login_succeeded(
    *, request: HttpRequest, user: User, second_factor: str, kind: str = LoginAttempt.Kind.PASSWORD
) -> None:
    """Record a successful login (both factors): resets the account's failure count; audited."""
    record_attempt(username=user.username, ip=client_ip(request), success=True, kind=kind)
    if user.password_changed_at is None and user.has_usable_password():
        # an account from before password expiry was tracked: the 90 days start now
        user.password_changed_at = timezone.now()
        user.save(update_fields=["password_changed_at"])
    if kind != LoginAttempt.Kind.TOKEN:
        audit_record(actor=user, action="auth.login", changes={"second_factor": second_factor})
