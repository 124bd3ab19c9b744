"""Tabs of the person page (一人一档) and sections of the house page. Other modules add theirs from
``AppConfig.ready`` (core.sections)::

    register_tab(PersonTab("correction", _("社区矫正"), "correction/_person_tab.html", context_for, order=50))

``context(user, person)`` returns the template context for the tab, or None to hide it (no permission,
nothing to show). It must read through the module's own scoped selectors."""

from __future__ import annotations

from typing import Any

from pingan.core.sections import Section, SectionRegistry

PersonTab = Section

_TABS = SectionRegistry()
# Sections of the house page, the same way (``context(user, house)``; None hides the section).
_HOUSE_SECTIONS = SectionRegistry()


def register_tab(tab: Section) -> None:
    _TABS.register(tab)


def tabs_for(user: Any, person: Any) -> list[dict[str, Any]]:
    return _TABS.shown(user, person)


def register_house_section(section: Section) -> None:
    _HOUSE_SECTIONS.register(section)


def house_sections_for(user: Any, house: Any) -> list[dict[str, Any]]:
    return _HOUSE_SECTIONS.shown(user, house)
