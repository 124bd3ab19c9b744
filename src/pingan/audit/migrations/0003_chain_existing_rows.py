"""Chain the rows written before the hash chain existed, in id order. Re-runnable: only rows without a
seq are touched, appended after the last chained row."""

from django.db import migrations


def chain_existing(apps, schema_editor):
    from pingan.audit import chain

    AuditEvent = apps.get_model("audit", "AuditEvent")
    db = schema_editor.connection.alias
    events = AuditEvent.objects.using(db)
    last = events.filter(seq__isnull=False).order_by("-seq").values_list("seq", "row_hash").first()
    seq, prev = last if last else (0, chain.GENESIS)
    mac = chain._mac_function()
    pending = []
    for event in events.filter(seq__isnull=True).order_by("id").iterator(chunk_size=2000):
        seq += 1
        event.seq, event.prev_hash = seq, prev
        event.changes = chain.normalise_json(event.changes or {})
        event.source_ip = chain.normalise_ip(event.source_ip)
        values = [getattr(event, name) for name in chain.CHAIN_FIELDS]
        event.row_hash = prev = mac(chain.canonical(values))
        pending.append(event)
        if len(pending) >= 2000:
            events.bulk_update(pending, ["seq", "prev_hash", "row_hash", "changes", "source_ip"])
            pending = []
    if pending:
        events.bulk_update(pending, ["seq", "prev_hash", "row_hash", "changes", "source_ip"])


class Migration(migrations.Migration):

    dependencies = [("audit", "0002_chain_fields_kind_and_subject")]

    operations = [migrations.RunPython(chain_existing, migrations.RunPython.noop, elidable=False)]
