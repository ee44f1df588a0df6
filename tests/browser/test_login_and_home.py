"""Logging in, the home page of every role, the language switch — in a real browser, on a phone.

Also saves full-page screenshots (375 px and 1280 px wide) into $SCREENSHOT_DIR (default
var/screenshots) for people to look at, and checks that nothing is wider than a 375 px phone.
"""
import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from fundapp.demo import DEMO_PASSWORD
from fundapp.models import Role

pytestmark = pytest.mark.browser

WORKDAYS_PATH = "/workdays/?start=2026-09-30&days=3"


def url_of(live_server, path):
    return live_server.url + path


def at_path(live_server, path):
    """A regex matching the full URL of `path` on the live server, with or without a query string."""
    return re.compile(re.escape(live_server.url + path) + r"(\?.*)?$")


def log_in(page, live_server, username, password=DEMO_PASSWORD):
    """Log in through the form as a person does: type into each field (key by key), then press the button."""
    page.goto(url_of(live_server, "/login/"))
    # press_sequentially focuses the field first, as tapping it would, then sends each key.
    page.get_by_label("用户名").press_sequentially(username)
    page.get_by_label("密码").press_sequentially(password)
    page.get_by_role("button", name="登录", exact=True).click()


def role_label(role):
    with translation.override("zh-hans"):
        return str(Role(role).label)


def assert_no_horizontal_overflow(page):
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["inner"], f"page is wider than the screen: {widths} at {page.url}"


def assert_cjk_font(page, selector=".brand"):
    """The Chinese text in `selector` is drawn with a real CJK font (glyphs, not empty boxes).

    Chromium reports through DevTools which installed fonts actually rendered a node's text.
    """
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()
    assert any("CJK" in font["familyName"] and font["glyphCount"] > 0 for font in fonts), (
        f"Chinese text in {selector} is not rendered with a CJK font: {fonts}"
    )


def save_screenshots(phone_page, desktop_viewer, name, screenshot_dir):
    """Full-page PNGs of what `phone_page` shows, at 375 px and at 1280 px (same URL, same cookies), as
    `<name>-375.png` and `<name>-1280.png`; at 375 px nothing may overflow sideways.
    """
    phone_page.evaluate("document.fonts.ready")
    assert_no_horizontal_overflow(phone_page)
    phone_page.screenshot(path=str(screenshot_dir / f"{name}-375.png"), full_page=True)

    desktop = desktop_viewer(phone_page.context, phone_page.url)
    assert desktop.url == phone_page.url, "the desktop view did not get the same page (login lost?)"
    desktop.evaluate("document.fonts.ready")
    desktop.screenshot(path=str(screenshot_dir / f"{name}-1280.png"), full_page=True)


@pytest.mark.parametrize("role", Role.values)
def test_each_role_logs_in_on_a_phone_sees_its_card_and_logs_out(
    role, live_server, funded_org, phone_page, desktop_viewer, screenshot_dir
):
    page = phone_page
    user = funded_org.person(role, "a1")

    log_in(page, live_server, user.username)

    expect(page).to_have_url(at_path(live_server, "/"))
    card = page.locator(f"[data-role={role}]")
    expect(card).to_have_count(1)
    expect(card.locator("h2")).to_contain_text(role_label(role))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    assert_no_horizontal_overflow(page)
    assert_cjk_font(page)

    save_screenshots(page, desktop_viewer, f"home-{role}", screenshot_dir)

    page.locator("header").get_by_role("button", name="退出").click()

    expect(page).to_have_url(at_path(live_server, "/login/"))
    expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
    # The session really is gone: the home page sends us back to the login page.
    page.goto(url_of(live_server, "/"))
    expect(page).to_have_url(at_path(live_server, "/login/"))


def test_wrong_password_shows_the_chinese_error_and_stays_on_login(live_server, org, phone_page, screenshot_dir):
    page = phone_page
    user = org.person(Role.COMMUNITY_SECRETARY, "a1")

    log_in(page, live_server, user.username, password="not-the-password")

    expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")
    expect(page).to_have_url(at_path(live_server, "/login/"))
    expect(page.locator("[data-role]")).to_have_count(0)
    # The username is kept, the password is not.
    expect(page.get_by_label("用户名")).to_have_value(user.username)
    expect(page.get_by_label("密码")).to_have_value("")
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(screenshot_dir / "login-error-375.png"), full_page=True)


def test_language_switch_in_the_top_bar(live_server, org, phone_page, screenshot_dir):
    page = phone_page
    user = org.person(Role.COMMUNITY_SECRETARY, "a1")
    log_in(page, live_server, user.username)
    expect(page).to_have_url(at_path(live_server, "/"))
    heading = page.locator("main h1")
    chinese_heading = heading.inner_text()
    assert chinese_heading == f"{user.get_full_name() or user.username}，您好"

    page.locator("header").get_by_role("button", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(at_path(live_server, "/"))
    with translation.override("en"):
        english_is_compiled = translation.gettext("%(name)s，您好") != "%(name)s，您好"
    if english_is_compiled:
        expect(heading).not_to_have_text(chinese_heading)
    # English words are longer than Chinese ones: the phone layout must still hold.
    assert_no_horizontal_overflow(page)
    page.screenshot(path=str(screenshot_dir / "home-en-375.png"), full_page=True)

    page.locator("header").get_by_role("button", name="中文").click()

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(heading).to_have_text(chinese_heading)


def test_screenshots_of_login_and_workday_calculator(live_server, org, phone_page, desktop_viewer, screenshot_dir):
    page = phone_page
    page.goto(url_of(live_server, "/login/"))
    save_screenshots(page, desktop_viewer, "login", screenshot_dir)

    log_in(page, live_server, org.person(Role.COMMUNITY_SECRETARY, "a1").username)
    expect(page).to_have_url(at_path(live_server, "/"))
    page.goto(url_of(live_server, WORKDAYS_PATH))
    expect(page.locator("dl.facts dd")).to_have_count(3)
    expect(page.locator("dl.facts dd").first).to_contain_text("2026年")
    assert_cjk_font(page, "dl.facts dt")
    save_screenshots(page, desktop_viewer, "workdays", screenshot_dir)
