"""The 显示 control in a real browser: reason, htmx swap, audit, re-mask (sensitive.js), CSP intact."""

from __future__ import annotations

from typing import Any

import pytest

from pingan.audit.models import AuditEvent
from tests.browser.fixtures import login
from tests.factories import PASSWORD
from tests.testapp.models import Citizen

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.testapp.urls"),
]

ID = "120103199001011234"


def test_reveal_with_a_reason_then_hide(page: Any, tree: Any, community_a1: Any, settings: Any) -> None:
    settings.PINGAN_REVEAL_HIDE_SECONDS = 2
    citizen = Citizen.objects.create(area=tree.a1, name="张三明", id_number=ID, phone="13812345678")
    login(page, "community_a1", PASSWORD)
    page.goto(f"{page.base_url}/citizens/{citizen.pk}/")
    assert page.locator("#id-number .pa-sensitive-value").inner_text() == "120103********1234"
    assert ID not in page.content()

    page.click("#id-number .pa-reveal-toggle")
    reason = page.locator("#id-number input[name=reason]")
    reason.wait_for(state="visible")
    reason.fill("核实身份信息")
    page.click("#id-number button[type=submit]")
    page.locator("#id-number [data-sensitive-revealed]").wait_for()
    assert page.locator("#id-number .pa-sensitive-value").inner_text() == ID
    assert page.locator("#phone .pa-sensitive-value").inner_text() == "138****5678"  # only the one field
    event = AuditEvent.objects.get(action="access.reveal", outcome="success")
    assert event.reason == "核实身份信息" and event.changes == {"fields": ["id_number"]}

    page.click("#id-number [data-sensitive-hide]")
    assert page.locator("#id-number .pa-sensitive-value").inner_text() == "120103********1234"

    # the phone: revealed, then masked again by the timer
    page.click("#phone .pa-reveal-toggle")
    page.locator("#phone input[name=reason]").fill("电话回访群众")
    page.click("#phone button[type=submit]")
    page.locator("#phone [data-sensitive-revealed]").wait_for()
    assert page.locator("#phone .pa-sensitive-value").inner_text() == "13812345678"
    page.locator("#phone [data-sensitive-revealed]").wait_for(state="detached", timeout=5000)
    assert page.locator("#phone .pa-sensitive-value").inner_text() == "138****5678"


def test_a_short_reason_is_refused_in_place(page: Any, tree: Any, community_a1: Any) -> None:
    citizen = Citizen.objects.create(area=tree.a1, name="李四", id_number=ID)
    login(page, "community_a1", PASSWORD)
    page.goto(f"{page.base_url}/citizens/{citizen.pk}/")
    page.click("#id-number .pa-reveal-toggle")
    page.locator("#id-number input[name=reason]").fill("看看看看")
    page.evaluate("document.querySelector('#id-number input[name=reason]').value = '看'")  # past minlength
    page.evaluate("document.querySelector('#id-number input[name=reason]').removeAttribute('minlength')")
    page.click("#id-number button[type=submit]")
    page.locator("#id-number .invalid-feedback").wait_for()
    assert "请填写查看原因" in page.locator("#id-number .invalid-feedback").inner_text()
    assert ID not in page.content()
    assert not AuditEvent.objects.filter(action="access.reveal", outcome="success").exists()


def test_no_button_for_a_leader(page: Any, tree: Any, leader: Any) -> None:
    citizen = Citizen.objects.create(area=tree.a1, name="王五", id_number=ID)
    login(page, "leader", PASSWORD)
    page.goto(f"{page.base_url}/citizens/{citizen.pk}/")
    assert page.locator("#id-number .pa-sensitive-value").inner_text() == "120103********1234"
    assert page.locator("#id-number .pa-reveal-toggle").count() == 0
