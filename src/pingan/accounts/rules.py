"""Predicates shared by every app's rules.py: roles and "object inside the user's scope"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import rules
from rules.permissions import permissions as rule_set

from pingan.accounts.roles import ADMIN_ROLES, READ_ONLY_ROLES, Role
from pingan.accounts.selectors import user_scope


def has_role(*roles: Role) -> rules.Predicate:
    allowed = frozenset(roles)

    @rules.predicate(name=f"has_role({','.join(sorted(allowed))})")
    def predicate(user: Any) -> bool:
        return bool(getattr(user, "is_authenticated", False) and user.is_active and user.role in allowed)

    return predicate


@rules.predicate
def is_business_user(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.role not in ADMIN_ROLES)


@rules.predicate
def is_read_only(user: Any) -> bool:
    return bool(getattr(user, "role", None) in READ_ONLY_ROLES)


@rules.predicate
def in_scope(user: Any, obj: Any) -> bool:
    """The object (with an ``area_id``, or an Area itself) lies inside the user's scope."""
    if obj is None:
        return False
    from pingan.areas.models import Area

    if isinstance(obj, Area):
        return user_scope(user).contains_area(obj)
    return user_scope(user).contains_area_id(getattr(obj, "area_id", None))


def perm_checker(user: Any, obj: Any) -> Callable[[str], bool]:
    """``user.has_perm(perm, obj)`` for several permissions on one object, each rule tested once: permissions
    given the same rule share its answer (the centre's accept, dispatch, escalate, supervise, link and merge
    of an event are all ``events.rules.centre``). Sound because rules' backend is the only one with object
    permissions (settings.AUTHENTICATION_BACKENDS: Django's ModelBackend says no to any object) and
    ``has_perm``'s own checks (active, superuser) are the same for every permission. An event's page and its
    API answer ask about nine permissions: one or two rules."""
    answers: dict[Any, bool] = {}

    def may(perm: str) -> bool:
        rule = rule_set.get(perm, perm)
        if rule not in answers:
            answers[rule] = user.has_perm(perm, obj)
        return answers[rule]

    return may


is_system_admin = has_role(Role.SYSTEM_ADMIN)
is_security_admin = has_role(Role.SECURITY_ADMIN)
is_audit_admin = has_role(Role.AUDIT_ADMIN)
may_write_business = is_business_user & ~is_read_only

rules.add_perm("accounts.manage_users", is_system_admin)
rules.add_perm("accounts.view_user_list", is_system_admin | is_business_user)
rules.add_perm("accounts.manage_security_policy", is_security_admin)
