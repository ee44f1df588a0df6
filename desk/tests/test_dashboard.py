"""The city's and the subdistricts' dashboards (desk/dashboard_views.py): each block shows what it must, the filters
narrow the rows and the export holds exactly those, only the right people see them, and a page costs the same
number of queries at 10 communities as at 200."""
import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from openpyxl import load_workbook

from approvals import reports
from approvals import services as chain
from approvals.models import AnnualReport, Category, Proposal, State
from disclosure.services import disclosure_generate
from fundapp.models import Community, FundYear, Role
from tests.chain import allocate, approve, draft, meeting_passed, to_accepted, to_review, travel
from tests.snapshot import org_snapshot_fixtures

D = datetime.date
OCTOBER_13 = D(2026, 10, 13)  # a Tuesday: a1's review is due on Friday the 16th, b2's notice ends on the 14th
DECEMBER_2 = D(2026, 12, 2)   # reports overdue since 30 November; disclosures due by 19 December


def build_city(org):
    """a1: a review overdue from 16 October. a2: a small-group project of ¥35,000 approved (17.5% of its fund),
    its report submitted and its disclosure posted. b1: a payment of ¥800 without an invoice. b2: a plan notice
    posted on 12 October that drew an objection. Every community but a2 misses its report and disclosure."""
    for code in ("a1", "a2", "b1", "b2"):
        allocate(org, code)
    to_review(org, draft(org, "a1", title="楼道扶手加装"))
    approve(org, to_review(org, draft(org, "a2", title="老年活动小组", small_group=True, budget="35000.00"), "a2"),
            "a2")
    paid = to_accepted(org, approve(org, to_review(org, draft(org, "b1", title="困难家庭走访慰问",
                                                               budget="5000.00"), "b1"), "b1"), "b1")
    with travel(D(2026, 11, 5)):
        chain.voucher_pay(proposal=paid, by=org.person(Role.FINANCE_OFFICER, "b1"), amount="800.00",
                          paid_on=D(2026, 11, 5), method="cash", reference="V-1", recipient_name="赵六",
                          receipt_reference="签收单1", meeting=paid.meetings.get())
    noticed = meeting_passed(org, draft(org, "b2", title="小区健身器材更新"), "b2")
    with travel(D(2026, 10, 12)):
        notice = chain.notice_post(proposal=noticed, by=org.person(Role.COMMUNITY_SECRETARY, "b2"),
                                   posted_on=D(2026, 10, 12), working_days=3)
    with travel(OCTOBER_13):
        chain.objection_record(notice=notice, channel="online", resident_name="钱七", text="器材放置位置不妥")
    with travel(D(2026, 11, 20)):
        reports.annual_reports_generate(year=2026, community_ids=[org.community("a2").pk])
        a2 = AnnualReport.objects.get(community=org.community("a2"), year=2026)
        reports.annual_report_submit(report=a2, by=org.person(Role.COMMUNITY_SECRETARY, "a2"), narrative="按计划完成")
    with travel(D(2026, 12, 1)):
        disclosure_generate(org.community("a2").pk, 2026)
    return org


city_snapshot, city = org_snapshot_fixtures(build_city)


def _get(client, user, url, day=DECEMBER_2):
    client.force_login(user)
    with travel(day):
        return client.get(url)


def _page(client, user, day=DECEMBER_2, url=None, **query):
    response = _get(client, user, (url or reverse("dashboard:city")) + _query(query), day)
    assert response.status_code == 200, response.status_code
    return response


def _query(query):
    from urllib.parse import urlencode

    return "?" + urlencode(query) if query else ""


def _first_cells(response):
    """The first cell's value of each row of the list shown."""
    return [row[0][1].value for row in response.context["rows"]]


def _cards(response):
    return {c["list"].key: c["count"] for c in response.context["cards"]}


# ---- each block ------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_week_shows_reviews_due_and_notices_ending(city, client):
    response = _page(client, city.city_admin, OCTOBER_13)
    assert _cards(response)["deadlines"] == 2
    rows = {row[0][1].value: row for row in response.context["rows"]}
    assert set(rows) == {"楼道扶手加装", "小区健身器材更新"}
    review, notice = rows["楼道扶手加装"], rows["小区健身器材更新"]
    assert (str(review[3][1].value), review[4][1].value) == ("审批期限", D(2026, 10, 16))
    assert (str(notice[3][1].value), notice[4][1].value) == ("项目方案公示结束", D(2026, 10, 14))
    # Each row leads to the proposal and to the community's ledger.
    proposal = Proposal.objects.get(title="楼道扶手加装")
    assert review[0][1].url == reverse("approvals:proposal", args=[proposal.pk])
    assert review[1][1].url == reverse("ledger", args=["a1", 2026])
    page = response.content.decode()
    assert reverse("approvals:proposal", args=[proposal.pk]) in page and "2026年10月16日" in page
    # The kind filter keeps one of them.
    only = _page(client, city.city_admin, OCTOBER_13, kind="notice")
    assert _first_cells(only) == ["小区健身器材更新"]
    # Not overdue yet on 13 October; in December the review is overdue and the week holds nothing.
    assert _cards(response)["overdue"] == 0
    assert _cards(_page(client, city.city_admin))["deadlines"] == 0


@pytest.mark.django_db
def test_overdue_reviews_and_the_missing_reports_and_disclosures_of_december(city, client):
    response = _page(client, city.city_admin, list="overdue")
    assert _first_cells(response) == ["楼道扶手加装"]
    assert response.context["rows"][0][4][1].value == (DECEMBER_2 - D(2026, 10, 16)).days
    cards = _cards(response)
    assert (cards["overdue"], cards["reports"], cards["disclosures"]) == (1, 3, 3)
    reported = _page(client, city.city_admin, list="reports")
    assert _first_cells(reported) == ["东城街道1号社区", "西城街道1号社区", "西城街道2号社区"]
    disclosed = _page(client, city.city_admin, list="disclosures")
    assert "a2" not in [r[0][1].url.split("/")[2] for r in disclosed.context["rows"]]
    assert len(disclosed.context["rows"]) == 3
    # The report due on 30 November was not yet missing in its week: the deadline shows instead.
    november = _page(client, city.city_admin, D(2026, 11, 25), list="reports")
    assert november.context["rows"] == [] and _cards(november)["reports"] == 0
    assert november.context["season_note"]
    due = november.context["due"]
    assert [(str(d.title), d.day, d.missing) for d in due] == [("年度报告截止", D(2026, 11, 30), 3)]


@pytest.mark.django_db
def test_the_exceptions(city, client):
    cards = _cards(_page(client, city.city_admin))
    assert (cards["small_group"], cards["objections"], cards["vouchers"]) == (1, 1, 1)
    small = _page(client, city.city_admin, list="small_group").context["rows"]
    assert [(r[0][1].value, r[4][1].value) for r in small] == [("东城街道2号社区", Decimal("17.5"))]
    objections = _page(client, city.city_admin, list="objections").context["rows"]
    assert [(r[0][1].value, r[5][1].value, r[6][1].value) for r in objections] == [("小区健身器材更新", 1, 1)]
    vouchers = _page(client, city.city_admin, list="vouchers")
    row = vouchers.context["rows"][0]
    assert (row[0][1].value, row[4][1].value, row[5][1].value) == ("困难家庭走访慰问", Decimal("800.00"), "赵*")
    assert "赵六" not in vouchers.content.decode()
    # Nothing is spent past half anywhere: all four are idle from 1 October, none before.
    assert _cards(_page(client, city.city_admin))["idle"] == 4
    assert _cards(_page(client, city.city_admin, D(2026, 9, 30)))["idle"] == 0


@pytest.mark.django_db
def test_spending_by_subdistrict_and_category_with_their_charts(city, client):
    response = _page(client, city.city_admin, list="spending")
    rows = {r[0][1].value: r for r in response.context["rows"]}
    assert set(rows) == {"东城街道", "西城街道"}
    west = rows["西城街道"]
    assert (west[1][1].value, west[3][1].value, west[4][1].value) == (2, Decimal("400000.00"), Decimal("800.00"))
    assert west[0][1].url == reverse("dashboard:subdistrict", args=["b"]) + "?year=2026"
    chart = str(response.context["spending_chart"])
    assert chart.startswith("<svg") and "西城街道 ¥800.00 / ¥400,000.00" in chart
    categories = _page(client, city.city_admin, list="categories").context["rows"]
    by_label = {r[0][1].value: r for r in categories}
    assert len(by_label) == 6
    hardship = by_label[str(Category.PROPERTY.label)]  # the chain's drafts are all property care
    assert hardship[3][1].value == Decimal("800.00") and hardship[1][1].value == 4
    # A subdistrict's page: by community.
    east = _page(client, city.city_admin, url=reverse("dashboard:subdistrict", args=["a"]), list="spending")
    assert _first_cells(east) == ["东城街道1号社区", "东城街道2号社区"]


# ---- filters and exports ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_filters_narrow_the_rows_and_the_export_holds_exactly_them(city, client):
    everything = _page(client, city.city_admin, list="reports")
    assert len(everything.context["rows"]) == 3
    west = _page(client, city.city_admin, list="reports", subdistrict="b")
    assert _first_cells(west) == ["西城街道1号社区", "西城街道2号社区"]
    assert _cards(west)["overdue"] == 0  # the counts follow the filters too
    one = _page(client, city.city_admin, list="reports", community="b2")
    assert _first_cells(one) == ["西城街道2号社区"]
    assert _first_cells(_page(client, city.city_admin, list="reports", community="2号")) == ["西城街道2号社区"]
    assert _page(client, city.city_admin, list="overdue", category=Category.HARDSHIP).context["rows"] == []
    assert _page(client, city.city_admin, list="overdue", year=2025).context["rows"] == []

    url = reverse("dashboard:city-export", args=["xlsx"]) + "?list=reports&year=2026&subdistrict=b"
    response = _get(client, city.city_admin, url)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming
                                      else response.content)).active
    values = [[c for c in row] for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert [row[0] for row in values] == ["西城街道1号社区", "西城街道2号社区"]
    assert values[0][3] == datetime.datetime(2026, 11, 30)

    text = _get(client, city.city_admin, reverse("dashboard:city-export", args=["csv"])
                + "?list=vouchers&year=2026").content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:5] == ["项目", "社区", "街道", "支付日期", "金额"]
    assert lines[1:] == [["困难家庭走访慰问", "西城街道1号社区", "西城街道", "2026-11-05", "800.00", "赵*", "V-1"]]
    # The export links on the page carry the filters.
    page = _page(client, city.city_admin, list="reports", subdistrict="b").content.decode()
    assert "export.xlsx?list=reports&amp;year=2026&amp;subdistrict=b" in page


@pytest.mark.django_db
def test_bad_filters_are_left_out(city, client):
    response = _page(client, city.city_admin, list="nonsense", year="abc", category="99", kind="x")
    assert response.context["chosen"].key == "deadlines" and response.context["f"].year == 2026
    assert response.context["f"].category is None
    assert _get(client, city.city_admin, reverse("dashboard:city") + "?subdistrict=nowhere").status_code == 404
    assert _get(client, city.city_admin, reverse("dashboard:city-export", args=["pdf"])).status_code == 404


# ---- who sees what ---------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_access(city, client):
    a_page, b_page = (reverse("dashboard:subdistrict", args=[code]) for code in ("a", "b"))
    a_export = reverse("dashboard:subdistrict-export", args=["a", "xlsx"])
    allowed = [city.city_admin, city.person(Role.SUBDISTRICT_SECRETARY, "a1"),
               city.person(Role.SUBDISTRICT_STAFF, "a1")]
    for user in allowed:
        assert _get(client, user, a_page).status_code == 200
        assert _get(client, user, a_export).status_code == 200
    refused = [city.person(Role.SUBDISTRICT_SECRETARY, "b1"), city.person(Role.CONSTRUCTION_DIRECTOR, "a1"),
               city.person(Role.FINANCE_OFFICER, "a1"), city.person(Role.COMMUNITY_SECRETARY, "a1"),
               city.person(Role.COMMUNITY_STAFF, "a1"), city.person(Role.SUPERVISOR, "a1")]
    for user in refused:
        assert _get(client, user, a_page).status_code == 403, user
        assert _get(client, user, a_export).status_code == 403, user
    for user in allowed[1:] + refused:
        assert _get(client, user, reverse("dashboard:city")).status_code == 403
        assert _get(client, user, reverse("dashboard:city-export", args=["csv"])).status_code == 403
    assert _get(client, city.city_admin, b_page).status_code == 200
    # The subdistrict's page holds its own communities only, whatever the query string says.
    secretary = city.person(Role.SUBDISTRICT_SECRETARY, "a1")
    rows = _page(client, secretary, url=a_page, list="reports", subdistrict="b").context["rows"]
    assert _first_cells(_page(client, secretary, url=a_page, list="reports")) == ["东城街道1号社区"]
    assert [r[0][1].value for r in rows] == ["东城街道1号社区"]
    client.logout()
    assert client.get(a_page).status_code == 302


@pytest.mark.django_db
def test_the_homes_link_to_the_dashboards(city, client):
    page = _get(client, city.city_admin, reverse("home")).content.decode()
    assert reverse("dashboard:city") in page
    assert reverse("ledger", args=["a2", 2026]) not in page  # no table of every community's money any more
    secretary = _get(client, city.person(Role.SUBDISTRICT_SECRETARY, "a1"), reverse("home")).content.decode()
    assert reverse("dashboard:subdistrict", args=["a"]) in secretary
    community = _get(client, city.person(Role.COMMUNITY_SECRETARY, "a1"), reverse("home")).content.decode()
    assert "/dashboard/" not in community


# ---- the same cost at 10 and at 200 communities ----------------------------------------------------------

def _grow(org, size):
    """`size` more communities, half in each subdistrict, bulk-created with a fund year each (every other one above
    15% small-group use) and a review overdue since 16 October: every list but the deadlines grows with them."""
    communities = Community.objects.bulk_create([
        Community(subdistrict=org.a if i % 2 else org.b, name=f"扩展{i:04d}号社区", code=f"x{i:04d}")
        for i in range(size)])
    fund_years = FundYear.objects.bulk_create([
        FundYear(community=c, year=2026, allocated=Decimal("100000.00"), settled=Decimal("1000.00"),
                 small_group_committed=Decimal("16000.00") if i % 2 else Decimal("0.00"))
        for i, c in enumerate(communities)])
    author = org.person(Role.COMMUNITY_STAFF, "a1")
    Proposal.objects.bulk_create([
        Proposal(community_id=fy.community_id, fund_year=fy, title=f"扩展项目{i}", category=Category.CONVENIENCE,
                 content="—", beneficiaries="broad", beneficiary_count=100, planned_start=D(2026, 10, 20),
                 planned_end=D(2026, 11, 30), art4_declaration=True, state=State.UNDER_REVIEW,
                 review_received_on=D(2026, 10, 9), review_deadline=D(2026, 10, 16), created_by=author)
        for i, fy in enumerate(fund_years)])


# Whatever the size. The session and the person (2), their posts (1), the unread notifications (1) and the
# session saved again (3: a savepoint, the update, its release); the subdistricts of the city's filter (1) or the
# subdistrict asked for (1); the eight counts of the cards (8; idle only from 1 October, the deadlines' due dates
# only in their week); the list shown (its count, and its page when it has rows: 1–2); the spending chart (1) and
# the categories (2). An export: the session, the person, the posts, the rows (one query, however many), the
# session saved (3), and the subdistrict asked for.
EXPECTED = {
    "city": 20,
    "city, reports": 21,
    "city, spending": 21,
    "subdistrict": 20,
    "subdistrict, overdue": 21,
    "city export": 7,
    "subdistrict export": 8,
}


def _urls():
    sd = reverse("dashboard:subdistrict", args=["a"])
    return {
        "city": reverse("dashboard:city"),
        "city, reports": reverse("dashboard:city") + "?list=reports&page=2",
        "city, spending": reverse("dashboard:city") + "?list=spending",
        "subdistrict": sd,
        "subdistrict, overdue": sd + "?list=overdue&page=2",
        "city export": reverse("dashboard:city-export", args=["xlsx"]) + "?list=overdue",
        "subdistrict export": reverse("dashboard:subdistrict-export", args=["a", "csv"]) + "?list=small_group",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("size", [10, 200])
def test_query_counts_do_not_grow_with_the_city(city, client, django_assert_num_queries, size):
    _grow(city, size)
    ContentType.objects.clear_cache()
    ContentType.objects.get_for_models(Community)
    client.force_login(city.city_admin)
    with travel(DECEMBER_2):
        assert client.get(reverse("dashboard:city")).status_code == 200  # warm: the session's first read
        for name, url in _urls().items():
            with django_assert_num_queries(EXPECTED[name], info=name):
                response = client.get(url)
            assert response.status_code == 200, (name, response.status_code)
            if "export" not in name and name not in ("city", "subdistrict"):  # their default list (this week) is empty
                assert 0 < len(response.context["rows"]) <= 50, name
                assert response.context["page"].paginator.count < 50 or size > 50, name
