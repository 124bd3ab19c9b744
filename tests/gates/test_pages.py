"""Gate: the pages as each demo persona sees them (Playwright driving Debian's chromium).

For every demo persona (and the second community persona of the gates), signed in with a session made on
the server (no login form, no TOTP step), the gate visits the home page, every page of the persona's left
navigation (``core.navigation.nav_for``) and the object page linked from the first row of each of those
pages. On every page, at desktop (1366×768) and phone (390×844) width:

- no console error, no uncaught script error, no failed request, no answer ≥ 400, and no request that
  leaves the live server (nothing may leave 127.0.0.1);
- a screenshot under ``var/screenshots/<persona>/<page>-<width>.png`` (CI keeps them as artifacts);
- an accessibility check with axe-core (npm devDependency, injected only into the test browser) on the
  rules in ``AXE_RULES``: form fields with labels, one main landmark and content inside landmarks, colour
  contrast of the palette, page title, page language, names of buttons, links and images.

Pages are found from the navigation registry and the links on them: a new module's pages are visited as
soon as it registers its navigation entry.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import Resolver404, resolve

from tests.gates.conftest import COMMUNITY_B, FAST_HASHER, load_demo_district
from tests.gates.discovery import page_pattern_for
from tests.gates.summary import record

pytestmark = [pytest.mark.gates, pytest.mark.browser]

PERSONAS = [
    "commander",
    "leader",
    "street1",
    "community1",
    COMMUNITY_B[0],
    "grid1",
    "grid2",
    "police1",
    "handler1",
    "mediator1",
    "assist1",
    "hotline1",
    "sysadmin",
    "secadmin",
    "auditor",
]
# PINGAN_GATE_PERSONAS=community1,leader limits a local run to some personas (CI runs them all).
PERSONAS = [p for p in os.environ.get("PINGAN_GATE_PERSONAS", "").split(",") if p in PERSONAS] or PERSONAS
VIEWPORTS = {"desktop": (1366, 768), "phone": (390, 844)}
AXE_RULES = [
    "label",
    "landmark-one-main",
    "region",
    "color-contrast",
    "document-title",
    "html-has-lang",
    "button-name",
    "link-name",
    "image-alt",
]
AXE_JS = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
# After the load event: no htmx request in flight (pages that fetch parts after loading finish first).
HTMX_IDLE = "() => document.readyState === 'complete' && !document.querySelector('.htmx-request')"


@pytest.fixture(scope="module")
def cjk_fonts() -> None:
    """Chinese must render in the screenshots: Debian's fonts-noto-cjk (``make browser-deps``)."""
    try:
        found = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False).stdout  # noqa: S607
    except FileNotFoundError:
        found = ""
    if "CJK" not in found:
        pytest.fail("no CJK font: install Debian's fonts-noto-cjk (make browser-deps)")


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `npm ci` (axe-core is an npm devDependency)")
    return AXE_JS


def _session_cookie(base: str, username: str) -> dict[str, Any]:
    from pingan.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": base,
    }


def page_name(path: str) -> str:
    """A stable file name for a page: the URL name (``areas-detail``), not the id in it."""
    try:
        match = resolve(path)
    except Resolver404:
        return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
    name = match.view_name.replace(":", "-").replace("_", "-")
    return "home" if name == "core-home" else name


class Watch:
    """Everything wrong a page did while loading: console errors, script errors, failed or external
    requests, answers ≥ 400."""

    def __init__(self, tab: Any, origin: str) -> None:
        self.problems: list[str] = []
        self.origin = origin
        self.in_flight: set[Any] = set()
        tab.on("console", self._console)
        tab.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        tab.on("requestfailed", self._failed)
        tab.on("requestfinished", lambda request: self.in_flight.discard(request))
        tab.on("request", self._request)
        tab.on("response", self._response)

    def _failed(self, request: Any) -> None:
        self.in_flight.discard(request)
        # ERR_ABORTED: cancelled by the page itself (a newer map request, leaving the page), not a failure
        if "ERR_ABORTED" not in (request.failure or ""):
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def settle(self, tab: Any, timeout_ms: int = 5000) -> None:
        """Wait until the page has no request in flight (data fetched after loading, e.g. map layers)."""
        waited = 0
        while self.in_flight and waited < timeout_ms:
            tab.wait_for_timeout(50)
            waited += 50

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _request(self, request: Any) -> None:
        if not request.url.startswith((self.origin + "/", "data:", "blob:")):
            self.problems.append(f"external request: {request.url}")
        else:
            self.in_flight.add(request)

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"{response.status} for {response.url}")

    def take(self) -> list[str]:
        problems, self.problems = self.problems, []
        return problems


def run_axe(tab: Any, axe_script: Path) -> list[str]:
    if not tab.evaluate("typeof window.axe !== 'undefined'"):
        tab.add_script_tag(path=str(axe_script))
    result = tab.evaluate(
        """async (rules) => {
            const options = {runOnly: {type: 'rule', values: rules}, resultTypes: ['violations']};
            // bounded: a page that never lets axe finish is a finding, not a stalled gate
            const limit = new Promise((_, reject) =>
                setTimeout(() => reject(new Error('axe: no answer in 30 s')), 30000));
            const r = await Promise.race([axe.run(document, options), limit]);
            return r.violations.map(v => ({id: v.id, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + (n.failureSummary ? ' — ' +
                    n.failureSummary.replace(/\\s+/g, ' ') : ''))}));
        }""",
        AXE_RULES,
    )
    return [f"axe {v['id']} ({v['help']}): " + "; ".join(v["nodes"]) for v in result]


def navigable_pages(username: str) -> list[str]:
    """The home page and the persona's left navigation."""
    from pingan.accounts.models import User
    from pingan.core.navigation import nav_for

    user = User.objects.get(username=username)
    nav = ["/"] + [item["url"] for section in nav_for(user, "/") for item in section["items"]]
    return list(dict.fromkeys(nav))


def first_object_links(tab: Any, seen_patterns: set[str]) -> list[str]:
    """The first link in the page's main content to each kind of object page not seen yet."""
    links = []
    for href in tab.eval_on_selector_all("main a[href]", "els => els.map(e => e.getAttribute('href'))"):
        path = href.split("#")[0].split("?")[0]
        match = page_pattern_for(path) if path.startswith("/") else None
        if match and match[0].name not in seen_patterns:
            seen_patterns.add(match[0].name)
            links.append(path)
    return links


def visit_as(browser: Any, base: str, username: str, axe_script: Path) -> tuple[list[str], int]:
    """Every page the persona reaches, checked and photographed; (problems, pages visited)."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="zh-CN", bypass_csp=True, service_workers="block"
    )
    context.add_cookies([_session_cookie(base, username)])
    # nothing may leave the live server: such a request is aborted in the browser before any DNS lookup
    # or connection (and reported by Watch as an external request)
    context.route(re.compile(r"^(?!" + re.escape(base) + r"/)[a-z]+://"), lambda route: route.abort())
    tab = context.new_page()
    watch = Watch(tab, base)
    folder = SCREENSHOTS / username
    folder.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    navigable = navigable_pages(username)
    queue = list(navigable)
    seen_patterns: set[str] = set()
    visited: list[str] = []
    try:
        while queue:
            path = queue.pop(0)
            if path in visited:
                continue
            visited.append(path)
            name = page_name(path)
            # desktop first: load, check, axe, follow the first object links; then the same page at phone
            # width (the layout is responsive CSS: resizing is what a phone gets, without a second load)
            tab.set_viewport_size({"width": VIEWPORTS["desktop"][0], "height": VIEWPORTS["desktop"][1]})
            response = tab.goto(base + path, wait_until="load")
            tab.wait_for_function(HTMX_IDLE)
            watch.settle(tab)
            if response is None or response.status != 200:
                problems.append(f"{path}: answered {response.status if response else 'nothing'}")
            if tab.url.rstrip("/") != (base + path).rstrip("/"):
                problems.append(f"{path}: ended on {tab.url.removeprefix(base)}")
            problems += [f"{path}: {p}" for p in run_axe(tab, axe_script)]
            if path in navigable:  # one level: the object pages linked from the navigable pages
                queue += first_object_links(tab, seen_patterns)
            for width, height in VIEWPORTS.values():
                tab.set_viewport_size({"width": width, "height": height})
                watch.settle(tab)
                tab.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
            problems += [f"{path}: {p}" for p in watch.take()]
    finally:
        context.close()
    return problems, len(visited)


@pytest.fixture(scope="module")
def demo_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """The demo district committed to the test database and served by this module's own live server:
    loaded once per test process for all the personas (loading takes seconds), then flushed as a
    transactional test does. pytest-django's ``live_server`` would flush after every test."""
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=[FAST_HASHER]):
        load_demo_district()
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        try:
            yield server.url
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            call_command("flush", interactive=False, verbosity=0)


@pytest.mark.parametrize("username", PERSONAS)
def test_pages_as_the_persona_sees_them(
    username: str, demo_server: str, browser: Any, cjk_fonts: None, axe_script: Path
) -> None:
    problems, pages = visit_as(browser, demo_server, username, axe_script)
    detail = f"{len(VIEWPORTS)} widths, screenshots in var/screenshots/, axe rules: {', '.join(AXE_RULES)}"
    record("pages", username, {"pages": pages, "detail": detail})
    assert not problems, f"{username}: " + "\n".join(problems)
