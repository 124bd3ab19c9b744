from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from pingan.core.navigation import nav_for


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"pingan_env": settings.PINGAN_ENV}
    from pingan.accounts.selectors import scope_switch_options

    focus = getattr(user, "focus_area_code", None)
    return {
        "pingan_env": settings.PINGAN_ENV,
        "nav_sections": nav_for(user, request.path),
        # the scope switcher offers what the switch view accepts: own nodes and one level below
        "scope_areas": scope_switch_options(user),
        "scope_focus": focus,
    }
