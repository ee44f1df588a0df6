"""Fixtures for the headless-Chromium tests: one browser per session, a fresh context per test.

The browser is Debian's Chromium at /usr/bin/chromium, driven by Playwright; Playwright's own browser
downloads are never used. Every module here sets `pytestmark = pytest.mark.browser`.
"""
import datetime
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from .viewports import DESKTOP, PHONE

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Generous enough for a loaded CI machine, short enough that a broken page fails quickly.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests use Debian's Chromium. "
            "Install it with `apt-get install chromium` (never `playwright install`).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an asyncio event loop in this (the test) thread, switching to it with
    # greenlets, and the loop counts as "running" for as long as Playwright is started. Django sees that
    # loop and refuses every ORM call from this thread ("SynchronousOnlyOperation: You cannot call this
    # from an async context"), although the calls the tests make (fixtures building users and posts,
    # reads in assertions) are ordinary blocking calls that never run inside a coroutine. So the check
    # is switched off from here until Playwright stops at the end of the session. It is set here rather
    # than when this file is imported, so that a run that never starts the browser keeps the check.
    # The live server answers the browser in its own thread, where no loop runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def desktop_viewer(browser):
    """One desktop-sized page kept for the whole session, only for taking 1280 px screenshots.

    Opening a context costs a renderer process; the screenshots reuse this one and get their login by
    copying cookies (`show_as`), so each test still acts in its own fresh contexts.
    """
    context = browser.new_context(locale="zh-CN", **DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()

    def show_as(source_context, url):
        context.clear_cookies()
        context.add_cookies(source_context.cookies())
        page.goto(url)
        return page

    yield show_as
    context.close()


@pytest.fixture
def new_context(browser):
    """Make a fresh browser context (own cookies, own viewport); all are closed after the test."""
    contexts = []

    def make(**options):
        options.setdefault("locale", "zh-CN")
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    """A page in a fresh desktop-sized context."""
    return new_context(**DESKTOP).new_page()


@pytest.fixture
def phone_page(new_context):
    """A page in a fresh phone-sized context (375×812, touch, device scale factor 2)."""
    return new_context(**PHONE).new_page()


@pytest.fixture
def screenshot_dir():
    path = Path(os.environ.get("SCREENSHOT_DIR") or Path(settings.BASE_DIR) / "var" / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def funded_org(org):
    """The shared `org`, with this year's allocation recorded for every community (so homes show money)."""
    from fundapp.services import ledger as ledger_services

    year = timezone.localdate().year
    for community in org.communities.values():
        ledger_services.fund_year_allocate(
            community=community, year=year, amount=Decimal("200000.00"), entry_date=datetime.date(year, 1, 2)
        )
    return org
