"""Masking (脱敏) of personal data for display: every page, export and API answer shows these forms
unless the user revealed a value (core.sensitive). Rules (docs/security.md, "Masking rules"):

- ID number, 18 characters: first 6 (address code) + 8 stars + last 4 — 120103********1234
- ID number, 15 digits (legacy): first 6 + 5 stars + last 4 — 120103*****1234
- other identity documents: at most a third shown, first 2 and last 2 (short values: the last 1) — G1*****78
- mobile phone: first 3 + 4 stars + last 4 — 138****5678
- landline: area code kept, local number starred but the last 4 — 022-****6789
- service number (≤ 6 digits: 110, 12345): unchanged, not personal — 12345
- Chinese name: the surname (compound surnames such as 欧阳 kept whole), one star per given-name
  character but the last; a one-character given name becomes one star — 张*明, 张*, 欧阳*娜, 欧阳*
- one-character name: unchanged — 张
- names with · or spaces (minority, foreign): first character of each part, stars for the rest — 阿***·买**
- address: kept down to the road / community / compound, the rest (house, building, room numbers)
  replaced by a fixed ``****`` — 河西区解放南路****

Masks never reveal the length of what they hide where that matters (addresses: a fixed ``****``); ID and
phone masks keep the official shapes people recognise.

The same rules mask the before/after values the audit trail stores (``mask_changes``): there the kind
is found from the field's name (``field_kind``) — secrets (passwords, keys, tokens, TOTP secrets,
recovery codes) become ``******`` and are never stored, identity numbers, phones, names and addresses
get the rules above, other sensitive text ``mask_generic``. This module is the only masking code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

STAR = "*"
HIDDEN = "****"

# Compound surnames (复姓) in use today; a name starting with one keeps both characters.
_COMPOUND_SURNAMES = (
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木 "
    "西门 南宫 独孤 澹台 拓跋 呼延 申屠 公羊 百里 东郭 万俟 闻人 赫连 钟离 宗政 濮阳 "
    "太史 仲孙 单于 淳于 司空 即墨 南门 羊舌 微生 梁丘 左丘 东门 第五 公冶 太叔 乐正 "
    "壤驷 漆雕 谷梁 段干 巫马 亓官 司寇 子车 颛孙 鲜于 闾丘 公良 夹谷 宰父 谷粱 锺离 "
)
COMPOUND_SURNAMES = frozenset(_COMPOUND_SURNAMES.split())


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def mask_middle(value: str, keep_start: int, keep_end: int, *, stars: int | None = None) -> str:
    """Keep ``keep_start`` leading and ``keep_end`` trailing characters, star the rest (``stars``
    fixes the number of stars). Values too short to keep anything are starred entirely."""
    if len(value) <= keep_start + keep_end:
        return STAR * len(value)
    hidden = len(value) - keep_start - keep_end
    tail = value[len(value) - keep_end :] if keep_end else ""
    return value[:keep_start] + STAR * (stars if stars is not None else hidden) + tail


def mask_id_number(value: str | None) -> str:
    """``120103199001011234`` → ``120103********1234``; legacy 15 digits → 6 + 5 stars + 4; other
    documents (passport, permits) show at most a third of their characters."""
    if not value:
        return value or ""
    v = re.sub(r"\s+", "", _nfkc(value)).upper()
    if len(v) == 18:
        return mask_middle(v, 6, 4)
    if len(v) == 15 and v.isdigit():
        return mask_middle(v, 6, 4)
    return mask_generic(v)


def mask_generic(value: str | None) -> str:
    """At most a third of the characters shown: first 2 and last 2 from 9 characters, else the last
    one only (from 3 characters), else all starred."""
    if not value:
        return value or ""
    n = len(value)
    if n >= 9:
        return mask_middle(value, 2, 2)
    if n >= 3:
        return mask_middle(value, 0, 1)
    return STAR * n


def mask_phone(value: str | None) -> str:
    """Mobile ``13812345678`` → ``138****5678``; landline ``022-23456789`` → ``022-****6789``; a local
    number without area code → stars and the last 4; service numbers (≤ 6 digits) unchanged."""
    if not value:
        return value or ""
    text = _nfkc(value)
    digits = re.sub(r"\D", "", text)
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13 and digits[2] == "1":
        digits = digits[2:]
    if not digits:
        return mask_generic(text)
    if len(digits) <= 6:
        return digits
    if len(digits) == 11 and digits[0] == "1":
        return mask_middle(digits, 3, 4)
    if digits[0] == "0" and len(digits) >= 10:
        # 010 and 02x are three-digit area codes, the others four (0311, 0755, ...)
        area_len = 3 if digits[1] in "12" else 4
        area, local = digits[:area_len], digits[area_len:]
        return f"{area}-{mask_middle(local, 0, 4)}"
    return mask_middle(digits, 0, 4)


def _split_surname(name: str) -> tuple[str, str]:
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def mask_name(value: str | None) -> str:
    """``张三明`` → ``张*明``, ``张三`` → ``张*``, ``张`` → ``张``, ``欧阳娜娜`` → ``欧阳*娜``,
    ``欧阳修`` → ``欧阳*``, ``阿依古丽·买买提`` → ``阿***·买**``, ``John Smith`` → ``J*** S****``."""
    if not value:
        return value or ""
    name = _nfkc(value)
    if re.search(r"[·•・.\s]", name):
        parts = re.split(r"([·•・.\s]+)", name)
        return "".join(p if i % 2 else (p[:1] + STAR * (len(p) - 1)) for i, p in enumerate(parts))
    if len(name) == 1:
        return name
    surname, given = _split_surname(name)
    if len(given) == 1:
        return surname + STAR
    return surname + STAR * (len(given) - 1) + given[-1]


# Markers ending a place level an address keeps: administrative units, roads, communities, compounds.
_KEEP_UNTIL = re.compile(
    r"(?:省|自治区|市|自治州|地区|盟|区|县|旗|镇|乡|街道|办事处|大街|大道|街|路|道|巷|胡同|弄|里|社区|村|"
    r"小区|花园|公寓|新村|家园|苑|园|庄|屯|坊|城|广场|大厦)"
)
# Where the house-level part begins: a digit, or a Chinese numeral followed by a building unit.
_HOUSE_START = re.compile(r"[0-9]|[一二三四五六七八九十百零〇]+[号栋幢楼座单元门室层排]")


def mask_address(value: str | None) -> str:
    """Keep the address down to the road / community / compound, replace the rest by ``****``:
    ``天津市河西区挂甲寺街道滦水里社区5号楼3门501`` → ``天津市河西区挂甲寺街道滦水里社区****``,
    ``河西区解放南路123号`` → ``河西区解放南路****``. Without a house part, the text after the last
    place marker is hidden; without any marker, the first half is kept."""
    if not value:
        return value or ""
    text = _nfkc(value)
    house = _HOUSE_START.search(text)
    head = text[: house.start()] if house else text
    last_end = 0
    for match in _KEEP_UNTIL.finditer(head):
        last_end = match.end()
    if house:
        kept = head[:last_end] if last_end else head
    elif last_end:
        kept = head[:last_end]
        if kept == text:
            return text
    else:
        kept = text[: len(text) // 2]
    return kept + HIDDEN


MASKERS: dict[str, Callable[[str | None], str]] = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "name": mask_name,
    "address": mask_address,
    "generic": mask_generic,
}


def mask_value(kind: str, value: str | None) -> str:
    """Mask ``value`` with the rule named ``kind`` (id_number, phone, name, address, generic)."""
    if value is None:
        return ""
    return MASKERS.get(kind, mask_generic)(str(value))


# --- by field name: the audit trail's before/after values ----------------------------------------------

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
_ID_PARTS = frozenset({"id_number", "idcard", "id_card", "identity", "passport"})
_PHONE_PARTS = frozenset({"phone", "mobile", "telephone", "tel"})
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
    """A field whose value is never stored, not even masked (its name or a ``_`` part is a secret's)."""
    return bool(_parts(name) & SECRET_FIELDS)


def is_sensitive(name: str, extra: Iterable[str] = ()) -> bool:
    """A field whose value the audit trail stores masked (by its name or a ``_`` part, or named in
    ``extra``)."""
    names = _parts(name)
    return bool(
        names & SECRET_FIELDS or names & SENSITIVE_FIELDS or name.lower() in {e.lower() for e in extra}
    )


def field_kind(name: str) -> str:
    """The masking rule for a field, from its name: secret, id_number, phone, name, address or generic."""
    parts = _parts(name)
    if parts & SECRET_FIELDS:
        return "secret"
    if parts & _ID_PARTS or {"id", "number"} <= parts:
        return "id_number"
    if parts & _PHONE_PARTS:
        return "phone"
    if parts & NAME_FIELDS or "name" in parts:
        return "name"
    if "address" in parts:
        return "address"
    return "generic"


def mask_field(name: str, value: Any) -> Any:
    """The masked form of a value of field ``name`` (None and "" stay as they are; a ``[before, after]``
    pair or a dict keeps its shape; a value already all stars is left alone)."""
    if value is None or value == "":
        return value
    if isinstance(value, (list, tuple)):
        return [mask_field(name, v) for v in value]
    if isinstance(value, str) and set(value) == {STAR}:
        return value  # already masked by the caller
    kind = field_kind(name)
    if kind == "secret":
        return SECRET_MASK
    if isinstance(value, dict):
        return {k: mask_field(name, v) for k, v in value.items()}
    return mask_value(kind, str(value))


def mask_changes(changes: Any, sensitive: Iterable[str] = (), public: Iterable[str] = ()) -> Any:
    """``changes`` with the values of sensitive fields masked, at any depth. A ``{field: [before, after]}``
    diff keeps its shape; so does any other dict. ``sensitive`` adds field names; ``public`` names fields
    that are not personal data here (secrets are masked regardless)."""
    extra, exempt = frozenset(sensitive), frozenset(public)

    def masked(key: str, value: Any) -> Any:
        if is_secret(key) or (is_sensitive(key, extra) and key not in exempt):
            return mask_field(key, value)
        return mask_changes(value, extra, exempt)

    if isinstance(changes, dict):
        return {key: masked(str(key), value) for key, value in changes.items()}
    if isinstance(changes, list):
        return [mask_changes(item, extra, exempt) for item in changes]
    return changes
