"""PostgreSQL-only: the people of a set of houses read from one index, without the table.

An address search finds the houses (trigram index), then the people living in them (``current_house_id``).
For a compound's name (1,500–2,000 houses, 6,000–8,000 people of a million) PostgreSQL walked the whole list
newest first until it had 101 of them: 30,000 rows, 9–14 ms. This index holds, per house, its people's ids
and every column the person list filters on (status, sealed, merged, grid), so the people of 1,584 houses
are 6,336 index entries read without touching the table (``Index Only Scan``, 2–3 ms;
``selectors.person_search_branches`` asks for them that way, docs/people.md "Search shapes"). It replaces the
foreign key's own index on ``current_house_id``, which it serves as well (its first column): a house's
residents, a house deleted. Nothing on SQLite. Re-runnable."""

from typing import Any

from django.db import migrations

INDEX = "people_person_house_cover"
FOREIGN_KEY_INDEX = "people_person_current_house_id_55db8a6e"  # Django's name for the key's index (0001)


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON people_person (current_house_id, id) "
        "INCLUDE (status, sealed, merged_into_id, area_id)"
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {FOREIGN_KEY_INDEX}")


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {FOREIGN_KEY_INDEX} ON people_person (current_house_id)")
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("people", "0009_postgres_area_name_grams")]

    operations = [migrations.RunPython(forward, backward)]
