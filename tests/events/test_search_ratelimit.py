"""The event list's free-text search (page and API) counts against the per-user "search" rate limit
(core.ratelimit, PINGAN_SEARCH_RATE_PER_MINUTE), as the people list does; browsing without ``q`` does not."""

from __future__ import annotations

import pytest

from tests.factories import api_client_for

pytestmark = pytest.mark.django_db


def test_event_search_page_and_api_are_rate_limited(community_a1, community_b1, settings):
    settings.PINGAN_SEARCH_RATE_PER_MINUTE = 2
    client = api_client_for(community_a1)
    for _ in range(4):  # browsing the list without a search term is not counted
        assert client.get("/events/list/").status_code == 200
        assert client.get("/api/v1/events").status_code == 200
        assert client.get("/events/list/", {"q": "  "}).status_code == 200
    assert client.get("/events/list/", {"q": "张三"}).status_code == 200
    assert client.get("/api/v1/events", {"q": "解放南路"}).status_code == 200

    page = client.get("/events/list/", {"q": "张三"})
    assert page.status_code == 429 and page["Retry-After"] == "60"
    assert "操作过于频繁，请稍后再试" in page.content.decode()
    api = client.get("/api/v1/events", {"q": "张三"})
    assert api.status_code == 429 and api["Retry-After"] == "60"
    assert api.json()["error"]["code"] == "rate_limited"
    assert client.get("/events/list/").status_code == 200  # the list itself still answers

    other = api_client_for(community_b1)  # per user
    assert other.get("/events/list/", {"q": "张三"}).status_code == 200
    assert other.get("/api/v1/events", {"q": "张三"}).status_code == 200
