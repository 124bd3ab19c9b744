from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pingan.accounts.roles import ADMIN_ROLES, Role
from pingan.core.models import TimeStamped


class User(AbstractUser):
    full_name = models.CharField(_("姓名"), max_length=40, blank=True)
    role = models.CharField(_("岗位"), max_length=30, choices=Role.choices)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)

    objects = UserManager()

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
        "areas.Area", verbose_name=_("辖区"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
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
                condition=Q(area__isnull=False) | Q(department__isnull=False), name="membership_area_or_department"
            ),
            models.UniqueConstraint(
                fields=["user", "area"], condition=Q(department__isnull=True), name="membership_unique_area"
            ),
            models.UniqueConstraint(
                fields=["user", "department"], condition=Q(area__isnull=True), name="membership_unique_department"
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

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
