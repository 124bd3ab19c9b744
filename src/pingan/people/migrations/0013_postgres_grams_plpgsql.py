"""PostgreSQL-only: ``people_grams(text)`` in PL/pgSQL instead of SQL, three to four times cheaper per call.

PostgreSQL computes the stored generated columns ``name_grams`` (every person written) and ``address_grams``
(every house written) with this function (migrations 0005, 0007). The SQL version cannot be inlined (it
aggregates), so every call ran a small query: two ``generate_series``, a ``UNION ALL`` and a
``DISTINCT`` aggregate. Of a 100,000-row roster ``COPY`` it took about 0.6 s of the server's time on its
own (docs/benchmarks.md, "Resident roster import").

The new body returns the same elements: the characters of the text (``string_to_array(t, NULL)``) and
every pair of adjacent characters. It neither sorts nor removes repeats; nothing needs it to: the GIN
indexes keep each element once, the search asks ``name_grams @> ARRAY[q]``, and ANALYZE counts an element
once per row. The rows already stored keep their sorted arrays, which hold the same elements. Same
signature, volatility and cost (COST 10000: the planner must not prefer calling it per row). Re-runnable;
the reverse restores the SQL version."""

from typing import Any

from django.db import migrations

PLPGSQL = """
CREATE OR REPLACE FUNCTION people_grams(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$
DECLARE
  chars text[] := string_to_array(t, NULL);
  grams text[] := chars;
BEGIN
  FOR i IN 1 .. cardinality(chars) - 1 LOOP
    grams := grams || (chars[i] || chars[i + 1]);
  END LOOP;
  RETURN grams;
END
$$
"""
SQL = """
CREATE OR REPLACE FUNCTION people_grams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$
  SELECT coalesce(array_agg(DISTINCT g), '{}'::text[]) FROM (
    SELECT substr(t, i, 1) AS g FROM generate_series(1, char_length(t)) AS i
    UNION ALL
    SELECT substr(t, i, 2) FROM generate_series(1, char_length(t) - 1) AS i
  ) AS grams
$$
"""


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PLPGSQL)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SQL)


class Migration(migrations.Migration):
    dependencies = [("people", "0012_status_change_effective_on")]

    operations = [migrations.RunPython(forward, backward)]
