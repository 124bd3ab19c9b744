"""The left navigation. Each app registers its entries in its AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class NavItem:
    section: str | Promise
    label: str | Promise
    url_name: str
    icon: str
    visible: Callable[[Any], bool]
    order: int = 100


_REGISTRY: list[NavItem] = []


def register(item: NavItem) -> None:
    if all(existing.url_name != item.url_name for existing in _REGISTRY):
        _REGISTRY.append(item)


def nav_for(user: Any, current_path: str) -> list[dict[str, Any]]:
    sections: dict[str, dict[str, Any]] = {}
    for item in sorted(_REGISTRY, key=lambda i: i.order):
        if not item.visible(user):
            continue
        url = reverse(item.url_name)
        section = sections.setdefault(str(item.section), {"title": item.section, "items": []})
        active = current_path == url or (url != "/" and current_path.startswith(url))
        section["items"].append({"label": item.label, "url": url, "icon": item.icon, "active": active})
    return list(sections.values())


def perm(name: str) -> Callable[[Any], bool]:
    return lambda user: bool(user.has_perm(name))
