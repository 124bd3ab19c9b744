"""Which rows a user may see. Every selector in every app starts from ``user_scope(user)``."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, reduce
from operator import or_
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Model, Q, QuerySet

from pingan.accounts.models import Membership, User
from pingan.accounts.roles import ADMIN_ROLES
from pingan.areas.models import Area, subtree_q

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

M = TypeVar("M", bound=Model)

_CACHE_ATTR = "_pingan_scope"


@dataclass(frozen=True)
class Scope:
    """The set of area nodes a user acts in: the union of the subtrees of their memberships'
    areas and of the areas their departments serve, narrowed by the scope switcher."""

    everything: bool = False
    root_codes: tuple[str, ...] = ()
    department_ids: frozenset[int] = field(default_factory=frozenset)

    @cached_property
    def area_ids(self) -> frozenset[int]:
        """The ids of every area in the subtrees of ``root_codes`` (read when first asked for: a request
        that only checks an area it holds never reads them)."""
        if self.everything or not self.root_codes:
            return frozenset()
        subtrees = reduce(or_, (subtree_q(code) for code in self.root_codes))
        return frozenset(Area.objects.filter(subtrees).values_list("id", flat=True))

    def contains_area(self, area: Area) -> bool:
        """The area lies in the scope: the same answer as ``contains_area_id(area.pk)``, from its code."""
        if area.pk is None:
            return False
        return self.everything or any(root <= area.code < root + ":" for root in self.root_codes)

    @property
    def is_empty(self) -> bool:
        return not self.everything and not self.area_ids

    def filter(self, queryset: QuerySet[M], area_field: str = "area") -> QuerySet[M]:
        """Rows whose ``area_field`` lies inside the scope."""
        if self.everything:
            return queryset
        if not self.area_ids:
            return queryset.none()
        return queryset.filter(**{f"{area_field}_id__in": sorted(self.area_ids)})

    def contains_area_id(self, area_id: int | None) -> bool:
        if area_id is None:
            return False
        return self.everything or area_id in self.area_ids

    def area_q(self, code_field: str = "code") -> Q:
        if self.everything:
            return Q()
        if not self.root_codes:
            return Q(pk__in=[])
        return reduce(or_, (subtree_q(code, code_field) for code in self.root_codes))


NO_SCOPE = Scope()


def _minimal_roots(codes: set[str]) -> tuple[str, ...]:
    roots: list[str] = []
    for code in sorted(codes, key=lambda c: (len(c), c)):
        if not any(code.startswith(root) for root in roots):
            roots.append(code)
    return tuple(sorted(roots))


def _compute_scope(user: User) -> Scope:
    if user.role in ADMIN_ROLES or not user.is_active:
        return NO_SCOPE
    memberships = list(Membership.objects.filter(user=user).select_related("area"))
    areas = {(m.area.code, m.area.parent_id) for m in memberships if m.area is not None and m.area.active}
    department_ids = frozenset(m.department_id for m in memberships if m.department_id is not None)
    if department_ids:
        areas |= set(
            Area.objects.filter(served_by__in=department_ids, active=True).values_list("code", "parent_id")
        )
    codes = {code for code, _parent in areas}
    top = {code for code, parent in areas if parent is None}  # top-level areas among them
    roots = _minimal_roots(codes)
    focus_code: str | None = getattr(user, "focus_area_code", None)
    if focus_code and any(focus_code.startswith(root) for root in roots):
        roots = (focus_code,)
    if not roots:
        return Scope(department_ids=department_ids)
    # everything: the roots cover every top-level area (only possible when one of them is top-level)
    all_roots = (
        set(Area.objects.filter(parent__isnull=True).values_list("code", flat=True))
        if top & set(roots)
        else set()
    )
    if all_roots and all_roots.issubset(roots):
        return Scope(everything=True, root_codes=roots, department_ids=department_ids)
    return Scope(root_codes=roots, department_ids=department_ids)


def user_scope(user: User | AnonymousUser | Any) -> Scope:
    """The user's scope, computed once per user object (i.e. once per request)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NO_SCOPE
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = _compute_scope(user)  # type: ignore[arg-type]
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_scope(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def membership_areas(user: User) -> QuerySet[Area]:
    """The area nodes a user is bound to (for the scope switcher), ordered by code."""
    return Area.objects.filter(pk__in=Membership.objects.filter(user=user).values("area_id")).order_by("code")


def user_list(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet[User]:
    """Users visible to ``user``: the system admin sees every account; business users see the
    accounts bound to areas inside their scope, never the three administrators' (bound to none: a
    district-wide scope listed them too); other administrators see none."""
    from pingan.accounts.roles import Role

    qs = User.objects.all().order_by("username")
    if user.role == Role.SYSTEM_ADMIN:
        pass
    else:
        scope = user_scope(user)
        if scope.is_empty:
            return qs.none()
        qs = qs.exclude(role__in=ADMIN_ROLES)
        if not scope.everything:
            qs = qs.filter(memberships__area_id__in=sorted(scope.area_ids)).distinct()
    filters = filters or {}
    if role := filters.get("role"):
        qs = qs.filter(role=role)
    if q := filters.get("q"):
        qs = qs.filter(Q(username__icontains=q) | Q(full_name__icontains=q))
    return qs


def scope_switch_options(user: Any) -> list[Area]:
    """Nodes a user may narrow their view to: their own nodes and one level below each."""
    if not getattr(user, "is_authenticated", False) or user.role in ADMIN_ROLES:
        return []
    # code and name are all the switcher shows (not the boundaries: this runs on every page)
    own = list(membership_areas(user).only("id", "code", "name"))
    children = (
        list(Area.objects.filter(parent__in=own, active=True).only("id", "code", "name").order_by("code"))
        if own
        else []
    )
    seen: dict[str, Area] = {}
    for area in own + children:
        seen.setdefault(area.code, area)
    return sorted(seen.values(), key=lambda a: a.code)


def user_get(*, user: User, user_id: int) -> User:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(user_list(user=user), pk=user_id)


@dataclass(frozen=True)
class StaffAt:
    """The active users with one of ``roles`` bound exactly to the area ``area_id`` (a street's centre
    staff). Iterating reads them; ``id_select`` gives the statement that selects their ids, for
    ``notifications.services.notify`` to write their notifications with one INSERT … SELECT. That statement
    is written out rather than built by the ORM (an event report notifies its centre, and building the
    query cost more than the rest of its notifications); ``queryset`` and ``id_select`` state the same rule,
    and tests/accounts/test_staff_at.py holds them to it."""

    area_id: int
    roles: tuple[str, ...]

    def queryset(self) -> QuerySet[User]:
        return User.objects.filter(is_active=True, role__in=self.roles, memberships__area_id=self.area_id)

    def __iter__(self) -> Iterator[User]:
        return iter(self.queryset().distinct())

    def id_select(self, alias: str, *, exclude: int | None = None) -> tuple[str, list[Any]]:
        """(sql, params) selecting the distinct ids (one column), without ``exclude``."""
        sql = _staff_at_sql(alias, len(self.roles), exclude is not None)
        params: list[Any] = [*(str(role) for role in self.roles), self.area_id]
        return sql, [*params, exclude] if exclude is not None else params


@functools.cache
def _staff_at_sql(alias: str, roles: int, excluding: bool) -> str:
    from django.db import connections

    quote = connections[alias].ops.quote_name
    user, membership = User._meta, Membership._meta

    def column(meta: Any, name: str) -> str:
        return quote(meta.get_field(name).column)

    placeholders = ", ".join(["%s"] * roles)
    return (
        f"SELECT DISTINCT u.{column(user, 'id')} FROM {quote(user.db_table)} u "  # noqa: S608 — names from the models
        f"JOIN {quote(membership.db_table)} m ON m.{column(membership, 'user')} = u.{column(user, 'id')} "
        f"WHERE u.{column(user, 'is_active')} AND u.{column(user, 'role')} IN ({placeholders}) "
        f"AND m.{column(membership, 'area')} = %s"
        + (f" AND u.{column(user, 'id')} <> %s" if excluding else "")
    )
