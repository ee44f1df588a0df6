"""One proposal through the whole approval chain (SPEC §4), in headless Chromium, each step by the person
whose job it is, logging in and out as they would — some on a phone, some at a desk.

"Today" is moved with time_machine: the live server answers in a thread of this process, so travelling
here moves its clock too. Every jump in time is followed by a fresh login (the session lasts 30 minutes).
"""
import contextlib
import datetime
import re

import pytest
import time_machine
from playwright.sync_api import expect

from approvals import services as chain
from approvals.models import Document, Proposal, State
from fundapp.demo import DEMO_PASSWORD
from fundapp.models import Role
from tests.chain import allocate, draft, travel

from .test_login_and_home import at_path, url_of

pytestmark = pytest.mark.browser

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
D = datetime.date
# The smallest files that `filetype` (judging by content) takes for a PDF and a PNG.
TINY_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TINY_PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
            b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def on(day, hour=9):
    """Live in `day` (Asia/Shanghai) from `hour` o'clock, the clock running — for the test and the live server."""
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, hour, 0, tzinfo=SHANGHAI), tick=True)


def sign_in(page, live_server, user, path):
    """Open `path` as a person following a link does: the login page comes first, then the page itself."""
    page.goto(url_of(live_server, path))
    expect(page).to_have_url(at_path(live_server, "/login/"))
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    follow(page.get_by_role("button", name="登录", exact=True))
    expect(page).to_have_url(at_path(live_server, path))


def sign_out(page, live_server):
    follow(page.locator("header").get_by_role("button", name="退出"))
    expect(page).to_have_url(at_path(live_server, "/login/"))


def follow(locator):
    """Click something that loads a new page and wait for that page (rather than polling for it)."""
    with locator.page.expect_navigation():
        locator.click()


@contextlib.contextmanager
def session(page, live_server, user, path):
    sign_in(page, live_server, user, path)
    yield page
    sign_out(page, live_server)


def badge(page):
    return page.locator(".head-row .badge")


def open_action(page, name, label=None):
    """Click the action's button on the proposal page; land on its form."""
    links = page.locator(f"a[data-action={name}]")
    expect(links).to_have_count(1)
    follow(links)
    expect(page).to_have_url(re.compile(rf"/proposals/\d+/do/{name}/(\?target=\d+)?$"))
    if label:
        expect(page.locator("main h1")).to_contain_text(label)


def submit(page, button=None):
    follow(button or page.locator("main form.card button[type=submit]"))


def expect_done(page, live_server, pk, state_label, label=None):
    """After a submit: back on the proposal page (else fail with the form's errors), badge `state_label`."""
    expect(badge(page).or_(page.locator("main .errors")).first).to_be_visible()
    if page.locator("main .errors").count():
        errors = page.locator("main .errors, main .field-error").all_inner_texts()
        pytest.fail(f"the step was refused at {page.url}: {errors}")
    expect(page).to_have_url(at_path(live_server, f"/proposals/{pk}/"))
    expect(badge(page)).to_have_text(state_label)
    if label:
        expect(page.locator(".messages .msg-success")).to_contain_text(f"已办理：{label}")


def invoice_card(page, number="No.20261103"):
    return page.locator(".invoice").filter(has_text=number)


def section(page, heading):
    return page.locator("main section.card").filter(has=page.locator("h2", has_text=heading))


def test_one_proposal_through_the_whole_chain(live_server, org, page, phone_page, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    allocate(org)  # 2026: ¥200,000.00 for a1
    desk, phone = page, phone_page
    staff = org.person(Role.COMMUNITY_STAFF)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    sd_secretary = org.person(Role.SUBDISTRICT_SECRETARY)
    director = org.person(Role.CONSTRUCTION_DIRECTOR)
    sd_staff = org.person(Role.SUBDISTRICT_STAFF)
    finance = org.person(Role.FINANCE_OFFICER)
    minutes_pdf = tmp_path / "joint-meeting-minutes.pdf"
    minutes_pdf.write_bytes(TINY_PDF)

    # ── Mon 2026-09-28: need, draft, filing, preliminary consent, joint meeting ──────────────────────────
    with on(D(2026, 9, 28)):
        with session(phone, live_server, staff, "/needs/"):
            phone.get_by_label("收集渠道").select_option("door")
            phone.get_by_label("需求内容").fill("3号楼楼道路灯不亮，老人夜间出行不便")
            phone.get_by_label("提出人").fill("张三丰")
            submit(phone)
            expect(phone.locator(".messages .msg-success")).to_contain_text("需求已登记")
            expect(phone.locator(".list .title")).to_have_text(["3号楼楼道路灯不亮，老人夜间出行不便"])

            follow(phone.locator("header .topnav").get_by_role("link", name="项目"))
            follow(phone.get_by_role("link", name="新建项目"))
            expect(phone).to_have_url(at_path(live_server, "/proposals/new/"))
            phone.get_by_label("项目名称").fill("3号楼楼道路灯改造")
            phone.get_by_label("使用范围").select_option("4")
            phone.get_by_label("项目内容").fill("更换 40 盏楼道 LED 灯并加装声控开关")
            phone.locator("input[name=beneficiaries][value=broad]").check()
            phone.get_by_label("受益人数").fill("320")
            phone.get_by_label("计划开始日期").fill("2026-10-15")
            phone.get_by_label("计划完成日期").fill("2026-11-30")
            phone.get_by_label("承办方（如已确定）").fill("光明电器维修部")
            phone.locator("input[name=needs]").check()
            phone.locator("input[name=art4_declaration]").check()
            phone.locator("[name=lines-0-item]").fill("LED 灯具及声控开关")
            phone.locator("[name=lines-0-amount]").fill("18000.00")
            phone.locator("[name=lines-1-item]").fill("安装人工")
            phone.locator("[name=lines-1-amount]").fill("12000.00")
            for i in (0, 1):  # asked on every line, nothing pre-ticked
                phone.locator(f"input[name=lines-{i}-in_procurement_catalogue][value='0']").check()
            expect(phone.locator("#budget-total")).to_have_text("¥30,000.00")
            submit(phone, phone.locator("main form.card button.btn.primary"))
            expect(phone).to_have_url(re.compile(r"/proposals/\d+/$"))
            pk = int(re.search(r"/proposals/(\d+)/$", phone.url).group(1))
            expect(badge(phone)).to_have_text("起草中")
            expect(phone.locator(".messages .msg-success")).to_contain_text("项目草稿已保存")
            lines = phone.locator("table.money tr")
            expect(lines.filter(has_text="LED 灯具及声控开关")).to_contain_text("¥18,000.00")
            expect(lines.filter(has_text="安装人工")).to_contain_text("¥12,000.00")
            expect(lines.filter(has_text="预算合计")).to_contain_text("¥30,000.00")
            # Drafting is the staff's job; filing is the secretary's.
            expect(phone.locator("a[data-action=submit_for_consent]")).to_have_count(0)
        detail = f"/proposals/{pk}/"

        with session(desk, live_server, secretary, detail):
            open_action(desk, "submit_for_consent", "报请街道党工委初步同意")
            submit(desk)
            expect_done(desk, live_server, pk, "待初步同意", "报请街道党工委初步同意")

        with session(phone, live_server, sd_secretary, "/"):
            queue_item = phone.locator(".queue-card .queue li").filter(has_text="3号楼楼道路灯改造")
            expect(queue_item).to_contain_text("初步同意")
            follow(queue_item.get_by_role("link", name="3号楼楼道路灯改造"))
            expect(phone).to_have_url(at_path(live_server, detail))
            open_action(phone, "consent", "初步同意")
            phone.get_by_label("意见（可选）").fill("同意，请尽快召开联席会议。")
            submit(phone)
            expect_done(phone, live_server, pk, "已初步同意", "初步同意")

        with session(desk, live_server, secretary, detail):
            open_action(desk, "meeting", "记录联席会议")
            desk.get_by_label("会议日期").fill("2026-09-28")
            desk.get_by_label("地点").fill("社区党群服务中心会议室")
            desk.get_by_label("到会人数").fill("25")
            desk.get_by_label("参会人员").fill("社区两委成员、居民代表")
            desk.get_by_label("赞成").fill("20")
            desk.get_by_label("反对").fill("3")
            desk.get_by_label("弃权").fill("2")
            desk.locator("[name=minutes]").fill("经表决，同意实施 3 号楼楼道路灯改造。")
            desk.locator("input[name=minutes_file]").set_input_files(str(minutes_pdf))
            submit(desk)
            expect_done(desk, live_server, pk, "联席会议已通过", "记录联席会议")
            expect(section(desk, "材料")).to_contain_text("joint-meeting-minutes.pdf")
            expect(section(desk, "材料")).to_contain_text("会议纪要")

    # ── Wed 2026-09-30: the notice is posted; a paper objection comes in and is answered ────────────────
    with on(D(2026, 9, 30)):
        with session(desk, live_server, secretary, detail):
            open_action(desk, "post_notice", "张贴公示")
            desk.get_by_label("张贴日期").fill("2026-09-30")
            expect(desk.get_by_label("公示工作日数")).to_have_value("3")
            desk.get_by_label("公示内容").fill("3号楼楼道路灯改造方案，预算 3 万元。")
            submit(desk)
            # First the computed last day (the National Day holiday is skipped), then the confirmation.
            preview = desk.locator(".preview")
            expect(preview).to_contain_text("公示最后一天：2026年10月9日（星期五）")
            expect(preview).to_contain_text("2026年10月10日 起可办理下一步")
            expect(badge(desk)).to_have_count(0)
            submit(desk, desk.locator("button[name=confirm]"))
            expect_done(desk, live_server, pk, "公示中", "张贴公示")
            expect(section(desk, "项目方案公示")).to_contain_text("2026年9月30日 张贴，公示 3 个工作日，至 2026年10月9日")

        with session(phone, live_server, staff, detail):
            open_action(phone, "record_objection", "登记书面异议")
            phone.get_by_label("姓名").fill("王小五")
            phone.get_by_label("联系方式（不公开）").fill("13800000000")
            phone.get_by_label("异议内容").fill("希望同时维修单元门禁。")
            submit(phone)
            expect_done(phone, live_server, pk, "公示中", "登记书面异议")
            objection = phone.locator(".objection.open")
            expect(objection).to_contain_text("王**")
            expect(objection).to_contain_text("书面")
            expect(objection).to_contain_text("尚未答复")
            expect(objection).not_to_contain_text("王小五")
            expect(objection).not_to_contain_text("13800000000")

        with session(desk, live_server, secretary, detail):
            open_action(desk, "answer_objection", "答复异议")
            desk.get_by_label("书面", exact=True).check()
            desk.get_by_label("答复内容").fill("门禁维修已列入下季度计划，本项目按原方案实施。")
            submit(desk)
            expect_done(desk, live_server, pk, "公示中", "答复异议")
            expect(desk.locator(".objection.open")).to_have_count(0)
            expect(desk.locator(".objection .answer")).to_contain_text("门禁维修已列入下季度计划")
            expect(desk.locator(".objection .answer")).to_contain_text("书面答复")
            # The notice is still running: submitting for review is not offered as a button but shown as
            # blocked, with the reason and the day it opens (a queue that never lies).
            expect(desk.locator("a[data-action=submit_for_review]")).to_have_count(0)
            blocked = desk.locator("[data-blocked=submit_for_review]")
            expect(blocked).to_contain_text("2026年10月10日起可办理")
            expect(blocked).to_contain_text("公示期至")
            assert Proposal.objects.get(pk=pk).state == State.NOTICE

    # ── Sat 2026-10-10 (a make-up working day): the notice is over; submission for review ──────────────
    with on(D(2026, 10, 10)):
        with session(desk, live_server, secretary, detail):
            open_action(desk, "submit_for_review", "报街道党工委审批")
            submit(desk)
            expect_done(desk, live_server, pk, "审核中", "报街道党工委审批")

    # ── Mon 2026-10-12: both main leaders approve ───────────────────────────────────────────────────────
    with on(D(2026, 10, 12)):
        with session(phone, live_server, sd_secretary, detail):
            open_action(phone, "review", "审批")
            submit(phone, phone.locator("main form.card button[name=decision][value=approve]"))
            expect_done(phone, live_server, pk, "审核中", "审批")  # one leader is not enough

        with session(phone, live_server, director, detail):
            open_action(phone, "review", "审批")
            submit(phone, phone.locator("main form.card button[name=decision][value=approve]"))
            expect_done(phone, live_server, pk, "已批准", "审批")
            money = section(phone, "经费")
            expect(money.locator("dt:has-text('批准预算') + dd")).to_have_text("¥30,000.00")
            expect(money.locator("dt:has-text('已预留') + dd")).to_have_text("¥30,000.00")

    # ── Thu 2026-10-15: the project starts ──────────────────────────────────────────────────────────────
    with on(D(2026, 10, 15)):
        with session(desk, live_server, secretary, detail):
            open_action(desk, "start", "启动项目")
            submit(desk)
            expect_done(desk, live_server, pk, "实施中", "启动项目")

    # ── Mon 2026-11-02: follow-up and acceptance by the subdistrict ─────────────────────────────────────
    with on(D(2026, 11, 2)):
        with session(phone, live_server, sd_staff, detail):
            open_action(phone, "follow_up", "记录跟进")
            phone.get_by_label("跟进日期").fill("2026-10-28")
            phone.get_by_label("跟进情况").fill("灯具已到货，安装过半。")
            submit(phone)
            expect_done(phone, live_server, pk, "实施中", "记录跟进")

            open_action(phone, "acceptance", "综合验收")
            phone.get_by_label("验收日期").fill("2026-11-02")
            phone.get_by_label("项目质量").fill("40 盏灯全部点亮，声控正常。")
            phone.get_by_label("满意度调查方式").fill("入户问卷")
            phone.get_by_label("调查人数").fill("50")
            phone.get_by_label("满意人数").fill("48")
            phone.locator("input[name=passed][value='1']").check()
            submit(phone)
            expect_done(phone, live_server, pk, "已验收", "综合验收")

    # ── Tue 2026-11-03: the invoice, signed in order by three different people ──────────────────────────
    with on(D(2026, 11, 3)):
        with session(desk, live_server, secretary, detail):
            open_action(desk, "register_invoice", "登记发票")
            desk.get_by_label("开票单位").fill("光明电器维修部")
            desk.get_by_label("发票号码").fill("No.20261103")
            desk.get_by_label("金额（元）").fill("28000.00")
            desk.get_by_label("开票日期").fill("2026-11-03")
            submit(desk)
            # Registered, the invoice is signed first by the secretary: led straight to that form (with the
            # invoice shown on it).
            expect(desk).to_have_url(re.compile(rf"/proposals/{pk}/do/sign_invoice/\?target=\d+$"))
            expect(desk.locator(".messages .msg-success")).to_contain_text("已办理：登记发票")
            expect(desk.locator(".invoice-summary")).to_contain_text("No.20261103")
            expect(desk.locator(".invoice-summary")).to_contain_text("¥28,000.00")
            submit(desk)
            expect_done(desk, live_server, pk, "已验收", "在发票上签字")
            expect(invoice_card(desk).locator(".signatures li")).to_have_count(1)
            expect(desk.locator("a[data-action=sign_invoice]")).to_have_count(0)

        for signer, page_, signed in ((director, phone, 2), (sd_secretary, desk, 3)):
            with session(page_, live_server, signer, detail):
                open_action(page_, "sign_invoice", "在发票上签字")
                submit(page_)
                expect_done(page_, live_server, pk, "已验收", "在发票上签字")
                signatures = invoice_card(page_).locator(".signatures li")
                expect(signatures).to_have_count(signed)
                expect(signatures.nth(signed - 1)).to_contain_text(signer.username)
                expect(invoice_card(page_).locator(".badge")).to_have_text("签字中" if signed < 3 else "待结算")

    # ── Wed 2026-11-04: finance pays; settlement finished; completion notice posted ─────────────────────
    with on(D(2026, 11, 4)):
        with session(desk, live_server, finance, "/invoices/"):
            row = desk.locator(".list-item").filter(has_text="No.20261103")
            expect(row).to_contain_text("已签 3/3")
            expect(row.locator(".badge")).to_have_text("待结算")
            follow(row)
            expect(desk).to_have_url(at_path(live_server, detail))
            open_action(desk, "settle_invoice", "结算发票")
            desk.get_by_label("支付日期").fill("2026-11-04")
            desk.get_by_label("支付方式").select_option("transfer")
            desk.get_by_label("支付凭证号").fill("ZZ-2026-1104-01")
            submit(desk)
            expect_done(desk, live_server, pk, "已验收", "结算发票")
            expect(invoice_card(desk).locator(".badge")).to_have_text("已结算")
            expect(section(desk, "经费").locator("dt:has-text('已结算') + dd")).to_have_text("¥28,000.00")

        with session(desk, live_server, secretary, detail):
            open_action(desk, "finish_settlement", "结算完毕")
            submit(desk)
            # Settled, the completion notice is next: led straight to its form.
            expect(desk).to_have_url(at_path(live_server, f"/proposals/{pk}/do/post_completion_notice/"))
            expect(desk.locator(".messages .msg-success")).to_contain_text("已办理：结算完毕")
            assert Proposal.objects.get(pk=pk).state == State.SETTLED
            desk.get_by_label("张贴日期").fill("2026-11-04")
            desk.get_by_label("公示内容").fill("项目已完成，实际支出 28,000.00 元。")
            submit(desk)
            expect(desk.locator(".preview")).to_contain_text("公示最后一天：2026年11月6日（星期五）")
            submit(desk, desk.locator("button[name=confirm]"))
            expect_done(desk, live_server, pk, "完成公示中", "张贴完成公示")
            expect(section(desk, "经费").locator("dt:has-text('已预留') + dd")).to_have_text("¥0.00")

    # ── Mon 2026-11-09: the completion notice has run; the project is complete ──────────────────────────
    with on(D(2026, 11, 9)):
        with session(phone, live_server, secretary, detail):
            open_action(phone, "complete", "公示期满，确认完成")
            submit(phone)
            expect_done(phone, live_server, pk, "已完成", "公示期满，确认完成")
            # Nothing is left to do, except attaching a photo of the board to a notice (evidence, possible any time).
            expect(phone.locator("a[data-action]:not([data-action=attach_notice_photo])")).to_have_count(0)
            completion = section(phone, "项目完成公示")
            expect(completion).to_contain_text("2026年11月4日 张贴，公示 3 个工作日，至 2026年11月6日")
            expect(completion.locator(".badge")).to_have_text("已结束")

            pdf = phone.request.get(url_of(live_server, f"{detail}application-form.pdf"))
            assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
            assert pdf.body().startswith(b"%PDF")

            follow(phone.locator("header .topnav").get_by_role("link", name="台账"))
            follow(phone.locator("table.money tbody tr").filter(has_text="2026").get_by_role("link"))
            expect(phone).to_have_url(at_path(live_server, "/ledgers/a1/2026/"))
            glance = phone.locator(".fund-glance")
            expect(glance.locator("div").filter(has_text="已结算").locator(".v")).to_have_text("¥28,000.00")
            expect(glance.locator("div").filter(has_text="可用").locator(".v")).to_have_text("¥172,000.00")
            rows = phone.locator("table.money tbody tr")
            expect(rows).to_have_count(2)
            expect(rows.nth(0).locator("td").nth(2)).to_have_text("¥200,000.00")
            spent = rows.nth(1).locator("td")
            expect(spent.nth(0)).to_have_text("2026年11月4日")
            expect(spent.nth(1)).to_contain_text("支出")
            expect(spent.nth(1)).to_contain_text("ZZ-2026-1104-01")
            expect(spent.nth(3)).to_have_text("¥28,000.00")
            expect(spent.nth(4)).to_have_text("¥172,000.00")

    proposal = Proposal.objects.get(pk=pk)
    assert proposal.state == State.COMPLETED
    assert proposal.settled_amount == 28000 and proposal.budget == 30000


def test_the_notice_board_photo_is_attached_at_the_confirmation_step(live_server, org, page, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    allocate(org)
    proposal = draft(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=proposal, by=secretary)
        chain.consent_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)
        chain.meeting_record(proposal=proposal, by=secretary, held_on=D(2026, 9, 28), place="社区会议室",
                             attendance=25, votes_for=20, votes_against=3, votes_abstain=2, minutes="同意实施")
    photo = tmp_path / "notice-board.png"
    photo.write_bytes(TINY_PNG)

    with on(D(2026, 9, 30)), session(page, live_server, secretary, f"/proposals/{proposal.pk}/"):
        open_action(page, "post_notice", "张贴公示")
        page.get_by_label("张贴日期").fill("2026-09-30")
        # the file is chosen with the computed last day in view, and sent with the confirmation
        assert page.locator("input[name=photo]").count() == 0
        submit(page)
        page.locator("input[name=photo]").set_input_files(str(photo))
        submit(page, page.locator("button[name=confirm]"))
        expect_done(page, live_server, proposal.pk, "公示中", "张贴公示")
        assert list(Document.objects.filter(proposal=proposal).values_list("kind", "original_name")) == [
            (Document.Kind.NOTICE_PHOTO, "notice-board.png")]
