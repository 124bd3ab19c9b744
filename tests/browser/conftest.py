"""The browser fixtures live in tests/browser/fixtures.py, loaded once for the whole run as a plugin
(``-p tests.browser.fixtures`` in pyproject): one session-wide Playwright and chromium. Importing the
``browser`` fixture into a test module would start a second Playwright inside the first one's event loop."""

from tests.browser.fixtures import CHROMIUM, LAUNCH_ARGS, login

__all__ = ["CHROMIUM", "LAUNCH_ARGS", "login"]
