"""The person list export above ``PINGAN_EXPORT_SYNC_MAX_ROWS`` rows (lowered here) runs in the background
(core.exports): the worker builds it with the filters, the reveal flag and the reason the user gave."""

from __future__ import annotations

import io

import pytest
from python_calamine import CalamineWorkbook

from pingan.audit.models import AuditEvent
from pingan.core.models import ExportJob
from pingan.people.services import person_register
from tests.core.test_exports import run_worker
from tests.factories import api_client_for
from tests.people.conftest import make_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def residents(tree, community_a1, person_data):
    return [
        person_register(actor=community_a1, area=tree.a1_1, data=person_data(seq=100 + i, name=f"测试{i}号"))[
            0
        ]
        for i in range(4)
    ]


def test_large_person_export_runs_in_the_background(
    residents, community_a1, community_b1, settings, django_capture_on_commit_callbacks
):
    settings.PINGAN_EXPORT_SYNC_MAX_ROWS = 3
    client = api_client_for(community_a1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/people/export/", {"reveal": "1", "reason": "入户走访核对"})
    assert response.status_code == 302 and response["Location"] == "/exports/"
    job = ExportJob.objects.get()
    assert job.params == {"query": {}, "reveal": True, "reason": "入户走访核对"}
    assert not AuditEvent.objects.filter(action="person.export").exists()

    run_worker()
    job.refresh_from_db()
    assert (job.status, job.rows) == ("done", 4)
    event = AuditEvent.objects.get(action="person.export")
    assert event.actor == community_a1 and event.reason == "入户走访核对"
    assert event.changes["revealed"] == [None, True]

    assert api_client_for(community_b1).get(f"/exports/{job.pk}/download/").status_code == 404
    download = client.get(f"/exports/{job.pk}/download/")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(download.content)).get_sheet_by_index(0).to_python()
    assert {make_id(seq=100 + i) for i in range(4)} <= {r[3] for r in rows}  # revealed, as asked


def test_small_person_export_is_immediate(residents, community_a1, settings):
    settings.PINGAN_EXPORT_SYNC_MAX_ROWS = 10
    response = api_client_for(community_a1).get("/people/export/")
    assert response.status_code == 200 and not ExportJob.objects.exists()
