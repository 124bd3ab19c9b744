"""The step's event loses its own index: eventstep_event_at (event, at) serves every lookup by event. Only
the index is dropped; the foreign key stays as it is (AlterField would drop it and check the whole table
again)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0010_step_action_place"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="eventstep",
                    name="event",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="steps",
                        to="events.event",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "events_eventstep_event_id_8dbd7940"',
                    reverse_sql=(
                        'CREATE INDEX "events_eventstep_event_id_8dbd7940" ON "events_eventstep" ("event_id")'
                    ),
                ),
            ],
        ),
    ]
