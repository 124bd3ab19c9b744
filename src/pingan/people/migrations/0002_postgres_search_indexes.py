"""PostgreSQL-only search indexes (nothing on SQLite): trigram GIN indexes for name and address infix
search, and a pattern-ops b-tree for name prefixes. pg_trgm cannot use its index for 1–2 character
queries (a trigram needs 3), so the short CJK query most people type — a surname, "张" or "张伟" — is
served as a prefix (``name LIKE '张%'``) by the b-tree, and an infix of 1–2 characters scans within the
user's scope (documented in docs/people.md). Re-runnable: IF NOT EXISTS everywhere."""

from typing import Any

from django.db import migrations, transaction

FORWARD = [
    "CREATE INDEX IF NOT EXISTS people_person_name_trgm ON people_person USING gin (name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS people_house_address_trgm ON people_house USING gin (address gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS people_person_name_prefix ON people_person (name varchar_pattern_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS people_person_name_trgm",
    "DROP INDEX IF EXISTS people_house_address_trgm",
    "DROP INDEX IF EXISTS people_person_name_prefix",
]


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # noqa: BLE001 — no privilege: keep the prefix index, skip trigram ones
        schema_editor.execute(FORWARD[2])
        return
    for sql in FORWARD:
        schema_editor.execute(sql)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in BACKWARD:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("people", "0001_persons_houses_households")]

    operations = [migrations.RunPython(forward, backward)]
