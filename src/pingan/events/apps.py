from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "pingan.events"
    label = "events"
    verbose_name = _("网格事件")

    def ready(self) -> None:
        from pingan.events.services import seed_category_rules

        post_migrate.connect(seed_category_rules, sender=self, dispatch_uid="pingan_events_seed_rules")

        from pingan.core.sensitive import register_sensitive
        from pingan.events.models import Event

        def select(user: object, pk: object) -> Event:
            from pingan.events.selectors import event_get

            return event_get(user=user, event_id=int(str(pk)))

        register_sensitive(
            Event, fields={"reporter_name": "name", "reporter_phone": "phone"}, selector=select
        )
