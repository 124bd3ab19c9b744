"""In the browser: the assistance (correction) officer of community A1 registers a correction client (already
reported), records a check-in and files a leave request; the judicial office (司法所) serving street A
approves it from the leave list. Issue 6: only these roles (and leaders, read-only) see clients."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from pingan.audit.models import AuditEvent
from pingan.correction.models import CorrectionClient, LeaveRequest
from tests.browser.conftest import login
from tests.correction.conftest import make_id
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_checkin_leave_and_judicial_office_approval(
    page: Any, browser: Any, live_server: Any, officer_a1: Any, judicial_a: Any, tree: Any
) -> None:
    from pingan.core.codes import sync_code_tables

    sync_code_tables()  # transactional tests flush the tables the migration filled
    today = timezone.localdate()
    login(page, officer_a1.username, PASSWORD)  # with TOTP (assistance officers must)
    page.goto(page.base_url + "/correction/")
    page.get_by_role("link", name="登记矫正对象").click()
    page.wait_for_load_state("networkidle")
    page.select_option("#id_area", str(tree.a1_1.pk))
    page.fill("#id_name", "浏览矫正")
    page.fill("#id_id_number", make_id(61))
    page.fill("#id_number", "JZ-BR-0001")
    page.select_option("#id_category", "2")
    page.fill("#id_offence", "危险驾驶罪")
    page.fill("#id_start_date", str(today - dt.timedelta(days=3)))
    page.fill("#id_end_date", str(today + dt.timedelta(days=180)))
    page.fill("#id_authority", "天津市河西区人民法院")
    page.fill("#id_judgment_effective_date", str(today - dt.timedelta(days=3)))
    page.fill("#id_reported_on", str(today - dt.timedelta(days=1)))
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    page.wait_for_load_state("networkidle")
    client = CorrectionClient.objects.get(number="JZ-BR-0001")
    assert page.url.endswith(f"/correction/{client.pk}/")
    assert client.status == "active" and client.person.name == "浏览矫正"
    assert "浏览矫正" not in page.content()  # the name is masked on the page

    page.get_by_role("tab", name="报告与走访").click()
    tab = page.locator("#pa-tab-checkins")
    tab.get_by_label("报告方式").select_option(index=0)
    tab.get_by_label("报告内容").fill("电话报告近期工作情况")
    with page.expect_navigation():
        tab.get_by_role("button", name="登记报告").click()
    page.wait_for_load_state("networkidle")
    assert client.checkins.count() == 1
    page.get_by_role("tab", name="报告与走访").click()
    assert page.locator("#pa-tab-checkins table").get_by_text("电话报告近期工作情况").is_visible()

    page.get_by_role("tab", name="请假外出").click()
    tab = page.locator("#pa-tab-leaves")
    tab.get_by_label("目的地").fill("天津市南开区")
    tab.get_by_label("起始日期").fill(str(today + dt.timedelta(days=2)))
    tab.get_by_label("结束日期").fill(str(today + dt.timedelta(days=3)))
    tab.get_by_label("事由").fill("探望住院亲属")
    with page.expect_navigation():
        tab.get_by_role("button", name="提交申请").click()
    page.wait_for_load_state("networkidle")
    leave = LeaveRequest.objects.get(client=client)
    assert leave.status == "pending" and leave.destination == "天津市南开区"

    # the judicial office approves it from the leave list, in its own browser context
    context = browser.new_context(locale="zh-CN")
    try:
        office = context.new_page()
        office.base_url = live_server.url
        login(office, judicial_a.username, PASSWORD)
        office.goto(live_server.url + "/correction/leaves/")
        office.wait_for_load_state("networkidle")
        row = office.locator("tr", has_text="JZ-BR-0001")
        row.get_by_label("审批意见").fill("同意，按时销假")
        with office.expect_navigation():
            row.get_by_role("button", name="批准", exact=True).click()
        office.wait_for_load_state("networkidle")
        assert "已处理" in office.content()
    finally:
        context.close()
    leave.refresh_from_db()
    assert leave.status == "approved" and leave.decision_note == "同意，按时销假"
    assert AuditEvent.objects.filter(actor=judicial_a, object_id=str(leave.pk)).exists()
