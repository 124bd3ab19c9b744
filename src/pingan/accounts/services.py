"""Account writes: users, memberships, API tokens. Atomic and audited."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.accounts.models import ApiToken, Membership, User, hash_token
from pingan.accounts.roles import ADMIN_ROLES, Role
from pingan.accounts.selectors import forget_scope
from pingan.areas.models import Area, Department
from pingan.audit.services import audit_record, diff_fields
from pingan.core.text import contains_markup, normalize_text

USER_FIELDS = ("username", "full_name", "role", "is_active")


def _require(actor: Any, perm: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied


def _clean_user(data: dict[str, Any], existing: User | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    username = normalize_text(str(data.get("username", existing.username if existing else ""))).lower()
    if not username or not username.isascii() or not all(c.isalnum() or c in "._-" for c in username):
        errors["username"] = _("用户名只能使用字母、数字和 . _ -")
    elif User.objects.filter(username=username).exclude(pk=existing.pk if existing else 0).exists():
        errors["username"] = _("用户名 %(u)s 已被使用") % {"u": username}
    full_name = normalize_text(str(data.get("full_name", existing.full_name if existing else "")))
    if len(full_name) > 40 or contains_markup(full_name):
        errors["full_name"] = _("姓名不能超过 40 个字符，且不能含有 < > 等标记字符")
    role = data.get("role", existing.role if existing else "")
    if role not in Role.values:
        errors["role"] = _("请选择岗位")
    if errors:
        raise ValidationError(errors)
    return {
        "username": username,
        "full_name": full_name,
        "role": role,
        "is_active": bool(data.get("is_active", existing.is_active if existing else True)),
    }


def _validate_memberships(role: str, areas: list[Area], departments: list[Department]) -> None:
    if role in ADMIN_ROLES:
        if areas or departments:
            raise ValidationError({"areas": _("三员（系统、安全、审计管理员）不绑定辖区或部门")})
        return
    if not areas and not departments:
        raise ValidationError({"areas": _("业务用户至少要绑定一个辖区或部门")})


@transaction.atomic
def user_save(
    *,
    actor: Any,
    data: dict[str, Any],
    user_id: int | None = None,
    areas: list[Area] | None = None,
    departments: list[Department] | None = None,
    password: str | None = None,
) -> User:
    """Create or update an account and its memberships. ``actor`` None means a command run by the
    operator on the server (createadmin, demo), which is audited as such."""
    _require(actor, "accounts.manage_users")
    existing = User.objects.select_for_update().get(pk=user_id) if user_id else None
    cleaned = _clean_user(data, existing)
    before = {f: getattr(existing, f) for f in USER_FIELDS} if existing else {}
    user = existing or User()
    for key, value in cleaned.items():
        setattr(user, key, value)
    if password is not None:
        password_validation.validate_password(password, user)
        user.set_password(password)
        user.password_changed_at = timezone.now()
    elif existing is None:
        user.set_unusable_password()
    user.save()
    changes = diff_fields(before, {f: getattr(user, f) for f in USER_FIELDS})
    if areas is not None or departments is not None:
        new_areas = areas if areas is not None else [m.area for m in user.memberships.all() if m.area]
        new_departments = (
            departments
            if departments is not None
            else [m.department for m in user.memberships.all() if m.department]
        )
        _validate_memberships(user.role, new_areas, new_departments)
        old = sorted(str(m) for m in user.memberships.all())
        user.memberships.all().delete()
        Membership.objects.bulk_create(
            [Membership(user=user, area=a) for a in new_areas]
            + [Membership(user=user, department=d) for d in new_departments]
        )
        changes["memberships"] = [old, sorted(str(m) for m in user.memberships.all())]
    if password is not None:
        changes["password"] = ["***", "***"]
    if existing is not None and (password is not None or not user.is_active):
        _end_sessions(user)
    forget_scope(user)
    audit_record(
        actor=actor,
        action="user.update" if existing else "user.create",
        obj=user,
        changes=changes,
        actor_username=None if actor else "system",
    )
    return user


def _end_sessions(user: User) -> int:
    """End every browser session of the user (found through ``UserSession``, written at login, so the
    session table is not scanned) and revoke the API tokens."""
    from pingan.accounts.security import end_user_sessions, revoke_tokens

    ended = end_user_sessions(user)
    revoke_tokens(user)
    return ended


@transaction.atomic
def user_end_sessions(*, actor: Any, user_id: int) -> int:
    _require(actor, "accounts.manage_users")
    user = User.objects.get(pk=user_id)
    ended = _end_sessions(user)
    audit_record(actor=actor, action="user.end_sessions", obj=user, changes={"sessions": ended})
    return ended


@transaction.atomic
def token_issue(*, user: User) -> tuple[str, ApiToken]:
    """A new bearer token; the clear key is returned once and never stored."""
    key = "pa_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        key_hash=hash_token(key),
        expires_at=timezone.now() + dt.timedelta(seconds=settings.API_TOKEN_LIFETIME_SECONDS),
    )
    audit_record(actor=user, action="auth.token_issue", obj=token)
    return key, token


def token_user(key: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(key), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    return token.user


@transaction.atomic
def token_revoke(*, user: User, key: str) -> bool:
    updated = ApiToken.objects.filter(user=user, key_hash=hash_token(key), revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if updated:
        audit_record(actor=user, action="auth.token_revoke")
    return bool(updated)
