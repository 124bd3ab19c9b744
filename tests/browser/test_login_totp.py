"""The system administrator's first login in a real browser: password, TOTP enrolment with the QR code,
the recovery codes; then later logins with a TOTP code and with a recovery code."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GENERIC = "用户名、密码或验证码不正确，或账号已被暂时锁定"


def submit_password(page: Any, username: str) -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def submit_code(page: Any, code: str) -> None:
    page.fill("#id_code", code)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def logout(page: Any) -> None:
    page.click("header .dropdown-toggle")
    with page.expect_navigation():
        page.click("text=退出登录")
    page.wait_for_load_state("networkidle")
    assert "/accounts/login/" in page.url


def test_sysadmin_enrols_and_signs_in_with_totp(page: Any, system_admin: Any, tmp_path: Any) -> None:
    # first login: the password, then enrolment (the role requires TOTP; the persona comes enrolled)
    from pingan.accounts.models import TotpDevice

    TotpDevice.objects.filter(user=system_admin).delete()
    submit_password(page, "system_admin")
    assert page.url.endswith("/accounts/login/enrol/")
    qr = page.locator("img[alt='动态口令二维码']")
    assert qr.is_visible()
    assert qr.get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert qr.evaluate("img => img.naturalWidth") > 0  # the browser decoded the SVG
    secret = page.locator("[data-totp-secret]").get_attribute("data-totp-secret")
    assert secret and len(secret) == 32
    page.screenshot(path=str(tmp_path / "enrol.png"), full_page=True)

    submit_code(page, "000000")
    assert page.url.endswith("/accounts/login/enrol/")
    assert "验证码不正确" in page.content()

    totp = pyotp.TOTP(secret)
    submit_code(page, totp.now())
    codes = [c.strip() for c in page.locator(".pa-recovery-codes code").all_inner_texts()]
    assert len(codes) == 10 and len(set(codes)) == 10
    with page.expect_navigation():
        page.click("#pa-continue")
    page.wait_for_load_state("networkidle")
    assert page.url.rstrip("/") == page.base_url
    assert page.get_by_role("link", name="用户与任职").is_visible()
    logout(page)

    # a later login asks for the code after the password; a wrong code gets the generic message
    submit_password(page, "system_admin")
    assert page.url.endswith("/accounts/login/verify/")
    submit_code(page, "123456")
    assert GENERIC in page.content()
    submit_code(page, totp.at(time.time() + 30))  # the next step (the current one was used at enrolment)
    assert page.url.rstrip("/") == page.base_url
    logout(page)

    # without the phone: a recovery code, once
    submit_password(page, "system_admin")
    submit_code(page, codes[0])
    assert page.url.rstrip("/") == page.base_url
    assert "还剩 9 个" in page.content()
    logout(page)
    submit_password(page, "system_admin")
    submit_code(page, codes[0])
    assert page.url.endswith("/accounts/login/verify/") and GENERIC in page.content()
