"""Large exports run in the background (issue 3): above ``PINGAN_EXPORT_SYNC_MAX_ROWS`` rows (lowered here)
the request queues a job (audited), the worker (django-tasks ``db_worker``) builds the file as the user and
stores it encrypted, and only that user downloads it from 我的导出 (audited); files expire."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from python_calamine import CalamineWorkbook

from pingan.audit.models import AuditEvent
from pingan.audit.services import audit_record
from pingan.core.actors import SYSTEM
from pingan.core.exports import expire_export_files, run_export_job
from pingan.core.models import ExportJob, ExportStatus
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db(transaction=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def sheet(data: bytes) -> list[list[Any]]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def run_worker() -> None:
    """Run the queued tasks as ``db_worker`` would, inside the test's transaction (the real ``db_worker``
    closes the database connection when done: used by the one transactional test below)."""
    from django_tasks_db.models import DBTaskResult

    for queued in DBTaskResult.objects.ready():
        queued.task.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])
        DBTaskResult.objects.filter(pk=queued.pk).delete()


@pytest.fixture
def events(tree):
    for i in range(5):
        audit_record(actor=SYSTEM, action="test.write", changes={"n": [None, i]})


def queue_audit_export(client, capture):
    with capture(execute=True):
        return client.post("/audit/export/", {"action": "test.write"})


def test_small_exports_answer_at_once(events, auditor, settings):
    settings.PINGAN_EXPORT_SYNC_MAX_ROWS = 10
    response = api_client_for(auditor).post("/audit/export/", {"action": "test.write"})
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert not ExportJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_large_export_is_queued_built_by_the_worker_and_downloaded(
    events, auditor, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.PINGAN_EXPORT_SYNC_MAX_ROWS = 3
    client = api_client_for(auditor)
    response = queue_audit_export(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response["Location"] == "/exports/"
    job = ExportJob.objects.get()
    assert (job.user, job.status, job.exporter, job.estimated_rows) == (auditor, "queued", "audit.events", 5)
    queued = AuditEvent.objects.get(action="export.queue")
    assert queued.actor == auditor and queued.kind == "export" and queued.object_id == str(job.pk)
    assert DBTaskResult.objects.count() == 1  # waiting for the worker
    page = client.get("/exports/", follow=True).content.decode()
    assert "审计日志" in page and "排队中" in page and "已转入后台生成" in page
    assert not AuditEvent.objects.filter(action="audit.export").exists()  # nothing exported yet

    call_command(
        "db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", verbosity=0
    )  # the real one
    job.refresh_from_db()
    assert job.status == "done" and job.rows == 5 and job.filename.startswith("audit-")
    assert job.expires_at is not None and job.expires_at > timezone.now() + dt.timedelta(hours=23)
    export_event = AuditEvent.objects.get(action="audit.export")  # the service audited it, as the user
    assert export_event.actor == auditor
    with connection.cursor() as cursor:
        cursor.execute("SELECT content FROM core_exportjob WHERE id = %s", [job.pk])
        assert cursor.fetchone()[0].startswith("sm4gcm:")  # the file is stored encrypted

    page = client.get("/exports/").content.decode()
    assert "可下载" in page and f"/exports/{job.pk}/download/" in page
    download = client.get(f"/exports/{job.pk}/download/")
    assert download.status_code == 200 and download["Content-Type"] == XLSX
    assert download["Cache-Control"].startswith("no-store")
    rows = sheet(download.content)
    assert sum(1 for r in rows if r and r[5] == "test.write") == 5
    event = AuditEvent.objects.get(action="export.download")
    assert event.actor == auditor and event.kind == "export" and event.changes["rows"] == [None, 5]
    job.refresh_from_db()
    assert job.download_count == 1


def test_only_the_owner_downloads(
    events, auditor, security_admin, district_admin, settings, django_capture_on_commit_callbacks
):
    settings.PINGAN_EXPORT_SYNC_MAX_ROWS = 3
    queue_audit_export(api_client_for(auditor), django_capture_on_commit_callbacks)
    run_worker()
    job = ExportJob.objects.get()
    for other in (security_admin, district_admin):
        client = api_client_for(other)
        assert client.get(f"/exports/{job.pk}/download/").status_code == 404
        assert f"/exports/{job.pk}/" not in client.get("/exports/").content.decode()
    assert not AuditEvent.objects.filter(action="export.download").exists()


def test_files_expire(events, auditor, settings, django_capture_on_commit_callbacks):
    settings.PINGAN_EXPORT_SYNC_MAX_ROWS = 3
    client = api_client_for(auditor)
    queue_audit_export(client, django_capture_on_commit_callbacks)
    run_worker()
    job = ExportJob.objects.get()
    assert expire_export_files(timezone.now()) == {"expired": 0, "stale": 0}
    assert expire_export_files(timezone.now() + dt.timedelta(hours=25)) == {"expired": 1, "stale": 0}
    job.refresh_from_db()
    assert job.status == ExportStatus.EXPIRED and job.content == ""
    assert client.get(f"/exports/{job.pk}/download/").status_code == 404
    assert "已过期" in client.get("/exports/").content.decode()


def test_the_worker_checks_the_permission_again(
    events, auditor, settings, django_capture_on_commit_callbacks
):
    from pingan.accounts.models import User

    settings.PINGAN_EXPORT_SYNC_MAX_ROWS = 3
    queue_audit_export(api_client_for(auditor), django_capture_on_commit_callbacks)
    User.objects.filter(pk=auditor.pk).update(is_active=False)  # disabled while the job waited
    job = ExportJob.objects.get()
    assert run_export_job.call(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and job.content == "" and job.error
    assert not AuditEvent.objects.filter(action="audit.export").exists()
    assert run_export_job.call(job.pk) == "skipped"  # a job runs once


def test_nobody_else_queues_an_export(events, security_admin, settings):
    settings.PINGAN_EXPORT_SYNC_MAX_ROWS = 3
    assert api_client_for(security_admin).post("/audit/export/").status_code == 404
    assert not ExportJob.objects.exists()
