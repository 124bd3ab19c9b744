"""What the public sees of an event (the follow page, Open311):

- refused and closed events said the reason or note their handler typed, which may name people: they now
  say a fixed text (services.PUBLIC_NOTES);
- public-security risks (03), disputes (05) and public order near schools (0203) were listed by Open311's
  GET requests with where they happened: they are no longer public categories (services.DEFAULT_NOT_PUBLIC;
  the commander may make one public again on 办理规则)."""

from django.db import migrations

NOT_PUBLIC = ("03", "05", "0203")


def forward(apps, schema_editor):
    Event = apps.get_model("events", "Event")
    Event.objects.filter(status="refused").update(public_note="经核实，不予立案")
    Event.objects.filter(status="closed").update(public_note="已办结")
    Rule = apps.get_model("events", "EventCategoryRule")
    Rule.objects.filter(category__in=NOT_PUBLIC).update(public=False)
    existing = set(Rule.objects.filter(category__in=NOT_PUBLIC).values_list("category", flat=True))
    if Rule.objects.exists():  # a database whose rules are seeded (a new one is seeded after migrating)
        Rule.objects.bulk_create(
            [Rule(category=code, tier="ordinary", public=False) for code in NOT_PUBLIC if code not in existing]
        )


class Migration(migrations.Migration):
    dependencies = [("events", "0008_event_subject_school")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
