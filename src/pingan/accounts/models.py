from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pingan.accounts.roles import ADMIN_ROLES, TOTP_MANDATORY_ROLES, Role
from pingan.core.fields import EncryptedTextField
from pingan.core.models import TimeStamped


class User(AbstractUser):
    full_name = models.CharField(_("姓名"), max_length=40, blank=True)
    role = models.CharField(_("岗位"), max_length=30, choices=Role.choices)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]
        constraints = [models.CheckConstraint(condition=~Q(role=""), name="user_role_not_blank")]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def is_admin_role(self) -> bool:
        return self.role in ADMIN_ROLES

    def get_role_display_safe(self) -> str:
        return str(Role(self.role).label) if self.role in Role.values else self.role


class Membership(TimeStamped):
    """Binds a user to an area node (and its subtree) and/or a department."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("辖区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "areas.Department",
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
    )

    class Meta:
        verbose_name = _("任职")
        verbose_name_plural = _("任职")
        constraints = [
            models.CheckConstraint(
                condition=Q(area__isnull=False) | Q(department__isnull=False),
                name="membership_area_or_department",
            ),
            models.UniqueConstraint(
                fields=["user", "area"], condition=Q(department__isnull=True), name="membership_unique_area"
            ),
            models.UniqueConstraint(
                fields=["user", "department"],
                condition=Q(area__isnull=True),
                name="membership_unique_department",
            ),
            models.UniqueConstraint(
                fields=["user", "area", "department"],
                condition=Q(area__isnull=False, department__isnull=False),
                name="membership_unique_both",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.area or ''}{self.department or ''}"


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the API. Only the SHA-256 of the key is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        indexes = [models.Index(fields=["user", "expires_at"], name="apitoken_user_expiry")]

    def __str__(self) -> str:
        return f"token #{self.pk} ({self.user_id})"

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


# --- login security (MLPS level 3, GB/T 22239-2019 §8.1.4.1) ----------------------------------------

# The policy's default: exactly the roles that always need a second factor (the three administrators and
# every role that may reveal sensitive fields, ``roles.TOTP_MANDATORY_ROLES``); the policy may add others.
DEFAULT_TOTP_REQUIRED_ROLES = sorted(role.value for role in TOTP_MANDATORY_ROLES)


def default_totp_required_roles() -> list[str]:
    return list(DEFAULT_TOTP_REQUIRED_ROLES)


class SecurityPolicy(models.Model):
    """The login and session policy: one row (pk=1), edited only by the security administrator through
    ``accounts.security.security_policy_update``. Defaults follow MLPS level 3."""

    SINGLETON_PK = 1

    min_length = models.PositiveSmallIntegerField(_("密码最小长度"), default=8)
    min_classes = models.PositiveSmallIntegerField(
        _("至少包含的字符种类"), default=3, help_text=_("大写字母、小写字母、数字、符号四类中至少几类")
    )
    reject_common = models.BooleanField(_("禁止常见弱密码"), default=True)
    history_count = models.PositiveSmallIntegerField(
        _("不得与最近几次密码相同"), default=5, help_text=_("0 表示不检查")
    )
    max_age_days = models.PositiveSmallIntegerField(
        _("密码有效期（天）"), default=90, help_text=_("到期后登录须先修改密码；0 表示永不过期")
    )
    lockout_threshold = models.PositiveSmallIntegerField(_("账号锁定：连续失败次数"), default=5)
    ip_lockout_threshold = models.PositiveSmallIntegerField(
        _("来源地址锁定：失败次数"),
        default=5,
        help_text=_("同一来源地址在统计时段内失败达到此数即锁定该地址；多人共用出口地址时可适当调高"),
    )
    lockout_window_minutes = models.PositiveSmallIntegerField(_("失败次数统计时段（分钟）"), default=15)
    lockout_minutes = models.PositiveSmallIntegerField(_("锁定时长（分钟）"), default=30)
    idle_timeout_minutes = models.PositiveSmallIntegerField(_("会话空闲超时（分钟）"), default=30)
    session_lifetime_hours = models.PositiveSmallIntegerField(_("会话最长时限（小时）"), default=12)
    totp_required_roles = models.JSONField(
        _("必须使用动态口令的岗位"), default=default_totp_required_roles, blank=True
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    updated_by = models.ForeignKey(
        User, verbose_name=_("更新人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("安全策略")
        verbose_name_plural = _("安全策略")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="securitypolicy_singleton"),
            models.CheckConstraint(
                condition=Q(min_length__gte=8, min_length__lte=64), name="policy_min_length"
            ),
            models.CheckConstraint(
                condition=Q(min_classes__gte=1, min_classes__lte=4), name="policy_min_classes"
            ),
            models.CheckConstraint(condition=Q(history_count__lte=24), name="policy_history_count"),
            models.CheckConstraint(condition=Q(max_age_days__lte=365), name="policy_max_age_days"),
            models.CheckConstraint(
                condition=Q(lockout_threshold__gte=3, lockout_threshold__lte=20),
                name="policy_lockout_threshold",
            ),
            models.CheckConstraint(
                condition=Q(ip_lockout_threshold__gte=3, ip_lockout_threshold__lte=1000),
                name="policy_ip_lockout_threshold",
            ),
            models.CheckConstraint(
                condition=Q(lockout_window_minutes__gte=1, lockout_window_minutes__lte=1440),
                name="policy_lockout_window",
            ),
            models.CheckConstraint(
                condition=Q(lockout_minutes__gte=1, lockout_minutes__lte=1440), name="policy_lockout_minutes"
            ),
            models.CheckConstraint(
                condition=Q(idle_timeout_minutes__gte=1, idle_timeout_minutes__lte=120),
                name="policy_idle_timeout",
            ),
            models.CheckConstraint(
                condition=Q(session_lifetime_hours__gte=1, session_lifetime_hours__lte=24),
                name="policy_session_lifetime",
            ),
        ]

    def __str__(self) -> str:
        return str(_("安全策略"))

    @property
    def idle_seconds(self) -> int:
        return int(self.idle_timeout_minutes) * 60

    @property
    def lifetime_seconds(self) -> int:
        return int(self.session_lifetime_hours) * 3600


class PasswordHistory(models.Model):
    """The hashes of a user's recent passwords (written on every password change)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=256)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("历史密码")
        verbose_name_plural = _("历史密码")
        indexes = [models.Index(fields=["user", "-created_at"], name="pwhistory_user_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.created_at:%Y-%m-%d}"


class LoginAttempt(models.Model):
    """One login attempt, kept in the database so that every server process sees the same lockouts."""

    class Kind(models.TextChoices):
        PASSWORD = "password", _("密码")
        OTP = "otp", _("动态口令")
        TOKEN = "token", _("接口令牌")

    username = models.CharField(max_length=150)
    ip = models.GenericIPAddressField(null=True, blank=True)
    attempted_at = models.DateTimeField(default=timezone.now)
    success = models.BooleanField(default=False)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PASSWORD)
    # refused without checking the credentials because the account or address was locked;
    # such rows do not extend the lock.
    blocked = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("登录尝试")
        verbose_name_plural = _("登录尝试")
        indexes = [
            models.Index(fields=["username", "attempted_at"], name="loginattempt_user_time"),
            models.Index(fields=["ip", "attempted_at"], name="loginattempt_ip_time"),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.ip or ''} {'ok' if self.success else 'failed'}"


class TotpDevice(models.Model):
    """A TOTP authenticator (RFC 6238, 30 s, 6 digits). The base32 secret is stored SM4-GCM encrypted
    (``core.fields.EncryptedTextField``, so ``pingan keys rotate`` re-encrypts it with the other personal
    data). A device is pending until the user confirms it with a code."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="totp_devices")
    secret = EncryptedTextField(_("密钥"))
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # the last accepted time step: a code is accepted once (no replay)
    last_used_step = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("动态口令设备")
        verbose_name_plural = _("动态口令设备")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(confirmed_at__isnull=False), name="totpdevice_one_confirmed"
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(confirmed_at__isnull=True), name="totpdevice_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"TOTP {self.user_id} ({'confirmed' if self.confirmed else 'pending'})"

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(models.Model):
    """A one-time recovery code. Only a keyed HMAC-SM3 of the code is stored (the key lives outside
    the database, ``core.crypto``)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("恢复码")
        verbose_name_plural = _("恢复码")
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"], name="recoverycode_unique")]

    def __str__(self) -> str:
        return f"recovery code #{self.pk} ({self.user_id})"


class UserSession(models.Model):
    """A signed-in browser session, written at login: ending a user's sessions needs no scan of the
    session table, and users see where they are signed in."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="user_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("登录会话")
        verbose_name_plural = _("登录会话")
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["user", "-last_seen_at"], name="usersession_user_seen")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.ip or ''} {self.created_at:%Y-%m-%d %H:%M}"
