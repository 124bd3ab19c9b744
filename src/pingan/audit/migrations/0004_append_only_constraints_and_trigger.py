"""The chain's invariants in the database, and on PostgreSQL a trigger that makes the table append-only.

The trigger refuses UPDATE and DELETE for every row and TRUNCATE for the table. The one exception is the
retention purge (``pingan audit purge``): a DELETE is admitted while the purging transaction has set
``pingan.audit_purge = 'on'`` and only for rows older than 180 days (the legal minimum, whatever the
settings say). TRUNCATE is admitted only where ``pingan.audit_allow_truncate = 'on'`` is set — the test
database sets it for Django's flush between transactional tests; production never does.

SQLite has no such trigger: there the application's refusal (models.AuditQuerySet) and the chain verification
are the protection.
"""

from django.db import migrations, models

TABLE = "audit_auditevent"

CREATE = f"""
CREATE OR REPLACE FUNCTION pingan_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('pingan.audit_purge', true) = 'on'
       AND OLD.occurred_at < now() - interval '180 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % of seq % refused', TG_OP, OLD.seq
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE OR REPLACE FUNCTION pingan_audit_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('pingan.audit_allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: TRUNCATE refused'
        USING ERRCODE = 'insufficient_privilege';
END
$$;

DROP TRIGGER IF EXISTS audit_append_only ON {TABLE};
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION pingan_audit_refuse_change();
DROP TRIGGER IF EXISTS audit_no_truncate ON {TABLE};
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION pingan_audit_refuse_truncate();
"""

DROP = f"""
DROP TRIGGER IF EXISTS audit_append_only ON {TABLE};
DROP TRIGGER IF EXISTS audit_no_truncate ON {TABLE};
DROP FUNCTION IF EXISTS pingan_audit_refuse_change();
DROP FUNCTION IF EXISTS pingan_audit_refuse_truncate();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):

    dependencies = [("audit", "0003_chain_existing_rows")]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(unique=True, verbose_name="序号"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["actor_username", "seq"], name="audit_actor_seq"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["kind", "occurred_at"], name="audit_kind_time"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["area_code", "seq"], name="audit_area_seq"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["subject_type", "subject_id"], name="audit_subject"),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(condition=models.Q(seq__gte=1), name="audit_seq_positive"),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(fields=["prev_hash"], name="audit_prev_hash_unique"),
        ),
        migrations.RunPython(create_trigger, drop_trigger, elidable=False),
    ]
