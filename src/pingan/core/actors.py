"""The operator at the server's command line (pingan import, demo, createadmin) acts as SYSTEM:
trusted with every permission, audited under the name "system"."""

from __future__ import annotations

from typing import Any


class SystemActor:
    username = "system"
    role = "system"
    pk = None
    is_active = True
    is_authenticated = False
    is_admin_role = True

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return True

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return "system"


SYSTEM = SystemActor()
