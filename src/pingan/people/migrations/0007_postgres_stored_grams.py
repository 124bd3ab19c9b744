"""PostgreSQL-only: the characters and character pairs of names and addresses stored as columns.

Migration 0005 indexed ``people_grams(…)`` as an expression: a search through that index rechecks each row
it reads by calling the function again, and the planner has no statistics on the expression's elements.
Stored generated columns (``name_grams`` on people, ``address_grams`` on houses) with GIN indexes replace
the expression indexes: the recheck compares stored arrays and ANALYZE keeps element statistics, so the
planner knows how common a character is (docs/benchmarks.md, "Person search"). The columns are not in the
Django models: PostgreSQL computes them on every insert and update, ``selectors.person_search_q`` reads them.
Adding them rewrites both tables (about 45 s for 1M people). Nothing on SQLite. Re-runnable."""

from typing import Any

from django.db import migrations

FORWARD = [
    "ALTER TABLE people_person ADD COLUMN IF NOT EXISTS name_grams text[] "
    "GENERATED ALWAYS AS (people_grams(name || ' ' || former_name)) STORED",
    "CREATE INDEX IF NOT EXISTS people_person_name_grams_stored ON people_person USING gin (name_grams)",
    "DROP INDEX IF EXISTS people_person_name_grams",
    "ALTER TABLE people_house ADD COLUMN IF NOT EXISTS address_grams text[] "
    "GENERATED ALWAYS AS (people_grams(address)) STORED",
    "CREATE INDEX IF NOT EXISTS people_house_address_grams_stored ON people_house USING gin (address_grams)",
    "DROP INDEX IF EXISTS people_house_address_grams",
    "ANALYZE people_person",
    "ANALYZE people_house",
]
BACKWARD = [
    "CREATE INDEX IF NOT EXISTS people_person_name_grams ON people_person "
    "USING gin (people_grams(name || ' ' || former_name))",
    "CREATE INDEX IF NOT EXISTS people_house_address_grams ON people_house USING gin (people_grams(address))",
    "ALTER TABLE people_person DROP COLUMN IF EXISTS name_grams",
    "ALTER TABLE people_house DROP COLUMN IF EXISTS address_grams",
]


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in FORWARD:
        schema_editor.execute(sql)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in BACKWARD:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("people", "0006_overseas_foreign_name_departure")]

    operations = [migrations.RunPython(forward, backward)]
