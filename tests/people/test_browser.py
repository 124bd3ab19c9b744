"""The roster import wizard in a real browser: template download, upload, preview with its errors and the
error report, 确认导入, the result."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from pingan.people.models import Person
from tests.browser.fixtures import login
from tests.factories import PASSWORD
from tests.people.test_import import good, xlsx

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_import_wizard_previews_reports_and_commits(page: Any, tree: Any, community_a1: Any) -> None:
    login(page, community_a1.username, PASSWORD)
    page.goto(page.base_url + "/people/import/")
    # the downloads are fetched with the page's session (a click on a download link ends as an aborted
    # navigation, which the page fixture counts as a failed request)
    template = page.request.get(
        page.base_url + page.get_by_role("link", name="下载导入模板").get_attribute("href")
    )
    assert template.ok and template.headers["content-type"] == XLSX and template.body()[:2] == b"PK"

    bad_check_digit = good(2, id="120103199001011230")
    roster = xlsx([good(1), bad_check_digit])
    page.set_input_files("input[type=file]", {"name": "roster.xlsx", "mimeType": XLSX, "buffer": roster})
    with page.expect_navigation():
        page.get_by_role("button", name="预览（不写入）").click()
    result = page.locator(".pa-card").filter(has_text="预览结果")
    expect(result).to_contain_text("新增 1")
    expect(result).to_contain_text("拒绝 1")
    expect(result).to_contain_text("校验位")
    assert not Person.objects.exists()  # a preview writes nothing
    link = page.get_by_role("link", name="下载错误报告（xlsx）").get_attribute("href")
    report = page.request.get(page.base_url + link)
    assert report.ok and report.headers["content-type"] == XLSX and report.body()[:2] == b"PK"

    with page.expect_navigation():
        page.get_by_role("button", name="确认导入").click()
    expect(page.locator(".pa-card").filter(has_text="导入结果")).to_contain_text("新增 1")
    assert list(Person.objects.values_list("name", flat=True)) == ["测试居民1"]
