"""On a phone: the proposal page says where it stands (the stepper's current step), the leader's review page
shows its basis without sideways scrolling, and the community secretary reaches the objector by phone —
the look recorded, the answer's channel kept."""
import datetime

import pytest
from playwright.sync_api import expect

from approvals import services as chain
from approvals.models import Objection
from audit.models import AuditRecord
from fundapp.models import Role
from tests.chain import allocate, draft, meeting_passed, travel

from .test_full_chain import on, session

pytestmark = pytest.mark.browser
D = datetime.date


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_standing_basis_and_the_objectors_phone_on_a_375px_screen(live_server, org, phone_page):
    allocate(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = draft(org, title="楼道扶手加装", small_group=True)
    meeting_passed(org, proposal)
    with travel(D(2026, 9, 30)):
        notice = chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 9, 30))
        objection = chain.objection_record(notice=notice, channel="online", resident_name="周晓光",
                                           resident_contact="13511112222", text="扶手颜色太暗")
    detail = f"/proposals/{proposal.pk}/"
    with on(D(2026, 10, 1)), session(phone_page, live_server, secretary, detail):
        current = phone_page.locator('.stepper [aria-current="step"]')
        expect(current).to_have_count(1)
        expect(current).to_contain_text("方案公示")
        expect(phone_page.locator(".standing")).to_contain_text("答复居民异议（1 条）")
        assert fits(phone_page)
        expect(phone_page.locator(".objection")).not_to_contain_text("13511112222")
        phone_page.get_by_role("link", name="联系居民并答复").click()
        expect(phone_page.locator("main")).not_to_contain_text("13511112222")
        phone_page.get_by_role("button", name="查看姓名和电话").click()
        expect(phone_page.locator(".objection-contact")).to_contain_text("13511112222")
        expect(phone_page.locator(".objection-contact")).to_contain_text("周晓光")
        assert AuditRecord.objects.filter(action="objection.contact_viewed", target_id=str(objection.pk)).count() == 1
        phone_page.get_by_label("电话").check()
        phone_page.get_by_label("答复内容").fill("已电话沟通，改用浅色扶手")
        phone_page.get_by_role("button", name="保存答复").click()
        expect(phone_page.locator(".objection .answer")).to_contain_text("电话答复")
        assert fits(phone_page)
    assert Objection.objects.get(pk=objection.pk).answer_channel == "phone"

    with travel(D(2026, 10, 10)):
        chain.proposal_submit_for_review(proposal=proposal, by=secretary)
    leader = org.person(Role.CONSTRUCTION_DIRECTOR)
    with on(D(2026, 10, 12)), session(phone_page, live_server, leader, detail):
        expect(phone_page.locator('.stepper [aria-current="step"]')).to_contain_text("党工委审批")
        phone_page.goto(f"{live_server.url}/proposals/{proposal.pk}/do/review/")
        basis = phone_page.locator(".basis")
        expect(basis).to_contain_text("本项目批准后")
        expect(basis).to_contain_text("赞成 20，反对 3，弃权 2")
        expect(basis).to_contain_text("已电话沟通，改用浅色扶手")
        expect(basis).not_to_contain_text("13511112222")
        expect(phone_page.locator(".effect")).to_contain_text("不予批准")
        assert fits(phone_page)
