from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from pingan.core.navigation import nav_for


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"pingan_env": settings.PINGAN_ENV}
    from pingan.accounts.selectors import membership_areas

    focus = getattr(user, "focus_area_code", None)
    return {
        "pingan_env": settings.PINGAN_ENV,
        "nav_sections": nav_for(user, request.path),
        "scope_areas": list(membership_areas(user)) if not user.is_admin_role else [],
        "scope_focus": focus,
    }
