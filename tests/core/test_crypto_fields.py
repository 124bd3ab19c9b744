"""EncryptedTextField and BlindIndexField on the test model tests.testapp.Citizen."""

from __future__ import annotations

import json

import pytest
from django.core import checks, serializers
from django.core.exceptions import FieldError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.test.utils import isolate_apps

from pingan.core import crypto
from pingan.core.fields import (
    BlindIndexField,
    EncryptedQuerySet,
    EncryptedTextField,
    db_values,
    lookup_value,
    normalize_id_number,
    normalize_phone,
)
from tests.testapp.models import Citizen, Note

ID = "120103199001011234"
ID_X = "12010319900101123X"


def raw(model, pk, column):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def citizen(tree):
    return Citizen.objects.create(
        area=tree.a1, name="张三明", id_number=ID, phone="138 1234 5678", address="河西区解放南路123号"
    )


def test_values_are_stored_encrypted_with_the_key_id(citizen):
    stored = raw(Citizen, citizen.pk, "id_number")
    assert stored.startswith(f"sm4gcm:{crypto.key_ring().active_id}:")
    assert ID not in stored and "1234" not in stored.split(":", 2)[1]
    assert crypto.decrypt(stored) == ID
    assert "解放南路" not in raw(Citizen, citizen.pk, "address")
    loaded = Citizen.objects.get(pk=citizen.pk)
    assert (loaded.id_number, loaded.phone, loaded.address) == (ID, "138 1234 5678", "河西区解放南路123号")
    assert isinstance(loaded.id_number, str)


def test_none_and_empty_are_not_encrypted_and_have_no_index(tree):
    a = Citizen.objects.create(area=tree.a1, name="甲", id_number=None, phone="")
    b = Citizen.objects.create(area=tree.a1, name="乙", id_number=None, phone="")  # no unique clash on NULL
    for c in (a, b):
        assert raw(Citizen, c.pk, "id_number") is None
        assert raw(Citizen, c.pk, "phone") == ""
        assert raw(Citizen, c.pk, "id_number_index") is None
        assert raw(Citizen, c.pk, "phone_index") is None
    assert Citizen.objects.get(pk=a.pk).id_number is None
    assert Citizen.objects.filter(id_number__isnull=True).count() == 2
    assert not Citizen.objects.filter_exact(phone="").exists()


def test_encrypted_values_cannot_be_searched_by_value(citizen):
    for lookup in ("", "__exact", "__contains", "__startswith", "__in", "__gt", "__iexact"):
        with pytest.raises(FieldError):
            value = [ID] if lookup == "__in" else ID
            list(Citizen.objects.filter(**{f"id_number{lookup}": value}))


def test_blind_index_lookup(citizen, tree):
    Citizen.objects.create(area=tree.a1, name="李四", id_number="120103198501012345", phone="022-23456789")
    assert list(Citizen.objects.filter_exact(id_number=ID)) == [citizen]
    assert list(Citizen.objects.filter(id_number_index=lookup_value(Citizen, "id_number", ID))) == [citizen]
    index_field = Citizen._meta.get_field("id_number_index")
    assert list(
        Citizen.objects.filter(id_number_index=lookup_value(index_field, f" {ID[:6]} {ID[6:]} "))
    ) == [citizen]
    # phones are compared as normalised digits: spaces, dashes, +86 and full-width digits do not matter
    for spelling in ("13812345678", "+86 138-1234-5678", "008613812345678", "１３８１２３４５６７８"):
        assert list(Citizen.objects.filter_exact(phone=spelling)) == [citizen], spelling
    assert not Citizen.objects.filter_exact(id_number="120103199001011235").exists()


def test_id_number_normalisation():
    assert normalize_id_number(" 12010319900101123x ") == ID_X
    assert normalize_id_number("１２０１０３１９９００１０１１２３ｘ") == ID_X
    assert normalize_phone("(022) 2345-6789") == "02223456789"
    assert normalize_phone("+86 13812345678") == "13812345678"


def test_uniqueness_through_the_index(citizen, tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Citizen.objects.create(area=tree.b1, name="冒用", id_number=ID)
    with pytest.raises(IntegrityError), transaction.atomic():
        Citizen.objects.create(area=tree.b1, name="冒用", id_number=ID.lower().replace("4", "4") + " ")


def test_lower_case_x_is_the_same_number(tree):
    Citizen.objects.create(area=tree.a1, name="王五", id_number=ID_X)
    with pytest.raises(IntegrityError), transaction.atomic():
        Citizen.objects.create(area=tree.a1, name="王五", id_number=ID_X.lower())
    assert Citizen.objects.filter_exact(id_number=ID_X.lower()).count() == 1


def test_bulk_create_fills_token_and_index(tree):
    # Django calls Field.pre_save for every field in bulk_create (SQLInsertCompiler), so the index is
    # computed there as on save(); the value is encrypted in get_prep_value on both paths.
    Citizen.objects.bulk_create(
        [
            Citizen(
                area=tree.a1, name=f"批量{i}", id_number=f"12010319900101{i:04d}", phone=f"1390000{i:04d}"
            )
            for i in range(50)
        ]
    )
    hit = Citizen.objects.filter_exact(id_number="120103199001010007").get()
    assert hit.name == "批量7" and hit.phone == "13900000007"
    assert raw(Citizen, hit.pk, "id_number").startswith("sm4gcm:")
    with pytest.raises(IntegrityError), transaction.atomic():
        Citizen.objects.bulk_create([Citizen(area=tree.a1, name="重复", id_number="120103199001010007")])


def test_update_and_bulk_update_keep_the_index_right(citizen, tree):
    Citizen.objects.filter(pk=citizen.pk).update(id_number="120103200001011111")
    assert not Citizen.objects.filter_exact(id_number=ID).exists()
    assert Citizen.objects.filter_exact(id_number="120103200001011111").get() == citizen
    assert raw(Citizen, citizen.pk, "id_number").startswith("sm4gcm:")

    other = Citizen.objects.create(area=tree.a1, name="赵六", phone="13900001111")
    citizen.refresh_from_db()
    citizen.phone, other.phone = "13700002222", "13700003333"
    Citizen.objects.bulk_update([citizen, other], ["phone"])
    assert Citizen.objects.filter_exact(phone="13700002222").get() == citizen
    assert Citizen.objects.filter_exact(phone="13700003333").get() == other
    assert not Citizen.objects.filter_exact(phone="13900001111").exists()
    assert Citizen.objects.get(pk=other.pk).phone == "13700003333"

    with pytest.raises(TypeError):
        Citizen.objects.filter(pk=citizen.pk).update(phone=F("name"))


def test_save_re_encrypts_and_reindexes(citizen):
    before = raw(Citizen, citizen.pk, "phone")
    citizen.phone = "13800000000"
    citizen.save()
    assert raw(Citizen, citizen.pk, "phone") != before
    assert Citizen.objects.filter_exact(phone="13800000000").get() == citizen


def test_tampered_value_fails_loudly_on_load(citizen):
    stored = raw(Citizen, citizen.pk, "id_number")
    prefix, kid, body = stored.split(":", 2)
    tampered = (
        f"{prefix}:{kid}:{body[:-4]}AAAA" if not body.endswith("AAAA") else f"{prefix}:{kid}:{body[:-4]}BBBB"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Citizen._meta.db_table} SET id_number = %s WHERE id = %s",  # noqa: S608
            [tampered, citizen.pk],
        )
    with pytest.raises(crypto.DecryptionError):
        Citizen.objects.get(pk=citizen.pk)


def test_db_values_for_raw_inserts(tree):
    values = db_values(Citizen, area=tree.a1.pk, name="原始", id_number=ID, phone="13812345678")
    assert values["name"] == "原始" and values["area_id"] == tree.a1.pk
    assert crypto.decrypt(values["id_number"]) == ID
    assert values["id_number_index"] == lookup_value(Citizen, "id_number", ID)
    assert values["phone_index"] == lookup_value(Citizen, "phone", "13812345678")


def test_serialised_dumps_hold_ciphertext(citizen):
    dumped = serializers.serialize("json", Citizen.objects.filter(pk=citizen.pk))
    assert ID not in dumped and "解放南路" not in dumped
    fields = json.loads(dumped)[0]["fields"]
    assert crypto.decrypt(fields["id_number"]) == ID
    # and a dump loads back to the plain value
    obj = next(serializers.deserialize("json", dumped)).object
    assert obj.id_number == ID and obj.address == "河西区解放南路123号"


def test_forms_get_a_one_line_input():
    from django import forms

    field = Citizen._meta.get_field("phone").formfield()
    assert isinstance(field, forms.CharField) and isinstance(field.widget, forms.TextInput)


def test_model_without_index_round_trip(tree):
    note = Note.objects.create(area=tree.a1, body="家庭矛盾，已调解")
    assert "调解" not in raw(Note, note.pk, "body")
    assert Note.objects.get(pk=note.pk).body == "家庭矛盾，已调解"


@isolate_apps("tests.testapp")
def test_a_blind_index_needs_the_encrypted_queryset():
    class Plain(models.Model):
        secret = EncryptedTextField()
        secret_index = BlindIndexField(source="secret")

        class Meta:
            app_label = "testapp"

        def __str__(self) -> str:
            return "plain"

    class Right(models.Model):
        secret = EncryptedTextField(unique=True)
        secret_index = BlindIndexField(source="missing")
        objects = EncryptedQuerySet.as_manager()

        class Meta:
            app_label = "testapp"

        def __str__(self) -> str:
            return "right"

    class Doubled(models.Model):
        secret = EncryptedTextField()
        secret_index = BlindIndexField(source="secret", purpose="secret")
        objects = EncryptedQuerySet.as_manager()

        class Meta:
            app_label = "testapp"
            constraints = [models.UniqueConstraint(fields=["secret_index"], name="doubled_unique")]

        def __str__(self) -> str:
            return "doubled"

    assert "core.I304" in {e.id for e in Doubled.check()}
    ids = {e.id for e in Plain.check()}
    assert "core.E301" in ids
    right = {e.id for e in Right.check()}
    assert {"core.E300", "core.E302"} <= right
    assert all(isinstance(e, checks.CheckMessage) for e in Plain.check())


def test_field_deconstruction_round_trips():
    field = Citizen._meta.get_field("id_number_index")
    _name, _path, args, kwargs = field.deconstruct()
    assert kwargs["source"] == "id_number" and kwargs["purpose"] == "id_number"
    assert kwargs["normalizer"] is normalize_id_number and kwargs["db_index"] is False
    rebuilt = BlindIndexField(*args, **kwargs)
    assert rebuilt.index_for(ID) == field.index_for(ID)
    _, _, _, enc_kwargs = Citizen._meta.get_field("id_number").deconstruct()
    assert enc_kwargs["mask"] == "id_number"


def test_blind_index_columns_get_one_plain_btree_index(db):
    """On PostgreSQL the column is character(64): no varchar_pattern_ops (LIKE) index beside the b-tree."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Citizen._meta.db_table)
    on_phone = [c for c in constraints.values() if c["columns"] == ["phone_index"] and c["index"]]
    on_id = [c for c in constraints.values() if c["columns"] == ["id_number_index"]]
    assert len(on_phone) == 1
    assert len(on_id) == 1 and on_id[0]["unique"]  # the UniqueConstraint's index only (db_index=False)
    if connection.vendor == "postgresql":
        assert Citizen._meta.get_field("phone_index").db_type(connection) == "bpchar(64)"
