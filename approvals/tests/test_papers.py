"""Every paper a community posts, files and signs (approvals.pdf), rendered from a project walked through the
real chain: the CJK font embedded, the text extracting as shown on screen (titles, amounts in figures and
capitals, 年月日 dates, signers with their posts, the masked recipient and never the full name), A4, and
served only to people who may see the proposal.

Set PAPERS_OUT=/some/dir to keep each rendered PDF there (the guide's PNGs are made from them)."""
import datetime
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from approvals import pdf
from approvals import services as chain
from approvals.models import AnnualReport, Notice, Payment
from approvals.reports import annual_report_draft, annual_report_evaluate, annual_report_submit
from fundapp.models import Role
from tests.chain import allocate, approve, draft, reload, signed_invoice, to_accepted, travel

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

D = datetime.date
RECIPIENT = "赵六一"  # a private person paid without an invoice: printed 赵** only
NAMES = {
    Role.COMMUNITY_SECRETARY: "王建国", Role.COMMUNITY_STAFF: "李敏", Role.SUBDISTRICT_SECRETARY: "陈志刚",
    Role.CONSTRUCTION_DIRECTOR: "刘芳", Role.SUBDISTRICT_STAFF: "孙磊", Role.FINANCE_OFFICER: "周丽",
}


def _tool(name):
    if not shutil.which(name):
        pytest.fail(f"{name} missing: apt-get install poppler-utils")
    return name


def pdf_text(data, tmp_path, name="paper.pdf"):
    path = tmp_path / name
    path.write_bytes(data)
    if os.environ.get("PAPERS_OUT"):
        Path(os.environ["PAPERS_OUT"]).mkdir(parents=True, exist_ok=True)
        (Path(os.environ["PAPERS_OUT"]) / name).write_bytes(data)
    fonts = subprocess.run([_tool("pdffonts"), str(path)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts  # embedded
    text = subprocess.run([_tool("pdftotext"), "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return re.sub(r"\s+", "", text)


def page_sizes(data, tmp_path):
    path = tmp_path / "size.pdf"
    path.write_bytes(data)
    info = subprocess.run([_tool("pdfinfo"), "-f", "1", "-l", "99", str(path)], capture_output=True, text=True,
                          check=True).stdout
    return re.findall(r"Page\s+\d+\s+size:\s+([\d.]+) x ([\d.]+) pts", info)


def words_outside_the_margins(data, tmp_path, margin_mm=14):
    """Words whose box leaves the page's printable area (A4 less `margin_mm` on the left and right)."""
    path = tmp_path / "bbox.pdf"
    path.write_bytes(data)
    html = subprocess.run([_tool("pdftotext"), "-bbox", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    margin = margin_mm * 72 / 25.4 - 1
    outside = []
    for x_min, x_max, word in re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)',
                                         html):
        if float(x_min) < margin or float(x_max) > 595.28 - margin:
            outside.append(word)
    return outside


@pytest.fixture
def people(org):
    for (role, scope), user in org.people.items():
        if scope in ("a1", "a") and role in NAMES:
            user.first_name = NAMES[role]
            user.save(update_fields=["first_name"])
    return org


def walked(org):
    """A 22,000 project: meeting with attendees, plan notice, approval, acceptance, one 20,000 invoice settled
    and a 1,200.05 payment without invoice to a private person with its notice, completion notice posted."""
    allocate(org)
    proposal = draft(org, budget="22000.00", title="老旧小区路灯维修")
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=proposal, by=secretary)
        chain.consent_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)
        chain.meeting_record(proposal=proposal, by=secretary, held_on=D(2026, 9, 28), place="社区二楼会议室",
                             attendance=9, votes_for=7, votes_against=1, votes_abstain=1,
                             minutes="与会人员一致认为楼道照明关系居民出行安全，同意实施。",
                             attendees="王建国（社区党委书记）\n李敏（社区居委会委员）\n张伟（居民代表）")
    with travel(D(2026, 9, 30)):
        chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 9, 30), working_days=3)
    with travel(D(2026, 10, 10)):
        chain.proposal_submit_for_review(proposal=proposal, by=secretary)
    approve(org, proposal)
    to_accepted(org, proposal)
    invoice = signed_invoice(org, proposal, amount="20000.00")
    finance = org.person(Role.FINANCE_OFFICER)
    with travel(D(2026, 11, 4)):
        chain.invoice_settle(invoice=invoice, by=finance, paid_on=D(2026, 11, 4), method="transfer", reference="R1")
    with travel(D(2026, 11, 5)):
        payment = chain.voucher_pay(proposal=proposal, by=finance, meeting=reload(proposal).meetings.get(),
                                    recipient_name=RECIPIENT, receipt_reference="签收单1", amount="1200.05",
                                    paid_on=D(2026, 11, 5), method="cash", reference="V-1")
        chain.voucher_notice_post(payment=payment, by=secretary, posted_on=D(2026, 11, 5))
    with travel(D(2026, 11, 12)):
        chain.settlement_finish(proposal=proposal, by=secretary)
        chain.completion_notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 11, 12))
    return reload(proposal)


def get_pdf(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    return response.content


@pytest.mark.django_db
def test_plan_notice_is_a_draft_at_meeting_passed_then_the_posted_notice(people, client, tmp_path):
    org = people
    allocate(org)
    proposal = draft(org, budget="22000.00")
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    url = reverse("approvals:paper-plan-notice", args=[proposal.pk])
    client.force_login(secretary)
    assert client.get(url).status_code == 404  # nothing decided yet, nothing to post
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=proposal, by=secretary)
        chain.consent_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)
        chain.meeting_record(proposal=proposal, by=secretary, held_on=D(2026, 9, 28), place="社区会议室",
                             attendance=25, votes_for=20, votes_against=3, votes_abstain=2, minutes="同意实施")
    text = pdf_text(get_pdf(client, secretary, url), tmp_path, "plan-notice-draft.pdf")
    assert "草稿" in text and "项目公示" in text and "老旧小区路灯维修" in text
    assert "____年____月____日" in text  # the period is filled in by hand on a draft
    with travel(D(2026, 9, 30)):
        chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 9, 30), working_days=3)
    text = pdf_text(get_pdf(client, secretary, url), tmp_path, "plan-notice.pdf")
    assert "草稿" not in text
    for expected in ["项目公示", "老旧小区路灯维修", "更换40盏楼道路灯", "楼道路灯不亮", "路灯及人工", "¥22,000.00",
                     "贰万贰仟元整", "2026年10月15日", "2026年11月30日", "2026年9月28日", "赞成20票，反对3票，弃权2票",
                     "2026年9月30日", "公示期内如有异议", "中共东城街道1号社区委员会", "（盖章）", "电话：", "地址：",
                     "扫码查看网上公示", "/a1/notices/"]:
        assert re.sub(r"\s+", "", expected) in text, expected
    notice = reload(proposal).notices.get()
    assert notice.last_day.strftime("%Y年%-m月%-d日") in text
    # a notice taken down (the plan is put on hold): its paper is what was posted, unchanged (the archive);
    # rendered from the record, it says it may not be posted again
    posted = get_pdf(client, secretary, url)
    with travel(D(2026, 10, 1)):
        chain.proposal_hold(proposal=proposal, by=secretary, reason="异议较大，暂缓")
    assert get_pdf(client, secretary, url) == posted
    text = pdf_text(pdf.plan_notice(reload(proposal)), tmp_path)
    assert "此公示已撤下" in text


@pytest.mark.django_db
def test_unconfirmed_calendar_prints_the_warning_on_the_notice(people, client, tmp_path):
    org = people
    allocate(org)
    proposal = draft(org)
    from tests.chain import meeting_passed

    meeting_passed(org, proposal)
    with travel(D(2026, 9, 30)):
        chain.notice_post(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY), posted_on=D(2026, 9, 30))
    Notice.objects.filter(proposal=proposal).update(calendar_confirmed=False)
    # as the paper is rendered again when a calendar change moves its dates (test_paper_archive)
    text = pdf_text(pdf.plan_notice(reload(proposal)), tmp_path)
    assert "尚未确认的节假日安排" in text


@pytest.mark.django_db
def test_completion_and_voucher_notices_mask_the_private_recipient(people, client, tmp_path):
    org = people
    proposal = walked(org)
    viewer = org.person(Role.SUPERVISOR)
    text = pdf_text(get_pdf(client, viewer, reverse("approvals:paper-completion-notice", args=[proposal.pk])),
                    tmp_path, "completion-notice.pdf")
    for expected in ["项目完成公示", "老旧小区路灯维修", "路灯全部点亮", "光明电器维修部", "No.0001", "¥20,000.00",
                     "2026年11月4日", "赵**", "¥1,200.05", "2026年11月5日", "¥21,200.05", "贰万壹仟贰佰元零伍分",
                     "2026年11月2日", "入户问卷", "调查50人，满意48人", "满意率96.0%", "验收结论：合格", "2026年11月12日",
                     "中共东城街道1号社区委员会"]:
        assert expected in text, expected
    assert RECIPIENT not in text
    notice = Notice.objects.get(proposal=proposal, kind=Notice.Kind.VOUCHER)
    text = pdf_text(get_pdf(client, viewer, reverse("approvals:paper-voucher-notice", args=[proposal.pk, notice.pk])),
                    tmp_path, "voucher-notice.pdf")
    for expected in ["事后公示", "第十三条", "赵**", "¥1,200.05", "壹仟贰佰元零伍分", "2026年11月5日", "现金", "V-1",
                     "2026年9月28日", "社区二楼会议室", "赞成7票，反对1票，弃权1票"]:
        assert expected in text, expected
    assert RECIPIENT not in text
    # an id that is not this proposal's voucher notice: 404
    plan = Notice.objects.get(proposal=proposal, kind=Notice.Kind.PLAN)
    client.force_login(viewer)
    assert client.get(reverse("approvals:paper-voucher-notice", args=[proposal.pk, plan.pk])).status_code == 404


@pytest.mark.django_db
def test_minutes_and_acceptance_sheet_print_the_record_with_signature_lines(people, client, tmp_path):
    org = people
    proposal = walked(org)
    meeting, acceptance = proposal.meetings.get(), proposal.acceptances.get()
    viewer = org.person(Role.COMMUNITY_STAFF)
    text = pdf_text(get_pdf(client, viewer, reverse("approvals:paper-minutes", args=[proposal.pk, meeting.pk])),
                    tmp_path, "minutes.pdf")
    for expected in ["联席会议纪要", "2026年9月28日", "社区二楼会议室", "9人", "王建国（社区党委书记）", "张伟（居民代表）",
                     "老旧小区路灯维修", "¥22,000.00", "贰万贰仟元整", "赞成7票，反对1票，弃权1票", "通过",
                     "同意实施", "主持人（签字）", "记录人（签字）", "参会人员签到", "王建国·社区党委书记"]:
        assert expected in text, expected
    text = pdf_text(get_pdf(client, viewer, reverse("approvals:paper-acceptance",
                                                    args=[proposal.pk, acceptance.pk])), tmp_path, "acceptance.pdf")
    for expected in ["综合验收单", "2026年11月2日", "孙磊·党工委工作人员", "路灯全部点亮", "入户问卷", "调查50人，满意48人",
                     "☑合格", "验收人（签字）", "社区党组织负责人（签字）", "街道负责人（签字）", "东城街道党工委", "（盖章）"]:
        assert expected in text, expected


@pytest.mark.django_db
def test_application_form_prints_posts_dates_and_the_applicant_block(people, client, tmp_path):
    org = people
    proposal = walked(org)
    data = get_pdf(client, org.person(Role.SUPERVISOR), reverse("approvals:proposal-pdf", args=[proposal.pk]))
    text = pdf_text(data, tmp_path, "application-form.pdf")
    for expected in ["申请审批表", "贰万贰仟元整", "2026年10月15日", "陈志刚·社区党工委书记", "刘芳·社区建设管理委员会主任",
                     "2026年10月12日", "申请单位（盖章）", "中共东城街道1号社区委员会", "社区党组织书记（签字）",
                     "申请日期：2026年9月28日", "（盖章）", "王建国·社区党委书记"]:
        assert expected in text, expected
    assert "2026-10-12" not in text


@pytest.mark.django_db
def test_every_paper_is_a4(people, client, tmp_path):
    org = people
    proposal = walked(org)
    viewer = org.person(Role.COMMUNITY_SECRETARY)
    urls = [reverse("approvals:proposal-pdf", args=[proposal.pk]),
            reverse("approvals:paper-plan-notice", args=[proposal.pk]),
            reverse("approvals:paper-completion-notice", args=[proposal.pk]),
            reverse("approvals:paper-minutes", args=[proposal.pk, proposal.meetings.get().pk]),
            reverse("approvals:paper-acceptance", args=[proposal.pk, proposal.acceptances.get().pk])]
    for url in urls:
        sizes = page_sizes(get_pdf(client, viewer, url), tmp_path)
        assert sizes and all(abs(float(w) - 595.28) < 1 and abs(float(h) - 841.89) < 1 for w, h in sizes), (url, sizes)
        assert words_outside_the_margins(get_pdf(client, viewer, url), tmp_path) == [], url
    # the notices fit on one sheet of the board
    for url in urls[1:3]:
        assert len(page_sizes(get_pdf(client, viewer, url), tmp_path)) == 1, url


@pytest.mark.django_db
def test_papers_answer_404_to_whoever_may_not_see_the_proposal(people, client):
    org = people
    proposal = walked(org)
    voucher = Notice.objects.get(proposal=proposal, kind=Notice.Kind.VOUCHER)
    urls = [reverse("approvals:paper-plan-notice", args=[proposal.pk]),
            reverse("approvals:paper-completion-notice", args=[proposal.pk]),
            reverse("approvals:paper-voucher-notice", args=[proposal.pk, voucher.pk]),
            reverse("approvals:paper-minutes", args=[proposal.pk, proposal.meetings.get().pk]),
            reverse("approvals:paper-acceptance", args=[proposal.pk, proposal.acceptances.get().pk])]
    for outsider in (org.person(Role.COMMUNITY_SECRETARY, "a2"), org.person(Role.SUBDISTRICT_SECRETARY, "b1")):
        client.force_login(outsider)
        for url in urls:
            assert client.get(url).status_code == 404, (outsider, url)
    client.logout()
    assert client.get(urls[0]).status_code == 302  # to the login page
    # the proposal page links every paper to those who may see it
    client.force_login(org.person(Role.SUPERVISOR))
    page = client.get(reverse("approvals:proposal", args=[proposal.pk])).content.decode()
    for url in urls:
        assert url in page, url


@pytest.mark.django_db
def test_annual_report_pdf_with_evaluation_and_rights(people, client, tmp_path):
    org = people
    walked(org)
    community = org.community("a1")
    with travel(D(2026, 11, 20)):
        report, _ = annual_report_draft(community=community, year=2026)
        annual_report_submit(report=report, by=org.person(Role.COMMUNITY_SECRETARY),
                             narrative="全年实施项目 1 个，楼道照明全部恢复。")
    with travel(D(2026, 12, 3)):
        annual_report_evaluate(report=report, by=org.person(Role.SUBDISTRICT_STAFF), grade="good",
                               comments="按期报送，资料齐全。")
    report = AnnualReport.objects.get(pk=report.pk)
    url = reverse("approvals:report-pdf", args=[report.pk])
    text = pdf_text(get_pdf(client, org.person(Role.SUPERVISOR), url), tmp_path, "annual-report.pdf")
    for expected in ["东城街道1号社区·2026年度服务群众专项经费使用情况报告", "老旧小区路灯维修", "物业管理服务",
                     "¥21,200.05", "贰万壹仟贰佰元零伍分", "全年实施项目1个", "王建国·社区党委书记", "2026年11月20日",
                     "良好", "按期报送，资料齐全。", "孙磊·党工委工作人员", "2026年12月3日", "（盖章）"]:
        assert expected in text, expected
    for outsider in (org.person(Role.COMMUNITY_SECRETARY, "a2"), org.person(Role.FINANCE_OFFICER, "b1")):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    assert Payment.objects.filter(recipient_name=RECIPIENT).exists()


@pytest.mark.django_db
def test_papers_render_in_english_for_an_english_reader(people, client, tmp_path):
    org = people
    proposal = walked(org)
    client.force_login(org.person(Role.SUPERVISOR))
    client.cookies["django_language"] = "en"
    acceptance = proposal.acceptances.get()
    with translation.override("en"):
        text = pdf_text(pdf.acceptance_sheet(proposal, acceptance.pk), tmp_path)
    assert "Acceptance" in text and "2November2026" in text and "年" not in text.replace("年度", "")
    # a recorded acceptance is served as the Chinese sheet archived when it was recorded, whoever reads it
    response = client.get(reverse("approvals:paper-acceptance", args=[proposal.pk, acceptance.pk]))
    assert "综合验收单" in pdf_text(response.content, tmp_path)
    with translation.override("en"):
        text = pdf_text(pdf.completion_notice(proposal), tmp_path)
    assert "completion" in text and "12November2026" in text and "年" not in text.replace("年度", "")
    # a posted notice is the Chinese paper that went on the board (its archive), whoever reads it
    response = client.get(reverse("approvals:paper-completion-notice", args=[proposal.pk]))
    assert "项目完成公示" in pdf_text(response.content, tmp_path)


@pytest.mark.django_db
def test_a_long_hostile_plan_prints_literally_inside_the_margins(people, client, tmp_path):
    """Markup typed into a plan prints as text; long lines, an unbroken string and many budget lines wrap
    and break across pages inside the margins."""
    org = people
    allocate(org)
    hostile = '<img src="file:///etc/passwd">'
    lines = [(f"{hostile} 第{n}项 " + "灯具" * 20, "1000.00") for n in range(1, 16)]
    community = org.community("a1")
    need = chain.need_record(community=community, by=org.person(Role.COMMUNITY_STAFF), channel="door",
                             description="联系人电话 13912345678 " + "楼道很黑" * 30, on=D(2026, 1, 5))
    proposal = chain.proposal_create(
        community=community, by=org.person(Role.COMMUNITY_STAFF), year=2026, title=hostile + "路灯" * 40,
        category=1, content="更换路灯" * 120, beneficiaries="broad", beneficiary_count=100,
        planned_start=D(2026, 10, 15), planned_end=D(2026, 11, 30), contractor="X" * 150,
        art4_declaration=True, lines=lines, needs=[need])
    from tests.chain import meeting_passed

    meeting_passed(org, proposal)
    data = get_pdf(client, org.person(Role.COMMUNITY_SECRETARY),
                   reverse("approvals:paper-plan-notice", args=[proposal.pk]))
    text = pdf_text(data, tmp_path)
    assert re.sub(r"\s+", "", hostile) in text and "拾伍仟元整" not in text and "壹万伍仟元整" in text
    assert "13912345678" not in text  # a phone number typed into a need is not posted
    assert len(page_sizes(data, tmp_path)) >= 2
    assert words_outside_the_margins(data, tmp_path, margin_mm=15) == []


@pytest.mark.django_db
def test_each_kind_of_paper_renders_from_the_demo(client, demo_city):
    """What a clerk clicks in the demo: one link of each kind in the papers box of the demo proposals (as the
    community's secretary) gives a PDF, and so does an annual report."""
    from approvals.models import Proposal
    from approvals.pdf import papers
    from fundapp.models import Post

    def secretary_of(community):
        return Post.objects.filter(role=Role.COMMUNITY_SECRETARY, community=community,
                                   end_date__isnull=True).first().user

    one_of_each = {}
    for proposal in Proposal.objects.select_related("community").prefetch_related("meetings", "acceptances",
                                                                                "notices"):
        for label, url in papers(proposal):
            one_of_each.setdefault(url.rsplit("/", 1)[-1].split("-")[0], (proposal, label, url))
    assert {"application", "plan", "minutes", "acceptance", "completion"} <= set(one_of_each), one_of_each
    for proposal, label, url in one_of_each.values():
        client.force_login(secretary_of(proposal.community))
        response = client.get(url)
        assert response.status_code == 200 and response.content.startswith(b"%PDF"), (proposal.title, label)
    report = AnnualReport.objects.select_related("community").first()
    client.force_login(secretary_of(report.community))
    assert client.get(reverse("approvals:report-pdf", args=[report.pk])).content.startswith(b"%PDF")
