"""Per-user rate limits for endpoints that hand out personal data (search, export, reveal): a brake on
harvesting, not a defence against a flood (the login and token limits in accounts.security count per
address). Fixed windows in the cache, shared by every process when ``REDIS_URL`` is set.

    @rate_limit("export", setting="PINGAN_EXPORT_RATE_PER_MINUTE", default=10)
    def citizen_export_view(request): ...
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def hit(bucket: str, key: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one use of ``bucket`` by ``key``; True when the limit for this window is exceeded."""
    if limit <= 0:
        return False
    window = int(time.time() // window_seconds)
    cache_key = f"pingan:rl:{bucket}:{key}:{window}"
    cache.add(cache_key, 0, timeout=window_seconds + 30)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window_seconds + 30)
        count = 1
    return count > limit


def client_key(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return f"u{user.pk}"
    return f"ip{request.META.get('REMOTE_ADDR', '')}"


def rate_limit(bucket: str, *, setting: str, default: int) -> Callable[[Any], Any]:
    """Answer 429 (a page saying so) once the signed-in user passed ``settings.<setting>`` (default
    ``default``) requests per minute to this view."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            limit = int(getattr(settings, setting, default))
            if hit(bucket, client_key(request), limit):
                response = render(
                    request, "core/rate_limited.html", {"message": _("操作过于频繁，请稍后再试")}, status=429
                )
                response["Retry-After"] = "60"
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
