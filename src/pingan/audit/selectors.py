"""Reads of the audit trail: the audit administrator only (三员分立). Everyone else gets 404."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.audit.models import AuditEvent, Kind, Outcome


def may_read_audit(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm("audit.view_events"))


def _require(user: Any) -> None:
    if not may_read_audit(user):
        raise Http404


def format_time(value: dt.datetime | None) -> str:
    """Local time with its offset: ``2026-11-28 14:37:05 +08:00`` (stored in UTC)."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return local.strftime("%Y-%m-%d %H:%M:%S ") + local.isoformat()[-6:]


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@dataclass
class EventFilter:
    """Filters of the audit screen, the API and the export. ``action`` ending in ``.`` or ``*`` is a
    prefix (``area.`` = every area action); ``area`` is a code and matches its whole subtree; ``since`` and
    ``until`` are local dates, both inclusive."""

    user: str = ""
    action: str = ""
    kind: str = ""
    object_type: str = ""
    object_id: str = ""
    subject_id: str = ""
    area: str = ""
    outcome: str = ""
    since: dt.date | None = None
    until: dt.date | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> EventFilter:
        """From query parameters; unusable values are dropped rather than failing the page."""

        def text(name: str, length: int) -> str:
            value = params.get(name)
            return str(value).strip()[:length] if value not in (None, "") else ""

        def day(name: str) -> dt.date | None:
            value = params.get(name)
            if isinstance(value, dt.date):
                return value
            try:
                return dt.date.fromisoformat(str(value).strip()) if value else None
            except ValueError:
                return None

        kind, outcome = text("kind", 10), text("outcome", 10)
        area = text("area", 15)
        return cls(
            user=text("user", 150).lower(),
            action=text("action", 61),
            kind=kind if kind in Kind.values else "",
            object_type=text("object_type", 60).lower(),
            object_id=text("object_id", 60),
            subject_id=text("subject_id", 60),
            area=area if area.isdigit() else "",
            outcome=outcome if outcome in Outcome.values else "",
            since=day("since"),
            until=day("until"),
        )

    def apply(self, qs: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        if self.user:
            qs = qs.filter(actor_username=self.user)
        if self.action:
            if self.action.endswith(("*", ".")):
                qs = qs.filter(action__startswith=self.action.rstrip("*"))
            else:
                qs = qs.filter(action=self.action)
        if self.kind:
            qs = qs.filter(kind=self.kind)
        if self.object_type:
            qs = qs.filter(object_type=self.object_type)
        if self.object_id:
            qs = qs.filter(object_id=self.object_id)
        if self.subject_id:
            qs = qs.filter(subject_id=self.subject_id)
        if self.area:
            # the node and its subtree: codes are materialised paths (see areas.models.subtree_q)
            qs = qs.filter(Q(area_code__gte=self.area) & Q(area_code__lt=self.area + ":"))
        if self.outcome:
            qs = qs.filter(outcome=self.outcome)
        if self.since:
            qs = qs.filter(occurred_at__gte=_local_midnight(self.since))
        if self.until:
            qs = qs.filter(occurred_at__lt=_local_midnight(self.until + dt.timedelta(days=1)))
        return qs

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in asdict(self).items() if v}

    def describe(self) -> str:
        labels = {
            "user": _("操作人"),
            "action": _("操作"),
            "kind": _("类别"),
            "object_type": _("对象类型"),
            "object_id": _("对象编号"),
            "subject_id": _("当事人编号"),
            "area": _("辖区代码"),
            "outcome": _("结果"),
            "since": _("起始日期"),
            "until": _("截止日期"),
        }
        shown = {"kind": dict(Kind.choices), "outcome": dict(Outcome.choices)}
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value:
                display = shown.get(f.name, {}).get(value, value)
                parts.append(f"{labels[f.name]}={display}")
        return "，".join(parts)


def event_list(*, user: Any, filters: EventFilter | None = None) -> QuerySet[AuditEvent]:
    """Events, newest first. Only the audit administrator; 404 for everyone else."""
    _require(user)
    return (filters or EventFilter()).apply(AuditEvent.objects.order_by("-seq"))


def event_get(*, user: Any, event_id: int) -> AuditEvent:
    _require(user)
    return get_object_or_404(AuditEvent.objects.all(), pk=event_id)


def change_rows(event: AuditEvent) -> list[dict[str, Any]]:
    """The changes as rows for display: ``{field, before, after, pair}``; a ``[before, after]`` pair shows
    in two columns, anything else as one value."""
    rows = []
    changes = event.changes if isinstance(event.changes, dict) else {"": event.changes}
    diffs = event.kind in (Kind.WRITE, Kind.POLICY)  # access, auth and export events hold plain values
    for key, value in changes.items():
        if diffs and isinstance(value, list) and len(value) == 2:
            rows.append({"field": key, "before": value[0], "after": value[1], "pair": True})
        else:
            rows.append({"field": key, "before": None, "after": value, "pair": False})
    return rows


def event_mac_valid(event: AuditEvent) -> bool:
    """Whether this one row still matches its MAC (the detail page; the chain needs ``audit verify``)."""
    from pingan.audit import chain

    fresh = AuditEvent.objects.filter(pk=event.pk).values_list(*chain.CHAIN_FIELDS, "row_hash").first()
    return bool(fresh) and chain.row_hash(fresh[:-1]) == fresh[-1]  # type: ignore[index]


def audit_figures(user: Any) -> list[Any]:
    """Home page of the audit administrator: events today, failed sign-ins today, sensitive accesses today."""
    from django.urls import reverse

    from pingan.core.selectors import Figure

    if not may_read_audit(user):
        return []
    today = timezone.localdate()
    since = _local_midnight(today)
    todays = AuditEvent.objects.filter(occurred_at__gte=since)
    url = reverse("audit:events")
    day = today.isoformat()
    return [
        Figure(_("今日审计事件"), todays.count(), url=f"{url}?since={day}"),
        Figure(
            _("今日登录失败"),
            todays.filter(kind=Kind.AUTH, outcome__in=[Outcome.FAILURE, Outcome.DENIED]).count(),
            url=f"{url}?since={day}&kind=auth&outcome=failure",
        ),
        Figure(
            _("今日敏感访问"), todays.filter(kind=Kind.ACCESS).count(), url=f"{url}?since={day}&kind=access"
        ),
    ]
