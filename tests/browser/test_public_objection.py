"""A resident objects to a running notice from a phone; the proposal is blocked until the secretary
answers, and the answer then shows on the public page."""
import datetime

import pytest
from playwright.sync_api import expect

from approvals import services as chain
from approvals.models import Objection, Proposal, State
from fundapp.models import Role
from tests.chain import allocate, draft, meeting_passed, travel

from .test_full_chain import on, open_action, session, submit

pytestmark = pytest.mark.browser
D = datetime.date


def test_a_resident_objects_from_a_phone_and_the_answer_is_published(live_server, org, phone_page, page):
    allocate(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = draft(org, title="社区广场音响更新")
    meeting_passed(org, proposal)
    with travel(D(2026, 9, 30)):
        chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 9, 30))

    public = f"{live_server.url}/public/zh/a1/2026/"  # the bare /public/ sends a Chinese phone here
    with on(D(2026, 10, 8)):
        phone_page.goto(f"{live_server.url}/public/")
        phone_page.get_by_role("link", name="东城街道", exact=True).click()  # the index lists subdistricts
        phone_page.get_by_role("link", name="东城街道1号社区").click()
        expect(phone_page).to_have_url(public)
        running = phone_page.locator("section.notices-running")
        expect(running).to_contain_text("社区广场音响更新")
        expect(running).to_contain_text("2026年10月9日")
        running.get_by_role("link", name="我有异议").click()
        phone_page.get_by_label("姓名").fill("周晓光")
        phone_page.get_by_label("联系电话（不公开，便于社区答复）").fill("13511112222")
        phone_page.get_by_label("异议内容").fill("晚上音响太吵，希望限定使用时间")
        phone_page.wait_for_timeout(3200)  # a person takes a few seconds to type; robots post at once
        phone_page.get_by_role("button", name="提交异议").click()
        expect(phone_page.locator("section.notices-running")).to_contain_text("您的异议已收到")
        expect(phone_page.locator("section.notices-running")).to_contain_text("等待社区答复")
        assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    objection = Objection.objects.get()
    assert objection.channel == "online" and objection.resident_contact == "13511112222"

    with on(D(2026, 10, 12)):
        with pytest.raises(chain.DomainError, match="异议"):
            chain.proposal_submit_for_review(proposal=proposal, by=secretary)
        with session(page, live_server, secretary, f"/proposals/{proposal.pk}/"):
            open_action(page, "answer_objection", "答复异议")
            page.get_by_label("电话", exact=True).check()
            page.get_by_label("答复内容").fill("已与承办方约定晚上八点后停用音响")
            submit(page)
            expect(page.locator(".objection")).to_contain_text("已与承办方约定晚上八点后停用音响")
            expect(page.locator(".objection")).to_contain_text("电话答复")
            open_action(page, "submit_for_review", "报街道党工委审批")
            submit(page)
            expect(page.locator(".head-row .badge")).to_have_text("审核中")
        phone_page.goto(public)
        project = phone_page.locator(f"#project-{proposal.public_id}")
        expect(project).to_contain_text("已与承办方约定晚上八点后停用音响")
        expect(project).to_contain_text("周**")
        body = phone_page.content()
        assert "周晓光" not in body and "13511112222" not in body
    assert Proposal.objects.get(pk=proposal.pk).state == State.UNDER_REVIEW
