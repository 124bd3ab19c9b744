"""Reads of the jurisdiction tree and departments, scoped to the user."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from pingan.accounts.selectors import user_scope
from pingan.areas.models import Area, Department, subtree_q
from pingan.core.prepared import prepared_cursor


@dataclass
class AreaFilter:
    level: str | None = None
    parent_id: int | None = None
    q: str | None = None
    within_code: str | None = None

    def apply(self, qs: QuerySet[Area]) -> QuerySet[Area]:
        if self.level:
            qs = qs.filter(level=self.level)
        if self.parent_id:
            qs = qs.filter(parent_id=self.parent_id)
        if self.within_code:
            qs = qs.filter(subtree_q(self.within_code))
        if self.q:
            qs = qs.filter(name__icontains=self.q.strip()) | qs.filter(code__startswith=self.q.strip())
        return qs


def _manages_all_areas(user: Any) -> bool:
    return bool(user.has_perm("areas.manage_areas"))


def area_list(*, user: Any, filters: AreaFilter | None = None) -> QuerySet[Area]:
    """Areas the user may see: their scope; the system administrator sees the whole tree
    (to maintain it) without gaining any business data."""
    qs = Area.objects.all().select_related("parent").order_by("code")
    if not _manages_all_areas(user):
        qs = qs.filter(user_scope(user).area_q())
    return (filters or AreaFilter()).apply(qs)


def places_in_scope(user: Any) -> QuerySet[Area]:
    """The active communities and grids the user may place people, houses, cases and schools in (their
    scope; every one for the command line's SYSTEM actor), by code."""
    qs = Area.objects.filter(level__in=("community", "grid"), active=True).order_by("code")
    if not getattr(user, "is_authenticated", False) and getattr(user, "is_admin_role", False):
        return qs  # SYSTEM (core.actors)
    scope = user_scope(user)
    return qs if scope.everything else qs.filter(pk__in=sorted(scope.area_ids))


def place_lookup(user: Any) -> tuple[dict[str, Area], dict[str, Area | None]]:
    """``places_in_scope`` for an importer: by code, and by name (None where two places share the name, so a
    row must give the code)."""
    by_code = {a.code: a for a in places_in_scope(user)}
    by_name: dict[str, Area | None] = {}
    for area in by_code.values():
        by_name[area.name] = None if area.name in by_name else area
    return by_code, by_name


def area_get(*, user: Any, area_id: int) -> Area:
    return get_object_or_404(area_list(user=user), pk=area_id)


def area_path(area: Area) -> list[Area]:
    """The node and its ancestors, root first (one query)."""
    ancestors = {a.code: a for a in Area.objects.filter(code__in=area.ancestor_codes)}
    return [ancestors[c] for c in area.ancestor_codes if c in ancestors] + [area]


# the columns area_with_ancestors reads for each node (the rest, boundaries first, stay unread)
_BRIEF_FIELDS = ("id", "code", "name", "level", "parent_id", "active")


@functools.cache
def _with_ancestors_sql(alias: str) -> str:
    ops = connections[alias].ops
    table = ops.quote_name(Area._meta.db_table)
    by_attname = {f.attname: str(f.column) for f in Area._meta.concrete_fields}
    columns = [ops.quote_name(by_attname[name]) for name in _BRIEF_FIELDS]
    parent = columns[_BRIEF_FIELDS.index("parent_id")]
    pk = columns[0]
    select = ", ".join(f"{node}.{column}" for node in ("a", "p", "g") for column in columns)
    return (
        f"SELECT {select} FROM {table} a "  # noqa: S608 — names from the model
        f"LEFT JOIN {table} p ON p.{pk} = a.{parent} LEFT JOIN {table} g ON g.{pk} = p.{parent} "
        f"WHERE a.{pk} = %s"
    )


def area_with_ancestors(area_id: int) -> Area | None:
    """The node with its parent and grandparent (a grid with its community and street), each with its
    id, code, name, level and active flag only: one statement, written once (read on every event report,
    where building it through the ORM cost more than running it)."""
    alias = router.db_for_read(Area)
    with prepared_cursor(alias) as cursor:
        cursor.execute(_with_ancestors_sql(alias), [area_id])
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(_BRIEF_FIELDS)
    nodes = [
        Area.from_db(alias, _BRIEF_FIELDS, row[i * width : (i + 1) * width])
        if row[i * width] is not None
        else None
        for i in range(3)
    ]
    for child, parent in ((nodes[0], nodes[1]), (nodes[1], nodes[2])):
        if child is not None and parent is not None:
            child.parent = parent
    return nodes[0]


def area_level_counts(*, user: Any) -> dict[str, int]:
    # order_by(): the default ordering by code would join the GROUP BY and count each row alone.
    rows = area_list(user=user).filter(active=True).order_by().values("level").annotate(n=Count("id"))
    return {row["level"]: row["n"] for row in rows}


def area_choices(*, user: Any, level: str | None = None) -> list[tuple[int, str]]:
    """Options for a form field: only areas inside the user's scope."""
    return [(a.pk, f"{a.code} {a.name}") for a in area_list(user=user, filters=AreaFilter(level=level))]


@dataclass
class DepartmentFilter:
    kind: str | None = None
    q: str | None = None

    def apply(self, qs: QuerySet[Department]) -> QuerySet[Department]:
        if self.kind:
            qs = qs.filter(kind=self.kind)
        if self.q:
            qs = qs.filter(name__icontains=self.q.strip())
        return qs


def department_list(*, user: Any, filters: DepartmentFilter | None = None) -> QuerySet[Department]:
    """Departments located in, or serving, an area of the user's scope (or the user's own). A
    department serving a node serves its whole subtree, so serving an ancestor of the scope counts."""
    qs = Department.objects.select_related("area").order_by("area__code", "name")
    if not user.has_perm("areas.manage_departments"):
        scope = user_scope(user)
        if scope.everything:
            pass
        else:
            ids = sorted(scope.area_ids)
            ancestors = sorted({root[:n] for root in scope.root_codes for n in (6, 9, 12) if n < len(root)})
            serving = Department.serves.through.objects.filter(
                Q(area_id__in=ids) | Q(area__code__in=ancestors)
            )
            qs = qs.filter(
                Q(area_id__in=ids)
                | Q(pk__in=serving.values("department_id"))
                | Q(pk__in=sorted(scope.department_ids))
            )
    return (filters or DepartmentFilter()).apply(qs)


def department_get(*, user: Any, department_id: int) -> Department:
    return get_object_or_404(department_list(user=user), pk=department_id)


def street_overview(*, user: Any) -> list[dict[str, Any]]:
    """Per street in scope: communities and grids (home-page chart)."""
    areas = list(area_list(user=user).filter(active=True).values("code", "name", "level"))
    streets: dict[str, dict[str, Any]] = {
        a["code"]: {"name": a["name"], "communities": 0, "grids": 0} for a in areas if a["level"] == "street"
    }
    for a in areas:
        street = streets.get(a["code"][:9])
        if street is None:
            continue
        if a["level"] == "community":
            street["communities"] += 1
        elif a["level"] == "grid":
            street["grids"] += 1
    return list(streets.values())


def area_figures(user: Any) -> list[Any]:
    from django.db.models import Sum
    from django.urls import reverse
    from django.utils.translation import gettext_lazy as _
    from django.utils.translation import pgettext_lazy

    from pingan.core.selectors import Figure

    if user.is_admin_role and not user.has_perm("areas.manage_areas"):
        return []
    counts = area_level_counts(user=user)
    population = (
        area_list(user=user).filter(level="community", active=True).aggregate(n=Sum("population"))["n"]
    )
    url = reverse("areas:tree")
    figures = [
        Figure(pgettext_lazy("figure", "街道"), counts.get("street", 0), url=f"{url}?level=street"),
        Figure(pgettext_lazy("figure", "社区"), counts.get("community", 0), url=f"{url}?level=community"),
        Figure(pgettext_lazy("figure", "网格"), counts.get("grid", 0), url=f"{url}?level=grid"),
        Figure(_("登记人口（社区合计）"), population or 0),
        Figure(_("职能部门"), department_list(user=user).count(), url=reverse("areas:departments")),
    ]
    return figures


def area_search(user: Any, q: str, limit: int) -> list[Any]:
    from django.urls import reverse

    from pingan.core.search import SearchHit

    hits = []
    for area in area_list(user=user, filters=AreaFilter(q=q))[:limit]:
        hits.append(
            SearchHit(
                kind=str(area.get_level_display()),
                title=area.name,
                detail=area.code,
                url=reverse("areas:detail", args=[area.pk]),
            )
        )
    return hits
