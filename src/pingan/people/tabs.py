"""Tabs of the person page (一人一档). Other modules add theirs from ``AppConfig.ready``::

    register_tab(PersonTab("correction", _("社区矫正"), "correction/_person_tab.html", context_for, order=50))

``context(user, person)`` returns the template context for the tab, or None to hide it (no permission,
nothing to show). It must read through the module's own scoped selectors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class PersonTab:
    key: str
    label: str | Promise
    template: str
    context: Callable[[Any, Any], dict[str, Any] | None]
    order: int = 100


_TABS: dict[str, PersonTab] = {}


def register_tab(tab: PersonTab) -> None:
    _TABS[tab.key] = tab


def tabs_for(user: Any, person: Any) -> list[dict[str, Any]]:
    shown = []
    for tab in sorted(_TABS.values(), key=lambda t: (t.order, t.key)):
        context = tab.context(user, person)
        if context is not None:
            shown.append({"key": tab.key, "label": tab.label, "template": tab.template, "context": context})
    return shown


# Sections of the house page, the same way (``context(user, house)``; None hides the section).
_HOUSE_SECTIONS: dict[str, PersonTab] = {}


def register_house_section(section: PersonTab) -> None:
    _HOUSE_SECTIONS[section.key] = section


def house_sections_for(user: Any, house: Any) -> list[dict[str, Any]]:
    shown = []
    for section in sorted(_HOUSE_SECTIONS.values(), key=lambda t: (t.order, t.key)):
        context = section.context(user, house)
        if context is not None:
            shown.append(
                {"key": section.key, "label": section.label, "template": section.template, "context": context}
            )
    return shown
