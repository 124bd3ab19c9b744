"""The menu marks one item as the current page: the longest address the path starts with."""

from __future__ import annotations

import pytest

from pingan.core.navigation import nav_for
from tests.factories import api_client_for

pytestmark = pytest.mark.django_db


def _active(user, path):
    return [i["url"] for s in nav_for(user, path) for i in s["items"] if i["active"]]


@pytest.mark.parametrize(
    ("path", "active"),
    [
        ("/people/", ["/people/"]),
        ("/people/12/", ["/people/"]),
        ("/people/households/", ["/people/households/"]),
        ("/people/households/3/", ["/people/households/"]),
        ("/people/houses/5/", ["/people/houses/"]),
        ("/", ["/"]),
        ("/nowhere/", []),
    ],
)
def test_one_item_is_active(tree, community_a1, path, active):
    assert _active(community_a1, path) == active


def test_the_page_marks_one_current_item(tree, community_a1):
    html = api_client_for(community_a1).get("/people/households/").content.decode()
    assert html.count('aria-current="page"') == 1
