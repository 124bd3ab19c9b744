"""The audit row per write, masking, access events, the hash chain and its verification, append-only.

Runs on SQLite and on PostgreSQL (DATABASE_URL); the trigger tests are PostgreSQL only."""

from __future__ import annotations

import datetime as dt
import io
import ipaddress
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingan.areas.services import area_create, area_update
from pingan.audit import chain
from pingan.audit.context import RequestInfo, current_request_info
from pingan.audit.models import AuditEvent, AuditImmutableError, Kind, Outcome
from pingan.audit.services import audit_access, audit_record, diff_fields, infer_kind
from pingan.core import crypto
from pingan.core.actors import SYSTEM
from pingan.core.masking import mask_changes
from tests.audit.conftest import TABLE, insert_raw, row, shift_seqs, sql, write_events
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db


def problem(result: chain.VerifyResult) -> tuple[str, int]:
    assert not result.ok and result.problem is not None
    return result.problem.kind, result.problem.seq


# --- one row per write -------------------------------------------------------------------------------


def test_a_write_service_records_one_chained_event(tree, system_admin):
    before = AuditEvent.objects.count()
    area = area_create(
        actor=system_admin,
        code="120103012002",
        name="新社区",
        level="community",
        parent=tree.street_b,
        population=100,
    )
    events = list(AuditEvent.objects.order_by("seq")[before:])
    assert [e.action for e in events] == ["area.create"]
    event = events[0]
    assert (event.kind, event.actor, event.actor_username, event.actor_role) == (
        Kind.WRITE,
        system_admin,
        "system_admin",
        "system_admin",
    )
    assert (event.object_type, event.object_id, event.area_code) == (
        "areas.area",
        str(area.pk),
        "120103012002",
    )
    assert event.changes["name"] == [None, "新社区"] and event.outcome == Outcome.SUCCESS
    assert event.occurred_at.utcoffset() == dt.timedelta(0)  # stored in UTC
    assert event.seq == AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    previous = AuditEvent.objects.filter(seq=event.seq - 1).values_list("row_hash", flat=True).first()
    assert event.prev_hash == (previous or chain.GENESIS)
    assert chain.verify().ok


def test_update_records_before_and_after(tree, system_admin):
    area_update(actor=system_admin, area_id=tree.a1.pk, data={"population": 6000})
    event = AuditEvent.objects.get(action="area.update")
    assert event.changes == {"population": [5200, 6000]}


def test_a_failed_write_leaves_no_event_and_no_gap(tree, system_admin):
    write_events(2)
    with pytest.raises(ValidationError):
        area_create(actor=system_admin, code="bad", name="", level="community", parent=tree.street_b)
    write_events(1)
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]
    assert chain.verify().ok


def test_source_ip_and_user_agent_come_from_the_request(tree, system_admin):
    client = api_client_for(system_admin)
    response = client.post(
        "/api/v1/areas",
        {"code": "120103012003", "name": "试点社区", "level": "community", "parent_id": tree.street_b.pk},
        content_type="application/json",
        REMOTE_ADDR="10.1.2.3",
        HTTP_USER_AGENT="Probe/1.0",
    )
    assert response.status_code == 201, response.content
    event = AuditEvent.objects.get(action="area.create")
    assert (event.source_ip, event.user_agent) == ("10.1.2.3", "Probe/1.0")
    assert chain.verify().ok


def test_the_mac_is_hmac_sm3_with_the_audit_key(db):
    event = write_events(1)[0]
    assert event.row_hash == crypto.mac(chain.canonical(chain.chain_values(event)))
    assert chain.canonical(chain.chain_values(event)).startswith(b'pingan-audit/1\n[1,"')


def test_kind_follows_the_action_unless_given():
    assert infer_kind("auth.login_failed") == Kind.AUTH
    assert infer_kind("people.export") == Kind.EXPORT
    assert infer_kind("security.policy_update") == Kind.POLICY
    assert infer_kind("access.reveal") == Kind.ACCESS
    assert infer_kind("area.update") == Kind.WRITE


def test_the_system_actor_and_anonymous_failures(db):
    event = audit_record(actor=SYSTEM, action="demo.load")
    assert (event.actor_id, event.actor_username, event.actor_role) == (None, "system", "system")
    failed = audit_record(
        actor=None, action="auth.login_failed", actor_username="nobody", outcome=Outcome.FAILURE
    )
    assert (failed.kind, failed.actor_username, failed.outcome) == (Kind.AUTH, "nobody", "failure")


# --- masking --------------------------------------------------------------------------------------


def test_sensitive_values_are_masked_and_secrets_never_stored(db):
    event = audit_record(
        actor=SYSTEM,
        action="person.update",
        sensitive=["name"],
        changes={
            "id_number": ["120103199001011234", "12010319900101123X"],
            "phone": [None, "13812345678"],
            "password": "Secret-Pass-1",
            "totp_secret": ["", "JBSWY3DPEHPK3PXP"],
            "name": ["张三明", "张小明"],
            "address_detail": {"home": "河西区大沽南路100号"},
            "population": [1, 2],
        },
    )
    assert event.changes == {
        "id_number": ["120103********1234", "120103********123X"],
        "phone": [None, "138****5678"],
        "password": "******",
        "totp_secret": ["", "******"],
        "name": ["张*明", "张*明"],
        "address_detail": {"home": "河西区大沽南路****"},
        "population": [1, 2],
    }
    stored = json.dumps(
        AuditEvent.objects.filter(pk=event.pk).values_list("changes", flat=True).get(), ensure_ascii=False
    )
    for secret in ("Secret-Pass-1", "JBSWY3DPEHPK3PXP", "13812345678", "199001011234", "张三明"):
        assert secret not in stored


def test_public_fields_of_an_object_stay_readable():
    assert mask_changes({"phone": ["", "022-88888888"]}, public=["phone"]) == {"phone": ["", "022-88888888"]}
    assert mask_changes({"password": "x"}, public=["password"]) == {"password": "******"}  # never public


# --- access events (访问留痕) -----------------------------------------------------------------------


def test_access_event_names_the_subject_masked_and_the_reason(tree, district_admin):
    person = tree.a1  # any model row; its subject comes from audit_subject()
    person.audit_subject = lambda: ("people.person", "42", "王*华")  # type: ignore[attr-defined]
    event = audit_access(
        actor=district_admin,
        obj=person,
        purpose="reveal",
        reason="核实走访记录",
        fields=["phone", "id_number"],
    )
    assert (event.kind, event.action, event.reason) == (Kind.ACCESS, "access.reveal", "核实走访记录")
    assert (event.subject_type, event.subject_id, event.subject_label) == ("people.person", "42", "王*华")
    assert event.changes == {"fields": ["id_number", "phone"]}
    assert event.object_repr == "王*华" and event.actor == district_admin
    assert chain.verify().ok


def test_access_without_a_subject_method_masks_the_name(tree, district_admin):
    event = audit_access(actor=district_admin, obj=district_admin, purpose="view")
    assert (event.subject_type, event.subject_id, event.subject_label) == (
        "accounts.user",
        str(district_admin.pk),
        "区*挥",
    )
    assert "区指挥" not in event.object_repr


def test_a_reveal_needs_a_reason(tree, district_admin):
    with pytest.raises(ValidationError):
        audit_access(actor=district_admin, obj=tree.a1, purpose="reveal", reason="  ")
    with pytest.raises(ValueError):
        audit_access(actor=district_admin, obj=tree.a1, purpose="Reveal all!")
    assert not AuditEvent.objects.filter(kind=Kind.ACCESS).exists()


# --- append-only in the application -------------------------------------------------------------------


def test_the_application_cannot_change_or_delete_rows(db):
    event = write_events(1)[0]
    event.action = "area.delete"
    with pytest.raises(AuditImmutableError):
        event.save()
    with pytest.raises(AuditImmutableError):
        event.delete()
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.bulk_update([event], ["action"])
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.bulk_create([AuditEvent(seq=99, action="x", prev_hash="a", row_hash="b")])
    with pytest.raises(AuditImmutableError):
        AuditEvent(seq=99, action="unchained").save()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.write"
    assert chain.verify().ok


def test_the_database_refuses_a_fork(db):
    first, _second = write_events(2)
    values = row(2) | {"seq": 3, "action": "fork"}
    values.pop("id")
    values["prev_hash"] = first.row_hash  # chains onto row 1, like row 2 does
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_raw(values)


# --- verification: changed, removed, inserted --------------------------------------------------------


def test_an_intact_chain_verifies(db):
    write_events(30)
    result = chain.verify(chunk_size=7)
    assert result.ok and (result.checked, result.first_seq, result.last_seq) == (30, 1, 30)
    assert result.last_hash == row(30)["row_hash"]


def test_verify_names_an_edited_row(db):
    write_events(10)
    sql(f"UPDATE {TABLE} SET action = 'area.delete' WHERE seq = 6")  # noqa: S608
    assert problem(chain.verify()) == ("changed", 6)


def test_verify_names_an_edited_row_whose_hash_was_recomputed_wrongly(db):
    write_events(10)
    sql(f"UPDATE {TABLE} SET reason = 'x', row_hash = %s WHERE seq = 4", ["f" * 64])  # noqa: S608
    assert problem(chain.verify()) == ("changed", 4)


def test_verify_names_an_edited_time_or_address(db):
    write_events(5)
    sql(f"UPDATE {TABLE} SET source_ip = '10.0.0.9' WHERE seq = 2")  # noqa: S608
    assert problem(chain.verify()) == ("changed", 2)


def test_verify_names_an_edited_last_row(db):
    write_events(5)
    sql(f"UPDATE {TABLE} SET outcome = 'failure' WHERE seq = 5")  # noqa: S608
    assert problem(chain.verify()) == ("changed", 5)


def test_verify_names_a_deleted_row(db):
    write_events(10)
    sql(f"DELETE FROM {TABLE} WHERE seq = 7")  # noqa: S608
    result = chain.verify()
    assert problem(result) == ("removed", 7)
    assert "第 7 条被删除" in result.problem.message  # type: ignore[union-attr]


def test_verify_names_deleted_rows_renumbered_to_hide_the_gap(db):
    write_events(10)
    sql(f"DELETE FROM {TABLE} WHERE seq = 4")  # noqa: S608
    shift_seqs(5, -1)
    assert problem(chain.verify()) == ("inserted", 4)  # row 5, now 4, does not chain onto row 3


def test_verify_names_deleted_first_rows(db):
    write_events(6)
    sql(f"DELETE FROM {TABLE} WHERE seq <= 2")  # noqa: S608
    assert problem(chain.verify()) == ("removed", 2)


def test_a_truncated_tail_is_caught_against_a_recorded_head(db):
    write_events(8)
    head = chain.verify()
    sql(f"DELETE FROM {TABLE} WHERE seq >= 7")  # noqa: S608
    assert chain.verify().ok  # a chain alone cannot see its tail cut off…
    assert problem(chain.verify(expect_head=(head.last_seq, head.last_hash))) == ("removed", 8)  # type: ignore[arg-type]


def test_verify_names_an_inserted_row(db):
    write_events(10)
    forged = row(5) | {
        "action": "user.create",
        "reason": "forged",
        "prev_hash": "e" * 64,
        "row_hash": "d" * 64,
    }
    forged.pop("id")
    shift_seqs(6, 1)
    forged["seq"] = 6
    insert_raw(forged)
    result = chain.verify()
    assert problem(result) == ("inserted", 6)


def test_verify_names_a_row_appended_without_the_key(db):
    write_events(5)
    forged = row(5) | {"seq": 6, "action": "user.create", "prev_hash": "c" * 64, "row_hash": "b" * 64}
    forged.pop("id")
    insert_raw(forged)
    assert problem(chain.verify()) == ("inserted", 6)


def test_verify_names_a_forged_row_linked_onto_the_last_one(db):
    write_events(5)
    forged = row(5) | {
        "seq": 6,
        "action": "user.create",
        "prev_hash": row(5)["row_hash"],
        "row_hash": "b" * 64,
    }
    forged.pop("id")
    insert_raw(forged)
    assert problem(chain.verify()) == ("changed", 6)  # its content does not match a MAC only the key can make


def test_verify_from_a_seq(db):
    write_events(12)
    sql(f"UPDATE {TABLE} SET action = 'x' WHERE seq = 3")  # noqa: S608
    assert problem(chain.verify()) == ("changed", 3)
    result = chain.verify(from_seq=5)
    assert result.ok and (result.first_seq, result.checked) == (5, 8)
    sql(f"DELETE FROM {TABLE} WHERE seq = 9")  # noqa: S608
    assert problem(chain.verify(from_seq=9)) == ("removed", 9)


def test_an_empty_chain_verifies(db):
    result = chain.verify()
    assert result.ok and result.checked == 0 and result.last_seq is None


# --- PostgreSQL: a DBA-level attacker without the key ------------------------------------------------


def _drop_unique_constraints() -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    for name, info in constraints.items():
        if info["unique"] and not info["primary_key"] and info["columns"] in (["seq"], ["prev_hash"]):
            sql(f'ALTER TABLE {TABLE} DROP CONSTRAINT "{name}"')


def test_verify_names_a_replayed_row(db, postgres_only):
    write_events(6)
    _drop_unique_constraints()
    replay = row(3)
    replay.pop("id")
    insert_raw(replay)  # an exact copy of a genuine row: its MAC is valid
    assert problem(chain.verify()) == ("inserted", 3)


def test_verify_names_a_row_inserted_with_a_correct_link(db, postgres_only):
    write_events(10)
    _drop_unique_constraints()
    forged = row(5) | {"action": "user.create", "prev_hash": row(5)["row_hash"], "row_hash": "d" * 64}
    forged.pop("id")
    shift_seqs(6, 1)
    forged["seq"] = 6
    insert_raw(forged)
    assert problem(chain.verify()) == ("inserted", 6)  # row 7 skips over it onto row 5


def test_the_trigger_refuses_update_delete_and_truncate(db, postgres_only):
    write_events(3)
    for statement in (
        f"UPDATE {TABLE} SET action = 'x' WHERE seq = 2",  # noqa: S608
        f"DELETE FROM {TABLE} WHERE seq = 2",  # noqa: S608
        f"TRUNCATE {TABLE}",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as c,
        ):
            if statement.startswith("TRUNCATE"):
                c.execute("SET LOCAL pingan.audit_allow_truncate = 'off'")
            c.execute(statement)
    assert AuditEvent.objects.count() == 3 and chain.verify().ok


def test_the_purge_flag_does_not_admit_young_rows(db, postgres_only):
    write_events(3)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
        c.execute("SET LOCAL pingan.audit_purge = 'on'")
        c.execute(f"DELETE FROM {TABLE} WHERE seq = 1")  # noqa: S608
    assert AuditEvent.objects.count() == 3


# --- the command -----------------------------------------------------------------------------------


def test_verify_command_reports_and_exits_non_zero_on_failure(db):
    write_events(5)
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "审计链完整" in out.getvalue() and "5:" in out.getvalue()
    out = io.StringIO()
    call_command("audit", "verify", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["ok"] and data["checked"] == 5 and data["last_seq"] == 5
    sql(f"UPDATE {TABLE} SET actor_username = 'someone' WHERE seq = 2")  # noqa: S608
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify", "--json", stdout=io.StringIO(), stderr=err)
    assert exit_info.value.code == 1
    with pytest.raises(SystemExit):
        call_command("audit", "verify", stdout=io.StringIO(), stderr=err)
    assert "被修改" in err.getvalue() and "第 2 条" in err.getvalue()


def test_verify_command_checks_a_recorded_head(db):
    write_events(4)
    head = chain.verify()
    call_command("audit", "verify", "--head", f"{head.last_seq}:{head.last_hash}", stdout=io.StringIO())
    sql(f"DELETE FROM {TABLE} WHERE seq = 4")  # noqa: S608
    with pytest.raises(SystemExit):
        call_command(
            "audit",
            "verify",
            "--head",
            f"{head.last_seq}:{head.last_hash}",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )


# --- what the database gives back hashes like what was written --------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**62), max_value=2**62)
    | st.floats(allow_nan=True, allow_infinity=True, width=64)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _ipv4_compatible(address: str | None) -> bool:
    """``::a.b.c.d`` (deprecated): PostgreSQL prints it dotted, Python does not."""
    if not address or ":" not in address:
        return False
    parsed = ipaddress.ip_address(address)
    return int(parsed) >> 32 == 0 and int(parsed) > 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=st.dictionaries(st.text(max_size=10), json_values, max_size=5),
    reason=st.text(max_size=40),
    address=st.none() | st.ip_addresses().map(str),
    agent=st.text(max_size=30),
)
def test_any_changes_and_text_survive_the_round_trip(db, changes, reason, address, agent):
    token = current_request_info.set(RequestInfo(ip=address, user_agent=agent))
    try:
        with transaction.atomic():
            event = audit_record(actor=SYSTEM, action="test.roundtrip", changes=changes, reason=reason)
            stored = AuditEvent.objects.filter(pk=event.pk).values_list(*chain.CHAIN_FIELDS, "row_hash").get()
            assert chain.row_hash(stored[:-1]) == stored[-1]
            assert chain.verify(from_seq=event.seq).ok
            # the prebuilt C encoder writes exactly what json.dumps writes
            value = [event.changes, reason, 1.5, None]
            assert chain._encode(value) == json.dumps(
                value, ensure_ascii=False, sort_keys=True, separators=(",", ":")
            )
            if connection.vendor == "postgresql":
                # the server rebuilds the same signed text (the fast path of verify)
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT {chain._server_canonical_sql()}, changes = changes_json::jsonb "  # noqa: S608
                        f"FROM {TABLE} WHERE id = %s",
                        [event.pk],
                    )
                    text, consistent = cursor.fetchone()
                assert consistent
                if not _ipv4_compatible(event.source_ip):
                    assert chain.VERSION + text.encode() == chain.canonical(stored[:-1])
            transaction.set_rollback(True)
    finally:
        current_request_info.reset(token)


def test_verify_names_changes_that_differ_from_the_signed_text(db):
    write_events(4)
    sql(f"UPDATE {TABLE} SET changes = %s WHERE seq = 2", ['{"i": 99, "note": "改过"}'])  # noqa: S608
    assert problem(chain.verify()) == ("changed", 2)


def test_verify_names_signed_text_that_differs_from_the_changes(db):
    write_events(4)
    sql(f"UPDATE {TABLE} SET changes_json = %s WHERE seq = 3", ['{"i":99}'])  # noqa: S608
    assert problem(chain.verify()) == ("changed", 3)
    sql(f"UPDATE {TABLE} SET changes_json = %s WHERE seq = 3", ["not json at all"])  # noqa: S608
    assert problem(chain.verify()) == ("changed", 3)


def test_diff_fields():
    assert diff_fields({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": None}) == {"b": [2, 3]}
