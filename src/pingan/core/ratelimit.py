"""Rate limits: the one helper for every limited endpoint — login and token (per source address), search,
export and reveal (per user). A brake on guessing and harvesting, not a defence against a flood. Fixed
windows counted in the cache, shared by every process when ``REDIS_URL`` is set.

Each limit is a named bucket with a setting (``LIMITS``; modules add theirs with ``register_limit``)::

    @rate_limit("export")                       # a page or an API operation
    def person_export_view(request): ...

    @rate_limit("search", when=lambda request: bool(request.GET.get("q")))
    def person_list(request): ...

Over the limit the decorator raises ``RateLimited``: the API answers 429 with the error body ::

    {"error": {"code": "rate_limited", "message": "操作过于频繁，请稍后再试",
               "details": [{"field": null, "message": "请在 60 秒后重试", "retry_after": 60}]}}

(``core.api.install_error_handlers``), pages answer 429 with a page saying so in Chinese
(``core.middleware.RateLimitedMiddleware``); both send ``Retry-After``. Code that renders its own answer
(the login form) calls ``exceeded(request, "login")``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MESSAGE = gettext_lazy("操作过于频繁，请稍后再试")


@dataclass(frozen=True)
class Limit:
    """``setting`` names the Django setting holding the number of uses per ``window`` seconds (an int, or
    ``"N/S"`` for N uses per S seconds); ``per`` is "user" (the signed-in user, else the address) or
    "address" (always the source address: login and token, before anyone is signed in)."""

    setting: str
    default: int
    window: int = 60
    per: str = "user"

    def rate(self) -> tuple[int, int]:
        value = getattr(settings, self.setting, self.default)
        if isinstance(value, str) and "/" in value:
            count, _sep, window = value.partition("/")
            return int(count), int(window or self.window)
        return int(value), self.window


LIMITS: dict[str, Limit] = {
    "login": Limit("LOGIN_RATE_PER_MINUTE", 30, per="address"),
    "token": Limit("TOKEN_RATE_PER_MINUTE", 20, per="address"),
    "search": Limit("PINGAN_SEARCH_RATE_PER_MINUTE", 60),
    "export": Limit("PINGAN_EXPORT_RATE_PER_MINUTE", 10),
    "reveal": Limit("PINGAN_REVEAL_RATE", 60, window=600),
}


def register_limit(bucket: str, limit: Limit) -> None:
    """A module's own bucket (``AppConfig.ready``)."""
    LIMITS[bucket] = limit


class RateLimited(Exception):
    """Raised by ``check``/``rate_limit`` over the limit; answered 429 (API error body or a page)."""

    def __init__(self, bucket: str = "", retry_after: int = 60, message: str | None = None) -> None:
        self.bucket = bucket
        self.retry_after = retry_after
        self.message = message or str(MESSAGE)
        super().__init__(self.message)


def clock() -> float:
    """The time the windows are counted in (the test suite holds it still for the length of a test)."""
    return time.time()


def hit(bucket: str, key: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one use of ``bucket`` by ``key``; True when the limit for this window is exceeded."""
    if limit <= 0:
        return False
    window = int(clock() // window_seconds)
    cache_key = f"pingan:rl:{bucket}:{key}:{window}"
    cache.add(cache_key, 0, timeout=window_seconds + 30)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window_seconds + 30)
        count = 1
    return count > limit


def address_key(request: HttpRequest) -> str:
    from pingan.audit.context import client_ip

    return f"ip{client_ip(request) or 'unknown'}"


def client_key(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return f"u{user.pk}"
    return address_key(request)


def _limit(bucket: str) -> Limit:
    try:
        return LIMITS[bucket]
    except KeyError:
        raise ImproperlyConfiguredBucket(bucket) from None


class ImproperlyConfiguredBucket(LookupError):
    pass


def exceeded(request: HttpRequest | None, bucket: str, *, user: Any = None) -> bool:
    """Count one use of ``bucket`` (by ``user``, else by the request's user or address); True when over
    the limit."""
    limit = _limit(bucket)
    count, window = limit.rate()
    if user is not None:
        key = f"u{user.pk}"
    elif request is None:
        raise ValueError("exceeded() needs a request or a user")
    else:
        key = address_key(request) if limit.per == "address" else client_key(request)
    return hit(bucket, key, count, window)


def check(request: HttpRequest | None, bucket: str, *, user: Any = None) -> None:
    """Count one use; raise ``RateLimited`` when over the limit."""
    if exceeded(request, bucket, user=user):
        raise RateLimited(bucket, retry_after=_limit(bucket).rate()[1])


def rate_limit(
    bucket: str,
    *,
    when: Callable[[HttpRequest], bool] | None = None,
    setting: str | None = None,
    default: int | None = None,
) -> Callable[[Any], Any]:
    """Decorate a page view or an API operation: each call (for which ``when(request)`` holds, when given)
    counts one use of ``bucket``; over the limit, ``RateLimited`` (429). ``setting``/``default`` declare
    the bucket on the spot (else it must be in ``LIMITS``)."""
    if setting is not None:
        register_limit(bucket, Limit(setting, default if default is not None else 60))
    _limit(bucket)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if when is None or when(request):
                check(request, bucket)
            return view(request, *args, **kwargs)

        wrapper.rate_limit_bucket = bucket  # type: ignore[attr-defined]
        return wrapper

    return decorate


def page_response(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    """The 429 page (Chinese message, ``Retry-After``)."""
    response = render(
        request,
        "core/rate_limited.html",
        {"message": exc.message, "retry_after": exc.retry_after},
        status=429,
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


def api_details(exc: RateLimited) -> list[dict[str, Any]]:
    """The error body's details (``core.api.ErrorDetail``: field, message; plus the seconds to wait)."""
    return [
        {
            "field": None,
            "message": _("请在 %(n)d 秒后重试") % {"n": exc.retry_after},
            "retry_after": exc.retry_after,
        }
    ]


__all__ = [
    "LIMITS",
    "Limit",
    "RateLimited",
    "address_key",
    "check",
    "client_key",
    "exceeded",
    "hit",
    "page_response",
    "rate_limit",
    "register_limit",
]
