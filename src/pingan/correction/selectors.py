"""Every read in community correction, scoped to the user (``scoped_visible``: the area subtree, sealed
records hidden), and the figures — each defined once here (docs/correction.md, "Figures").

Figures for an area subtree and a period [start, end] (dates inclusive), as of ``today``:

- 漏管率 (missing-supervision rate) = missed ÷ due. *Due*: clients whose reception deadline (judgment
  effective date + 10 days) falls in the period and has passed (deadline < today). *Missed*: among them,
  not reported by the deadline (no report date, or a report date after the deadline).
- 按时报告率 (on-time check-in rate) = on-time check-ins ÷ (check-ins made in the period + clients in
  correction whose check-in due date fell in the period and passed without one). A check-in is on time when
  made on or before the due date in force when it was made.
- 按时走访率 (on-time visit rate): the same with visits.
- 重新犯罪率 (re-offending rate) = clients with a re-offence dated in the period ÷ clients in correction
  at some time in the period (correction start ≤ end of period, and not terminated before the period
  began).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from pingan.areas.models import Area, subtree_q, within_area
from pingan.core.sensitive import scoped_visible
from pingan.correction.models import (
    CheckIn,
    ClientStatus,
    CorrectionClient,
    LeaveRequest,
    LeaveStatus,
    Reoffence,
    Visit,
)

ENDING_DAYS = 30
OPEN = (ClientStatus.PENDING, ClientStatus.ACTIVE)


def may_view(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm("correction.view_clients"))


def client_base(user: Any, reason: str | None = None) -> QuerySet[CorrectionClient]:
    """Clients the user may see (no filters): scope and sealed flag. The SYSTEM actor sees all."""
    if not getattr(user, "is_authenticated", False):
        return (
            CorrectionClient.objects.all()
            if getattr(user, "is_admin_role", False)
            else CorrectionClient.objects.none()
        )
    if not may_view(user):
        return CorrectionClient.objects.none()
    return scoped_visible(CorrectionClient.objects.all(), user, reason)


def missing_q(today: dt.date) -> Q:
    """Clients with an unresolved missing-supervision (漏管) alert on ``today``."""
    not_reported = Q(reported_on__isnull=True, status=ClientStatus.PENDING, reception_deadline__lt=today)
    late = Q(reported_on__isnull=False, reported_on__gt=models_F("reception_deadline"))
    return Q(missing_resolved_at__isnull=True) & (not_reported | late)


def models_F(name: str) -> Any:
    from django.db.models import F

    return F(name)


@dataclass
class ClientFilter:
    q: str = ""
    area_id: int | None = None
    category: str = ""
    status: str = ""  # "" = open (pending + active); "all"; a status
    due: str = ""  # missing | checkin_overdue | visit_overdue | ending
    person_id: int | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ClientFilter:
        def as_int(key: str) -> int | None:
            value = str(params.get(key) or "").strip()
            return int(value) if value.isdigit() and len(value) < 12 else None

        return cls(
            q=str(params.get("q") or "")[:60],
            area_id=as_int("area"),
            category=str(params.get("category") or "")[:4],
            status=str(params.get("status") or "")[:12],
            due=str(params.get("due") or "")[:20],
        )

    def apply(
        self, qs: QuerySet[CorrectionClient], today: dt.date | None = None
    ) -> QuerySet[CorrectionClient]:
        today = today or timezone.localdate()
        q = " ".join(self.q.split())
        if q:
            from pingan.people.selectors import person_search_q

            qs = qs.filter(
                Q(number__icontains=q)
                | Q(person__in=_person_ids(person_search_q(q)))
                | Q(offence__contains=q)
            )
        if self.area_id:
            qs = within_area(qs, self.area_id)
        if self.category:
            qs = qs.filter(category=self.category)
        if self.status == "all":
            pass
        elif self.status in ClientStatus.values:
            qs = qs.filter(status=self.status)
        else:
            qs = qs.filter(status__in=OPEN)
        if self.due == "missing":
            qs = qs.filter(missing_q(today))
        elif self.due == "checkin_overdue":
            qs = qs.filter(status=ClientStatus.ACTIVE, next_checkin_due__lt=today)
        elif self.due == "visit_overdue":
            qs = qs.filter(status=ClientStatus.ACTIVE, next_visit_due__lt=today)
        elif self.due == "ending":
            qs = qs.filter(
                status=ClientStatus.ACTIVE,
                end_date__gte=today,
                end_date__lte=today + dt.timedelta(days=ENDING_DAYS),
            )
        if self.person_id:
            qs = qs.filter(person_id=self.person_id)
        return qs


def _person_ids(cond: Q) -> Any:
    from pingan.people.models import Person

    return Person._base_manager.filter(cond).values("pk")


def client_list(
    *, user: Any, filters: ClientFilter | None = None, reason: str | None = None, today: dt.date | None = None
) -> QuerySet[CorrectionClient]:
    qs = client_base(user, reason).select_related("person", "area")
    return (filters or ClientFilter()).apply(qs, today)


def client_get(
    *, user: Any, client_id: int, audit: bool = True, reason: str | None = None
) -> CorrectionClient:
    """One client (404 when missing or outside the user's sight). Opening a client is an audited access."""
    client = get_object_or_404(client_base(user, reason).select_related("person", "area"), pk=client_id)
    if audit:
        from django.db import transaction

        from pingan.audit.services import audit_access

        with transaction.atomic():
            audit_access(actor=user, obj=client, purpose="view")
    return client


def missing_list(*, user: Any, today: dt.date | None = None) -> QuerySet[CorrectionClient]:
    today = today or timezone.localdate()
    return (
        client_base(user)
        .filter(missing_q(today))
        .select_related("person", "area")
        .order_by("reception_deadline", "pk")
    )


def leave_base(user: Any) -> QuerySet[LeaveRequest]:
    return LeaveRequest.objects.filter(client__in=client_base(user).values("pk"))


def leave_list(*, user: Any, status: str = LeaveStatus.PENDING) -> QuerySet[LeaveRequest]:
    qs = leave_base(user).select_related("client", "client__person", "client__area")
    if status in LeaveStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("start", "pk")


def leave_get(*, user: Any, leave_id: int) -> LeaveRequest:
    return get_object_or_404(
        leave_base(user).select_related("client", "client__person", "client__area"), pk=leave_id
    )


def client_records(client: CorrectionClient) -> dict[str, Any]:
    """Everything kept on one client (the caller has already obtained ``client`` through a selector)."""
    return {
        "group": list(client.group_members.all()),
        "plans": list(client.plans.all()[:20]),
        "checkins": list(client.checkins.all()[:100]),
        "visits": list(client.visits.all()[:100]),
        "leaves": list(client.leaves.all()[:100]),
        "sanctions": list(client.sanctions.all()),
        "rewards": list(client.rewards.all()),
        "hours": list(client.service_hours.all()[:200]),
        "reoffences": list(client.reoffences.all()),
        "hours_total": {
            row["kind"]: row["total"]
            for row in client.service_hours.order_by().values("kind").annotate(total=models_sum("hours"))
        },
    }


def models_sum(name: str) -> Any:
    from django.db.models import Sum

    return Sum(name)


# --- figures ----------------------------------------------------------------------------------------------


def figure_base(user: Any) -> QuerySet[CorrectionClient]:
    """Clients counted in the user's figures: those in scope (sealed ones only with the grant), for every
    role allowed to see figures (leaders included, who never see a client)."""
    if getattr(user, "is_authenticated", False) and user.has_perm("correction.view_figures"):
        return scoped_visible(CorrectionClient.objects.all(), user)
    if not getattr(user, "is_authenticated", False) and getattr(user, "is_admin_role", False):
        return CorrectionClient.objects.all()
    return CorrectionClient.objects.none()


def _rate(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.1"))


@dataclass
class Figures:
    start: dt.date
    end: dt.date
    in_correction: int = 0  # in correction at some time in the period
    open_at_end: int = 0  # pending or active at the end of the period (as known today)
    received: int = 0  # reported in the period
    terminated: dict[str, int] = field(default_factory=dict)
    reception_due: int = 0
    reception_missed: int = 0
    checkins_made: int = 0
    checkins_on_time: int = 0
    checkins_missed: int = 0
    visits_made: int = 0
    visits_on_time: int = 0
    visits_missed: int = 0
    reoffenders: int = 0

    @property
    def terminated_total(self) -> int:
        return sum(self.terminated.values())

    @property
    def missing_rate(self) -> Decimal | None:
        return _rate(self.reception_missed, self.reception_due)

    @property
    def checkin_on_time_rate(self) -> Decimal | None:
        return _rate(self.checkins_on_time, self.checkins_made + self.checkins_missed)

    @property
    def visit_on_time_rate(self) -> Decimal | None:
        return _rate(self.visits_on_time, self.visits_made + self.visits_missed)

    @property
    def reoffending_rate(self) -> Decimal | None:
        return _rate(self.reoffenders, self.in_correction)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "in_correction": self.in_correction,
            "open_at_end": self.open_at_end,
            "received": self.received,
            "terminated": self.terminated,
            "reception_due": self.reception_due,
            "reception_missed": self.reception_missed,
            "missing_rate": self.missing_rate,
            "checkins_made": self.checkins_made,
            "checkins_on_time": self.checkins_on_time,
            "checkins_missed": self.checkins_missed,
            "checkin_on_time_rate": self.checkin_on_time_rate,
            "visits_made": self.visits_made,
            "visits_on_time": self.visits_on_time,
            "visits_missed": self.visits_missed,
            "visit_on_time_rate": self.visit_on_time_rate,
            "reoffenders": self.reoffenders,
            "reoffending_rate": self.reoffending_rate,
        }


def correction_figures(
    *,
    user: Any,
    start: dt.date,
    end: dt.date,
    area: Area | None = None,
    today: dt.date | None = None,
) -> Figures:
    """The figures (module docstring) for the user's scope, narrowed to ``area``'s subtree."""
    today = today or timezone.localdate()
    clients = figure_base(user)
    if area is not None:
        clients = clients.filter(area__in=Area.objects.filter(subtree_q(area.code)))
    ids = clients.values("pk")
    out = Figures(start=start, end=end)
    during = clients.filter(start_date__lte=end).exclude(termination_date__lt=start)
    out.in_correction = during.count()
    out.open_at_end = clients.filter(
        Q(status__in=OPEN) | Q(termination_date__gt=end), judgment_effective_date__lte=end
    ).count()
    out.received = clients.filter(reported_on__gte=start, reported_on__lte=end).count()
    out.terminated = {
        row["termination"]: row["n"]
        for row in clients.filter(termination_date__gte=start, termination_date__lte=end)
        .order_by()
        .values("termination")
        .annotate(n=Count("pk"))
    }
    due = clients.filter(
        reception_deadline__gte=start, reception_deadline__lte=end, reception_deadline__lt=today
    )
    out.reception_due = due.count()
    out.reception_missed = due.filter(
        Q(reported_on__isnull=True) | Q(reported_on__gt=models_F("reception_deadline"))
    ).count()
    last = min(end, today - dt.timedelta(days=1))
    for model, prefix, due_field in (
        (CheckIn, "checkins", "next_checkin_due"),
        (Visit, "visits", "next_visit_due"),
    ):
        made = model.objects.filter(client__in=ids, date__gte=start, date__lte=end)
        counts = made.order_by().aggregate(n=Count("pk"), on_time=Count("pk", filter=Q(on_time=True)))
        missed = clients.filter(
            status=ClientStatus.ACTIVE, **{f"{due_field}__gte": start, f"{due_field}__lte": last}
        ).count()
        setattr(out, f"{prefix}_made", counts["n"])
        setattr(out, f"{prefix}_on_time", counts["on_time"])
        setattr(out, f"{prefix}_missed", missed)
    out.reoffenders = (
        Reoffence.objects.filter(client__in=during.values("pk"), date__gte=start, date__lte=end)
        .values("client_id")
        .distinct()
        .count()
    )
    return out


def period_bounds(year: int, half: int | None) -> tuple[dt.date, dt.date]:
    """(start, end) of a half year (1, 2) or of the year (None)."""
    if half == 1:
        return dt.date(year, 1, 1), dt.date(year, 6, 30)
    if half == 2:
        return dt.date(year, 7, 1), dt.date(year, 12, 31)
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def statistics_rows(
    *, user: Any, start: dt.date, end: dt.date, today: dt.date | None = None
) -> list[tuple[Area | None, Figures]]:
    """The statistical table: one row per node one level below the user's scope roots that hold clients
    (streets for the district, communities for a street), then the total."""
    from pingan.accounts.selectors import user_scope

    if not (getattr(user, "is_authenticated", False) and user.has_perm("correction.view_figures")):
        return []
    scope = user_scope(user)
    roots = list(Area.objects.filter(code__in=scope.root_codes).order_by("code"))
    if scope.everything and not roots:
        roots = list(Area.objects.filter(parent__isnull=True).order_by("code"))
    nodes: list[Area] = []
    for root in roots:
        children = (
            list(root.children.filter(active=True).order_by("code"))
            if root.level in ("district", "street")
            else []
        )
        nodes.extend(children or [root])
    rows: list[tuple[Area | None, Figures]] = [
        (node, correction_figures(user=user, start=start, end=end, area=node, today=today)) for node in nodes
    ]
    rows.append((None, correction_figures(user=user, start=start, end=end, today=today)))
    return rows


def home_figures(user: Any) -> list[Any]:
    from django.urls import reverse
    from django.utils.translation import gettext_lazy as _

    from pingan.core.selectors import Figure

    if not (getattr(user, "is_authenticated", False) and user.has_perm("correction.view_figures")):
        return []
    today = timezone.localdate()
    base = figure_base(user)
    counts = base.order_by().aggregate(
        open=Count("pk", filter=Q(status__in=OPEN)), missing=Count("pk", filter=missing_q(today))
    )
    url = reverse("correction:list") if may_view(user) else ""
    return [
        Figure(_("社区矫正对象"), counts["open"], url=url),
        Figure(_("漏管预警"), counts["missing"], url=reverse("correction:alerts") if url else ""),
    ]


def person_tab_context(user: Any, person: Any) -> dict[str, Any] | None:
    """The correction tab of the person page: the person's records the user may see (none → no tab)."""
    if not may_view(user):
        return None
    clients = list(client_list(user=user, filters=ClientFilter(status="all", person_id=person.pk)))
    if not clients:
        return None
    return {"clients": clients}


def correction_search(user: Any, q: str, limit: int) -> list[Any]:
    """Global search: clients the user may see (sealed ones hidden), masked name, correction number."""
    from django.urls import reverse

    from pingan.core.masking import mask_name
    from pingan.core.search import SearchHit

    if not may_view(user) or not q.strip():
        return []
    return [
        SearchHit(
            kind="社区矫正",
            title=f"{c.number} {mask_name(c.person.name)}",
            detail=f"{c.get_status_display()} · {c.area.name}",
            url=reverse("correction:detail", args=[c.pk]),
        )
        for c in client_list(user=user, filters=ClientFilter(q=q, status="all"))[:limit]
    ]


def raise_404() -> None:
    raise Http404
