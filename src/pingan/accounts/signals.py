"""Session bookkeeping on Django's login and logout signals (every login path, the test client's too)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    from pingan.accounts.security import session_started

    if request is not None:
        session_started(request, user)


def on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    from pingan.accounts.security import session_ended

    session = getattr(request, "session", None)
    if session is not None:
        session_ended(session.session_key)
