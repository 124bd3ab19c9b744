"""PostgreSQL-only indexes for search at scale (nothing on SQLite):

- no b-tree on (name, id), the list's order, although it was tried (and is dropped here where an earlier
  version of this migration built it): with it the planner walks the whole name order looking for 50 rows
  that are both in a community's scope and match the query — seconds at 1M people — where the scope's index
  and a sort of the few matches take milliseconds (bench/bench_people_search.py);
- ``people_person_former_name_trgm``: a trigram index on the former name, so that the OR of name, former
  name and house (``selectors.person_search_q``) can be answered by a BitmapOr of indexes for queries of
  three characters or more (one unindexed branch would force a scan of the table).

Re-runnable (IF NOT EXISTS); the trigram index only where pg_trgm is installed (migration 0002)."""

from typing import Any

from django.db import migrations

DROP_ORDER = "DROP INDEX IF EXISTS people_person_name_order"
FORMER = (
    "CREATE INDEX IF NOT EXISTS people_person_former_name_trgm ON people_person "
    "USING gin (former_name gin_trgm_ops)"
)


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(DROP_ORDER)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        trgm = cursor.fetchone() is not None
    if trgm:
        schema_editor.execute(FORMER)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS people_person_former_name_trgm")


class Migration(migrations.Migration):
    dependencies = [("people", "0003_person_import_digest")]

    operations = [migrations.RunPython(forward, backward)]
