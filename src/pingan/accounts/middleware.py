"""Session rules of the security policy, checked on every request of a signed-in user:

- idle timeout and absolute lifetime (the login time is kept in the session): past either, the user is
  signed out (audited as ``auth.session_expired``) and LoginRequiredMiddleware sends them to the login page;
- an expired password: every page but the change-password page (and logout) redirects there.

Place it right after AuthenticationMiddleware.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from pingan.accounts import security
from pingan.audit.services import audit_record

EXPIRED_PASSWORD_ALLOWED = (
    "accounts:password_change",
    "accounts:logout",
    "set_language",
    "javascript_catalog",
)


class LoginSecurityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with security.policy_for_request() as policy:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and hasattr(request, "session"):
                self._session_rules(request, policy)
                if request.user.is_authenticated and security.password_expired(request.user, policy):
                    blocked = self._expired_password(request)
                    if blocked is not None:
                        return blocked
            return self.get_response(request)

    def _session_rules(self, request: HttpRequest, policy: security.SecurityPolicy) -> None:
        session = request.session
        now = timezone.now().timestamp()
        login_at = session.get(security.LOGIN_AT_KEY)
        last = session.get(security.LAST_ACTIVITY_KEY)
        reason = ""
        if login_at is None:
            session[security.LOGIN_AT_KEY] = now  # a session from before the lifetime was tracked
        elif now - float(login_at) > policy.lifetime_seconds:
            reason = "lifetime"
        if not reason and last is not None and now - float(last) > policy.idle_seconds:
            reason = "idle"
        if reason:
            audit_record(actor=request.user, action="auth.session_expired", changes={"reason": reason})
            logout(request)
            request.session[security.LOGOUT_REASON_KEY] = reason
            return
        if last is None or now - float(last) >= security.ACTIVITY_STEP_SECONDS:
            # at most once a minute: each write saves the session row (moving its expiry); a session is
            # saved when it changed, not on every request (SESSION_SAVE_EVERY_REQUEST is off)
            session[security.LAST_ACTIVITY_KEY] = now
            security.session_seen(request, now)

    def _expired_password(self, request: HttpRequest) -> HttpResponse | None:
        path = request.path
        if path.startswith((settings.STATIC_URL or "/static/", settings.MEDIA_URL or "/media/")):
            return None
        if any(path == reverse(name) for name in EXPIRED_PASSWORD_ALLOWED):
            return None
        if path.startswith("/api/"):
            return JsonResponse(
                {
                    "error": {
                        "code": "password_expired",
                        "message": "密码已过期，请先在网页上修改密码",
                        "details": [],
                    }
                },
                status=403,
            )
        return redirect("accounts:password_change")
