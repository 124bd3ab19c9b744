"""The foundation as a user meets it: log in, see the home page with real figures, switch language."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_home_figures_and_language_switch(page: Any, street_a: Any, tree: Any) -> None:
    login(page, street_a.username, PASSWORD)
    assert page.url.rstrip("/") == page.base_url
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    # street A holds 2 communities and 3 grids in the test tree: the figures are counted, not typed
    figures = {
        page.locator(".pa-figure-label").nth(i).inner_text(): page.locator(".pa-figure-value")
        .nth(i)
        .inner_text()
        for i in range(page.locator(".pa-figure").count())
    }
    assert figures["街道"] == "1"
    assert figures["社区"] == str(tree.street_a.children.count())
    assert page.get_by_role("link", name="辖区网格").is_visible()

    with page.expect_navigation():
        page.select_option("#pa-lang", "en")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Areas and grids").is_visible()
    assert page.locator(".pa-figure-label").get_by_text("Communities", exact=True).count() == 1

    with page.expect_navigation():
        page.select_option("#pa-lang", "zh-hans")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("link", name="辖区网格").is_visible()


def test_scope_switcher_narrows_the_figures(page: Any, district_admin: Any, tree: Any) -> None:
    login(page, district_admin.username, PASSWORD)
    assert page.locator(".pa-figure", has_text="街道").locator(".pa-figure-value").inner_text() == "2"
    with page.expect_navigation():
        page.select_option("#pa-scope", tree.street_a.code)
    page.wait_for_load_state("networkidle")
    assert page.locator(".pa-figure", has_text="街道").locator(".pa-figure-value").inner_text() == "1"
