"""PostgreSQL-only: the characters and pairs of names indexed together with the person's grid.

A community's search for one character ("王") went through the GIN index of ``name_grams`` alone: it read
the character's whole posting list (89,000 people of a million: 13–16 ms) to keep the community's 850. With
the grid as a first column (``btree_gin``), the index answers "these grids and this character" together,
skipping through the posting list: 8 ms, 23–29 → 14–17 ms p95 for the page (docs/benchmarks.md, "Person
search"). A district-wide search uses the same index through its second column, so it replaces the
index of 0007 (one GIN index to maintain on every write, not two). Where ``btree_gin`` cannot be created
(no privilege) the index of 0007 stays. Pending list under 64 kB as in 0008. Nothing on SQLite.
Re-runnable."""

from typing import Any

from django.db import migrations, transaction

INDEX = "people_person_area_name_grams"


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    except Exception:  # noqa: BLE001 — no privilege: keep the index of 0007
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON people_person USING gin (area_id, name_grams) "
        "WITH (gin_pending_list_limit = 64)"
    )
    schema_editor.execute("DROP INDEX IF EXISTS people_person_name_grams_stored")


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS people_person_name_grams_stored ON people_person USING gin (name_grams) "
        "WITH (gin_pending_list_limit = 64)"
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("people", "0008_postgres_search_tuning")]

    operations = [migrations.RunPython(forward, backward)]
