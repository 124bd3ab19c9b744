"""The client list export above ``PINGAN_EXPORT_SYNC_MAX_ROWS`` rows (lowered here) runs in the background
(core.exports): the worker builds it as the user with the filters given; only that user downloads it."""

from __future__ import annotations

import io

import pytest
from python_calamine import CalamineWorkbook

from pingan.audit.models import AuditEvent
from pingan.core.models import ExportJob
from tests.core.test_exports import run_worker
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db


def test_large_client_export_runs_in_the_background(
    tree, officer_a1, officer_b1, new_client, settings, django_capture_on_commit_callbacks
):
    clients = [new_client(officer_a1, seq=40 + i) for i in range(4)]
    settings.PINGAN_EXPORT_SYNC_MAX_ROWS = 3
    web = api_client_for(officer_a1)
    with django_capture_on_commit_callbacks(execute=True):
        response = web.get("/correction/export/", {"status": "all", "q": "JZ-T"})
    assert response.status_code == 302 and response["Location"] == "/exports/"
    job = ExportJob.objects.get()
    assert (job.exporter, job.estimated_rows) == ("correction.clients", 4)
    assert job.params == {"query": {"status": "all", "q": "JZ-T"}}
    assert AuditEvent.objects.filter(action="export.queue").exists()
    assert not AuditEvent.objects.filter(action="correction.client_export").exists()

    run_worker()
    job.refresh_from_db()
    assert (job.status, job.rows) == ("done", 4)
    event = AuditEvent.objects.get(action="correction.client_export")
    assert event.actor == officer_a1 and event.changes["rows"] == [None, 4]

    assert api_client_for(officer_b1).get(f"/exports/{job.pk}/download/").status_code == 404
    download = web.get(f"/exports/{job.pk}/download/")
    assert download.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(download.content)).get_sheet_by_index(0).to_python()
    assert {c.number for c in clients} <= {r[0] for r in rows}
    assert not any("矫正测试" in str(cell) for r in rows for cell in r)  # names masked


def test_small_client_export_is_immediate(officer_a1, new_client, settings):
    new_client(officer_a1, seq=50)
    settings.PINGAN_EXPORT_SYNC_MAX_ROWS = 3
    response = api_client_for(officer_a1).get("/correction/export/")
    assert response.status_code == 200 and not ExportJob.objects.exists()
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
