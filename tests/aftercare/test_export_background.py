"""The case list export above ``PINGAN_EXPORT_SYNC_MAX_ROWS`` rows (lowered here) runs in the background
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


def test_large_case_export_runs_in_the_background(
    tree, officer_a1, officer_b1, register_case, today, settings, django_capture_on_commit_callbacks
):
    for i in range(4):
        register_case(officer_a1, seq=300 + i, name=f"后台导出{i}", received_on=today)
    settings.PINGAN_EXPORT_SYNC_MAX_ROWS = 3
    client = api_client_for(officer_a1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/aftercare/export/", {"status": "all", "area": str(tree.a1_1.pk)})
    assert response.status_code == 302 and response["Location"] == "/exports/"
    job = ExportJob.objects.get()
    assert (job.exporter, job.estimated_rows) == ("aftercare.cases", 4)
    assert job.params == {"query": {"status": "all", "area": str(tree.a1_1.pk)}}
    assert AuditEvent.objects.filter(action="export.queue").exists()
    assert not AuditEvent.objects.filter(action="aftercare.export").exists()

    run_worker()
    job.refresh_from_db()
    assert (job.status, job.rows) == ("done", 4)
    event = AuditEvent.objects.get(action="aftercare.export")
    assert event.actor == officer_a1 and event.changes["rows"] == [None, 4]

    assert api_client_for(officer_b1).get(f"/exports/{job.pk}/download/").status_code == 404
    download = client.get(f"/exports/{job.pk}/download/")
    assert download.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(download.content)).get_sheet_by_index(0).to_python()
    names = {r[0] for r in rows}
    assert {"后***0", "后***3"} <= names  # masked names
    assert not any("后台导出" in str(cell) for r in rows for cell in r)


def test_small_case_export_is_immediate(officer_a1, register_case, today, settings):
    register_case(officer_a1, seq=310, received_on=today)
    settings.PINGAN_EXPORT_SYNC_MAX_ROWS = 3
    response = api_client_for(officer_a1).get("/aftercare/export/")
    assert response.status_code == 200 and not ExportJob.objects.exists()
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
