"""The city administrator in a real browser: a city of 300 communities allocated for the year from a generated
sheet (home → download the template → fill it → upload → preview → confirm), and a post handed over at an
election (posts → find → hand over → confirm), each in a few clicks and seconds."""
import io
import time
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from fundapp.models import Community, FundYear, LedgerEntry, Post, Role

from .test_login_and_home import assert_no_horizontal_overflow, at_path, log_in

pytestmark = pytest.mark.browser

CITY = 300


def follow(page, locator):
    with page.expect_navigation() as navigation:
        locator.click()
    assert navigation.value is not None and navigation.value.status < 400, page.url
    return page


def test_a_city_of_300_is_allocated_from_a_sheet_in_a_few_clicks(live_server, org, page):
    Community.objects.bulk_create([Community(subdistrict=org.a if i % 2 else org.b, name=f"规模社区{i:03d}",
                                             code=f"s{i:03d}") for i in range(CITY - len(org.communities))])
    started = time.monotonic()
    log_in(page, live_server, org.city_admin.username)
    follow(page, page.get_by_role("link", name="下达年度经费"))
    expect(page).to_have_url(at_path(live_server, "/city/allocations/"))

    with page.expect_download() as download:
        page.get_by_role("link", name="下载金额表模板（.xlsx）").click()
    wb = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    ws = wb.active
    for row in range(3, ws.max_row + 1):
        ws.cell(row, 3).value = 200000
    sheet = io.BytesIO()
    wb.save(sheet)

    page.get_by_label("或上传金额表（.xlsx）").set_input_files(
        files=[{"name": "金额表.xlsx", "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": sheet.getvalue()}])
    follow(page, page.get_by_role("button", name="预览"))
    expect(page.locator("table.money tfoot")).to_contain_text("¥60,000,000.00")
    assert LedgerEntry.objects.count() == 0  # a preview books nothing
    assert_no_horizontal_overflow(page)

    follow(page, page.get_by_role("button", name="确认下达"))
    expect(page.locator("h1")).to_contain_text("年度经费已下达")
    year = timezone.localdate().year
    assert FundYear.objects.filter(year=year, allocated=Decimal("200000.00")).count() == CITY
    elapsed = time.monotonic() - started
    assert elapsed < 120, f"{elapsed:.0f} s"  # minutes of clicking in all, not days of typing

    # The same sheet again (a re-upload) allocates nothing more: the preview says every community is allocated.
    follow(page, page.get_by_role("link", name="下达年度经费"))
    page.get_by_label("或上传金额表（.xlsx）").set_input_files(
        files=[{"name": "金额表.xlsx", "mimeType": "application/octet-stream", "buffer": sheet.getvalue()}])
    follow(page, page.get_by_role("button", name="预览"))
    expect(page.get_by_text("没有需要拨款的社区")).to_be_visible()
    assert LedgerEntry.objects.count() == CITY


def test_a_post_is_handed_over_in_the_browser(live_server, org, page, make_user):
    successor = make_user("li-new", "李新")
    log_in(page, live_server, org.city_admin.username)
    follow(page, page.get_by_role("link", name="交接职务"))
    page.get_by_label("查找（姓名、用户名、社区或街道）").fill("a1-community_secretary")
    follow(page, page.get_by_role("button", name="查找"))
    follow(page, page.get_by_role("link", name="交接"))
    expect(page.get_by_text("目前没有等待该职务办理的事项。")).to_be_visible()
    page.get_by_label("接任人（用户名）").fill("li-new")
    follow(page, page.get_by_role("button", name="确认交接"))
    expect(page).to_have_url(at_path(live_server, "/city/posts/"))
    expect(page.locator(".messages, [role=status]").first).to_contain_text("李新")
    assert Post.objects.filter(user=successor, role=Role.COMMUNITY_SECRETARY,
                               community=org.community("a1")).current(timezone.localdate()).exists()
