"""The notification's user loses its own index: notification_user_recent (user, -created_at) serves every
lookup by user. Only the index is dropped; the foreign key stays as it is (AlterField would drop it and check
the whole table again)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_notification_inbox"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "notifications_notification_user_id_b5e8c0ff"',
                    reverse_sql=(
                        'CREATE INDEX "notifications_notification_user_id_b5e8c0ff" '
                        'ON "notifications_notification" ("user_id")'
                    ),
                ),
            ],
        ),
    ]
