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
    """The user's menu by section. One item is active: the one whose address is the longest start of the
    current path (on /people/households/3/ that is 户 at /people/households/, not 人员 at /people/)."""
    sections: dict[str, dict[str, Any]] = {}
    entries: list[tuple[str, dict[str, Any]]] = []
    for item in sorted(_REGISTRY, key=lambda i: i.order):
        if not item.visible(user):
            continue
        url = reverse(item.url_name)
        section = sections.setdefault(str(item.section), {"title": item.section, "items": []})
        entry = {"label": item.label, "url": url, "icon": item.icon, "active": False}
        section["items"].append(entry)
        entries.append((url, entry))
    matching = [
        (url, e) for url, e in entries if current_path == url or (url != "/" and current_path.startswith(url))
    ]
    if matching:
        max(matching, key=lambda m: len(m[0]))[1]["active"] = True
    return list(sections.values())


def perm(name: str) -> Callable[[Any], bool]:
    return lambda user: bool(user.has_perm(name))
