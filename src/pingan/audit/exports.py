"""The audit trail's xlsx export, declared to ``core.exports``: more than
``PINGAN_EXPORT_SYNC_MAX_ROWS`` rows are made by the worker and downloaded from 我的导出."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pingan.core.exports import Exporter, ExportFile, register_exporter

EXPORTER_NAME = "audit.events"


def _filters(params: dict[str, Any]) -> Any:
    from pingan.audit.selectors import EventFilter

    return EventFilter.from_params(params.get("filters") or {})


def _count(actor: Any, params: dict[str, Any]) -> int:
    from pingan.audit.selectors import event_list

    return int(event_list(user=actor, filters=_filters(params)).count())


def _build(actor: Any, params: dict[str, Any]) -> ExportFile:
    from pingan.audit.services import audit_export

    content = audit_export(actor=actor, filters=_filters(params))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return ExportFile(content=content, rows=_count(actor, params), filename=f"audit-{stamp}.xlsx")


register_exporter(
    Exporter(
        name=EXPORTER_NAME,
        label=_("审计日志"),
        permission="audit.view_events",
        count=_count,
        build=_build,
    )
)
