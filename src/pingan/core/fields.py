"""Encrypted model fields and their blind indexes (GB/T 39786-2021 §8.4 storage confidentiality).

``EncryptedTextField`` keeps a value SM4-GCM encrypted in the database (``core.crypto``: the token
``sm4gcm:<key id>:<base64>``) and plain ``str`` on the model instance. It cannot be searched by value:
every lookup but ``isnull`` raises ``FieldError``. Exact search and uniqueness go through a companion
``BlindIndexField`` (HMAC-SM3 of the normalised value, hex, filled on every save)::

    class Citizen(models.Model):
        id_number = EncryptedTextField(_("身份证号"), mask="id_number")
        id_number_index = BlindIndexField(source="id_number", normalizer=normalize_id_number,
                                          purpose="id_number")
        objects = EncryptedQuerySet.as_manager()

        class Meta:
            constraints = [models.UniqueConstraint(fields=["id_number_index"], name="citizen_unique_id")]

    Citizen.objects.filter_exact(id_number="120103199001011234")
    Citizen.objects.filter(id_number_index=lookup_value(Citizen, "id_number", "120103199001011234"))

What Django does and what this module adds:

- ``save()`` and ``bulk_create()`` call ``Field.pre_save`` for every field (``bulk_create`` does so in
  ``SQLInsertCompiler``), so the index is computed on insert either way; the value is encrypted in
  ``get_prep_value``, which both paths call.
- ``QuerySet.update()`` and ``bulk_update()`` do not call ``pre_save``: ``EncryptedQuerySet`` overrides
  both to recompute the index when its source changes, and refuses expressions (``F()``) for
  encrypted fields. A field check (``core.E301``) makes every model with a blind index use it.
- Raw SQL and COPY loaders use ``db_values(Model, field=value, ...)`` for the column values.
- Empty and ``None`` values: ``None`` is stored as NULL, ``""`` as ``""`` (neither is encrypted: an
  empty value carries no personal data), and both get a NULL index, so any number of rows may lack a
  value under a unique constraint, and ``filter_exact(field="")`` matches nothing.
- Serialisation (``dumpdata``) writes the token, not the plain value; loading accepts tokens and plain
  values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any, TypeVar

from django import forms
from django.core import checks
from django.db import models
from django.db.models import Q
from django.db.models.expressions import Combinable
from django.db.models.lookups import IsNull
from django.utils.module_loading import import_string

from pingan.core import crypto

M = TypeVar("M", bound=models.Model)

_SPACES = re.compile(r"\s+")
_NON_DIGITS = re.compile(r"\D")


# --- normalisers (the value a blind index is computed from) -----------------------------------------


def normalize_id_number(value: str) -> str:
    """ID numbers: full-width to half-width, no spaces, upper-case check character (x → X)."""
    if value.isascii() and value.isalnum():
        return value.upper()
    return _SPACES.sub("", unicodedata.normalize("NFKC", value)).upper()


def normalize_phone(value: str) -> str:
    """Phone numbers: digits only, without the country code (+86 / 0086 / 86 before a mobile
    number). ``022-2345 6789`` → ``02223456789``; ``+86 138 1234 5678`` → ``13812345678``."""
    digits = (
        value
        if value.isdigit() and value.isascii()
        else _NON_DIGITS.sub("", unicodedata.normalize("NFKC", value))
    )
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13 and digits[2] == "1":
        digits = digits[2:]
    return digits


def normalize_plain(value: str) -> str:
    """The default: NFKC, whitespace collapsed and stripped."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()


# --- the encrypted field --------------------------------------------------------------------------


class EncryptedTextField(models.TextField):
    """A text value stored SM4-GCM encrypted. ``mask`` names the masking rule for display
    (``core.masking.mask_value``: id_number, phone, name, address, generic)."""

    description = "Text stored SM4-GCM encrypted (not searchable by value)"

    def __init__(self, *args: Any, mask: str = "generic", **kwargs: Any) -> None:
        self.mask = mask
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.mask != "generic":
            kwargs["mask"] = self.mask
        return name, path, args, kwargs

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if self.unique or getattr(self, "db_index", False) or self.primary_key:
            errors.append(
                checks.Error(
                    "An EncryptedTextField cannot be unique, indexed or a primary key (every value is a "
                    "different ciphertext); put a UniqueConstraint on its BlindIndexField instead.",
                    obj=self,
                    id="core.E300",
                )
            )
        return errors

    # Nothing can be compared with a ciphertext except its absence.
    def get_lookup(self, lookup_name: str) -> Any:
        return IsNull if lookup_name == "isnull" else None

    def get_transform(self, lookup_name: str) -> Any:
        return None

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def to_python(self, value: Any) -> str | None:
        if value is None or (isinstance(value, str) and not crypto.is_token(value)):
            return value
        if isinstance(value, str):
            try:  # a token from a fixture or a serialised dump
                return crypto.decrypt(value)
            except crypto.DecryptionError:
                return value
        return str(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))

    def value_to_string(self, obj: models.Model) -> str:
        """Serialised dumps (``dumpdata``, backups) hold ciphertext, never the plain value."""
        value = self.value_from_object(obj)
        if value is None or value == "":
            return value  # type: ignore[return-value]
        return crypto.encrypt(str(value))

    def formfield(self, **kwargs: Any) -> Any:
        defaults: dict[str, Any] = {"form_class": forms.CharField, "widget": forms.TextInput}
        if self.max_length is not None:
            defaults["max_length"] = self.max_length
        defaults.update(kwargs)
        return super(models.TextField, self).formfield(**defaults)


# --- the blind index ------------------------------------------------------------------------------


Normalizer = Callable[[str], str]


class BlindIndexField(models.CharField):
    """HMAC-SM3 (hex, 64 characters) of ``normalizer(source value)``, keyed by ``purpose`` so equal
    values in different kinds of field do not share an index (fields with the same purpose do, on
    purpose: an ID number finds the same person in every table). Give ``purpose`` explicitly: it defaults
    to the source field's name, and changing it changes every index value (``pingan keys rotate
    --reindex``). Computed on every save; NULL for an empty source. Not editable."""

    description = "HMAC-SM3 blind index of an encrypted field"

    def __init__(
        self,
        *args: Any,
        source: str,
        normalizer: Normalizer | str | None = None,
        purpose: str = "",
        **kwargs: Any,
    ) -> None:
        self.source = source
        self.normalizer = normalizer
        self.purpose = purpose or source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        if self.normalizer is not None:
            kwargs["normalizer"] = self.normalizer
        kwargs["purpose"] = self.purpose  # always: it keys every stored index value
        for key, default in (
            ("max_length", 64),
            ("db_index", True),
            ("null", True),
            ("blank", True),
            ("editable", False),
        ):
            if kwargs.get(key, default) == default:
                kwargs.pop(key, None)
        if getattr(self, "db_index", True) is False:
            kwargs["db_index"] = False
        return name, path, args, kwargs

    def _normalize(self, value: str) -> str:
        normalizer = self.normalizer
        if normalizer is None:
            return normalize_plain(value)
        if isinstance(normalizer, str):
            normalizer = import_string(normalizer)
        return normalizer(value)

    def index_for(self, value: Any) -> str | None:
        """The index of a plain value; None for None, empty, or a value that normalises to empty."""
        if value is None:
            return None
        normalised = self._normalize(str(value))
        if not normalised:
            return None
        return crypto.blind_index(normalised, purpose=self.purpose)

    def db_type(self, connection: Any) -> str | None:
        # Fixed-width hex: character(64) on PostgreSQL, so no useless varchar_pattern_ops (LIKE) index is
        # built beside the b-tree. Spelt "bpchar(64)": Django's bulk insert casts to the type name before
        # "(", and "bpchar" alone is unbounded, where "char" alone would mean char(1).
        if connection.vendor == "postgresql":
            return f"bpchar({self.max_length})"
        return super().db_type(connection)

    def pre_save(self, model_instance: models.Model, add: bool) -> str | None:
        value = self.index_for(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        model = getattr(self, "model", None)
        if model is None or model._meta.abstract:
            return errors
        try:
            source = model._meta.get_field(self.source)
        except Exception:
            errors.append(
                checks.Error(
                    f"BlindIndexField source {self.source!r} is not a field of {model.__name__}",
                    obj=self,
                    id="core.E302",
                )
            )
            return errors
        if not isinstance(source, EncryptedTextField):
            errors.append(
                checks.Warning(
                    f"BlindIndexField source {self.source!r} is not an EncryptedTextField",
                    obj=self,
                    id="core.W303",
                )
            )
        unique_alone = any(
            isinstance(c, models.UniqueConstraint) and list(c.fields) == [self.name] and c.condition is None
            for c in model._meta.constraints
        )
        if unique_alone and getattr(self, "db_index", False):
            errors.append(
                checks.Info(  # a wasted index, not an error: does not fail `check --fail-level WARNING`
                    f"{model.__name__}.{self.name} has a UniqueConstraint of its own and db_index=True: "
                    "two indexes on one column",
                    hint="pass db_index=False",
                    obj=self,
                    id="core.I304",
                )
            )
        manager_qs = model._default_manager.get_queryset()
        if not isinstance(manager_qs, EncryptedQuerySet):
            errors.append(
                checks.Error(
                    f"{model.__name__} has a blind index but its default manager's queryset is not an "
                    "EncryptedQuerySet: QuerySet.update() and bulk_update() would leave the index stale.",
                    hint="objects = EncryptedQuerySet.as_manager() (or a subclass: "
                    "core.sensitive.SensitiveQuerySet)",
                    obj=self,
                    id="core.E301",
                )
            )
        return errors


# Plain TextFields that hold tokens written with crypto.encrypt by hand ("app_label.Model", field name):
# ``pingan keys`` rotates, counts and verifies them like EncryptedTextFields.
_TOKEN_COLUMNS: set[tuple[str, str]] = set()


def register_token_column(model_label: str, field_name: str) -> None:
    """Declare a TextField that stores ``core.crypto`` tokens written by hand (e.g. a TOTP secret), so
    that key rotation covers it. Call from ``AppConfig.ready``."""
    _TOKEN_COLUMNS.add((model_label.lower(), field_name))


def token_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """Every column of ``model`` holding tokens: its EncryptedTextFields and registered token columns."""
    label = model._meta.label_lower
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, EncryptedTextField) or (label, f.name) in _TOKEN_COLUMNS
    ]


def blind_index_fields(model: type[models.Model]) -> list[BlindIndexField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]


def encrypted_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def index_field_for(model: type[models.Model], source: str) -> BlindIndexField:
    for field in blind_index_fields(model):
        if field.source == source:
            return field
    raise LookupError(f"{model.__name__}.{source} has no blind index")


def lookup_value(field_or_model: BlindIndexField | type[models.Model], *args: Any) -> str | None:
    """The index value to filter on, for a plain value: ``lookup_value(index_field, value)`` or
    ``lookup_value(Model, "source_field", value)``. None for an empty value (matches nothing)."""
    if isinstance(field_or_model, BlindIndexField):
        (value,) = args
        return field_or_model.index_for(value)
    source, value = args
    return index_field_for(field_or_model, source).index_for(value)


def exact_q(model: type[models.Model], **values: Any) -> Q:
    """``Q`` matching rows whose encrypted fields equal the given plain values (through their blind
    indexes). An empty value matches nothing."""
    q = Q()
    for source, value in values.items():
        index_field = index_field_for(model, source)
        index = index_field.index_for(value)
        if index is None:
            return Q(pk__in=[])
        q &= Q(**{index_field.name: index})
    return q


def db_values(model: type[models.Model], **values: Any) -> dict[str, Any]:
    """Column values for raw inserts (COPY, ``executemany``), keyed by column name: every encrypted field
    given as plain text comes back as its token, and its blind index column is added. Other fields pass
    through (give foreign keys as ids)."""
    out: dict[str, Any] = {}
    by_name = {f.name: f for f in model._meta.concrete_fields} | {
        f.attname: f for f in model._meta.concrete_fields
    }
    for name, value in values.items():
        field = by_name.get(name)
        if isinstance(field, EncryptedTextField):
            out[str(field.column)] = field.get_prep_value(value)
            for index_field in blind_index_fields(model):
                if index_field.source == name:
                    out[str(index_field.column)] = index_field.index_for(value)
        else:
            out[str(field.column) if field is not None else name] = value
    return out


# Set while EncryptedQuerySet.bulk_update runs: Django's bulk_update calls update() with CASE expressions
# it built from the plain values (encrypted by the field), which update() must not refuse.
_IN_BULK_UPDATE: ContextVar[bool] = ContextVar("pingan_in_bulk_update", default=False)


class EncryptedQuerySet(models.QuerySet[M]):
    """Keeps blind indexes right on the paths Django does not run ``pre_save`` on."""

    def filter_exact(self, **values: Any) -> EncryptedQuerySet[M]:
        """``filter_exact(id_number="...")``: exact match on encrypted fields through their indexes."""
        return self.filter(exact_q(self.model, **values))

    def _index_updates(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        encrypted = {f.name for f in encrypted_fields(self.model)}
        for name, value in kwargs.items():
            if (
                name in encrypted
                and isinstance(value, Combinable | models.Expression)
                and not _IN_BULK_UPDATE.get()
            ):
                raise TypeError(
                    f"{self.model.__name__}.{name} is encrypted: update it with a plain value, "
                    "not an expression"
                )
        if _IN_BULK_UPDATE.get():
            return extra  # the indexes are among the fields bulk_update writes
        for index_field in blind_index_fields(self.model):
            if index_field.source in kwargs and index_field.name not in kwargs:
                extra[index_field.name] = index_field.index_for(kwargs[index_field.source])
        return extra

    def update(self, **kwargs: Any) -> int:
        kwargs.update(self._index_updates(kwargs))
        return super().update(**kwargs)

    def bulk_update(self, objs: Iterable[M], fields: Iterable[str], batch_size: int | None = None) -> int:
        objs = list(objs)
        fields = list(fields)
        for index_field in blind_index_fields(self.model):
            if index_field.source in fields:
                for obj in objs:
                    index_field.pre_save(obj, add=False)
                if index_field.name not in fields:
                    fields.append(index_field.name)
        token = _IN_BULK_UPDATE.set(True)
        try:
            return super().bulk_update(objs, fields, batch_size=batch_size)
        finally:
            _IN_BULK_UPDATE.reset(token)
