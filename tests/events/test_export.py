"""The event list's export: the user's events as filtered, no reporter, addresses masked, the filters in
the header, audited; above PINGAN_EXPORT_SYNC_MAX_ROWS (lowered here) made by the worker."""

from __future__ import annotations

import io

import pytest
from python_calamine import CalamineWorkbook

from pingan.audit.models import AuditEvent
from pingan.core.models import ExportJob
from tests.core.test_exports import run_worker
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db


def sheet(content: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()


def test_the_list_exports_what_the_user_sees(tree, street_a, community_b1, grid_b1, make_event):
    mine = make_event(address="滦水道3号楼2单元501", reporter_name="王小明", reporter_phone="13812345678")
    other = make_event(area=tree.b1_1, reporter=grid_b1)
    response = api_client_for(street_a).get("/events/export/", {"status": "reported", "category": "01"})
    assert response.status_code == 200 and response["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    rows = sheet(response.content)
    text = str(rows)
    assert "状态 待受理" in text and "类别 城市管理" in text  # the filters, in the header
    numbers = {str(r[0]) for r in rows}
    assert mine.number in numbers and other.number not in numbers
    assert "王小明" not in text and "13812345678" not in text and "501" not in text
    event = AuditEvent.objects.get(action="event.export")
    assert event.actor == street_a and event.changes["rows"] == [None, 1]
    assert other.number in str(sheet(api_client_for(community_b1).get("/events/export/").content))


def test_a_large_export_runs_in_the_background(
    street_a, make_event, settings, django_capture_on_commit_callbacks
):
    made = [make_event() for _ in range(3)]
    settings.PINGAN_EXPORT_SYNC_MAX_ROWS = 2
    web = api_client_for(street_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = web.get("/events/export/", {"status": ["reported", "accepted"], "q": ""})
    assert response.status_code == 302 and response["Location"] == "/exports/"
    job = ExportJob.objects.get()
    assert job.params == {"query": {"status": ["reported", "accepted"]}}
    run_worker()
    job.refresh_from_db()
    assert (job.status, job.rows) == ("done", 3)
    rows = sheet(web.get(f"/exports/{job.pk}/download/").content)
    assert {e.number for e in made} <= {str(r[0]) for r in rows}


def test_the_figures_sheet_names_its_filters_and_holds_numbers(tree, street_a, make_event):
    make_event("closed")
    response = api_client_for(street_a).get(
        "/events/figures/", {"format": "xlsx", "area": tree.a1.pk, "category": "01", "from": "2026-01-01"}
    )
    rows = sheet(response.content)
    text = str(rows)
    assert tree.a1.name in text and "城市管理" in text and "2026-01-01" in text
    header = next(r for r in rows if "结案率（%）" in r)
    total = rows[-1]
    assert total[header.index("结案率（%）")] == 100.0  # a number the sheet can calculate on, not "100.0%"
