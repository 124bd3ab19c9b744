"""``pingan open311-key create NAME`` (prints the key once), ``revoke NAME``, ``list``: the api_keys of the
citizens' applications that post through Open311 GeoReport v2. Run as the command-line operator (SYSTEM),
audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pingan.core.actors import SYSTEM


class Command(BaseCommand):
    help = "Open311 api_keys: create NAME | revoke NAME | list"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create", "revoke", "list"])
        parser.add_argument("name", nargs="?", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        from pingan.events.models import Open311Client
        from pingan.events.services import open311_key_create, open311_key_revoke

        action, name = options["action"], options["name"]
        if action == "list":
            for client in Open311Client.objects.order_by("name"):
                state = "active" if client.active else f"revoked {client.revoked_at:%Y-%m-%d}"
                self.stdout.write(f"{client.name}\t{client.key_prefix}…\t{state}")
            return
        if not name:
            raise CommandError("NAME is required")
        if action == "create":
            try:
                _client, key = open311_key_create(actor=SYSTEM, name=name)
            except ValidationError as exc:
                raise CommandError("；".join(exc.messages)) from None
            self.stdout.write(key)
            return
        found = Open311Client.objects.filter(name=name).first()
        if found is None:
            raise CommandError(f"没有名为 {name} 的 Open311 密钥")
        open311_key_revoke(actor=SYSTEM, client_id=found.pk)
        self.stdout.write(f"revoked {name}")
