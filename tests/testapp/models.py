"""Citizen: the shape the people module will take — area, a name, an encrypted ID number and phone
with blind indexes (the ID number unique), an encrypted address, and the sealed flag."""

from __future__ import annotations

from django.db import models

from pingan.core.fields import BlindIndexField, EncryptedTextField, normalize_id_number, normalize_phone
from pingan.core.masking import mask_name
from pingan.core.sensitive import Sealable, SensitiveQuerySet


class Citizen(Sealable):
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    name = models.CharField("姓名", max_length=60)
    id_number = EncryptedTextField("身份证号", mask="id_number", blank=True, null=True)
    id_number_index = BlindIndexField(
        source="id_number", normalizer=normalize_id_number, purpose="id_number", db_index=False
    )
    phone = EncryptedTextField("联系电话", mask="phone", blank=True, default="")
    phone_index = BlindIndexField(source="phone", normalizer=normalize_phone, purpose="phone")
    address = EncryptedTextField("住址", mask="address", blank=True, default="")

    objects = SensitiveQuerySet.as_manager()

    class Meta:
        app_label = "testapp"
        constraints = [models.UniqueConstraint(fields=["id_number_index"], name="testapp_citizen_unique_id")]

    def __str__(self) -> str:
        return mask_name(self.name)

    def audit_repr(self) -> str:
        return mask_name(self.name)


class Note(models.Model):
    """A model without a blind index or sealed flag (encrypted field only)."""

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    body = EncryptedTextField("内容")
    # a token written by hand with crypto.encrypt (like accounts.TotpDevice.secret_encrypted), registered with
    # core.fields.register_token_column so that `pingan keys` covers it
    raw_token = models.TextField(blank=True, default="")

    class Meta:
        app_label = "testapp"

    def __str__(self) -> str:
        return f"note {self.pk}"
