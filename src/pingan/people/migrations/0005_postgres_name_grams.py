"""PostgreSQL-only: 1–2 character infix search of names and house addresses through an index.

A trigram index cannot answer a 1–2 character infix (a trigram needs three characters), and the short
CJK query — a surname, a given name, "王伟" — is the most common one. ``people_grams(text)`` returns the
characters and character pairs of a text (immutable SQL function); GIN indexes on
``people_grams(name || ' ' || former_name)`` and ``people_grams(address)`` answer ``@> ARRAY[q]`` for any
1–2 character ``q`` (``selectors.person_search_q``). The function is declared expensive (COST 10000): else
the planner may prefer a scan that calls it on every row, which takes seconds at 1M people.
Nothing on SQLite (it scans: fine at its scale).
Re-runnable."""

from typing import Any

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION people_grams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$
  SELECT coalesce(array_agg(DISTINCT g), '{}'::text[]) FROM (
    SELECT substr(t, i, 1) AS g FROM generate_series(1, char_length(t)) AS i
    UNION ALL
    SELECT substr(t, i, 2) FROM generate_series(1, char_length(t) - 1) AS i
  ) AS grams
$$
"""
FORWARD = [
    "CREATE INDEX IF NOT EXISTS people_person_name_grams ON people_person "
    "USING gin (people_grams(name || ' ' || former_name))",
    "CREATE INDEX IF NOT EXISTS people_house_address_grams ON people_house USING gin (people_grams(address))",
]
BACKWARD = [
    "DROP INDEX IF EXISTS people_person_name_grams",
    "DROP INDEX IF EXISTS people_house_address_grams",
    "DROP FUNCTION IF EXISTS people_grams(text)",
]


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for sql in FORWARD:
        schema_editor.execute(sql)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in BACKWARD:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("people", "0004_postgres_order_and_former_name_indexes")]

    operations = [migrations.RunPython(forward, backward)]
