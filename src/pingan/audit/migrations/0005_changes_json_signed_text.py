"""``changes_json``: the changes exactly as the MAC covers them, so that PostgreSQL can rebuild the signed text
of a row by itself during ``pingan audit verify`` (jsonb rewrites the text it stores).

Existing rows get the canonical text of their changes. On PostgreSQL the append-only trigger is switched off
for the duration of this migration's own transaction (the migration runs as the table owner) and on again
before it commits."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def fill(apps, schema_editor):
    from pingan.audit import chain

    AuditEvent = apps.get_model("audit", "AuditEvent")
    db = schema_editor.connection.alias
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_append_only", params=None)
    pending = []
    for event in AuditEvent.objects.using(db).only("id", "changes").order_by("id").iterator(chunk_size=2000):
        event.changes_json = chain.encode_changes(event.changes or {})
        pending.append(event)
        if len(pending) >= 2000:
            AuditEvent.objects.using(db).bulk_update(pending, ["changes_json"])
            pending = []
    if pending:
        AuditEvent.objects.using(db).bulk_update(pending, ["changes_json"])
    if postgres:
        schema_editor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_append_only", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0004_append_only_constraints_and_trigger"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="changes_json",
            field=models.TextField(blank=True, default="{}", editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="auditevent",
            name="actor",
            field=models.ForeignKey(
                blank=True, db_constraint=False, db_index=False, null=True,
                on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
