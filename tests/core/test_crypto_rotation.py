"""``pingan keys``: rotation in batches, status, verify, reindex, generate."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from pingan.core import crypto
from pingan.core.fields import lookup_value
from pingan.core.management.commands.keys import key_status, rotate_model
from tests.testapp.models import Citizen, Note

OLD = crypto.KeyRing("old1", {"old1": b"\x11" * 16}, b"\x21" * 32, b"\x31" * 32)
NEW = crypto.KeyRing("new1", {"old1": b"\x11" * 16, "new1": b"\x12" * 16}, b"\x21" * 32, b"\x31" * 32)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("keys", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def stored(model, pk, column):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def set_raw(model, pk, column, value):
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {model._meta.db_table} SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608


@pytest.fixture
def under_old_key(tree):
    with crypto.override_key_ring(OLD):
        people = [
            Citizen.objects.create(
                area=tree.a1,
                name=f"居民{i}",
                id_number=f"1201031990010{i:05d}",
                phone=f"1380000{i:04d}" if i % 3 else "",
                address=f"解放南路{i}号",
            )
            for i in range(7)
        ]
        note = Note.objects.create(area=tree.a1, body="备注", raw_token=crypto.encrypt("JBSWY3DPEHPK3PXP"))
    return people, note


def test_rotate_re_encrypts_everything_in_batches(under_old_key):
    people, note = under_old_key
    with crypto.override_key_ring(NEW):
        before = key_status(Citizen)
        assert before["id_number"]["old1"] == 7 and before["phone"]["empty"] == 3
        output = run("rotate", "--batch", "2")
        assert (
            "testapp.Citizen: 7 rows updated, 18 values re-encrypted" in output
        )  # 7 ids + 4 phones + 7 addresses
        assert "testapp.Note: 1 rows updated, 2 values re-encrypted" in output  # body + registered raw_token
        for person in people:
            for column in ("id_number", "address"):
                assert crypto.key_id_of(stored(Citizen, person.pk, column)) == "new1"
            assert Citizen.objects.get(pk=person.pk).id_number == person.id_number
        assert stored(Citizen, people[0].pk, "phone") == ""  # empty stays empty
        assert crypto.key_id_of(stored(Note, note.pk, "body")) == "new1"
        raw_token = Note.objects.get(pk=note.pk).raw_token  # a plain TextField: the token itself
        assert crypto.key_id_of(raw_token) == "new1" and crypto.decrypt(raw_token) == "JBSWY3DPEHPK3PXP"
        assert key_status(Note)["raw_token"]["new1"] == 1
        after = key_status(Citizen)
        assert "old1" not in after["id_number"] and after["id_number"]["new1"] == 7
        # blind indexes did not change (same index key): lookups still work
        assert Citizen.objects.filter_exact(id_number=people[3].id_number).get() == people[3]
        # resumable / idempotent: a second run finds nothing to do
        assert "7 rows updated" not in run("rotate")
        assert rotate_model(Citizen).rows == 0
    # the old key can now be dropped: everything reads under the new key alone
    only_new = crypto.KeyRing("new1", {"new1": b"\x12" * 16}, b"\x21" * 32, b"\x31" * 32)
    with crypto.override_key_ring(only_new):
        assert [c.id_number for c in Citizen.objects.order_by("pk")] == [p.id_number for p in people]


def test_rotate_one_model_only(under_old_key):
    people, note = under_old_key
    with crypto.override_key_ring(NEW):
        run("rotate", "--model", "testapp.Note")
        assert crypto.key_id_of(stored(Note, note.pk, "body")) == "new1"
        assert crypto.key_id_of(stored(Citizen, people[0].pk, "id_number")) == "old1"
    with pytest.raises(CommandError):
        run("rotate", "--model", "testapp.Nothing")
    with pytest.raises(CommandError):
        run("rotate", "--model", "areas.Area")


def test_rotate_reports_unreadable_values_and_rotates_the_rest(under_old_key):
    people, _note = under_old_key
    with crypto.override_key_ring(OLD):
        bad = crypto.encrypt("120103199001019999").replace("sm4gcm:old1:", "sm4gcm:old1:A")
    set_raw(Citizen, people[2].pk, "id_number", bad)
    with crypto.override_key_ring(NEW), pytest.raises(CommandError, match="could not be decrypted"):
        run("rotate")
    with crypto.override_key_ring(NEW):
        assert crypto.key_id_of(stored(Citizen, people[1].pk, "id_number")) == "new1"
        assert stored(Citizen, people[2].pk, "id_number") == bad  # left alone, named in the output
        assert key_status(Citizen)["id_number"]["old1"] == 1


def test_status_and_plain_leftovers(under_old_key):
    people, _note = under_old_key
    set_raw(Citizen, people[1].pk, "address", "未加密的地址")  # as left by converting a column
    set_raw(Citizen, people[2].pk, "address", "sm4gcm:gone7:AAAA")
    with crypto.override_key_ring(NEW):
        text = run("status", "--model", "testapp.Citizen")
        assert "active key: new1" in text
        assert "testapp.Citizen.address: old1=5, plain=1, unknown:gone7=1" in text
        with pytest.raises(CommandError):
            run("rotate", "--model", "testapp.Citizen")  # gone7 cannot be read
        assert Citizen.objects.get(pk=people[1].pk).address == "未加密的地址"  # plain value encrypted
        assert stored(Citizen, people[1].pk, "address").startswith("sm4gcm:new1:")


def test_reindex_after_an_index_key_change(under_old_key):
    people, _note = under_old_key
    new_index = crypto.KeyRing("old1", {"old1": b"\x11" * 16}, b"\x22" * 32, b"\x31" * 32)
    with crypto.override_key_ring(new_index):
        assert not Citizen.objects.filter_exact(id_number=people[4].id_number).exists()  # indexes stale
        with pytest.raises(CommandError, match="problems"):
            run("verify", "--model", "testapp.Citizen")
        output = run("rotate", "--reindex", "--batch", "3")
        assert "11 indexes recomputed" in output  # 7 id numbers + 4 phones
        assert Citizen.objects.filter_exact(id_number=people[4].id_number).get() == people[4]
        assert stored(Citizen, people[4].pk, "id_number_index") == lookup_value(
            Citizen, "id_number", people[4].id_number
        )
        assert "all values decrypt" in run("verify")


def test_verify_finds_tampered_and_swapped_values(under_old_key):
    people, _note = under_old_key
    with crypto.override_key_ring(OLD):
        assert "all values decrypt" in run("verify")
        # a value copied from another row decrypts fine, but its blind index gives it away
        set_raw(Citizen, people[0].pk, "id_number", stored(Citizen, people[1].pk, "id_number"))
        token = stored(Citizen, people[3].pk, "address")
        set_raw(
            Citizen,
            people[3].pk,
            "address",
            token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB"),
        )
        err = io.StringIO()
        with pytest.raises(CommandError, match="2 problems"):
            call_command("keys", "verify", stdout=io.StringIO(), stderr=err)
        assert f"id_number_index pk={people[0].pk}: blind index does not match" in err.getvalue()
        assert f"address pk={people[3].pk}" in err.getvalue()


def test_generate_prints_a_loadable_key_file(tmp_path, monkeypatch):
    first = json.loads(run("generate"))
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(first))
    second = json.loads(run("generate", "--from", str(path)))
    assert first["active"] in second["keys"] and second["active"] != first["active"]
    path.write_text(json.dumps(second))
    path.chmod(0o600)
    monkeypatch.setenv("PINGAN_KEY_FILE", str(path))
    crypto.reset_key_ring()
    try:
        assert crypto.key_ring().active_id == second["active"]
        crypto.check_production_keys()
    finally:
        monkeypatch.delenv("PINGAN_KEY_FILE")
        crypto.reset_key_ring()
    with pytest.raises(CommandError):
        run("generate", "--from", str(tmp_path / "missing.json"))
