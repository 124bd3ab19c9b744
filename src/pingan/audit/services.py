"""Writing the audit trail. Every write service calls ``audit_record`` inside its transaction; every
view, reveal or export of a sensitive record calls ``audit_access`` (访问留痕)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.audit import chain
from pingan.audit.context import current_request_info
from pingan.audit.models import AuditEvent, Kind, Outcome
from pingan.core.masking import PUBLIC_FIELDS, mask_changes, mask_name

MIN_RETENTION_DAYS = 180
# Access purposes that need a stated reason (the reveal of a full value, a sealed record).
REASON_REQUIRED = frozenset({"reveal", "sealed"})
_PURPOSE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
# Django's ``Choices.values`` builds its list on every call; every audit row checks these two
_KINDS = frozenset(Kind.values)
_OUTCOMES = frozenset(Outcome.values)

P = ParamSpec("P")
R = TypeVar("R")
# The audit rows recorded inside an ``atomic_audited`` service, appended when it returns.
_pending: ContextVar[list[AuditEvent] | None] = ContextVar("pingan_audit_pending", default=None)


def atomic_audited(func: Callable[P, R]) -> Callable[P, R]:
    """``transaction.atomic`` for a service whose audit rows are appended to the chain when it returns,
    as the last statements of its transaction.

    The chain admits one writer at a time across the whole system (``chain.lock_chain``) and the lock is
    held until the commit: appended at once, a row would keep every other audited write waiting while the
    service goes on with its inserts, notifications and files. The rows are the same, in the order they
    were recorded (``occurred_at`` is taken under the lock, as always); if the service fails, none of its
    rows is written, as its transaction (or savepoint) rolls back. A service called from another one adds
    to the outer one's rows. Not for a service that catches an error of one of its own audited steps and
    goes on (that step's row would still be written): none of them does."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        outer = _pending.get()
        if outer is not None:
            mark = len(outer)
            try:
                return func(*args, **kwargs)
            except BaseException:
                del outer[mark:]  # its savepoint rolls back: so do its rows
                raise
        pending: list[AuditEvent] = []
        token = _pending.set(pending)
        try:
            result = func(*args, **kwargs)
        finally:
            _pending.reset(token)
        for event in pending:
            chain.append(event)
        return result

    return transaction.atomic(run)


def _area_code_of(obj: Any) -> str:
    from pingan.areas.models import Area

    if isinstance(obj, Area):
        return obj.code
    area = getattr(obj, "area", None)
    return getattr(area, "code", "") if area is not None else ""


def _public_fields(obj: Any, public: Iterable[str]) -> frozenset[str]:
    names = set(public)
    if obj is not None:
        names |= PUBLIC_FIELDS.get(obj._meta.label_lower, frozenset())
        names |= set(getattr(obj, "audit_public_fields", ()))
    return frozenset(names)


def infer_kind(action: str) -> str:
    """The kind of an event from its action name when the caller does not say."""
    head, _sep, tail = action.partition(".")
    if head == "auth" or action.startswith(("login", "logout")):
        return Kind.AUTH
    if head == "access":
        return Kind.ACCESS
    if tail.endswith("export") or head == "export":
        return Kind.EXPORT
    if head in ("policy", "security", "permission", "role") or tail.startswith(
        ("policy", "permission", "role")
    ):
        return Kind.POLICY
    return Kind.WRITE


def _clip(value: Any, length: int) -> str:
    return chain._clean_text(str(value or ""))[:length]


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    outcome: str = Outcome.SUCCESS,
    reason: str = "",
    area_code: str | None = None,
    actor_username: str | None = None,
    kind: str | None = None,
    sensitive: Iterable[str] = (),
    public: Iterable[str] = (),
    subject_type: str = "",
    subject_id: str = "",
    subject_label: str = "",
    object_repr: str | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction (it rolls back with it).

    ``changes`` is usually ``diff_fields(before, after)``; values of sensitive fields (see
    ``pingan.core.masking``, plus the names in ``sensitive``) are masked before they are stored; ``public``
    (or the model's ``audit_public_fields``) names fields that hold no personal data on this object.
    ``kind`` defaults from the action (``auth.*`` → auth, ``*.export`` → export, ``policy.*`` → policy,
    ``access.*`` → access, else write). Models with personal data should define ``audit_repr()``
    returning a masked label, so that the object column never shows a full name.
    """
    kind = kind or infer_kind(action)
    if kind not in _KINDS or outcome not in _OUTCOMES:
        raise ValueError(f"unknown audit kind {kind!r} or outcome {outcome!r}")
    info = current_request_info.get()
    authenticated = bool(actor is not None and getattr(actor, "is_authenticated", False))
    username = actor_username or (actor.get_username() if authenticated else getattr(actor, "username", ""))
    if object_repr is None and obj is not None:
        object_repr = obj.audit_repr() if hasattr(obj, "audit_repr") else str(obj)
    event = AuditEvent(
        kind=kind,
        actor_id=actor.pk if authenticated else None,
        actor_username=_clip(username, 150),
        actor_role=_clip(getattr(actor, "role", "") if actor is not None else "", 30),
        action=_clip(action, 60),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=_clip(object_repr, 200),
        area_code=_clip(
            area_code if area_code is not None else (_area_code_of(obj) if obj is not None else ""), 15
        ),
        subject_type=_clip(subject_type, 60),
        subject_id=_clip(subject_id, 60),
        subject_label=_clip(subject_label, 60),
        changes=chain.normalise_json(mask_changes(changes or {}, sensitive, _public_fields(obj, public))),
        reason=_clip(reason, 200),
        source_ip=chain.normalise_ip(info.ip),
        user_agent=_clip(info.user_agent, 300),
        outcome=outcome,
    )
    pending = _pending.get()
    if pending is not None:  # inside an atomic_audited service: appended when it returns
        pending.append(event)
        return event
    return chain.append(event)


def diff_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{field: [before, after]} for the fields that changed."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def subject_of(obj: Any) -> tuple[str, str, str]:
    """(type, id, masked label) of the person a record is about. A model names its subject with
    ``audit_subject() -> (type, id, label)`` (a case names its client); otherwise the record itself is the
    subject and its ``name``/``full_name`` is masked."""
    if hasattr(obj, "audit_subject"):
        subject_type, subject_id, label = obj.audit_subject()
        return str(subject_type), str(subject_id), str(label)
    name = getattr(obj, "name", None) or getattr(obj, "full_name", None) or ""
    return obj._meta.label_lower, str(obj.pk), mask_name(str(name))


def audit_access(
    *,
    actor: Any,
    obj: models.Model,
    purpose: str,
    reason: str = "",
    fields: Sequence[str] = (),
    outcome: str = Outcome.SUCCESS,
) -> AuditEvent:
    """访问留痕: ``actor`` viewed, revealed or exported the sensitive record ``obj``.

    ``purpose`` says what kind of access it was — ``view`` (opened the record), ``reveal`` (showed a full
    value), ``export``, ``print``, ``sealed`` (opened a sealed record) — and becomes the action
    ``access.<purpose>``. ``reason`` is the reason the user stated (required for reveal and sealed
    access); ``fields`` names the fields shown in full. The row records whose record it was (the
    subject: type, id and masked name), never the revealed values.
    """
    if not _PURPOSE.match(purpose):
        raise ValueError(f"purpose must be a short lowercase word, got {purpose!r}")
    reason = (reason or "").strip()
    if purpose in REASON_REQUIRED and not reason:
        raise ValidationError({"reason": _("请说明查看原因")})
    subject_type, subject_id, subject_label = subject_of(obj)
    return audit_record(
        actor=actor,
        action=f"access.{purpose}",
        obj=obj,
        kind=Kind.ACCESS,
        reason=reason,
        outcome=outcome,
        changes={"fields": sorted(set(fields))} if fields else {},
        subject_type=subject_type,
        subject_id=subject_id,
        subject_label=subject_label,
        object_repr=obj.audit_repr() if hasattr(obj, "audit_repr") else subject_label,
    )


# --- export and purge -------------------------------------------------------------------------------


EXPORT_MAX_ROWS = 100_000


def audit_export(*, actor: Any, filters: Any) -> bytes:
    """The filtered events as an xlsx; the export is itself an audit event (kind export)."""
    from pingan.audit.selectors import event_list, format_time
    from pingan.core.excel import Column, write_xlsx

    if not actor.has_perm("audit.view_events"):
        raise PermissionDenied
    qs = event_list(user=actor, filters=filters)
    total = qs.count()
    if total > EXPORT_MAX_ROWS:
        raise ValidationError(
            _("筛选结果有 %(n)d 条，超过单次导出上限 %(max)d 条，请缩小时间范围或增加条件")
            % {"n": total, "max": EXPORT_MAX_ROWS}
        )
    columns = [
        Column(_("序号"), 10),
        Column(_("时间"), 27),
        Column(_("类别"), 10),
        Column(_("操作人"), 16),
        Column(_("岗位"), 16),
        Column(_("操作"), 22),
        Column(_("对象类型"), 18),
        Column(_("对象编号"), 12, text=True),
        Column(_("对象"), 24),
        Column(_("辖区代码"), 16, text=True),
        Column(_("当事人"), 16),
        Column(_("事由"), 24),
        Column(_("结果"), 8),
        Column(_("来源地址"), 16),
        Column(_("客户端"), 30),
        Column(_("变更"), 60),
    ]
    import json

    kinds, outcomes = dict(Kind.choices), dict(Outcome.choices)
    rows = [
        [
            e.seq,
            format_time(e.occurred_at),
            str(kinds.get(e.kind, e.kind)),
            e.actor_username,
            e.actor_role,
            e.action,
            e.object_type,
            e.object_id,
            e.object_repr,
            e.area_code,
            e.subject_label,
            e.reason,
            str(outcomes.get(e.outcome, e.outcome)),
            e.source_ip or "",
            e.user_agent,
            json.dumps(e.changes, ensure_ascii=False)[:30000] if e.changes else "",
        ]
        for e in qs.iterator(chunk_size=5000)
    ]
    now = timezone.now()
    note = _("导出人：%(user)s（%(name)s）；导出时间：%(time)s；筛选条件：%(filters)s；共 %(n)d 条") % {
        "user": actor.get_username(),
        "name": getattr(actor, "full_name", "") or actor.get_username(),
        "time": format_time(now),
        "filters": filters.describe() or _("无"),
        "n": len(rows),
    }
    data = write_xlsx(columns=columns, rows=rows, title=_("审计日志"), note=note, sheet_name=_("审计日志"))
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="audit.export",
            kind=Kind.EXPORT,
            changes={"filters": filters.as_dict(), "rows": len(rows)},
        )
    return data


def retention_days() -> int:
    """The configured retention (settings.PINGAN_AUDIT_RETENTION_DAYS); never below 180 days."""
    days = int(getattr(settings, "PINGAN_AUDIT_RETENTION_DAYS", MIN_RETENTION_DAYS))
    if days < MIN_RETENTION_DAYS:
        raise ImproperlyConfigured(
            f"PINGAN_AUDIT_RETENTION_DAYS={days}: audit records are kept at least {MIN_RETENTION_DAYS} days"
        )
    return days


def audit_purge(*, actor: Any, older_than_days: int, dry_run: bool = False) -> dict[str, Any]:
    """Delete the oldest rows, all older than ``older_than_days`` (at least the retention), then append a
    purge record naming the last purged row so that ``verify`` still passes. Only a prefix of the chain
    is deleted and the newest row is always kept."""
    import datetime as dt

    from django.db import connection

    retention = retention_days()
    if older_than_days < retention:
        raise ValidationError(
            _("不能清除 %(d)d 天内的审计记录：保留期为 %(r)d 天") % {"d": older_than_days, "r": retention}
        )
    cutoff = timezone.now() - dt.timedelta(days=older_than_days)
    with transaction.atomic():
        head_seq, _head_hash = chain.locked_head(connection.alias)
        first_young = (
            AuditEvent.objects.filter(occurred_at__gte=cutoff)
            .order_by("seq")
            .values_list("seq", flat=True)
            .first()
        )
        through = min((first_young or head_seq + 1) - 1, head_seq - 1)
        oldest = AuditEvent.objects.order_by("seq").values_list("seq", flat=True).first() or 0
        summary: dict[str, Any] = {
            "cutoff": chain.utc_iso(cutoff),
            "older_than_days": older_than_days,
            "retention_days": retention,
            "purged_count": max(0, through - oldest + 1) if oldest else 0,
        }
        if not oldest or through < oldest:
            summary["purged_count"] = 0
            return summary
        last = AuditEvent.objects.filter(seq=through).values_list("row_hash", flat=True).get()
        summary.update({"purged_from_seq": oldest, "purged_through_seq": through, "purged_last_hash": last})
        if dry_run:
            return summary
        table = AuditEvent._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL pingan.audit_purge = 'on'")
            cursor.execute(
                f"DELETE FROM {table} WHERE seq <= %s AND occurred_at < %s",  # noqa: S608
                [through, connection.ops.adapt_datetimefield_value(cutoff)],
            )
            deleted = cursor.rowcount
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL pingan.audit_purge = 'off'")
        if deleted != summary["purged_count"]:
            raise RuntimeError(f"purge expected to delete {summary['purged_count']} rows, deleted {deleted}")
        event = audit_record(actor=actor, action=chain.PURGE_ACTION, kind=Kind.POLICY, changes=summary)
        summary["record_seq"] = event.seq
    return summary
