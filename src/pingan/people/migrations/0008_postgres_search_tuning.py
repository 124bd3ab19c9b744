"""PostgreSQL-only: the search indexes' pending lists kept short, and finer statistics on pinyin and initials.

- ``gin_pending_list_limit`` = 64 kB on the GIN search indexes. A GIN index takes new rows into an unsorted
  *pending list* (up to 4 MB by default) and merges them into the index later (at VACUUM, or when the list
  is full); every search through the index reads the whole list first. After seeding a million people the
  name indexes held 350 pending pages (22,000–100,000 entries each) and every search paid 4–9 ms for them:
  a name search that finds nothing took 6.3 ms, 0.04 ms once merged. At 64 kB the list is merged every few
  hundred new people (a 100,000-row import took as long: docs/benchmarks.md, "Person search").
- Statistics target 1,000 (default 100) on ``name_pinyin`` and ``name_initials``: with 8,000 different
  initials among a million people the default histogram estimated "wxz%" at 7,476 people (303 in fact),
  and the planner walked the whole list in its order looking for them (400 ms instead of 3).

Nothing on SQLite. Re-runnable."""

from typing import Any

from django.db import migrations

GIN_INDEXES = (
    "people_person_name_grams_stored",
    "people_person_name_trgm",
    "people_person_former_name_trgm",
    "people_house_address_trgm",
    "people_house_address_grams_stored",
)
FINE_STATISTICS = ("name_pinyin", "name_initials")


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in GIN_INDEXES:  # the trigram indexes exist only where pg_trgm could be created (0002)
        schema_editor.execute(f"ALTER INDEX IF EXISTS {index} SET (gin_pending_list_limit = 64)")
    for column in FINE_STATISTICS:
        schema_editor.execute(f"ALTER TABLE people_person ALTER COLUMN {column} SET STATISTICS 1000")
    schema_editor.execute("ANALYZE people_person")


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in GIN_INDEXES:
        schema_editor.execute(f"ALTER INDEX IF EXISTS {index} RESET (gin_pending_list_limit)")
    for column in FINE_STATISTICS:
        schema_editor.execute(f"ALTER TABLE people_person ALTER COLUMN {column} SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [("people", "0007_postgres_stored_grams")]

    operations = [migrations.RunPython(forward, backward)]
