"""Measured (issue 14): one new proposal walked through the whole chain, each person in turn doing their part
the way a person would — starting from their home page (the work queue, the reminders) and following only
what the pages offer (links and buttons), never typing an address except the login page's.

Every tap is counted per person: a click on a link or a button (the login button included), a tick of a
radio button or a checkbox, a choice in a drop-down, choosing a file. Typing into a field is not a tap.
Every page the browser loads is counted too. The counts are printed (`-s` shows them) and the total taps
must stay within the issue's target of 60. Every offered step must go through: after each tap that loads a
page, the answer is checked — no 4xx/5xx status, no error message, no list of form errors.

Each person has their own device (browser context); they log in when they come to it on a new day (the
session lasts 30 minutes), and on the same day come back to their desk through 我的工作台 in the top bar.
"""
import datetime
import re

import pytest
import time_machine
from playwright.sync_api import expect

from approvals.models import Proposal, State
from fundapp.demo import DEMO_PASSWORD
from fundapp.models import Role
from tests.chain import allocate

from .test_login_and_home import at_path, url_of
from .viewports import DESKTOP, PHONE

pytestmark = pytest.mark.browser

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
D = datetime.date
TITLE = "5号楼单元门禁维修"
TARGET_TAPS = 60
ERRORS = "main .errors, main .errorlist, main .field-error, .messages .msg-error, .messages .error"


def on(day, hour=9):
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, hour, 0, tzinfo=SHANGHAI), tick=True)


class Person:
    """One person at their own device, counting their taps and the pages their browser loads."""

    def __init__(self, label, user, context, live_server):
        self.label, self.user, self.live_server = label, user, live_server
        self.page = context.new_page()
        self.taps = self.pages = self.logins = 0
        self.day = None
        self.page.on("framenavigated", self._loaded)

    def _loaded(self, frame):
        if frame == self.page.main_frame:
            self.pages += 1

    # ── what a person does ──────────────────────────────────────────────────────────────────────────
    def tap(self, locator):
        """Tap a link or a button that loads a page; the page must not be a refusal or an error."""
        expect(locator).to_have_count(1)
        self.taps += 1
        with self.page.expect_navigation() as navigation:
            locator.click()
        response = navigation.value
        assert response is not None and response.status < 400, (
            f"{self.label}: {self.page.url} answered {response and response.status}")
        errors = self.page.locator(ERRORS)
        if errors.count():
            pytest.fail(f"{self.label}: an offered step was refused at {self.page.url}: {errors.all_inner_texts()}")
        expect(self.page.locator("main h1").first).not_to_contain_text("403")

    def check(self, locator):
        self.taps += 1
        locator.check()

    def select(self, locator, value):
        self.taps += 1
        locator.select_option(value)

    def choose_file(self, locator, path):
        self.taps += 1
        locator.set_input_files(str(path))

    def desk(self):
        """The text of this person's work queue, read aside (not a tap, not a page seen): for checks only."""
        html = self.page.request.get(url_of(self.live_server, "/")).text()
        match = re.search(r'<section class="card queue-card">(.*?)</section>', html, re.S)
        return match.group(1) if match else ""

    def fill(self, label, value):
        self.page.get_by_label(label).fill(value)

    # ── coming to the desk ──────────────────────────────────────────────────────────────────────────
    def comes_in(self, today):
        """On a new day: open the login page (the only address typed) and log in; else back to the desk."""
        if self.day != today:
            self.page.goto(url_of(self.live_server, "/login/"))
            self.page.get_by_label("用户名").fill(self.user.username)
            self.page.get_by_label("密码").fill(DEMO_PASSWORD)
            self.tap(self.page.get_by_role("button", name="登录", exact=True))
            self.logins += 1
            self.day = today
        else:
            self.tap(self.page.locator("header .topnav").get_by_role("link", name="我的工作台"))
        expect(self.page).to_have_url(at_path(self.live_server, "/"))

    def from_queue(self, action):
        """Tap the step's button on the proposal's item of the work queue; land on the step's form."""
        item = self.page.locator(".queue-card .queue li").filter(has_text=TITLE)
        expect(item).to_have_count(1)
        self.tap(item.locator(f"a[data-action={action}]").first)
        self.at_form(action)

    def at_form(self, action):
        if not re.search(rf"/do/{action}/", self.page.url):
            self.tap(self.page.locator(f"a[data-action={action}]"))
        expect(self.page).to_have_url(re.compile(rf"/proposals/\d+/do/{action}/(\?target=\d+)?$"))

    def confirm(self, state_label=None):
        """Tap the form's main button; land back on the proposal's page with the step done."""
        self.tap(self.page.locator("main form.card button[type=submit]").first)
        expect(self.page.locator(".messages .msg-success")).to_contain_text("已办理")
        if state_label:
            expect(self.page.locator(".head-row .badge")).to_have_text(state_label)

    def confirm_notice(self, state_label):
        """A notice: the first tap shows the computed last day, the second posts it."""
        self.tap(self.page.locator("main form.card button[type=submit]").first)
        expect(self.page.locator(".preview")).to_contain_text("公示最后一天")
        self.tap(self.page.locator("button[name=confirm]"))
        expect(self.page.locator(".messages .msg-success")).to_contain_text("已办理")
        expect(self.page.locator(".head-row .badge")).to_have_text(state_label)


def test_each_person_walks_one_proposal_through_the_chain_within_60_taps(
        live_server, org, new_context, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    allocate(org)

    def person(label, role, device):
        return Person(label, org.person(role), new_context(**device), live_server)

    staff = person("社区工作者 community staff", Role.COMMUNITY_STAFF, PHONE)
    secretary = person("社区党委书记 community secretary", Role.COMMUNITY_SECRETARY, DESKTOP)
    sd_secretary = person("党工委书记 subdistrict secretary", Role.SUBDISTRICT_SECRETARY, PHONE)
    director = person("建管委主任 construction director", Role.CONSTRUCTION_DIRECTOR, PHONE)
    sd_staff = person("党工委工作人员 subdistrict staff", Role.SUBDISTRICT_STAFF, PHONE)
    finance = person("财务人员 finance officer", Role.FINANCE_OFFICER, DESKTOP)
    people = [staff, secretary, sd_secretary, director, sd_staff, finance]

    # ── Mon 2026-09-28: the draft, filing, preliminary consent, the joint meeting ───────────────────────
    day = D(2026, 9, 28)
    with on(day):
        p = staff.page
        staff.comes_in(day)
        staff.tap(p.locator("header .topnav").get_by_role("link", name="居民需求"))
        staff.select(p.get_by_label("收集渠道"), "door")
        staff.fill("需求内容", "5号楼单元门禁坏了半年，外来人员随意进出")
        staff.fill("提出人", "李秀英")
        staff.tap(p.locator("main form.card button[type=submit]"))
        expect(p.locator(".messages .msg-success")).to_contain_text("需求已登记")
        # The need just recorded offers drafting a project for it: the form opens with the need ticked.
        staff.tap(p.locator(".list-item").filter(has_text="5号楼单元门禁").locator("a[data-draft-from]"))
        expect(p.locator("input[name=needs]:checked")).to_have_count(1)
        staff.fill("项目名称", TITLE)
        staff.select(p.get_by_label("使用范围"), "4")
        staff.fill("项目内容", "更换 5 号楼 4 个单元的门禁读卡器和电控锁")
        staff.check(p.locator("input[name=beneficiaries][value=broad]"))
        staff.fill("受益人数", "160")
        staff.fill("计划开始日期", "2026-10-15")
        staff.fill("计划完成日期", "2026-11-30")
        staff.fill("承办方（如已确定）", "安居门禁工程部")
        staff.check(p.locator("input[name=art4_declaration]"))
        p.locator("[name=lines-0-item]").fill("门禁读卡器、电控锁及安装")
        p.locator("[name=lines-0-amount]").fill("24000.00")
        staff.check(p.locator("input[name=lines-0-in_procurement_catalogue][value='0']"))
        staff.tap(p.locator("main form.card button.btn.primary"))
        expect(p.locator(".head-row .badge")).to_have_text("起草中")
        pk = int(re.search(r"/proposals/(\d+)/$", p.url).group(1))

        secretary.comes_in(day)
        secretary.from_queue("submit_for_consent")
        secretary.confirm("待初步同意")

        sd_secretary.comes_in(day)
        sd_secretary.from_queue("consent")
        sd_secretary.confirm("已初步同意")

        secretary.comes_in(day)  # same day: back to the desk from the proposal's page
        secretary.from_queue("meeting")
        for label, value in (("会议日期", "2026-09-28"), ("地点", "社区党群服务中心会议室"), ("到会人数", "25"),
                             ("赞成", "21"), ("反对", "2"), ("弃权", "2")):
            secretary.fill(label, value)
        secretary.page.locator("[name=minutes]").fill("经表决，同意实施 5 号楼单元门禁维修。")
        secretary.confirm("联席会议已通过")

    # ── Wed 2026-09-30: the plan notice ─────────────────────────────────────────────────────────────────
    day = D(2026, 9, 30)
    with on(day):
        secretary.comes_in(day)
        secretary.from_queue("post_notice")
        secretary.fill("张贴日期", "2026-09-30")
        secretary.confirm_notice("公示中")

    # ── Sat 2026-10-10 (a make-up working day): the notice has run; submitted for review ────────────────
    day = D(2026, 10, 10)
    with on(day):
        secretary.comes_in(day)
        secretary.from_queue("submit_for_review")
        secretary.confirm("审核中")

    # ── Mon 2026-10-12: both main leaders approve ───────────────────────────────────────────────────────
    day = D(2026, 10, 12)
    with on(day):
        for leader, state in ((sd_secretary, "审核中"), (director, "已批准")):
            leader.comes_in(day)
            leader.from_queue("review")
            approve = leader.page.locator("main form.card button[name=decision][value=approve]")
            leader.tap(approve)  # the decision is the button tapped
            expect(leader.page.locator(".messages .msg-success")).to_contain_text("已办理")
            expect(leader.page.locator(".head-row .badge")).to_have_text(state)
            assert TITLE not in leader.desk(), "decided, the proposal leaves the leader's queue at once"

    # ── Thu 2026-10-15: the project starts ──────────────────────────────────────────────────────────────
    day = D(2026, 10, 15)
    with on(day):
        secretary.comes_in(day)
        secretary.from_queue("start")
        secretary.confirm("实施中")

    # ── Mon 2026-11-02: acceptance by the subdistrict ───────────────────────────────────────────────────
    day = D(2026, 11, 2)
    with on(day):
        sd_staff.comes_in(day)
        sd_staff.from_queue("acceptance")
        for label, value in (("验收日期", "2026-11-02"), ("项目质量", "4 个单元门禁全部正常"),
                             ("满意度调查方式", "入户问卷"), ("调查人数", "40"), ("满意人数", "38")):
            sd_staff.fill(label, value)
        sd_staff.check(sd_staff.page.locator("input[name=passed][value='1']"))
        sd_staff.confirm("已验收")

    # ── Tue 2026-11-03: the invoice registered, signed by the secretary, the director, the subdistrict ──
    day = D(2026, 11, 3)
    with on(day):
        secretary.comes_in(day)
        secretary.from_queue("register_invoice")
        expect(secretary.page.get_by_label("开票单位")).to_have_value("安居门禁工程部")  # pre-filled
        secretary.fill("发票号码", "No.20261103")
        secretary.fill("金额（元）", "23500.00")
        secretary.fill("开票日期", "2026-11-03")
        secretary.confirm()
        # Registered, the invoice is signed first by the secretary: led straight to that form.
        expect(secretary.page).to_have_url(re.compile(rf"/proposals/{pk}/do/sign_invoice/\?target=\d+$"))
        secretary.confirm("已验收")
        for signer in (director, sd_secretary):
            signer.comes_in(day)
            signer.from_queue("sign_invoice")
            signer.confirm("已验收")

    # ── Wed 2026-11-04: finance pays; the secretary finishes the settlement and posts the completion notice ─
    day = D(2026, 11, 4)
    with on(day):
        finance.comes_in(day)
        finance.from_queue("settle_invoice")
        finance.fill("支付日期", "2026-11-04")
        method = finance.page.get_by_label("支付方式")
        if method.input_value() != "transfer":
            finance.select(method, "transfer")
        finance.fill("支付凭证号", "ZZ-2026-1104-07")
        finance.confirm("已验收")

        secretary.comes_in(day)
        secretary.from_queue("finish_settlement")
        secretary.confirm()
        # Settled, the completion notice is next: led straight to its form.
        expect(secretary.page).to_have_url(re.compile(rf"/proposals/{pk}/do/post_completion_notice/$"))
        secretary.fill("张贴日期", "2026-11-04")
        secretary.confirm_notice("完成公示中")

    # ── Mon 2026-11-09: the completion notice has run; the project is completed ─────────────────────────
    day = D(2026, 11, 9)
    with on(day):
        secretary.comes_in(day)
        secretary.from_queue("complete")
        secretary.confirm("已完成")
        assert TITLE not in secretary.desk()

    proposal = Proposal.objects.get(pk=pk)
    assert proposal.state == State.COMPLETED and proposal.settled_amount == 23500

    total_taps = sum(x.taps for x in people)
    total_pages = sum(x.pages for x in people)
    total_logins = sum(x.logins for x in people)
    print("\nOne proposal through the whole chain — taps and pages per person:")
    for x in people:
        print(f"  {x.label:<40} taps {x.taps:>3}  pages {x.pages:>3}  logins {x.logins}")
    print(f"  {'total':<40} taps {total_taps:>3}  pages {total_pages:>3}  logins {total_logins}")
    assert total_taps <= TARGET_TAPS, f"the whole chain took {total_taps} taps (target: at most {TARGET_TAPS})"
