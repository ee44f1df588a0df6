"""Forms that keep work, in Chromium: budget lines added and removed on the page (the same-origin script,
under the CSP), the procurement question asked on every line, a chosen file kept after a refused submit."""
import datetime

import pytest
from playwright.sync_api import expect

from approvals.models import Document, Invoice, Proposal
from fundapp.models import Role
from tests.chain import allocate, approve, draft, to_accepted, to_review

from .test_full_chain import TINY_PDF, on, open_action, session, submit

pytestmark = pytest.mark.browser
D = datetime.date


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_budget_lines_are_added_and_removed_on_the_page(live_server, org, phone_page, page, viewport,
                                                        screenshot_dir):
    allocate(org)
    tab = phone_page if viewport == "phone" else page
    errors = []
    # (Chromium asks for /favicon.ico, which the site does not have: not a script's error.)
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" and "404" not in m.text else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    with on(D(2026, 9, 1)), session(tab, live_server, org.person(Role.COMMUNITY_STAFF), "/proposals/new/"):
        tab.get_by_label("项目名称").fill("楼道扶手")
        tab.get_by_label("使用范围").select_option("4")
        tab.get_by_label("项目内容").fill("为 3 栋老楼加装扶手")
        tab.locator("input[name=beneficiaries][value=broad]").check()
        tab.get_by_label("受益人数").fill("200")
        tab.get_by_label("计划开始日期").fill("2026-10-01")
        tab.get_by_label("计划完成日期").fill("2026-10-31")
        tab.locator("input[name=art4_declaration]").check()
        radios = tab.locator("input[name=lines-0-in_procurement_catalogue]")
        expect(radios).to_have_count(2)
        assert not radios.nth(0).is_checked() and not radios.nth(1).is_checked()  # asked, not assumed
        url = tab.url
        tab.get_by_role("button", name="增加一行").click()  # on the page: no request
        expect(tab.locator("[name=lines-2-item]")).to_be_visible()
        assert not errors, errors
        assert tab.url == url
        expect(tab.locator("[name=lines-TOTAL_FORMS]")).to_have_value("3")
        for i, (item, amount) in enumerate([("扶手材料", "6000"), ("不要的一行", "999"), ("安装", "2000")]):
            tab.locator(f"[name=lines-{i}-item]").fill(item)
            tab.locator(f"[name=lines-{i}-amount]").fill(amount)
            tab.locator(f"input[name=lines-{i}-in_procurement_catalogue][value='0']").check()
        expect(tab.locator("#budget-total")).to_have_text("¥8,999.00")
        tab.locator(".line-row").nth(1).get_by_role("button", name="删除此行").click()
        expect(tab.locator(".line-row").nth(1)).to_be_hidden()
        expect(tab.locator("#budget-total")).to_have_text("¥8,000.00")
        assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        tab.screenshot(path=str(screenshot_dir / f"budget-lines-{viewport}.png"), full_page=True)
        submit(tab, tab.locator("main form.card button.btn.primary"))
        expect(tab.locator(".messages .msg-success")).to_contain_text("项目草稿已保存")
    proposal = Proposal.objects.get()
    assert [(ln.item, ln.in_procurement_catalogue) for ln in proposal.lines.all()] == [("扶手材料", False),
                                                                                       ("安装", False)]
    assert not errors, errors  # no script refused by the Content-Security-Policy


def test_an_invoice_scan_is_kept_after_a_refused_submit(live_server, org, phone_page, tmp_path):
    allocate(org)
    proposal = draft(org)
    to_review(org, proposal)
    approve(org, proposal)
    to_accepted(org, proposal)
    scan = tmp_path / "发票.pdf"
    scan.write_bytes(TINY_PDF)
    with on(D(2026, 11, 3)), session(phone_page, live_server, org.person(Role.COMMUNITY_SECRETARY),
                                     f"/proposals/{proposal.pk}/"):
        open_action(phone_page, "register_invoice", "登记发票")
        expect(phone_page.get_by_label("开票单位")).to_have_value("光明电器维修部")  # pre-filled from the plan
        phone_page.get_by_label("金额（元）").fill("28000.00")
        phone_page.get_by_label("开票日期").fill("2026-11-03")
        phone_page.get_by_label("发票扫描件").set_input_files(str(scan))
        submit(phone_page)  # the invoice number is missing
        expect(phone_page.locator(".kept-upload")).to_contain_text("已上传：发票.pdf")
        phone_page.get_by_label("发票号码").fill("No.0001")
        submit(phone_page)
        expect(phone_page.locator(".messages .msg-success")).to_contain_text("登记发票")
    assert Invoice.objects.get().number == "No.0001"
    assert Document.objects.get(kind=Document.Kind.INVOICE).original_name == "发票.pdf"
