"""Sections that other modules add to a page they do not own (the person page's tabs, the house page's and
the school page's sections). A module registers from its ``AppConfig.ready``::

    SCHOOL_SECTIONS.register(Section("events", _("事件"), "events/_subject_events.html", context, order=40))

``context(user, obj)`` returns the template context of the section, or None to hide it (no permission,
nothing to show). It must read through the registering module's own scoped selectors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class Section:
    key: str
    label: str | Promise
    template: str
    context: Callable[[Any, Any], dict[str, Any] | None]
    order: int = 100


class SectionRegistry:
    """The sections of one page, by key (registering a key again replaces it)."""

    def __init__(self) -> None:
        self._sections: dict[str, Section] = {}

    def register(self, section: Section) -> None:
        self._sections[section.key] = section

    def shown(self, user: Any, obj: Any) -> list[dict[str, Any]]:
        """The sections the user sees on ``obj``'s page, in order, each with its context."""
        shown = []
        for section in sorted(self._sections.values(), key=lambda s: (s.order, s.key)):
            context = section.context(user, obj)
            if context is not None:
                shown.append(
                    {
                        "key": section.key,
                        "label": section.label,
                        "template": section.template,
                        "context": context,
                    }
                )
        return shown
