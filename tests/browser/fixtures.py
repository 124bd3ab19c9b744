"""Browser tests: Playwright driving Debian's chromium against pytest-django's live server.

Playwright's sync API runs an event loop in the test thread, which makes Django's async-safety check
refuse ORM calls made by the test itself; the test thread never serves requests, so allowing it is safe.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("PINGAN_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make browser-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser context; fails the test on console errors, failed requests and any request
    that leaves the live server."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    tab.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))

    def check_origin(request: Any) -> None:
        if not request.url.startswith((live_server.url, "data:", "blob:")):
            problems.append(f"external request: {request.url}")

    tab.on("request", check_origin)
    tab.base_url = live_server.url  # type: ignore[attr-defined]
    yield tab
    context.close()
    assert not problems, "\n".join(problems)


def login(page: Any, username: str, password: str) -> None:
    """Sign in through the login form, including the second step for users with TOTP (the code comes from
    the persona's authenticator, ``tests.factories.totp_now``; a required role without one enrols here)."""
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    if page.url.endswith("/accounts/login/verify/"):
        from pingan.accounts.models import User
        from tests.factories import totp_now

        page.fill("#id_code", totp_now(User.objects.get(username=username)))
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
    elif page.url.endswith("/accounts/login/enrol/"):
        import pyotp

        secret = page.locator("[data-totp-secret]").get_attribute("data-totp-secret")
        page.fill("#id_code", pyotp.TOTP(secret).now())
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        with page.expect_navigation():
            page.click("#pa-continue")  # past the recovery codes
        page.wait_for_load_state("networkidle")
