"""Reconciliation: the FundYear running totals against the ledger and the projects; the summary across
communities; both in a constant number of queries."""
import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals.models import Category, Proposal, State
from desk import finance_selectors as fs
from fundapp.models import Community, FundYear, Role
from fundapp.services import ledger as ledger_services
from tests.chain import allocate, approve, draft, to_review
from tests.snapshot import org_snapshot_fixtures

from .test_exports import build_books

D = datetime.date
ALL_KEYS = {"allocated", "carried_in", "settled", "reserved", "carried_out", fs.CARRY_CHAIN}


def build_city(org):
    """Every community with something in its books: a1 settled + reserved (build_books), a2 and b1 funded,
    b1 a project approved, b2 funded with a reversed allocation and a project under review."""
    build_books(org)
    allocate(org, "b2", amount=Decimal("80000.00"))
    wrong = allocate(org, "b2", amount=Decimal("1000.00"))
    ledger_services.ledger_entry_reverse(entry=wrong, reason="金额错误", entry_date=D(2026, 2, 1))
    approve(org, to_review(org, draft(org, "b1", budget="20000.00", title="就业技能培训"), "b1"), "b1")
    to_review(org, draft(org, "b2", budget="9000.00", title="文体活动"), "b2")
    return org


city_snapshot, city = org_snapshot_fixtures(build_city)


def fund_year(code):
    return FundYear.objects.get(community__code=code, year=2026)


def corrupt(model, pk, column, delta):
    """Raw SQL, as a bad migration or a hand edit in the database would do; within the constraints."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = {column} + %s WHERE id = %s", [delta, pk])


@pytest.mark.django_db
def test_honest_books_reconcile(city):
    for code in ("a1", "a2", "b1", "b2"):
        result = fs.reconcile(fund_year(code))
        assert result.ok, [(c.key, c.running, c.recomputed) for c in result.failures]
        assert {c.key for c in result.checks} == ALL_KEYS
        assert result.identity.ok and result.identity.left == result.identity.right
    a1 = {c.key: c for c in fs.reconcile(fund_year("a1")).checks}
    assert a1["allocated"].recomputed == Decimal("200000.00")  # 205,000 allocated, 5,000 reversed
    assert a1["settled"].recomputed == Decimal("28000.00") and a1["reserved"].recomputed == Decimal("12000.00")
    results = fs.reconcile_many(Community.objects.all(), 2026)
    assert [r.community.code for r in results] == ["a1", "a2", "b1", "b2"]
    assert all(r.ok for r in results)
    assert fs.reconcile_many(Community.objects.all(), 2025) == []


@pytest.mark.parametrize("column, delta, expected", [
    ("settled", "100.00", {"settled"}),
    ("reserved", "100.00", {"reserved"}),
    ("allocated", "-100.00", {"allocated"}),
    ("carried_out", "100.00", {"carried_out"}),
    ("carried_in", "100.00", {"carried_in", fs.CARRY_CHAIN}),  # also disagrees with last year's carry-out
])
@pytest.mark.django_db
def test_a_corrupted_running_total_is_named_with_its_community(city, client, column, delta, expected):
    target = fund_year("a1")
    corrupt(FundYear, target.pk, column, Decimal(delta))
    results = fs.reconcile_many(Community.objects.all(), 2026)
    failed = [r for r in results if not r.ok]
    assert [r.community.code for r in failed] == ["a1"]
    (result,) = failed
    assert {c.key for c in result.failures} == expected
    check = next(c for c in result.checks if c.key == column)
    assert check.difference == Decimal(delta)
    assert check.running - check.recomputed == Decimal(delta)
    # The identity, built from the record and the available money the system shows, breaks by as much.
    assert not result.identity.ok and abs(result.identity.difference) == abs(Decimal(delta))

    client.force_login(city.person(Role.FINANCE_OFFICER, "a1"))
    page = client.get(reverse("finance:reconcile"), {"year": 2026}).content.decode()
    card = page.split(f'id="fy-{target.pk}"')[1].split("</details>")[0]
    assert card.startswith(" open>")
    label = str(FundYear._meta.get_field(column).verbose_name)
    assert f"不符的数字：{label}" in card
    assert f'<strong class="field-error">≠ ¥{Decimal(delta):,.2f}</strong>'.replace("¥-", "-¥") in card
    assert "不成立" in card
    alert = page.split('role="alert"')[1].split("</div>")[0]
    assert "东城街道1号社区" in alert and label in alert and "东城街道2号社区" not in alert
    other = page.split(f'id="fy-{fund_year("a2").pk}"')[1].split("</details>")[0]
    assert not other.startswith(" open") and "不符" not in other and "field-error" not in other


@pytest.mark.django_db
def test_a_corrupted_project_reservation_is_named(city):
    proposal = Proposal.objects.get(community__code="b1", state=State.APPROVED)
    corrupt(Proposal, proposal.pk, "reserved_amount", Decimal("-50.00"))
    failed = [r for r in fs.reconcile_many(Community.objects.all(), 2026) if not r.ok]
    assert [(r.community.code, [c.key for c in r.failures]) for r in failed] == [("b1", ["reserved"])]
    assert failed[0].failures[0].difference == Decimal("50.00")  # the fund year holds 50 more than its projects


def count_queries(function, *args):
    with CaptureQueriesContext(connection) as queries:
        result = function(*args)
    return len(queries), result


@pytest.mark.django_db
def test_reconcile_many_and_summary_cost_the_same_for_two_or_four_communities(city):
    two = Community.objects.filter(subdistrict__code="a")
    four = Community.objects.all()
    # summary reads the year's payments by category too (what a year paid, whatever year its projects are in now)
    for function, expected in ((fs.reconcile_many, 3), (fs.summary, 4)):
        n2, small = count_queries(function, two, 2026)
        n4, large = count_queries(function, four, 2026)
        assert n2 == n4 == expected, (function.__name__, n2, n4)
        # as a list of instances too
        n4_list, _ = count_queries(function, list(four), 2026)
        assert n4_list == expected
    # Reading what the pages read costs nothing more.
    with CaptureQueriesContext(connection) as queries:
        results = fs.reconcile_many(four, 2026)
        names = [(r.community.name, r.community.subdistrict.name, [c.name for c in r.failures]) for r in results]
        data = fs.summary(four, 2026)
        rows = [(c.community.subdistrict.name, c.figures.total) for c in data.communities]
    assert len(queries) == 7 and len(names) == len(rows) == 4


@pytest.mark.django_db
def test_summary_adds_up_across_communities(city):
    data = fs.summary(Community.objects.all(), 2026)
    years = list(FundYear.objects.filter(year=2026))
    assert data.totals.allocated == sum(fy.allocated for fy in years) == Decimal("520000.00")
    assert data.totals.settled == sum(fy.settled for fy in years) == Decimal("28000.00")
    assert data.totals.reserved == sum(fy.reserved for fy in years) == Decimal("32000.00")
    assert data.totals.available == sum(fy.available for fy in years)
    assert data.totals.fund_years == 4 and len(data.communities) == 4
    assert [sd.subdistrict.code for sd in data.subdistricts] == ["a", "b"]
    assert data.subdistricts[0].figures.total == Decimal("350000.00")
    assert data.subdistricts[1].figures.total == Decimal("170000.00")
    categories = {row["category"]: row for row in data.by_category}
    assert list(categories) == Category.values
    assert categories[Category.PROPERTY]["count"] == 4  # every chain helper drafts a property project
    assert categories[Category.PROPERTY]["approved"] == Decimal("62000.00")  # 30,000 + 12,000 + 20,000
    assert categories[Category.PROPERTY]["settled"] == Decimal("28000.00")
    states = {row["state"]: row["count"] for row in data.by_state}
    assert states[State.SETTLED] == 1 and states[State.APPROVED] == 2 and states[State.UNDER_REVIEW] == 1
    assert data.projects == Proposal.objects.count() == 4
    a1 = next(row for row in data.communities if row.community.code == "a1")
    assert (a1.figures.projects, a1.figures.approved, a1.figures.spent_percent) == (2, Decimal("42000.00"),
                                                                                    Decimal("14.0"))
    # the subdistrict's own summary
    a = fs.summary(Community.objects.filter(subdistrict__code="a"), 2026)
    assert a.totals.total == Decimal("350000.00") and a.projects == 2


@pytest.mark.django_db
def test_pages_show_only_the_communities_the_person_may_see(city, client):
    client.force_login(city.person(Role.SUBDISTRICT_STAFF, "a1"))
    for name in ("finance:reconcile", "finance:summary"):
        page = client.get(reverse(name), {"year": 2026}).content.decode()
        assert "东城街道1号社区" in page and "东城街道2号社区" in page
        assert "西城街道1号社区" not in page and "西城街道2号社区" not in page
        assert client.get(reverse(name), {"year": 2026, "subdistrict": "b"}).status_code == 404
    for name in ("finance:summary-pdf", "finance:summary-xlsx"):
        assert client.get(reverse(name, args=[2026]), {"subdistrict": "b"}).status_code == 404
    client.force_login(city.person(Role.COMMUNITY_SECRETARY, "b2"))
    page = client.get(reverse("finance:reconcile"), {"year": 2026}).content.decode()
    assert "西城街道2号社区" in page and "西城街道1号社区" not in page and "1 个年度经费账全部相符" in page
    client.logout()
    assert client.get(reverse("finance:reconcile")).status_code == 302
    assert client.get(reverse("finance:summary-pdf", args=[2026])).status_code == 302
