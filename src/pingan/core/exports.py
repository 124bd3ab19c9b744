"""Exports: small ones answer at once, large ones run in the background (issue 3).

A module declares its export once, in ``<app>/exports.py`` (found by autodiscovery, also in the worker)::

    register_exporter(Exporter(
        name="people.persons", label=_("实有人口名单"), permission="people.export_people",
        count=lambda actor, params: person_list(user=actor, filters=...).count(),
        build=lambda actor, params: ExportFile(content=person_export(...), rows=n, filename="people.xlsx"),
    ))

and its view calls ``export_or_queue(actor=request.user, name="people.persons", params={...})``:

- up to ``PINGAN_EXPORT_SYNC_MAX_ROWS`` rows (10,000) it gets an ``ExportFile`` to send back at once;
- above that it gets an ``ExportJob`` (status queued) and redirects to 我的导出 (``core:exports``). The
  job is audited (``export.queue``), the worker (``pingan worker``, django-tasks) runs the same ``build``
  as the user — the module's service checks the permission again and audits the export itself — and
  stores the file SM4-GCM encrypted; the user downloads it from 我的导出 (audited ``export.download``);
  nobody else can (404). Files expire after ``PINGAN_EXPORT_KEEP_HOURS`` (24) hours: a periodic job
  empties them.

``params`` must be JSON (the filters as the request gave them, the reveal flag and the stated reason).
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django_tasks import task

from pingan.core.models import ExportJob, ExportStatus

logger = logging.getLogger("pingan.exports")


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    rows: int
    filename: str
    content_type: str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Exporter:
    name: str
    label: Any  # str or a lazy translation
    permission: str
    count: Callable[[Any, dict[str, Any]], int]
    build: Callable[[Any, dict[str, Any]], ExportFile]


_EXPORTERS: dict[str, Exporter] = {}
_discovered = False


def register_exporter(exporter: Exporter) -> None:
    _EXPORTERS[exporter.name] = exporter


def exporter_get(name: str) -> Exporter:
    global _discovered
    if name not in _EXPORTERS and not _discovered:
        autodiscover_modules("exports")
        _discovered = True
    return _EXPORTERS[name]


def sync_max_rows() -> int:
    return int(getattr(settings, "PINGAN_EXPORT_SYNC_MAX_ROWS", 10_000))


def keep_hours() -> int:
    return int(getattr(settings, "PINGAN_EXPORT_KEEP_HOURS", 24))


def export_or_queue(*, actor: Any, name: str, params: dict[str, Any]) -> ExportFile | ExportJob:
    """The file now (small exports) or a queued job (more than ``sync_max_rows()`` rows)."""
    exporter = exporter_get(name)
    if not actor.has_perm(exporter.permission):
        raise PermissionDenied
    estimated = exporter.count(actor, params)
    if estimated <= sync_max_rows():
        return exporter.build(actor, params)
    return export_queue(actor=actor, exporter=exporter, params=params, estimated=estimated)


@transaction.atomic
def export_queue(*, actor: Any, exporter: Exporter, params: dict[str, Any], estimated: int) -> ExportJob:
    from pingan.audit.services import audit_record

    job = ExportJob.objects.create(
        user=actor, exporter=exporter.name, label=str(exporter.label), params=params, estimated_rows=estimated
    )
    audit_record(
        actor=actor,
        action="export.queue",
        obj=job,
        kind="export",
        reason=str(params.get("reason") or ""),
        changes={"exporter": [None, exporter.name], "estimated_rows": [None, estimated]},
    )
    transaction.on_commit(lambda: run_export_job.enqueue(job.pk))
    return job


@task()
def run_export_job(job_id: int) -> str:
    """The worker's side: build the file as the user who asked for it and store it encrypted."""
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING, updated_at=timezone.now()
    )
    if not claimed:
        return "skipped"
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    try:
        exporter = exporter_get(job.exporter)
        if not job.user.is_active:
            raise PermissionDenied
        result = exporter.build(job.user, dict(job.params))
    except (PermissionDenied, ValidationError, KeyError) as exc:
        message = "；".join(getattr(exc, "messages", [])) or "无权导出或导出条件已失效"
        _finish(job, status=ExportStatus.FAILED, error=message)
        return "failed"
    except Exception:
        logger.exception("export job %s failed", job_id)
        _finish(job, status=ExportStatus.FAILED, error="生成文件时出错，请稍后重试或联系系统管理员")
        return "failed"
    _finish(
        job,
        status=ExportStatus.DONE,
        rows=result.rows,
        filename=result.filename,
        content=base64.b64encode(result.content).decode("ascii"),
        expires_at=timezone.now() + dt.timedelta(hours=keep_hours()),
    )
    return "done"


def _finish(job: ExportJob, **fields: Any) -> None:
    for key, value in fields.items():
        setattr(job, key, value)
    job.finished_at = timezone.now()
    job.save()


# --- reads: 我的导出 --------------------------------------------------------------------------------


def my_exports(*, user: Any) -> Any:
    """The user's own jobs (never anybody else's), newest first, without the file."""
    return ExportJob.objects.filter(user=user).defer("content").order_by("-created_at", "-pk")


@transaction.atomic
def export_download(*, user: Any, job_id: int) -> ExportFile:
    """The file of one of the user's finished jobs (404 for anybody else's, a missing, unfinished or
    expired one); each download is audited."""
    from pingan.audit.services import audit_record

    job = get_object_or_404(
        ExportJob.objects.select_for_update().filter(user=user, status=ExportStatus.DONE), pk=job_id
    )
    if job.expires_at is not None and job.expires_at <= timezone.now():
        from django.http import Http404

        raise Http404
    ExportJob.objects.filter(pk=job.pk).update(download_count=job.download_count + 1)
    audit_record(
        actor=user,
        action="export.download",
        obj=job,
        kind="export",
        changes={"exporter": [None, job.exporter], "rows": [None, job.rows]},
    )
    return ExportFile(content=base64.b64decode(job.content), rows=job.rows or 0, filename=job.filename)


def expire_export_files(now: dt.datetime) -> dict[str, int]:
    """Periodic job: empty the files past their time (the row stays as a record)."""
    expired = ExportJob.objects.filter(status=ExportStatus.DONE, expires_at__lte=now).update(
        status=ExportStatus.EXPIRED, content="", updated_at=now
    )
    stale = ExportJob.objects.filter(
        status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING],
        created_at__lte=now - dt.timedelta(hours=max(keep_hours(), 1)),
    ).update(status=ExportStatus.FAILED, error="超时未完成", updated_at=now)
    return {"expired": expired, "stale": stale}
