"""The inbox (/notifications/) and how a person is told (/notifications/settings/), in a real browser on a phone
(375 px) and at desktop width: nothing wider than the screen, the unread count in the top bar on every page,
marking one and all read, opening one, and saving the preferences."""
import pytest
from playwright.sync_api import expect

from fundapp.models import NotificationPreference, Role
from fundapp.services import notify as notify_services

from .test_login_and_home import assert_no_horizontal_overflow, at_path, log_in
from .viewports import DESKTOP, PHONE

pytestmark = pytest.mark.browser


def follow(page, locator):
    with page.expect_navigation() as navigation:
        locator.click()
    assert navigation.value is not None and navigation.value.status < 400, page.url
    return page


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_inbox_and_the_preferences(device, live_server, org, new_context):
    user = org.person(Role.SUBDISTRICT_SECRETARY)
    user.email = "wang.jianguo@example.org"  # so that email is offered as a channel
    user.save(update_fields=["email"])
    for i, (text, link) in enumerate([("老旧小区路灯维修 待您初步同意", "/proposals/"),
                                      ("发票 No.0001 待您签字", "/invoices/"),
                                      ("健身器材更新 的公示期已结束", "")]):
        notify_services.notify(users=[user], kind="handoff", key=f"inbox-test:{i}", text=text, link=link)

    page = new_context(**(PHONE if device == "phone" else DESKTOP)).new_page()
    log_in(page, live_server, user.username)
    expect(page).to_have_url(at_path(live_server, "/"))
    count = page.locator("header .inbox-link .count")
    expect(count).to_have_text("3")  # the unread badge, on every page
    assert_no_horizontal_overflow(page)

    follow(page, page.locator("header .inbox-link"))
    expect(page).to_have_url(at_path(live_server, "/notifications/"))
    assert_no_horizontal_overflow(page)
    items = page.locator("ul.inbox li")
    expect(items).to_have_count(3)
    expect(page.locator("ul.inbox li.unread")).to_have_count(3)
    expect(items.nth(0)).to_contain_text("健身器材更新 的公示期已结束")  # newest first

    # One marked read: the badge goes down at once.
    follow(page, items.filter(has_text="健身器材更新").get_by_role("button", name="标为已读"))
    expect(page.locator("ul.inbox li.read")).to_have_count(1)
    expect(count).to_have_text("2")
    assert_no_horizontal_overflow(page)

    # Opening one goes to its page and marks it read.
    follow(page, items.filter(has_text="发票 No.0001").locator("button.notification"))
    expect(page).to_have_url(at_path(live_server, "/invoices/"))
    expect(count).to_have_text("1")

    follow(page, page.locator("header .inbox-link"))
    follow(page, page.get_by_role("button", name="全部标为已读"))
    expect(page.locator("ul.inbox li.unread")).to_have_count(0)
    expect(count).to_have_count(0)  # no badge when nothing is unread
    expect(page.get_by_role("button", name="全部标为已读")).to_have_count(0)

    # How I am told: no email, one digest each morning.
    follow(page, page.get_by_role("link", name="提醒方式"))
    expect(page).to_have_url(at_path(live_server, "/notifications/settings/"))
    assert_no_horizontal_overflow(page)
    email = page.locator("input[name=email]")
    expect(email).to_be_checked()  # the default, and this person has an address
    expect(page.locator("input[name=webhook]")).to_be_disabled()  # the city has not connected a gateway
    email.uncheck()
    page.get_by_label("每天早上汇总发送一次").check()
    follow(page, page.get_by_role("button", name="保存"))
    expect(page.locator(".messages .msg-success")).to_contain_text("提醒方式已保存")
    expect(page.locator("input[name=email]")).not_to_be_checked()
    expect(page.get_by_label("每天早上汇总发送一次")).to_be_checked()
    assert_no_horizontal_overflow(page)
    preference = NotificationPreference.objects.get(user=user)
    assert (preference.email, preference.webhook, preference.digest) == (False, False, True)

    follow(page, page.get_by_role("link", name="返回消息"))
    expect(page).to_have_url(at_path(live_server, "/notifications/"))
