"""Rate limits (issue 3, "rate limits on login, token, search and export endpoints"): one helper
(``core.ratelimit``) for every kind; over the limit the API answers 429 with the documented error body and
``Retry-After``, pages answer 429 with a Chinese message page. Every search and export URL is limited."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from pingan.core import ratelimit
from tests.factories import PASSWORD, api_client_for

pytestmark = pytest.mark.django_db

BODY = {
    "error": {
        "code": "rate_limited",
        "message": "操作过于频繁，请稍后再试",
        "details": [{"field": None, "message": "请在 60 秒后重试", "retry_after": 60}],
    }
}


def assert_page_429(response: Any) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert response["Content-Type"].startswith("text/html")
    assert "操作过于频繁，请稍后再试" in response.content.decode()


def assert_api_429(response: Any) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert response.json() == BODY


# --- one helper -------------------------------------------------------------------------------------


def test_there_is_one_rate_limit_helper():
    from pingan.accounts import security

    assert not hasattr(security, "rate_limited")  # merged into core.ratelimit
    assert {"login", "token", "search", "export", "reveal"} <= set(ratelimit.LIMITS)
    assert ratelimit.LIMITS["login"].per == ratelimit.LIMITS["token"].per == "address"
    assert ratelimit.LIMITS["search"].per == ratelimit.LIMITS["export"].per == "user"


def test_limits_follow_the_settings(settings):
    settings.PINGAN_EXPORT_RATE_PER_MINUTE = 2
    assert ratelimit.LIMITS["export"].rate() == (2, 60)
    settings.PINGAN_REVEAL_RATE = "5/300"
    assert ratelimit.LIMITS["reveal"].rate() == (5, 300)
    settings.PINGAN_SEARCH_RATE_PER_MINUTE = 0  # 0 switches a limit off
    assert not any(ratelimit.hit("search", "u1", 0) for _ in range(100))


def _walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, str, Any]]:
    found = []
    for p in patterns:
        if isinstance(p, URLResolver):
            found += _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            found.append((prefix + str(p.pattern), p.name or "", p.callback))
    return found


def test_every_search_and_export_page_is_limited():
    """A new export or search page is covered without editing this test: its URL or name says what it is."""
    pages = [
        (route, name, view)
        for route, name, view in _walk(get_resolver().url_patterns)
        if not route.startswith("api/") and ("export" in route + name or "search" in route + name)
    ]
    assert len(pages) >= 5, pages
    pages = [p for p in pages if not getattr(p[2], "rate_limit_exempt", None)]  # 我的导出: the job list
    unlimited = [route for route, _name, view in pages if getattr(view, "rate_limit_bucket", None) is None]
    assert unlimited == []
    for route, _name, view in pages:
        assert view.rate_limit_bucket == ("export" if "export" in route else "search"), route


# --- login and token (per source address) ----------------------------------------------------------------


def test_login_page_says_so_in_chinese(street_a, settings):
    settings.LOGIN_RATE_PER_MINUTE = 2
    client = Client(REMOTE_ADDR="10.6.0.1")
    for _ in range(2):
        client.post("/accounts/login/", {"username": "nobody", "password": "x"})
    refused = client.post("/accounts/login/", {"username": "street_a", "password": PASSWORD})
    assert refused.status_code == 429 and "操作过于频繁，请稍后再试" in refused.content.decode()


def test_token_answers_the_error_body(leader, settings):
    settings.TOKEN_RATE_PER_MINUTE = 1
    client = Client(REMOTE_ADDR="10.6.0.2")
    payload = {"username": "leader", "password": PASSWORD}
    assert client.post("/api/v1/auth/token", payload, content_type="application/json").status_code == 200
    assert_api_429(client.post("/api/v1/auth/token", payload, content_type="application/json"))


# --- search (per user) --------------------------------------------------------------------------------


def test_global_search_page(community_a1, community_b1, settings):
    settings.PINGAN_SEARCH_RATE_PER_MINUTE = 2
    client = api_client_for(community_a1)
    for _ in range(2):
        assert client.get("/search/", {"q": "张"}).status_code == 200
    assert_page_429(client.get("/search/", {"q": "张"}))
    assert api_client_for(community_b1).get("/search/", {"q": "张"}).status_code == 200  # per user


def test_people_search_page_and_api(community_a1, settings):
    settings.PINGAN_SEARCH_RATE_PER_MINUTE = 2
    client = api_client_for(community_a1)
    for _ in range(5):  # browsing the list without a search term is not counted
        assert client.get("/people/").status_code == 200
        assert client.get("/api/v1/persons").status_code == 200
    assert client.get("/people/", {"q": "120103"}).status_code == 200
    assert client.get("/api/v1/persons", {"q": "120103"}).status_code == 200
    assert_page_429(client.get("/people/", {"q": "120103"}))
    assert_api_429(client.get("/api/v1/persons", {"q": "120103"}))
    assert_api_429(client.get("/api/v1/houses", {"q": "解放南路"}))


def test_subject_search_fragment(community_a1, settings):
    settings.PINGAN_SEARCH_RATE_PER_MINUTE = 1
    client = api_client_for(community_a1)
    assert client.get("/events/subjects/search/", {"q": "张"}).status_code == 200
    assert_page_429(client.get("/events/subjects/search/", {"q": "张"}))


# --- export (per user) ----------------------------------------------------------------------------------


def test_people_export(community_a1, settings):
    settings.PINGAN_EXPORT_RATE_PER_MINUTE = 1
    client = api_client_for(community_a1)
    assert client.get("/people/export/").status_code == 200
    assert_page_429(client.get("/people/export/"))


def test_audit_export(auditor, settings):
    settings.PINGAN_EXPORT_RATE_PER_MINUTE = 1
    client = api_client_for(auditor)
    assert client.post("/audit/export/").status_code == 200
    assert_page_429(client.post("/audit/export/"))


def test_holiday_and_figures_exports(district_admin, settings):
    settings.PINGAN_EXPORT_RATE_PER_MINUTE = 2
    client = api_client_for(district_admin)
    assert client.get("/calendar/holidays/export/").status_code == 200
    assert client.get("/events/figures/", {"format": "xlsx"}).status_code == 200
    assert client.get("/events/figures/").status_code == 200  # the page itself is not an export
    assert_page_429(client.get("/events/figures/", {"format": "xlsx"}))
    assert_page_429(client.get("/calendar/holidays/export/"))
