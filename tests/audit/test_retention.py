"""Retention: nothing younger than 180 days (or the configured, longer retention) can be purged; after a
purge the chain still verifies, from the purge record that vouches for the removed head."""

from __future__ import annotations

import io
import json

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from pingan.audit import chain
from pingan.audit.models import AuditEvent, Kind
from pingan.audit.services import audit_purge
from pingan.core.actors import SYSTEM
from tests.audit.conftest import TABLE, sql, write_events

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("days", [0, 30, 179])
def test_purge_refuses_less_than_180_days(db, days):
    write_events(3)
    with pytest.raises(CommandError, match="保留期为 180 天"):
        call_command("audit", "purge", "--older-than", str(days), stdout=io.StringIO())
    assert AuditEvent.objects.count() == 3


def test_a_longer_configured_retention_binds_the_purge(db, settings):
    settings.PINGAN_AUDIT_RETENTION_DAYS = 365
    with pytest.raises(ValidationError):
        audit_purge(actor=SYSTEM, older_than_days=200)


def test_the_retention_cannot_be_configured_below_180_days(db, settings):
    settings.PINGAN_AUDIT_RETENTION_DAYS = 90
    with pytest.raises(ImproperlyConfigured):
        audit_purge(actor=SYSTEM, older_than_days=400)
    from pingan.audit.checks import audit_retention

    assert [m.id for m in audit_retention(None)] == ["pingan.audit.E001"]


def test_purge_deletes_only_old_rows_and_verify_still_passes(db, days_ago):
    days_ago(400)
    write_events(5, action="old.write")
    days_ago(200)
    write_events(3, action="older.write")
    days_ago(10)
    write_events(4, action="young.write")
    days_ago(0)
    assert chain.verify().ok

    out = io.StringIO()
    call_command("audit", "purge", "--older-than", "180", "--dry-run", stdout=out)
    assert "将清除 8 条" in out.getvalue() and AuditEvent.objects.count() == 12

    out = io.StringIO()
    call_command("audit", "purge", "--older-than", "180", "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert (summary["purged_count"], summary["purged_from_seq"], summary["purged_through_seq"]) == (8, 1, 8)
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions == ["young.write"] * 4 + ["audit.purge"]
    record = AuditEvent.objects.get(action="audit.purge")
    assert record.kind == Kind.POLICY and record.actor_username == "system" and record.seq == 13
    assert record.changes["purged_last_hash"] == AuditEvent.objects.get(seq=9).prev_hash

    result = chain.verify()
    assert result.ok and result.first_seq == 9 and result.checked == 5
    assert "第 9 条之前的记录已按保留期清除" in result.notes[0]


def test_purge_with_a_longer_period_keeps_more(db, days_ago):
    days_ago(400)
    write_events(2)
    days_ago(250)
    write_events(2)
    days_ago(0)
    summary = audit_purge(actor=SYSTEM, older_than_days=300)
    assert summary["purged_count"] == 2 and AuditEvent.objects.order_by("seq").first().seq == 3  # type: ignore[union-attr]
    assert chain.verify().ok


def test_purge_twice_then_verify(db, days_ago):
    days_ago(900)
    write_events(3)
    days_ago(700)
    first = audit_purge(actor=SYSTEM, older_than_days=180)  # as run 700 days ago
    assert (first["purged_through_seq"], first["record_seq"]) == (2, 4)
    days_ago(600)
    write_events(2)
    days_ago(0)
    second = audit_purge(actor=SYSTEM, older_than_days=180)  # also removes the first purge record
    assert (second["purged_from_seq"], second["purged_through_seq"], second["record_seq"]) == (3, 5, 7)
    result = chain.verify()
    assert result.ok and result.first_seq == 6 and "清除记录 #7" in result.notes[0]


def test_purge_always_keeps_the_newest_row(db, days_ago):
    days_ago(400)
    write_events(4)
    days_ago(0)
    summary = audit_purge(actor=SYSTEM, older_than_days=180)
    assert summary["purged_through_seq"] == 3
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [4, 5]
    assert chain.verify().ok


def test_nothing_to_purge(db):
    write_events(3)
    out = io.StringIO()
    call_command("audit", "purge", "--older-than", "180", stdout=out)
    assert "没有早于" in out.getvalue() and AuditEvent.objects.count() == 3


def test_a_head_deleted_without_a_purge_record_is_caught(db, days_ago):
    days_ago(400)
    write_events(4)
    days_ago(0)
    write_events(2)
    sql(f"DELETE FROM {TABLE} WHERE seq <= 3")  # noqa: S608  (an attacker imitating a purge)
    result = chain.verify()
    assert not result.ok and (result.problem.kind, result.problem.seq) == ("removed", 3)  # type: ignore[union-attr]


def test_a_forged_purge_record_does_not_vouch(db, days_ago):
    days_ago(400)
    write_events(4)
    days_ago(0)
    audit_purge(actor=SYSTEM, older_than_days=180)
    sql(f"UPDATE {TABLE} SET reason = 'edited' WHERE action = 'audit.purge'")  # noqa: S608
    result = chain.verify()
    assert not result.ok and result.problem.kind in ("removed", "changed")  # type: ignore[union-attr]
