"""The homes by role in a real browser, on a phone and at desktop width: the supervisor's leads with the running
notice and the open objection of their community; the secretary's with what is due this week."""
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from approvals import services as chain
from approvals.models import Objection
from fundapp.models import Role
from tests.browser.test_login_and_home import at_path, log_in, save_screenshots
from tests.chain import draft, meeting_passed

pytestmark = pytest.mark.browser


@pytest.fixture
def objected(funded_org):
    """A plan notice posted today for 3 working days, with a resident's objection not yet answered."""
    org, today = funded_org, timezone.localdate()
    proposal = meeting_passed(org, draft(org, title="健身器材更新", year=today.year), day=today)
    chain.notice_post(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY), posted_on=today, working_days=3)
    chain.objection_record(notice=proposal.notices.get(), channel=Objection.Channel.ONLINE, resident_name="赵建国",
                           text="器材位置离住户太近")
    return org


@pytest.mark.parametrize("role, section", [(Role.SUPERVISOR, "supervision"), (Role.COMMUNITY_SECRETARY, "week")])
def test_the_home_leads_with_the_notice_and_the_objection(role, section, live_server, objected, phone_page,
                                                          desktop_viewer, screenshot_dir):
    page = phone_page
    log_in(page, live_server, objected.person(role).username)
    expect(page).to_have_url(at_path(live_server, "/"))
    first = page.locator("main section.card").first
    expect(first).to_have_attribute("data-section", f"{section}:{objected.community('a1').pk}")
    expect(first).to_contain_text("项目方案公示：健身器材更新")
    expect(first).to_contain_text("异议待答复：健身器材更新")
    expect(first).to_contain_text("赵**")
    expect(page.locator("body")).not_to_contain_text("赵建国")
    expect(page.locator("body")).not_to_contain_text("暂无待办事项")
    save_screenshots(page, desktop_viewer, f"home-sections-{role}", screenshot_dir)
