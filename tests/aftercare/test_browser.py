"""In the browser: an assistance officer registers a released person, records a visit and a one-off
hardship grant (issue 6, "a browser test of registering a released person, adding a visit and a grant")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from pingan.aftercare.models import AftercareCase, Aid, Visit
from tests.aftercare.conftest import make_id
from tests.browser.conftest import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_visit_and_grant(page: Any, officer_a1: Any, tree: Any) -> None:
    from pingan.core.codes import sync_code_tables

    sync_code_tables()  # transactional tests flush the tables the migration filled
    today = timezone.localdate()
    login(page, officer_a1.username, PASSWORD)
    page.goto(page.base_url + "/aftercare/")
    page.get_by_role("link", name="登记刑释人员").click()
    page.wait_for_load_state("networkidle")
    page.select_option("#id_area", str(tree.a1_1.pk))
    page.fill("#id_name", "测试浏览")
    page.fill("#id_id_number", make_id(801))
    page.select_option("#id_offence", "0502")
    page.fill("#id_release_date", str(today - dt.timedelta(days=3)))
    page.fill("#id_received_on", str(today))
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    page.wait_for_load_state("networkidle")
    case = AftercareCase.objects.get()
    assert page.url.endswith(f"/aftercare/{case.pk}/")
    assert "测**览" in page.locator("h1").inner_text() and case.status == "assisting"

    page.get_by_role("tab", name="走访").click()
    page.fill("#pa-vis-visited_on", str(today))
    page.fill("#pa-vis-visitors", "社区干部、民警")
    page.fill("#pa-vis-content", "上门了解就业意向，家属支持")
    page.fill("#pa-vis-next_visit_on", str(today + dt.timedelta(days=30)))
    with page.expect_navigation():
        page.locator("#pa-tab-visits").get_by_role("button", name="登记走访").click()
    page.wait_for_load_state("networkidle")
    assert "已登记走访" in page.content()
    assert page.locator("#pa-tab-visits table").get_by_text("上门了解就业意向").is_visible()
    assert Visit.objects.filter(case=case).count() == 1

    page.get_by_role("tab", name="帮扶救助").click()
    page.select_option("#pa-aid-kind", "hardship_grant")
    page.fill("#pa-aid-amount", "1800")
    page.fill("#pa-aid-approver", "司法所长")
    page.fill("#pa-aid-disbursed_on", str(today))
    with page.expect_navigation():
        page.locator("#pa-tab-aid").get_by_role("button", name="登记").click()
    page.wait_for_load_state("networkidle")
    assert "已登记帮扶" in page.content()
    assert page.locator("#pa-tab-aid table").get_by_text("1800.00").is_visible()
    assert Aid.objects.get().amount == Decimal("1800.00")
