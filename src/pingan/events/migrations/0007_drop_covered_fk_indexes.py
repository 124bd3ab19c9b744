"""The events table's own indexes on area, owner, assignee_department and reporter are dropped: each key
leads a composite index (event_area_status, event_owner_status, event_dept_status, event_reporter) that
serves every lookup the single-column one did, and every insert and status change wrote both.

Only the indexes: AlterField would also drop and re-add the foreign keys, re-checking every row of a table
that holds years of events."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0001_initial"),
        ("events", "0006_queue_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="area",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="areas.area",
                        verbose_name="网格",
                    ),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="assignee_department",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="areas.department",
                        verbose_name="处置部门",
                    ),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="owner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="areas.area",
                        verbose_name="责任中心",
                    ),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="reporter",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="上报人",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {name}",
                    # the same names on SQLite and PostgreSQL (Django derives them from table and column)
                    reverse_sql=f"CREATE INDEX IF NOT EXISTS {name} ON events_event ({column})",
                )
                for name, column in (
                    ("events_event_area_id_53d9cc8c", "area_id"),
                    ("events_event_assignee_department_id_b1cd5b97", "assignee_department_id"),
                    ("events_event_owner_id_5ccc454a", "owner_id"),
                    ("events_event_reporter_id_11d34b04", "reporter_id"),
                )
            ],
        ),
    ]
