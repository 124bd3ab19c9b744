"""Every read of released-person cases, scoped to the user (``scoped_visible``: the scope, and sealed
cases hidden unless the sealed grant and a reason are given). The figures are defined here, once
(docs/aftercare.md, "Figures"); pages, the API, the statistical tables and the home page use them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from pingan.aftercare.models import (
    OPEN_STATUSES,
    RESETTLED,
    AftercareCase,
    Aid,
    AidKind,
    CaseStatus,
    GroupMember,
    HandoverStatus,
    Reoffence,
    Visit,
)
from pingan.areas.models import Area, subtree_q, within_area
from pingan.core.sensitive import scoped_visible


def visit_due_days() -> int:
    """A visit is "due" this many days before its date (list filter, reminders)."""
    return int(getattr(settings, "PINGAN_AFTERCARE_VISIT_DUE_DAYS", 7))


def ending_days() -> int:
    """An assistance period is "ending" this many days before its end."""
    return int(getattr(settings, "PINGAN_AFTERCARE_ENDING_DAYS", 30))


def may_view_cases(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm("aftercare.view_cases"))


def _is_system(user: Any) -> bool:
    return not getattr(user, "is_authenticated", False) and getattr(user, "is_admin_role", False)


def _visible(user: Any, reason: str | None = None) -> QuerySet[AftercareCase]:
    if _is_system(user):
        return AftercareCase.objects.all()
    return scoped_visible(AftercareCase.objects.all(), user, reason)


def latest_visit() -> Subquery:
    return Subquery(
        Visit.objects.filter(case=OuterRef("pk")).order_by("-visited_on", "-pk").values("visited_on")[:1]
    )


def next_visit() -> Subquery:
    """The next visit date of the case's latest visit (None: never visited, or no date set)."""
    return Subquery(
        Visit.objects.filter(case=OuterRef("pk")).order_by("-visited_on", "-pk").values("next_visit_on")[:1]
    )


DUE_FILTERS = {
    "visit_due": "走访将到期",
    "visit_overdue": "走访已逾期",
    "handover_overdue": "释放后未衔接",
    "handover_pending": "待衔接",
    "ending": "帮教期将满",
    "unresettled": "未安置",
}


@dataclass
class CaseFilter:
    q: str = ""
    area_id: int | None = None
    status: str = ""  # "" = open cases; "all"; or a status
    due: str = ""  # a key of DUE_FILTERS
    key_person: bool = False
    risk: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> CaseFilter:
        area = str(params.get("area") or "").strip()
        return cls(
            q=str(params.get("q") or "")[:60],
            area_id=int(area) if area.isdigit() and len(area) < 19 else None,
            status=str(params.get("status") or "")[:12],
            due=str(params.get("due") or "")[:20],
            key_person=str(params.get("key_person") or "") in ("1", "true", "on"),
            risk=str(params.get("risk") or "")[:10],
        )

    def apply(self, qs: QuerySet[AftercareCase], today: dt.date | None = None) -> QuerySet[AftercareCase]:
        today = today or timezone.localdate()
        if self.q.strip():
            from pingan.people.models import Person
            from pingan.people.selectors import person_search_q

            qs = qs.filter(person__in=Person.objects.filter(person_search_q(self.q)).values("pk"))
        if self.area_id:
            qs = within_area(qs, self.area_id)
        if self.status == "all":
            pass
        elif self.status in CaseStatus.values:
            qs = qs.filter(status=self.status)
        else:
            qs = qs.filter(status__in=OPEN_STATUSES)
        if self.key_person:
            qs = qs.filter(is_key_person=True)
        if self.risk:
            qs = qs.filter(risk_level=self.risk)
        if self.due == "visit_due":
            qs = qs.annotate(_next=next_visit()).filter(
                status=CaseStatus.ASSISTING,
                _next__gte=today,
                _next__lte=today + dt.timedelta(visit_due_days()),
            )
        elif self.due == "visit_overdue":
            qs = qs.annotate(_next=next_visit()).filter(status=CaseStatus.ASSISTING, _next__lt=today)
        elif self.due == "handover_overdue":
            qs = qs.exclude(handover__status=HandoverStatus.RECEIVED).filter(
                handover__expected_release_date__lt=today
            )
        elif self.due == "handover_pending":
            qs = qs.exclude(handover__status=HandoverStatus.RECEIVED)
        elif self.due == "ending":
            qs = qs.filter(
                status=CaseStatus.ASSISTING,
                assistance_end__gte=today,
                assistance_end__lte=today + dt.timedelta(ending_days()),
            )
        elif self.due == "unresettled":
            qs = qs.filter(status=CaseStatus.ASSISTING).exclude(resettlement__in=RESETTLED)
        return qs


def case_list(
    *, user: Any, filters: CaseFilter | None = None, reason: str | None = None
) -> QuerySet[AftercareCase]:
    """Cases in the user's scope (sealed ones only with the sealed grant and a reason)."""
    if not _is_system(user) and not may_view_cases(user):
        return AftercareCase.objects.none()
    qs = _visible(user, reason).select_related("person", "area", "handover")
    return (filters or CaseFilter()).apply(qs).annotate(next_visit_on=next_visit())


def case_get(*, user: Any, case_id: int, audit: bool = True, reason: str | None = None) -> AftercareCase:
    """One case (404 when missing or outside the user's sight). Opening it is an access event."""
    if not _is_system(user) and not may_view_cases(user):
        from django.http import Http404

        raise Http404
    case = get_object_or_404(_visible(user, reason).select_related("person", "area", "handover"), pk=case_id)
    if audit and not _is_system(user):
        from django.db import transaction

        from pingan.audit.services import audit_access

        with transaction.atomic():
            audit_access(actor=user, obj=case, purpose="view")
    return case


def cases_of_person(*, user: Any, person: Any) -> QuerySet[AftercareCase]:
    """The person page's tab: that person's cases the user may see."""
    return case_list(user=user, filters=CaseFilter(status="all")).filter(person=person)


def case_timeline(case: AftercareCase) -> list[dict[str, Any]]:
    """The case history, newest first: release, hand-over, resettlement, visits, help, re-offences."""
    items: list[dict[str, Any]] = [
        {"date": case.release_date, "kind": "释放", "text": case.prison or ""},
    ]
    handover = getattr(case, "handover", None)
    if handover is not None and handover.received_on:
        items.append({"date": handover.received_on, "kind": "衔接", "text": "已接收"})
    if handover is not None and handover.not_received_on:
        items.append(
            {
                "date": handover.not_received_on,
                "kind": "衔接",
                "text": "未接收：" + handover.not_received_reason,
            }
        )
    if case.resettled_on:
        items.append({"date": case.resettled_on, "kind": "安置", "text": case.get_resettlement_display()})
    for v in case.visits.all()[:200]:
        items.append({"date": v.visited_on, "kind": "走访", "text": f"{v.visitors}：{v.content[:60]}"})
    for a in case.aid.all()[:200]:
        amount = f" {a.amount} 元" if a.amount else ""
        items.append(
            {"date": a.disbursed_on, "kind": "帮扶", "text": f"{a.get_kind_display()}{amount} {a.items}"}
        )
    for r in case.reoffences.all():
        from pingan.core.codes import code_label

        items.append({"date": r.offence_date, "kind": "重新犯罪", "text": code_label("offence", r.offence)})
    return sorted(items, key=lambda i: i["date"], reverse=True)


def member_list(*, case: AftercareCase) -> QuerySet[GroupMember]:
    return case.members.all()


def visit_list(*, case: AftercareCase) -> QuerySet[Visit]:
    return case.visits.all()


def aid_list(*, case: AftercareCase) -> QuerySet[Aid]:
    return case.aid.all()


def reoffence_list(*, case: AftercareCase) -> QuerySet[Reoffence]:
    return case.reoffences.all()


# --- figures --------------------------------------------------------------------------------------


def may_view_figures(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm("aftercare.view_figures"))


def _rate(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.1"))


@dataclass
class Figures:
    """The figures of one area and period. Each rate is numerator / denominator × 100 (one decimal),
    None when the denominator is 0. Definitions: docs/aftercare.md, "Figures"."""

    start: dt.date
    end: dt.date
    area: Area | None = None
    released: int = 0  # 衔接率 denominator: released in the period
    received: int = 0  # … numerator: of those, received by the community
    population: int = 0  # 应帮教: received, released by the end, assistance period overlapping the period
    resettled: int = 0
    assisted: int = 0
    reoffended: int = 0
    visits_due: int = 0
    visits_on_time: int = 0
    grants: int = 0
    grant_amount: Decimal = Decimal("0.00")
    necessities: int = 0
    rates: dict[str, Decimal | None] = field(default_factory=dict)

    def compute_rates(self) -> None:
        self.rates = {
            "handover": _rate(self.received, self.released),
            "resettlement": _rate(self.resettled, self.population),
            "assistance": _rate(self.assisted, self.population),
            "reoffending": _rate(self.reoffended, self.population),
            "visit_on_time": _rate(self.visits_on_time, self.visits_due),
        }

    @property
    def handover_rate(self) -> Decimal | None:
        return self.rates.get("handover")

    @property
    def resettlement_rate(self) -> Decimal | None:
        return self.rates.get("resettlement")

    @property
    def assistance_rate(self) -> Decimal | None:
        return self.rates.get("assistance")

    @property
    def reoffending_rate(self) -> Decimal | None:
        return self.rates.get("reoffending")

    @property
    def visit_on_time_rate(self) -> Decimal | None:
        return self.rates.get("visit_on_time")


RATE_LABELS = {
    "handover": "衔接率",
    "resettlement": "安置率",
    "assistance": "帮教率",
    "reoffending": "重新犯罪率",
    "visit_on_time": "按时走访率",
}


def figure_base(*, user: Any, area: Area | None = None) -> QuerySet[AftercareCase]:
    """The cases the figures count: inside the user's scope (sealed cases never count), optionally
    inside ``area``'s subtree."""
    if not _is_system(user) and not may_view_figures(user):
        return AftercareCase.objects.none()
    qs = (
        AftercareCase.objects.filter(sealed=False)
        if _is_system(user)
        else scoped_visible(AftercareCase.objects.all(), user)
    )
    if area is not None:
        qs = qs.filter(area__in=Area.objects.filter(subtree_q(area.code)))
    return qs


def case_figures(
    *, user: Any, start: dt.date, end: dt.date, area: Area | None = None, today: dt.date | None = None
) -> Figures:
    """The figures of ``area`` (default: the user's whole scope) for the period [start, end]."""
    today = today or timezone.localdate()
    base = figure_base(user=user, area=area)
    out = Figures(start=start, end=end, area=area)
    released = base.filter(release_date__gte=start, release_date__lte=end)
    out.released = released.count()
    out.received = released.filter(handover__status=HandoverStatus.RECEIVED).count()
    population = base.filter(
        handover__status=HandoverStatus.RECEIVED, release_date__lte=end, assistance_end__gte=start
    )
    out.population = population.count()
    out.resettled = (
        population.filter(resettlement__in=RESETTLED)
        .filter(Q(resettled_on__isnull=True) | Q(resettled_on__lte=end))
        .count()
    )
    out.assisted = (
        population.filter(Exists(GroupMember.objects.filter(case=OuterRef("pk"), active=True)))
        .filter(Exists(Visit.objects.filter(case=OuterRef("pk"), visited_on__lte=end)))
        .count()
    )
    out.reoffended = population.filter(
        Exists(Reoffence.objects.filter(case=OuterRef("pk"), offence_date__gte=start, offence_date__lte=end))
    ).count()
    due_until = min(end, today)
    due = Visit.objects.filter(
        case__in=base.values("pk"), next_visit_on__gte=start, next_visit_on__lte=due_until
    )
    out.visits_due = due.count()
    out.visits_on_time = due.filter(
        Exists(
            Visit.objects.filter(
                case=OuterRef("case"),
                visited_on__gt=OuterRef("visited_on"),
                visited_on__lte=OuterRef("next_visit_on"),
            )
        )
    ).count()
    aid = Aid.objects.filter(case__in=base.values("pk"), disbursed_on__gte=start, disbursed_on__lte=end)
    totals = aid.aggregate(
        grants=Count("pk", filter=Q(kind=AidKind.HARDSHIP_GRANT)),
        amount=Sum("amount", filter=Q(kind=AidKind.HARDSHIP_GRANT)),
        necessities=Count("pk", filter=Q(kind=AidKind.NECESSITIES)),
    )
    out.grants = totals["grants"] or 0
    out.grant_amount = (totals["amount"] or Decimal("0")).quantize(Decimal("0.01"))
    out.necessities = totals["necessities"] or 0
    out.compute_rates()
    return out


def figure_rows(
    *, user: Any, start: dt.date, end: dt.date, parent: Area | None = None
) -> tuple[list[Figures], Figures]:
    """The statistical table: one row per child node of ``parent`` inside the user's scope (default: the
    top nodes of the scope), and the total row."""
    from pingan.accounts.selectors import user_scope

    if parent is None:
        children = figure_areas(user=user)
    else:
        children = list(Area.objects.filter(parent=parent, active=True).order_by("code"))
        if not _is_system(user):
            scope = user_scope(user)
            children = [a for a in children if scope.contains_area_id(a.pk)]
    rows = [case_figures(user=user, start=start, end=end, area=a) for a in children]
    total = case_figures(user=user, start=start, end=end, area=parent)
    return rows, total


def figure_areas(*, user: Any) -> list[Area]:
    """The default rows of the table: the children of the user's top scope node(s)."""
    from pingan.accounts.selectors import user_scope

    if _is_system(user):
        roots = list(Area.objects.filter(parent__isnull=True))
    else:
        scope = user_scope(user)
        if scope.everything:
            roots = list(Area.objects.filter(parent__isnull=True))
        else:
            roots = list(Area.objects.filter(code__in=scope.root_codes))
    out: list[Area] = []
    for root in roots:
        kids = list(Area.objects.filter(parent=root, active=True).order_by("code"))
        out.extend(kids or [root])
    return out


def period_bounds(year: int, part: str) -> tuple[dt.date, dt.date]:
    """``part``: "H1" (Jan–Jun), "H2" (Jul–Dec), or "Y" (the year)."""
    if part == "H1":
        return dt.date(year, 1, 1), dt.date(year, 6, 30)
    if part == "H2":
        return dt.date(year, 7, 1), dt.date(year, 12, 31)
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


# --- home figures and global search ---------------------------------------------------------------


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def aftercare_home_figures(user: Any) -> list[Any]:
    from django.utils.translation import gettext_lazy as _

    from pingan.core.selectors import Figure

    if not may_view_figures(user):
        return []
    base = figure_base(user=user)
    today = timezone.localdate()
    counts = base.aggregate(
        assisting=Count("pk", filter=Q(status=CaseStatus.ASSISTING)),
        overdue=Count(
            "pk",
            filter=~Q(handover__status=HandoverStatus.RECEIVED)
            & Q(handover__expected_release_date__lt=today),
        ),
    )
    url = _url("aftercare:list") if may_view_cases(user) else _url("aftercare:figures")
    return [
        Figure(_("在帮教刑释人员"), counts["assisting"], url=url),
        Figure(
            _("释放后未衔接"),
            counts["overdue"],
            url=f"{url}?due=handover_overdue" if may_view_cases(user) else url,
        ),
    ]


def aftercare_search(user: Any, q: str, limit: int) -> list[Any]:
    from pingan.core.masking import mask_name
    from pingan.core.search import SearchHit

    if not may_view_cases(user) or not q.strip():
        return []
    hits = []
    for c in case_list(user=user, filters=CaseFilter(q=q, status="all"))[:limit]:
        hits.append(
            SearchHit(
                kind="安置帮教",
                title=mask_name(c.person.name),
                detail=f"{c.release_date:%Y-%m-%d} 释放 · {c.area.name} · {c.get_status_display()}",
                url=_url("aftercare:detail", c.pk),
            )
        )
    return hits
