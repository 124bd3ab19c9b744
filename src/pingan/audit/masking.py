"""Masking of sensitive values in audit rows. The audit administrator reads the trail but never
personal data (三员分立), so before/after values of sensitive fields are stored masked:

- secrets (passwords, keys, tokens, TOTP secrets, recovery codes) are never stored at all: ``******``;
- identity numbers keep the region code and the last four (``120103********1234``), phones the first
  three and last four (``138****5678``), names the first and last character (``张*明``), other
  sensitive text only its first and last character.

A field is sensitive when its name, or one of its ``_``-separated parts, is in ``SECRET_FIELDS`` or
``SENSITIVE_FIELDS``; services add names of their own with ``audit_record(..., sensitive=[...])``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SECRET_MASK = "******"  # noqa: S105 (the mask shown instead of a secret)

SECRET_FIELDS = frozenset(
    {
        "password",
        "passwd",
        "secret",
        "token",
        "key",
        "otp",
        "totp",
        "recovery",
        "pin",
        "credential",
        "credentials",
        "salt",
        "cookie",
    }
)
SENSITIVE_FIELDS = frozenset(
    {
        "id_number",
        "idcard",
        "id_card",
        "identity",
        "passport",
        "phone",
        "mobile",
        "telephone",
        "tel",
        "address",
        "birth",
        "birthday",
        "birth_date",
        "email",
        "bank",
        "account_number",
        "criminal",
        "conviction",
        "health",
        "guardian",
        "person_name",
        "real_name",
    }
)
NAME_FIELDS = frozenset({"person_name", "real_name", "guardian_name", "name_of_person"})
# Fields that match the names above but hold no personal data, per object type: an office's phone
# number is published. A model may also declare ``audit_public_fields``; a service may pass ``public=``.
PUBLIC_FIELDS: dict[str, frozenset[str]] = {
    "areas.department": frozenset({"phone", "address"}),
    "areas.area": frozenset({"address"}),
}


def _parts(name: str) -> set[str]:
    lowered = name.lower()
    return {lowered, *lowered.split("_")}


def is_secret(name: str) -> bool:
    return bool(_parts(name) & SECRET_FIELDS)


def is_sensitive(name: str, extra: Iterable[str] = ()) -> bool:
    names = _parts(name)
    return bool(
        names & SECRET_FIELDS or names & SENSITIVE_FIELDS or name.lower() in {e.lower() for e in extra}
    )


def mask_id_number(value: str) -> str:
    value = value.strip()
    if len(value) >= 15:
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    return mask_text(value)


def mask_phone(value: str) -> str:
    digits = value.strip()
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) >= 7:
        return digits[:2] + "*" * (len(digits) - 4) + digits[-2:]
    return "*" * len(digits)


def mask_name(value: str) -> str:
    value = value.strip()
    if len(value) <= 1:
        return "*" if value else ""
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_text(value: str) -> str:
    value = value.strip()
    if len(value) <= 2:
        return "*" * len(value)
    return value[0] + "*" * min(len(value) - 2, 8) + value[-1]


def mask_value(name: str, value: Any) -> Any:
    """The masked form of one value of field ``name`` (None and "" stay as they are)."""
    if value is None or value == "":
        return value
    if isinstance(value, (list, tuple)):
        return [mask_value(name, v) for v in value]  # a [before, after] pair keeps its shape
    if isinstance(value, str) and set(value) == {"*"}:
        return value  # already masked by the caller
    if is_secret(name):
        return SECRET_MASK
    if isinstance(value, dict):
        return {k: mask_value(name, v) for k, v in value.items()}
    text = str(value)
    parts = _parts(name)
    if parts & {"id_number", "idcard", "id_card", "identity", "passport"} or {"id", "number"} <= parts:
        return mask_id_number(text)
    if parts & {"phone", "mobile", "telephone", "tel"}:
        return mask_phone(text)
    if parts & NAME_FIELDS or "name" in parts:
        return mask_name(text)
    return mask_text(text)


def mask_changes(changes: Any, sensitive: Iterable[str] = (), public: Iterable[str] = ()) -> Any:
    """``changes`` with the values of sensitive fields masked, at any depth. A ``{field: [before, after]}``
    diff keeps its shape; so does any other dict. ``sensitive`` adds field names; ``public`` names fields
    that are not personal data here (secrets are masked regardless)."""
    extra, exempt = frozenset(sensitive), frozenset(public)

    def masked(key: str, value: Any) -> Any:
        if is_secret(key) or (is_sensitive(key, extra) and key not in exempt):
            return mask_value(key, value)
        return mask_changes(value, extra, exempt)

    if isinstance(changes, dict):
        return {key: masked(str(key), value) for key, value in changes.items()}
    if isinstance(changes, list):
        return [mask_changes(item, extra, exempt) for item in changes]
    return changes
