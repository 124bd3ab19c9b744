"""The session engine (SESSION_ENGINE): Django's database sessions whose idle expiry follows the
security policy instead of the fixed SESSION_COOKIE_AGE. The session is saved when it changes, and
LoginSecurityMiddleware changes it (the last activity) at most once a minute, moving its expiry
``idle_timeout_minutes`` ahead; a session left idle longer is not loaded any more. The cookie itself ends
with the browser (SESSION_EXPIRE_AT_BROWSER_CLOSE)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import DatabaseError


class SessionStore(DatabaseSessionStore):
    def get_session_cookie_age(self) -> int:
        from pingan.accounts.security import security_policy

        try:
            return security_policy().idle_seconds
        except DatabaseError:  # pragma: no cover — the policy table does not exist before migrate
            return int(settings.SESSION_COOKIE_AGE)
