"""The city administrator in a real browser: a post handed over at an election (posts → find → hand over →
confirm) in a few clicks. Setting up and allocating a whole city: test_city_setup.py."""
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from fundapp.models import Post, Role

from .test_login_and_home import at_path, log_in

pytestmark = pytest.mark.browser

CITY = 300


def follow(page, locator):
    with page.expect_navigation() as navigation:
        locator.click()
    assert navigation.value is not None and navigation.value.status < 400, page.url
    return page


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
