"""Code tables (字典): loading from the CSV files in data/codes and resolving code-or-label input.

Forms, importers and the API accept either the official code or the label and store the code.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db import transaction

from pingan.core.models import CodeItem, CodeTable
from pingan.core.text import normalize_text

CODES_DIR = Path(__file__).resolve().parent / "data" / "codes"


class UnknownCode(ValueError):
    def __init__(self, table: str, value: str) -> None:
        super().__init__(f"代码表“{table}”中没有“{value}”")
        self.table = table
        self.value = value


@dataclass(frozen=True)
class Code:
    code: str
    label: str
    label_en: str
    parent: str


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


@transaction.atomic
def sync_code_tables(directory: Path = CODES_DIR) -> dict[str, int]:
    """Upsert every table and item from the CSV files. Idempotent; items missing from a file are
    deactivated (never deleted, records may still hold their codes)."""
    counts: dict[str, int] = {}
    tables_file = directory / "tables.csv"
    if not tables_file.exists():
        return counts
    for row in _read_csv(tables_file):
        table, _ = CodeTable.objects.update_or_create(
            key=row["key"],
            defaults={
                "name": row["name"],
                "name_en": row.get("name_en", ""),
                "standard": row.get("standard", ""),
            },
        )
        rows = _read_csv(directory / f"{row['key']}.csv")
        existing = {item.code: item for item in CodeItem.objects.filter(table=table)}
        seen: set[str] = set()
        to_create: list[CodeItem] = []
        to_update: list[CodeItem] = []
        for sort, item_row in enumerate(rows):
            code = item_row["code"]
            seen.add(code)
            values = {
                "label": item_row["label"],
                "label_en": item_row.get("label_en", ""),
                "parent_code": item_row.get("parent", ""),
                "sort": sort,
                "active": True,
            }
            item = existing.get(code)
            if item is None:
                to_create.append(CodeItem(table=table, code=code, **values))
            elif any(getattr(item, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(item, k, v)
                to_update.append(item)
        CodeItem.objects.bulk_create(to_create)
        if to_update:
            CodeItem.objects.bulk_update(to_update, ["label", "label_en", "parent_code", "sort", "active"])
        CodeItem.objects.filter(table=table).exclude(code__in=seen).update(active=False)
        counts[table.key] = len(rows)
    code_table.cache_clear()
    return counts


def sync_code_tables_after_migrate(**kwargs: Any) -> None:
    sync_code_tables()


@lru_cache(maxsize=128)
def code_table(key: str) -> tuple[Code, ...]:
    items = CodeItem.objects.filter(table__key=key, active=True).order_by("sort", "code")
    return tuple(Code(i.code, i.label, i.label_en, i.parent_code) for i in items)


def _shown(item: Code) -> str:
    """The label in the page's language: the English one on English pages, when the table has it."""
    from django.utils.translation import get_language

    if item.label_en and (get_language() or "").startswith("en"):
        return item.label_en
    return item.label


def code_choices(key: str) -> list[tuple[str, str]]:
    return [(c.code, _shown(c)) for c in code_table(key)]


def code_label(key: str, code: str | None) -> str:
    if not code:
        return ""
    for item in code_table(key):
        if item.code == code:
            return _shown(item)
    return code


def code_resolve(key: str, value: str | int | None) -> str:
    """Return the code for ``value`` given as code or label (Chinese or English, case-insensitive).

    Raises UnknownCode for anything that is neither. Empty input returns "".
    """
    if value is None:
        return ""
    text = normalize_text(str(value))
    if text == "":
        return ""
    items = code_table(key)
    for item in items:
        if text == item.code:
            return item.code
    lowered = text.lower()
    for item in items:
        if text == item.label or lowered == item.label_en.lower():
            return item.code
    # numeric codes typed into Excel lose their leading zeros ("1" for "01")
    if text.isdigit():
        for item in items:
            if item.code.isdigit() and int(item.code) == int(text) and len(item.code) <= 3:
                return item.code
    raise UnknownCode(key, text)
