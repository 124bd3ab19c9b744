"""A large roster goes to the worker: its page shows the progress, then the preview with 确认导入, which
imports the very file that was previewed."""

from __future__ import annotations

import io

import pytest
from django.db import transaction

from pingan.people.importers import _progress_writer, run_import_job
from pingan.people.models import ImportJob, Person
from tests.factories import api_client_for
from tests.people.test_import import good, xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_threshold(settings):
    settings.PINGAN_IMPORT_SYNC_MAX_ROWS = 1  # two rows are "large"


def upload(client, data: bytes):
    file = io.BytesIO(data)
    file.name = "roster.xlsx"
    return client.post("/people/import/", {"step": "preview", "file": file})


def test_a_large_roster_is_previewed_then_imported_by_the_worker(
    tree, community_a1, community_b1, small_threshold
):
    client = api_client_for(community_a1)
    response = upload(client, xlsx([good(1), good(2, id="120103199001011230")]))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/people/import/jobs/{job.pk}/"
    assert (job.status, job.dry_run, job.total_rows, job.user) == ("queued", True, 2, community_a1)
    waiting = client.get(f"/people/import/jobs/{job.pk}/").content.decode()
    assert "<progress" in waiting and 'hx-trigger="every 2s"' in waiting

    assert run_import_job.call(job.pk) == "done"
    assert run_import_job.call(job.pk) == "skipped"  # a job runs once
    job.refresh_from_db()
    assert job.status == "done" and job.done_rows == 2 and job.content  # kept for 确认导入
    page = client.get(f"/people/import/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "新增 1" in page and "拒绝 1" in page and "校验位" in page and "确认导入" in page
    assert "hx-trigger" not in page  # done: the page stops asking
    assert not Person.objects.exists()  # a preview writes nothing
    report = client.get(f"/people/import/jobs/{job.pk}/errors/")
    assert report.status_code == 200 and report.content[:2] == b"PK"

    # another user sees none of it, not even by number
    other = api_client_for(community_b1)
    assert other.get(f"/people/import/jobs/{job.pk}/").status_code == 404
    assert other.get(f"/people/import/jobs/{job.pk}/errors/").status_code == 404
    assert other.post(f"/people/import/jobs/{job.pk}/commit/").status_code == 404

    committed = client.post(f"/people/import/jobs/{job.pk}/commit/")
    run = ImportJob.objects.exclude(pk=job.pk).get()
    assert committed["Location"] == f"/people/import/jobs/{run.pk}/"
    assert (run.dry_run, run.preview_of_id) == (False, job.pk)
    job.refresh_from_db()
    assert job.content == ""  # the file moved on to the import: a second 确认导入 finds nothing
    again = client.post(f"/people/import/jobs/{job.pk}/commit/", follow=True)
    assert "预览已失效" in again.content.decode() and ImportJob.objects.count() == 2

    assert run_import_job.call(run.pk) == "done"
    run.refresh_from_db()
    assert run.status == "done" and run.content == ""
    assert list(Person.objects.values_list("name", flat=True)) == ["测试居民1"]
    assert "导入结果" in client.get(f"/people/import/jobs/{run.pk}/").content.decode()


def test_a_job_whose_file_cannot_be_read_fails_with_a_reason(tree, community_a1):
    job = ImportJob.objects.create(
        user=community_a1, filename="x.xlsx", content="bm90IGEgZmlsZQ==", total_rows=9
    )
    assert run_import_job.call(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and job.error and job.content == ""
    assert "处理失败" in api_client_for(community_a1).get(f"/people/import/jobs/{job.pk}/").content.decode()


@pytest.mark.django_db(transaction=True)  # the job row committed, as the worker finds it
def test_progress_is_written_outside_the_imports_transaction(tree, community_a1, postgres_only):
    """The import runs in one transaction; its progress goes through a connection of its own, so the page
    (another session) reads it while the transaction is open."""
    job = ImportJob.objects.create(user=community_a1, filename="r.xlsx", total_rows=5000)
    write, side = _progress_writer(job.pk)
    try:
        with transaction.atomic():
            write(1500)
            assert ImportJob.objects.get(pk=job.pk).done_rows == 1500  # committed by the other session
    finally:
        side.close()
