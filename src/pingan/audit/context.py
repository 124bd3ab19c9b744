"""Request facts (source IP, user agent) for audit rows written deep inside services."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class RequestInfo:
    ip: str | None = None
    user_agent: str = ""


# RequestInfo is a frozen dataclass: the shared default cannot be mutated.
current_request_info: ContextVar[RequestInfo] = ContextVar(
    "pingan_request_info",
    default=RequestInfo(),  # noqa: B039
)


def client_ip(request: HttpRequest) -> str | None:
    # Behind a reverse proxy, configure it to overwrite REMOTE_ADDR (we do not trust X-Forwarded-For).
    return request.META.get("REMOTE_ADDR") or None


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_request_info.set(
            RequestInfo(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:300])
        )
        try:
            return self.get_response(request)
        finally:
            current_request_info.reset(token)
