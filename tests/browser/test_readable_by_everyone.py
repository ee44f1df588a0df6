"""Readable by everyone (issue 16): the residents' pages pass axe-core with no serious or critical
violation (WCAG 2 A/AA, and AAA contrast: 7:1 for sunlight on a phone) at 375 px and at 1280 px in both
languages; chart labels are at least 14 px as drawn at 375 px and never clipped; the year-end summary's
table fits a phone; the "large text" switch survives a new page load."""
import time

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import signing
from django.urls import reverse
from django.utils import translation

from fundapp import clock
from fundapp.models import Community

from .viewports import DESKTOP, PHONE

pytestmark = pytest.mark.browser

LANGUAGES = ("zh-hans", "en")  # each page's address carries its language (fundapp.publicurls)
# WCAG 2.x A and AA, the best practices axe tags, and AAA contrast (color-contrast-enhanced: 7:1).
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                                      "best-practice", "wcag2aaa"]},
               "resultTypes": ["violations"]}
BLOCKING = {"serious", "critical"}
COMMUNITY = "xingfu"  # the demo community with a running notice, projects being delivered and a year-end summary


def _year_end_summary(community, year):
    """The demo posts its year-end disclosures from 1 December; on other days post this one for the test."""
    from disclosure.models import YearEndDisclosure
    from disclosure.services import disclosure_generate

    if not YearEndDisclosure.objects.filter(community=community, year=year).exists():
        disclosure_generate(community.pk, year)


def public_pages(language):
    """[(name, path)] of every kind of page a resident reads, in `language`, in the demo city: found through the
    public data and reverse(), so that no address is written here."""
    from public import selectors

    community = Community.objects.select_related("subdistrict").get(code=COMMUNITY)
    year = clock.today().year
    _year_end_summary(community, year)
    with translation.override(language):
        data = selectors.community_year(community, year)
        notice = data["running_notices"][0]["id"]
        project = next(p["id"] for p in data["projects"] if p["feedback_open"])
        return [
            ("index", reverse("public:index")),
            ("search", reverse("public:index") + "?q=xingfu"),
            ("subdistrict", reverse("public:subdistrict", args=[community.subdistrict.code])),
            ("community-year", reverse("public:community-year", args=[community.code, year])),
            ("summary", reverse("disclosure:summary", args=[community.code, year])),
            ("object", reverse("public:object", args=[community.code, notice])),
            ("need", reverse("public:need", args=[community.code])),
            ("feedback", reverse("public:feedback", args=[community.code, project])),
        ]


def _thanks(page, base, form_path):
    """The thanks page is the answer to a posted form: post a need or an opinion as a person would, a while
    after opening the form (the forms refuse what comes within seconds)."""
    page.goto(base + form_path)
    if page.locator("textarea[name=description]").count():
        page.locator("textarea[name=description]").fill("希望增加老年人助餐服务")
    else:
        page.locator("input[name=satisfied][value='1']").check()
    stamp = signing.dumps(time.time() - 60, salt="public-form")  # opened a minute ago
    page.locator("input[name=shown]").evaluate("(e, v) => e.value = v", stamp)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def _violations(page):
    results = Axe().run(page, options=AXE_OPTIONS)
    found = []
    for v in results.response["violations"]:
        if v["impact"] in BLOCKING:
            for node in v["nodes"]:
                found.append(f"{v['id']} ({v['impact']}): {node['target']} {node.get('failureSummary', '')[:300]}")
    return found


def test_every_public_page_passes_axe_at_phone_and_desktop_width_in_both_languages(live_server, demo_city,
                                                                                   new_context):
    """36 pages checked (9 kinds × 2 widths × 2 languages), ~0.4 s of axe-core each: about 15 s, in one
    browser with one page per width."""
    base = live_server.url
    problems = []
    for viewport_name, viewport in (("375", PHONE), ("1280", DESKTOP)):
        context = new_context(**viewport)
        page = context.new_page()
        for language in LANGUAGES:
            pages = public_pages(language)
            for name, path in pages:
                response = page.goto(base + path)
                assert response.status == 200, (name, path, response.status)
                assert page.locator("html").get_attribute("lang") == language
                problems += [f"{name} {language} {viewport_name}: {p}" for p in _violations(page)]
            # The thanks page: after a need (in Chinese) or an opinion of a project (in English).
            _thanks(page, base, dict(pages)["need" if language == "zh-hans" else "feedback"])
            assert page.locator("main form").count() == 0 and page.locator("main h1").count() == 1  # thanked
            problems += [f"thanks {language} {viewport_name}: {p}" for p in _violations(page)]
    assert not problems, "\n".join(problems)


# What a chart's labels look like as drawn: size in CSS px (font size × the SVG's scale), and whether the
# text's box stays inside the drawing.
CHART_LABELS = """() => Array.from(document.querySelectorAll('svg.chart')).flatMap(svg => {
  const box = svg.getBoundingClientRect(), scale = svg.getScreenCTM().a;
  return Array.from(svg.querySelectorAll('text')).map(t => {
    const r = t.getBoundingClientRect();
    return {text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * scale,
            inside: r.left >= box.left - 0.5 && r.right <= box.right + 0.5 && r.top >= box.top - 0.5
                    && r.bottom <= box.bottom + 0.5 && r.right <= window.innerWidth};
  });
})"""

# Every visible table cell whose text runs past the cell or past the screen.
OVERFLOWING_CELLS = """() => Array.from(document.querySelectorAll('main td, main th')).filter(cell => {
  const box = cell.getBoundingClientRect(), head = cell.closest('thead');
  // The phone's header row is hidden from sight (read aloud only): each cell shows its label instead.
  if (head && getComputedStyle(head).clip !== 'auto') return false;
  const range = document.createRange(); range.selectNodeContents(cell);
  const text = range.getBoundingClientRect();
  return cell.scrollWidth > cell.clientWidth + 1 || text.left < box.left - 0.5 || text.right > box.right + 0.5
         || box.right > window.innerWidth;
}).map(cell => cell.textContent.trim())"""

# Set by an init script when the <body> first appears: was the reader's text size already on <html>?
LARGE_AT_FIRST_PAINT = """new MutationObserver((changes, observer) => {
  if (document.body) { window.largeAtBody = document.documentElement.classList.contains('large-text'); observer.disconnect(); }
}).observe(document, {childList: true, subtree: true});"""


def test_chart_labels_are_at_least_14_px_and_inside_the_chart_on_a_phone(live_server, demo_city, new_context):
    context = new_context(**PHONE)
    page = context.new_page()
    seen = 0
    for language in LANGUAGES:
        pages = dict(public_pages(language))
        for large in (False, True):
            for name in ("community-year", "summary"):
                page.goto(live_server.url + pages[name])
                if large != page.evaluate("document.documentElement.classList.contains('large-text')"):
                    page.locator("[data-large-text]").click()
                labels = page.evaluate(CHART_LABELS)
                assert labels, f"no chart on {name}"
                small = [(label["text"], round(label["px"], 1)) for label in labels if label["px"] < 14]
                clipped = [label["text"] for label in labels if not label["inside"]]
                assert not small and not clipped, (name, language, large, small, clipped)
                seen += len(labels)
    assert seen > 20


def test_the_year_end_summary_table_fits_a_phone(live_server, demo_city, new_context):
    context = new_context(**PHONE)
    page = context.new_page()
    for language in LANGUAGES:
        page.goto(live_server.url + dict(public_pages(language))["summary"])
        assert page.locator("main table td").count() >= 6
        assert page.evaluate(OVERFLOWING_CELLS) == []
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_large_text_switch_is_kept_across_pages_and_applied_before_the_first_paint(live_server, demo_city,
                                                                                       new_context):
    pages = dict(public_pages("zh-hans"))
    context = new_context(**PHONE)
    context.add_init_script(LARGE_AT_FIRST_PAINT)
    page = context.new_page()
    body_px = "parseFloat(getComputedStyle(document.body).fontSize)"
    page.goto(live_server.url + pages["index"])
    switch = page.locator("[data-large-text]")
    assert switch.is_visible() and switch.get_attribute("aria-pressed") == "false"
    normal = page.evaluate(body_px)
    switch.click()
    assert switch.get_attribute("aria-pressed") == "true"
    assert page.evaluate(body_px) >= normal * 1.2

    problems = []
    for name, path in pages.items():  # every page, loaded afresh: large, no sideways scrolling, still passing axe
        page.goto(live_server.url + path)
        assert page.evaluate("window.largeAtBody") is True, name
        assert page.evaluate(body_px) >= normal * 1.2, name
        assert page.locator("[data-large-text]").get_attribute("aria-pressed") == "true", name
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        problems += [f"{name} (large text): {p}" for p in _violations(page)]
    assert not problems, "\n".join(problems)

    page.locator("[data-large-text]").click()  # and off again, for good
    page.goto(live_server.url + pages["community-year"])
    assert page.evaluate("window.largeAtBody") is False
    assert page.evaluate(body_px) == normal
