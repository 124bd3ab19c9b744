from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

FOCUS_SESSION_KEY = "pingan_focus_area"


class ScopeFocusMiddleware:
    """The scope switcher: a user may narrow their view to one node of their scope. The chosen
    code rides on the user object, where accounts.selectors.user_scope picks it up."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            code = request.session.get(FOCUS_SESSION_KEY)
            if code:
                user.focus_area_code = code
        return self.get_response(request)


class NoStoreForAuthenticatedMiddleware:
    """Pages shown to a signed-in user may hold personal data: never cached by browser or proxy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith("/static/"):
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
        return response


class LanguageMiddleware:
    """Chinese first: the interface language is zh-hans unless the user chose another one (the
    language cookie set by /i18n/setlang/). The browser's Accept-Language is deliberately ignored:
    an intranet PC with an English-locale browser still gets the Chinese interface."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary = response.headers.get("Vary", "")
        if "Cookie" not in patch_vary:
            response.headers["Vary"] = f"{patch_vary}, Cookie" if patch_vary else "Cookie"
        translation.deactivate()
        return response


class RateLimitedMiddleware:
    """Pages over a rate limit (``core.ratelimit.RateLimited`` raised by ``@rate_limit``) answer 429 with
    a page saying so; the API answers its own error body (``core.api``) before this sees anything."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from pingan.core.ratelimit import RateLimited, page_response

        if isinstance(exception, RateLimited):
            return page_response(request, exception)
        return None
