"""PostgreSQL-only: four indexes of the person table that no query needs, each written by every import row.

- ``name_pinyin`` and ``name_initials``: Django builds two b-trees for a ``db_index`` text column on
  PostgreSQL, a plain one and one with ``varchar_pattern_ops``. The search asks for prefixes only
  (``startswith``: ``LIKE 'zhangs%'``), which the pattern-ops one serves in any collation; the plain ones
  served nothing.
- ``area_id``: the foreign key's own index; ``person_area_status`` (area, status) starts with it and serves
  every lookup it did (a grid's people, a grid deleted).
- ``sealed``: a b-tree on a flag that is false for nearly every row; the one query that wants sealed rows
  (the sealed records of a grant holder) reads them from a partial index of those rows only, which an import
  of unsealed people never writes.

A 100,000-row roster import wrote 19 indexes per row, now 16 (docs/benchmarks.md, "Resident roster import").
Nothing on SQLite, where these indexes cost little. Re-runnable."""

from typing import Any

from django.db import migrations

DROPPED = {  # Django's names (0001), and how to build them again
    "people_person_name_pinyin_4d35398e": "(name_pinyin)",
    "people_person_name_initials_a0be91d8": "(name_initials)",
    "people_person_area_id_8b8e1a89": "(area_id)",
    "people_person_sealed_29b0e975": "(sealed)",
}
SEALED_ROWS = "people_person_sealed_rows"


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {SEALED_ROWS} ON people_person (id) WHERE sealed")
    for name in DROPPED:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in DROPPED.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON people_person {columns}")
    schema_editor.execute(f"DROP INDEX IF EXISTS {SEALED_ROWS}")


class Migration(migrations.Migration):
    dependencies = [("people", "0010_postgres_house_residents_cover")]

    operations = [migrations.RunPython(forward, backward)]
