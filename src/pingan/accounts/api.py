from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from pingan.accounts import security, services
from pingan.accounts.models import LoginAttempt
from pingan.accounts.selectors import user_scope
from pingan.audit.models import Outcome
from pingan.audit.services import audit_record
from pingan.core import ratelimit
from pingan.core.api import ERROR_RESPONSES, error_response

router = Router(tags=["auth 认证"])


class TokenIn(Schema):
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=256)
    otp: str | None = Field(None, max_length=20, description="动态口令（已绑定或岗位要求动态口令的用户必填）")


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"  # noqa: S105 — the scheme name
    expires_at: str


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    role: str
    role_label: str
    scope_all: bool
    scope_codes: list[str]


@router.post("/token", auth=None, response={200: TokenOut, **ERROR_RESPONSES})
def issue_token(request: HttpRequest, payload: TokenIn) -> Any:
    """Exchange a username, password and (for users with a second factor) a TOTP code for an expiring
    bearer token. Locked accounts and source addresses are refused like wrong credentials."""
    from pingan.config.api import api

    ratelimit.check(request, "token")  # per source address, TOKEN_RATE_PER_MINUTE: 429 rate_limited
    kind = LoginAttempt.Kind.TOKEN
    check = security.check_password_step(
        request=request, username=payload.username, password=payload.password, kind=kind
    )
    user = check.user
    second_factor = "none"
    if user is not None and (security.totp_device(user) is not None or security.totp_required(user)):
        # A user who must use TOTP but has not enrolled yet enrols in the browser first.
        if not payload.otp or security.second_factor_verify(user, payload.otp, allow_recovery=False) is None:
            security.second_factor_failed(request=request, user=user, kind=kind)
            user = None
        second_factor = "totp"
    if user is None:
        return error_response(api, request, 401, "invalid_credentials", str(security.GENERIC_LOGIN_ERROR))
    if security.password_expired(user):
        audit_record(
            actor=user,
            action="auth.token_failed",
            outcome=Outcome.DENIED,
            changes={"reason": "password_expired"},
        )
        return error_response(api, request, 401, "password_expired", "密码已过期，请先在网页上修改密码")
    security.login_succeeded(request=request, user=user, second_factor=second_factor, kind=kind)
    key, token = services.token_issue(user=user)
    return {"token": key, "expires_at": token.expires_at.isoformat()}


@router.delete("/token", response={204: None, **ERROR_RESPONSES})
def revoke_token(request: HttpRequest) -> Any:
    """Revoke the bearer token used for this request."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        services.token_revoke(user=request.user, key=header.split(" ", 1)[1].strip())  # type: ignore[arg-type]
    return 204, None


@router.get("/me", response={200: MeOut, **ERROR_RESPONSES})
def me(request: HttpRequest) -> Any:
    user: Any = request.user
    scope = user_scope(user)
    return {
        "id": user.pk,
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "role_label": user.get_role_display_safe(),
        "scope_all": scope.everything,
        "scope_codes": list(scope.root_codes),
    }
