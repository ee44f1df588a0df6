"""The home page by role (desk/home.py): each leads with what is due this week, on the dates that matter."""
import datetime
import re

import pytest
from django.urls import reverse

from approvals import reports
from approvals import services as chain
from approvals.models import AnnualReport, Objection
from disclosure.services import disclosure_generate
from fundapp.models import Role
from fundapp.services import org as org_services
from tests.chain import allocate, draft, meeting_passed, settleable, to_review, travel
from tests.snapshot import org_snapshot_fixtures

DECEMBER_2 = datetime.date(2026, 12, 2)  # a Wednesday: the annual reports were due on Monday 30 November


def _home(client, user, day):
    with travel(day):
        client.force_login(user)
        response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.context["home"], response.content.decode()


def _section(home, prefix):
    found = [s for s in home.sections if s.key.startswith(prefix)]
    assert len(found) == 1, [s.key for s in home.sections]
    return found[0]


def _kinds(items):
    return [item.kind for item in items]


def build_december(org):
    """Early December 2026: a1's report is still a draft (overdue), a2's was submitted in time; a2's year-end
    disclosure was posted on 1 December; a1 has a review long past its deadline."""
    for code in ("a1", "a2", "b1"):
        allocate(org, code)
    to_review(org, draft(org, "a1", title="楼道扶手加装"))  # review deadline 2026-10-16
    with travel(datetime.date(2026, 11, 20)):
        reports.annual_reports_generate(year=2026, community_ids=[org.community("a1").pk, org.community("a2").pk])
        a2 = AnnualReport.objects.get(community=org.community("a2"), year=2026)
        reports.annual_report_submit(report=a2, by=org.person(Role.COMMUNITY_SECRETARY, "a2"), narrative="按计划完成")
    with travel(datetime.date(2026, 12, 1)):
        disclosure_generate(org.community("a2").pk, 2026)
    return org


december_snapshot, december = org_snapshot_fixtures(build_december)


@pytest.mark.django_db
def test_community_secretary_sees_the_overdue_report_and_the_disclosure_due(december, client):
    org = december
    home, page = _home(client, org.person(Role.COMMUNITY_SECRETARY, "a1"), DECEMBER_2)
    week = _section(home, "week:")
    report, disclosure = week.items[0], week.items[1]
    assert (report.kind, report.overdue, report.date) == ("report", True, datetime.date(2026, 11, 30))
    assert report.url == reverse("approvals:report", args=[AnnualReport.objects.get(community=org.community("a1")).pk])
    assert (disclosure.kind, disclosure.overdue, disclosure.date) == ("disclosure", False, datetime.date(2026, 12, 19))
    assert week.open_count == 2
    # On the page: the overdue report first, with its date in Chinese, and the disclosure's deadline.
    assert "2026年度经费使用情况报告 · 逾期未报送" in page
    assert "2026年11月30日（星期一）" in page and "已逾期" in page
    assert "2026年度年终公示 · 待张贴" in page and "2026年12月19日（星期六）" in page
    assert "12月2日（星期三） 至 12月8日（星期二）" in page
    assert "暂无待办事项" not in page
    assert page.index('data-section="week:') < page.index("queue-card")


@pytest.mark.django_db
def test_secretary_whose_report_is_in_sees_it_done_and_the_running_disclosure(december, client):
    org = december
    home, page = _home(client, org.person(Role.COMMUNITY_SECRETARY, "a2"), DECEMBER_2)
    week = _section(home, "week:")
    by_kind = {item.kind: item for item in week.items}
    assert by_kind["report"].done and not by_kind["report"].overdue
    running = by_kind["disclosure"]
    assert not running.done and running.date == datetime.date(2026, 12, 7)  # 5 working days from Tue 1 Dec
    assert running.url == reverse("disclosure:summary", args=["a2", 2026])
    assert "2026年度年终公示 · 公示中" in page and "2026年12月7日（星期一）" in page and "2026年12月1日张贴" in page
    # Items still to do lead; what is done follows.
    assert _kinds(week.items) == ["disclosure", "report"]


@pytest.mark.django_db
def test_the_year_end_duties_wait_for_november(december, client):
    org = december
    home, page = _home(client, org.person(Role.COMMUNITY_SECRETARY, "a1"), datetime.date(2026, 10, 20))
    assert _section(home, "week:").items == []
    assert "本周没有到期事项" in page and "年终公示" not in page


@pytest.mark.django_db
def test_secretary_in_november_sees_the_report_due_on_30_november(december, client):
    org = december
    home, page = _home(client, org.person(Role.COMMUNITY_SECRETARY, "a1"), datetime.date(2026, 11, 25))
    report = _section(home, "week:").items[0]
    assert (report.kind, report.overdue, report.done) == ("report", False, False)
    assert "2026年度经费使用情况报告 · 待报送" in page and "截止 2026年11月30日（星期一）" in page


@pytest.mark.django_db
def test_subdistrict_sees_overdue_reviews_and_missing_reports_by_community(december, client):
    org = december
    for role in (Role.SUBDISTRICT_SECRETARY, Role.CONSTRUCTION_DIRECTOR, Role.SUBDISTRICT_STAFF):
        home, page = _home(client, org.person(role, "a1"), DECEMBER_2)
        section = _section(home, "oversight:")
        assert section.scope == "东城街道"
        review = section.items[0]
        assert (review.kind, review.overdue, review.date) == ("review", True, datetime.date(2026, 10, 16))
        assert "楼道扶手加装" in page and "审批期限 2026年10月16日" in page
        # a2's report is in and awaits evaluation (by the staff, who evaluate); a1's is missing, a review overdue.
        assert ("年度报告待评议：1 份" in page) == (role == Role.SUBDISTRICT_STAFF)
        rows = {row["community"].code: row for row in section.table}
        assert set(rows) == {"a1"}
        assert rows["a1"]["report"].status == "逾期未报送" and rows["a1"]["overdue_reviews"] == 1
        assert "需要督促的社区" in page and "东城街道1号社区" in page
    # The other subdistrict: its communities have no report at all.
    home, page = _home(client, org.person(Role.SUBDISTRICT_SECRETARY, "b1"), DECEMBER_2)
    section = _section(home, "oversight:")
    assert {row["community"].code for row in section.table} == {"b1", "b2"}
    assert section.items == []


@pytest.mark.django_db
def test_reviews_due_this_week_go_to_the_leaders_who_review(org, client):
    allocate(org)
    proposal = to_review(org, draft(org))  # received 10 October, deadline Friday 16 October
    for role, shown in ((Role.SUBDISTRICT_SECRETARY, True), (Role.CONSTRUCTION_DIRECTOR, True),
                        (Role.SUBDISTRICT_STAFF, False)):
        home, page = _home(client, org.person(role), datetime.date(2026, 10, 12))
        items = _section(home, "oversight:").items
        assert ([(i.kind, i.overdue, i.date) for i in items] == [("review", False, datetime.date(2026, 10, 16))]) \
            == shown, role
    # Once overdue, everyone in the subdistrict's oversight sees it.
    home, page = _home(client, org.person(Role.SUBDISTRICT_STAFF), datetime.date(2026, 10, 19))
    assert [(i.kind, i.overdue) for i in _section(home, "oversight:").items] == [("review", True)]
    assert proposal.title in page


@pytest.mark.django_db
def test_subdistrict_after_19_december_sees_disclosures_not_posted(december, client):
    org = december
    home, page = _home(client, org.person(Role.SUBDISTRICT_SECRETARY, "a1"), datetime.date(2026, 12, 21))
    rows = {row["community"].code: row for row in _section(home, "oversight:").table}
    assert rows["a1"]["disclosure"].status == "逾期未张贴"
    assert "a2" not in rows  # reported in time, disclosure posted


@pytest.fixture
def notice_with_objection(org):
    allocate(org)
    proposal = meeting_passed(org, draft(org, title="健身器材更新"))
    with travel(datetime.date(2026, 9, 30)):
        chain.notice_post(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY), posted_on=datetime.date(2026, 9, 30),
                          working_days=3)
        chain.objection_record(notice=proposal.notices.get(), channel=Objection.Channel.PAPER, resident_name="赵建国",
                               resident_contact="13900000000", text="器材位置离住户太近",
                               by=org.person(Role.COMMUNITY_STAFF))
    return proposal


@pytest.mark.django_db
def test_supervisor_sees_the_running_notice_and_the_open_objection(notice_with_objection, client, org):
    proposal = notice_with_objection
    home, page = _home(client, org.person(Role.SUPERVISOR, "a1"), datetime.date(2026, 10, 8))
    section = _section(home, "supervision:")
    groups = {g.key: g for g in section.groups}
    notice = groups["notices"].items[0]
    assert (notice.kind, notice.date) == ("notice", datetime.date(2026, 10, 9))
    assert notice.url == reverse("approvals:proposal", args=[proposal.pk])
    objection = groups["objections"].items[0]
    assert objection.kind == "objection" and "健身器材更新" in objection.text
    assert "公示至 2026年10月9日（星期五）" in page and "异议待答复：健身器材更新" in page
    # The resident's name is masked and the phone number is not shown on the home page.
    assert "赵建国" not in page and "13900000000" not in page and "赵**" in page
    assert "暂无待办事项" not in page
    # Another community's supervisor sees nothing of it.
    home, page = _home(client, org.person(Role.SUPERVISOR, "a2"), datetime.date(2026, 10, 8))
    assert all(not g.items for g in _section(home, "supervision:").groups)
    assert "健身器材更新" not in page and "暂无待办事项" in page


@pytest.mark.django_db
def test_the_secretary_sees_notices_ending_and_objections_to_answer(notice_with_objection, client, org):
    home, page = _home(client, org.person(Role.COMMUNITY_SECRETARY, "a1"), datetime.date(2026, 10, 8))
    assert _kinds(_section(home, "week:").items) == ["objection", "notice"]  # received 30 Sep; ends 9 Oct
    assert "2026年10月10日起可办理下一步" in page


@pytest.mark.django_db
def test_supervisor_sees_overdue_items_and_recent_payments(org, client):
    proposal, invoice = settleable(org)
    with travel(datetime.date(2026, 11, 5)):
        chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER), paid_on=datetime.date(2026, 11, 5),
                             method="transfer", reference="ZZ-1")
    late = draft(org, title="楼道扶手加装")
    to_review(org, late)
    home, page = _home(client, org.person(Role.SUPERVISOR, "a1"), DECEMBER_2)
    groups = {g.key: g for g in _section(home, "supervision:").groups}
    # The oldest first: the review past its 16 October deadline, then the report (none at all) due 30 November.
    assert [i.kind for i in groups["overdue"].items] == ["review", "report"]
    assert groups["overdue"].items[0].url == reverse("approvals:proposal", args=[late.pk])
    payment = groups["payments"].items[0]
    assert (payment.amount, payment.date, payment.url) == (invoice.amount, datetime.date(2026, 11, 5),
                                                           reverse("approvals:proposal", args=[proposal.pk]))
    assert "¥28,000.00" in page and "支付日期 2026年11月5日（星期四）" in page


@pytest.mark.django_db
def test_finance_officer_sees_invoices_ready_to_pay_with_the_total(org, client):
    proposal, invoice = settleable(org)
    second = chain.invoice_register(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY), contractor="光明电器维修部",
                                    number="No.0002", amount="1500.50", issued_on=datetime.date(2026, 11, 3))
    home, page = _home(client, org.person(Role.FINANCE_OFFICER, "a1"), datetime.date(2026, 11, 4))
    section = _section(home, "finance:")
    assert [i.amount for i in section.items] == [invoice.amount]  # the unsigned one is not ready
    assert section.open_count == 1 and str(section.total) == "28000.00"
    assert section.items[0].url == reverse("approvals:proposal-action", args=[proposal.pk, "settle_invoice"]) \
        + f"?target={invoice.pk}"
    finance = page.split('data-section="finance:')[1].split("</section>")[0]
    assert "待支付 1 张，合计 ¥28,000.00" in finance and "No.0001" in finance and "No.0002" not in finance
    for role in (Role.COMMUNITY_SECRETARY, Role.CONSTRUCTION_DIRECTOR, Role.SUBDISTRICT_SECRETARY):
        chain.invoice_sign(invoice=second, by=org.person(role))
    home, page = _home(client, org.person(Role.FINANCE_OFFICER, "a1"), datetime.date(2026, 11, 4))
    assert "待支付 2 张，合计 ¥29,500.50" in page
    # The other subdistrict's finance officer: nothing to pay.
    home, page = _home(client, org.person(Role.FINANCE_OFFICER, "b1"), datetime.date(2026, 11, 4))
    assert _section(home, "finance:").items == [] and "没有待支付的发票" in page


@pytest.mark.django_db
def test_city_administrator_sees_the_years_missing_reports_and_disclosures(december, client):
    org = december
    home, page = _home(client, org.city_admin, DECEMBER_2)
    city = _section(home, "city")
    counts = {str(label): n for label, n, _url in city.counts}
    assert counts == {"超期未审批": 1, "年度报告未报送的社区": 3, "年终公示尚未张贴的社区": 3}
    assert "楼道扶手加装" in page
    # Before the due date the reports are not counted as missing.
    home, _page = _home(client, org.city_admin, datetime.date(2026, 11, 20))
    assert [str(label) for label, _n, _url in _section(home, "city").counts] == ["超期未审批"]


@pytest.mark.django_db
def test_a_person_with_several_posts_sees_each_section_once(december, client, make_user):
    org = december
    person = make_user("both")
    subdistrict, a1 = org.a, org.community("a1")
    for role in (Role.SUBDISTRICT_SECRETARY, Role.SUBDISTRICT_STAFF):
        org_services.post_create(user=person, role=role, start_date=datetime.date(2020, 1, 1), subdistrict=subdistrict)
    for role in (Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF, Role.SUPERVISOR):
        org_services.post_create(user=person, role=role, start_date=datetime.date(2020, 1, 1), community=a1)
    home, page = _home(client, person, DECEMBER_2)
    keys = [s.key for s in home.sections]
    assert keys == [f"week:{a1.pk}", f"supervision:{a1.pk}", f"oversight:{subdistrict.pk}"]
    for key in keys:
        assert page.count(f'data-section="{key}"') == 1


@pytest.mark.django_db
def test_nothing_to_do_says_so_only_when_truly_nothing(org, client):
    allocate(org, "b1")
    _home_, page = _home(client, org.person(Role.COMMUNITY_STAFF, "b1"), datetime.date(2026, 6, 1))
    assert "暂无待办事项" in page
    _home_, page = _home(client, org.person(Role.COMMUNITY_STAFF, "b1"), DECEMBER_2)
    assert "暂无待办事项" not in page and "逾期未报送" in page


@pytest.mark.django_db
def test_english_home_dates(december, client):
    client.cookies["django_language"] = "en"
    _home_, page = _home(client, december.person(Role.COMMUNITY_SECRETARY, "a1"), DECEMBER_2)
    assert "Monday 30 November 2026" in page
    assert re.search(r"Wednesday 2 December\s+to\s+Tuesday 8 December", page)


def test_long_date_forms():
    from django.utils import translation

    from desk.templatetags.fund import long_date

    day = datetime.date(2026, 12, 2)
    with translation.override("zh-hans"):
        assert [long_date(day, form) for form in ("", "weekday", "short", "short weekday")] == [
            "2026年12月2日", "2026年12月2日（星期三）", "12月2日", "12月2日（星期三）"]
    with translation.override("en"):
        assert [long_date(day, form) for form in ("", "weekday", "short", "short weekday")] == [
            "2 December 2026", "Wednesday 2 December 2026", "2 December", "Wednesday 2 December"]
