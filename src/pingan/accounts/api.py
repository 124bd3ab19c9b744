from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.http import HttpRequest
from ninja import Field, Router, Schema

from pingan.accounts import services
from pingan.accounts.selectors import user_scope
from pingan.audit.models import Outcome
from pingan.audit.services import audit_record
from pingan.core.api import ERROR_RESPONSES, error_response

router = Router(tags=["auth 认证"])


class TokenIn(Schema):
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=256)


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
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
    """Exchange a username and password for an expiring bearer token."""
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        audit_record(actor=None, action="auth.token_failed", outcome=Outcome.FAILURE,
                     actor_username=payload.username[:150])
        from pingan.config.api import api

        return error_response(api, request, 401, "invalid_credentials", "用户名或密码不正确")
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
