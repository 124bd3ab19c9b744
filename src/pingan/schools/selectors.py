"""Every read of the school registry, scoped to the user (the school's community or grid inside the user's
jurisdiction), and its figures: schools by street and how many meet each of the "4 个 100%"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from pingan.accounts.selectors import user_scope
from pingan.core.sections import SectionRegistry
from pingan.core.text import normalize_text
from pingan.schools.models import School

# Sections other modules add to the school page (events: the events linked to the school).
SCHOOL_SECTIONS = SectionRegistry()

# A measure of the "4 个 100%" not met: the list's filter ``missing=<measure>``
MISSING_Q = {
    "guards": Q(guards=0),
    "closed_campus": Q(closed_campus=False),
    "alarm_linked": Q(alarm_linked=False),
    "guard_post": Q(guard_post=False),
}


@dataclass(frozen=True)
class SchoolFilter:
    q: str = ""
    kind: str = ""
    area_id: int | None = None
    missing: str = ""  # a measure of MISSING_Q, or "any"
    active: str = "1"  # "1" in operation, "0" closed, "" all

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> SchoolFilter:
        area = str(params.get("area") or "")
        return cls(
            q=str(params.get("q") or "")[:60],
            kind=str(params.get("kind") or "") if params.get("kind") in School.Kind.values else "",
            area_id=int(area) if area.isdigit() and len(area) < 10 else None,
            missing=str(params.get("missing") or "") if params.get("missing") in {*MISSING_Q, "any"} else "",
            active=str(params["active"]) if params.get("active") in ("0", "1", "") else "1",
        )

    def as_params(self) -> dict[str, str]:
        values = {
            "q": self.q,
            "kind": self.kind,
            "area": str(self.area_id or ""),
            "missing": self.missing,
            "active": self.active,
        }
        return {k: v for k, v in values.items() if v or k == "active"}


def _may_view(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm("schools.view_schools"))


def school_list(*, user: Any, filters: SchoolFilter | None = None) -> QuerySet[School]:
    """The schools in the user's jurisdiction (none for a role that does not read the registry)."""
    from pingan.areas.models import within_area

    filters = filters or SchoolFilter(active="")
    qs = School.objects.select_related("area")
    if getattr(user, "is_authenticated", False) or not getattr(user, "is_admin_role", False):
        if not _may_view(user):  # (the command line's SYSTEM actor reads every school: core.actors)
            return School.objects.none()
        qs = user_scope(user).filter(qs, "area")
    q = normalize_text(filters.q)
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(address__contains=q) | Q(code__startswith=q))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.area_id:
        qs = within_area(qs, filters.area_id)
    if filters.missing == "any":
        qs = qs.filter(Q(guards=0) | Q(closed_campus=False) | Q(alarm_linked=False) | Q(guard_post=False))
    elif filters.missing:
        qs = qs.filter(MISSING_Q[filters.missing])
    if filters.active in ("0", "1"):
        qs = qs.filter(active=filters.active == "1")
    return qs


def school_get(*, user: Any, school_id: int) -> School:
    """One school of the user's jurisdiction; 404 for one outside it (the same answer as a missing id)."""
    return get_object_or_404(school_list(user=user), pk=school_id)


def school_sections(*, user: Any, school: School) -> list[dict[str, Any]]:
    return SCHOOL_SECTIONS.shown(user, school)


def school_figures(*, user: Any, filters: SchoolFilter | None = None) -> dict[str, Any]:
    """Schools in operation by street (or by community for a street's user), with how many meet each measure
    of the "4 个 100%" and all four, and the totals. A district has hundreds of schools, not millions: the
    rows are counted in Python after one scoped query."""
    from pingan.areas.models import Area

    base = filters or SchoolFilter()
    schools = list(school_list(user=user, filters=SchoolFilter(kind=base.kind, area_id=base.area_id)))
    # group by the street, or by the community when every school lies in one street
    streets = {s.area.code[:9] for s in schools}
    width = 12 if len(streets) == 1 else 9
    names = dict(
        Area.objects.filter(code__in={s.area.code[:width] for s in schools}).values_list("code", "name")
    )
    rows: dict[str, dict[str, Any]] = {}
    total = _empty_row("")
    for school in schools:
        code = school.area.code[:width]
        row = rows.setdefault(code, _empty_row(names.get(code, code)))
        for target in (row, total):
            target["schools"] += 1
            target["students"] += school.students or 0
            for measure in School.MEASURES:
                target[measure] += int(school.measure_met(measure))
            target["all"] += int(school.meets_all)
    ordered = [rows[k] for k in sorted(rows)]
    for row in [*ordered, total]:
        row["rate"] = round(100 * row["all"] / row["schools"], 1) if row["schools"] else None
    return {"rows": ordered, "total": total, "by": "community" if width == 12 else "street"}


def _empty_row(name: str) -> dict[str, Any]:
    return {"name": name, "schools": 0, "students": 0, "all": 0, **dict.fromkeys(School.MEASURES, 0)}


def school_search(user: Any, q: str, limit: int) -> list[Any]:
    """The global search's schools (core.search): name, kind and address, the public facts of a school."""
    from django.urls import reverse

    from pingan.core.search import SearchHit

    return [
        SearchHit(
            kind=str(School._meta.verbose_name),
            title=s.name,
            detail=f"{s.get_kind_display()} · {s.address}",
            url=reverse("schools:detail", args=[s.pk]),
        )
        for s in school_list(user=user, filters=SchoolFilter(q=q, active=""))[:limit]
    ]


def school_home_figures(user: Any) -> list[Any]:
    """The home page's school figures: schools in operation, and how many meet all of the "4 个 100%"."""
    from django.urls import reverse
    from django.utils.translation import gettext_lazy as _

    from pingan.core.selectors import Figure

    if not _may_view(user):
        return []
    figures = school_figures(user=user)["total"]
    url = reverse("schools:list")
    rate = f"{figures['rate']}%" if figures["rate"] is not None else "—"
    return [
        Figure(_("在办学校"), figures["schools"], url=url),
        Figure(
            _("“4 个 100%”全部落实"),
            rate,
            hint=_("未全部落实 %(n)d 所") % {"n": figures["schools"] - figures["all"]},
            url=f"{url}?missing=any",
        ),
    ]
