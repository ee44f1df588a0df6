"""Year close (Art. 13): everything not yet paid carries over once, dated at the fund-year boundary; the
unfinished projects move to the next year with their reservations; the closed year takes no entries at
all; money is never created or lost across years."""
import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Sum

from audit.models import AuditRecord

from approvals import services as chain
from approvals import year_close
from approvals.models import Proposal, State
from fundapp.errors import DomainError
from desk.finance_selectors import reconcile_many
from fundapp.models import FundYear, LedgerEntry, Role
from fundapp.services import ledger as ledger_services
from approvals.tasks import close_previous_year
from tests.chain import allocate, approve, draft, reload, signed_invoice, to_accepted, to_review, travel
from tests.snapshot import org_snapshot_fixtures

D = datetime.date
NEW_YEAR = D(2027, 1, 1)


def identity_holds(community):
    """Allocations ever made = settled + reserved + available, over all the community's years."""
    years = FundYear.objects.filter(community=community)
    allocated = years.aggregate(s=Sum("allocated"))["s"] or 0
    return allocated == sum((fy.settled + fy.reserved + fy.available for fy in years), Decimal("0.00"))


def build_year_2026(org):
    """a1: one project settled (28,000 of 30,000), one approved and unpaid (20,000), one still a draft."""
    allocate(org)
    settled = to_accepted(org, approve(org, to_review(org, draft(org, budget="30000.00", title="已结算项目"))))
    invoice = signed_invoice(org, settled, amount="28000.00")
    with travel(D(2026, 11, 4)):
        chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER), paid_on=D(2026, 11, 4),
                             method="transfer", reference="R1")
    reserved = approve(org, to_review(org, draft(org, budget="20000.00", title="在建项目")))
    waiting = draft(org, budget="5000.00", title="草稿项目")
    return {"org": org, "settled": settled, "reserved": reserved, "waiting": waiting}


year_2026_snapshot, year_2026 = org_snapshot_fixtures(build_year_2026)


@pytest.mark.django_db
def test_close_carries_everything_unpaid_once_at_the_year_boundary_and_moves_unfinished_projects(year_2026):
    org = year_2026["org"]
    community = org.community("a1")
    with travel(NEW_YEAR):
        assert close_previous_year.delay().get()["closed"] == 4
        assert close_previous_year.delay().get()["closed"] == 0  # twice: nothing carried twice
        call_command("close_year", "2026")
    old = FundYear.objects.get(community=community, year=2026)
    new = FundYear.objects.get(community=community, year=2027)
    # 200,000 − 28,000 settled: 150,000 available + 22,000 reserved (2,000 left on the paid project, 20,000)
    assert old.is_closed and old.available == 0 and old.reserved == 0
    assert old.carried_out == new.carried_in == Decimal("172000.00")
    assert new.reserved == Decimal("22000.00") and new.available == Decimal("150000.00")
    carry_out = LedgerEntry.objects.get(kind="carry_out", fund_year=old)
    carry_in = LedgerEntry.objects.get(kind="carry_in", fund_year=new)
    assert (carry_out.entry_date, carry_in.entry_date) == (D(2026, 12, 31), D(2027, 1, 1))
    # every unfinished project goes on in the new year, with its reservation, each with an audit record
    for key in ("waiting", "reserved", "settled"):
        assert reload(year_2026[key]).fund_year == new
    moved = AuditRecord.objects.filter(action="proposal.carried_over", community_id=community.pk)
    assert moved.count() == 3
    record = moved.get(target_id=str(year_2026["reserved"].pk))
    assert record.before["fund_year"] == 2026 and record.after["fund_year"] == 2027
    assert Decimal(record.after["reserved_amount"]) == Decimal("20000.00")
    assert identity_holds(community)
    assert all(r.ok for r in reconcile_many([community], 2026) + reconcile_many([community], 2027))


@pytest.mark.django_db
def test_closed_year_refuses_every_entry(year_2026):
    org = year_2026["org"]
    community = org.community("a1")
    with travel(NEW_YEAR):
        year_close.fund_year_close(community=community, year=2026)
        old = FundYear.objects.get(community=community, year=2026)
        with pytest.raises(DomainError):
            ledger_services.fund_year_allocate(community=community, year=2026, amount="1.00",
                                              entry_date=D(2026, 12, 30))
        with pytest.raises(DomainError, match="已结转"):
            ledger_services.fund_year_spend(old, Decimal("1.00"), by=None, entry_date=D(2026, 12, 30),
                                           description="x", source="")
        with pytest.raises(DomainError, match="已结转"):
            ledger_services.fund_year_release(old, Decimal("1.00"), small_group=False)
    with pytest.raises(DomainError):
        year_close.fund_year_close(community=community, year=2027)  # not over yet
    assert LedgerEntry.objects.filter(fund_year=old).count() == 3  # allocation, payment, carry-out


@pytest.mark.django_db
def test_after_close_projects_are_paid_and_release_in_the_new_year(year_2026):
    org = year_2026["org"]
    community = org.community("a1")
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    settled = year_2026["settled"]
    with travel(NEW_YEAR):
        year_close.fund_year_close(community=community, year=2026)
    with travel(D(2027, 1, 5)):
        chain.settlement_finish(proposal=settled, by=secretary)  # releases the last 2,000 in 2027
    old = FundYear.objects.get(community=community, year=2026)
    new = FundYear.objects.get(community=community, year=2027)
    assert (old.available, old.reserved, old.carried_out) == (0, 0, Decimal("172000.00"))
    assert new.available == Decimal("152000.00") and new.reserved == Decimal("20000.00")
    assert identity_holds(community)
    reserved = year_2026["reserved"]
    to_accepted_in_2027(org, reserved)
    invoice = signed_invoice_2027(org, reserved)
    finance = org.person(Role.FINANCE_OFFICER)
    with travel(D(2027, 1, 8)):
        # dated in the closed year: refused, saying where the payment goes
        with pytest.raises(DomainError, match="2027"):
            chain.invoice_settle(invoice=invoice, by=finance, paid_on=D(2026, 12, 30), method="transfer",
                                 reference="R2")
        chain.invoice_settle(invoice=invoice, by=finance, paid_on=D(2027, 1, 8), method="transfer", reference="R2")
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.settled == Decimal("28000.00") and LedgerEntry.objects.filter(fund_year=old).count() == 3
    assert new.settled == Decimal("20000.00") and new.reserved == 0
    assert identity_holds(community)


@pytest.mark.django_db
def test_an_open_years_project_paid_with_a_date_in_the_next_year_is_refused(year_2026):
    org = year_2026["org"]
    reserved = year_2026["reserved"]
    to_accepted(org, reserved)
    invoice = signed_invoice(org, reserved, amount="20000.00", number="No.0002")
    with travel(D(2027, 1, 3)):
        with pytest.raises(DomainError, match="2026年度的支出须在当年记账"):
            chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER), paid_on=D(2027, 1, 3),
                                 method="transfer", reference="R3")
    assert not LedgerEntry.objects.filter(entry_date__year=2027).exists()


@pytest.mark.django_db
def test_a_carried_small_group_project_does_not_take_the_new_years_own_room(org):
    """Capped in 2026 (20% of 200,000); carried into 2027 before 2027 is allocated; a later budget cut and
    withdrawal give back the carried figure, not 2027's own 20%."""
    community = org.community("a1")
    allocate(org)
    small = approve(org, to_review(org, draft(org, budget="40000.00", small_group=True, title="小群体项目")))
    with travel(NEW_YEAR):
        year_close.fund_year_close(community=community, year=2026)
    new = FundYear.objects.get(community=community, year=2027)
    # 2027's total is only the carry-over: 40,000 > 20% of it, yet within the cap as carried in
    assert new.total == Decimal("200000.00") and new.small_group_carried == Decimal("40000.00")
    assert new.small_group_committed == Decimal("40000.00")
    assert new.small_group_limit == Decimal("40000.00") + Decimal("40000.00")
    assert reload(small).small_group_carried == Decimal("40000.00")
    secretary, sd_secretary = org.person(Role.COMMUNITY_SECRETARY), org.person(Role.SUBDISTRICT_SECRETARY)
    with travel(D(2027, 1, 12)):
        chain.change_request(proposal=small, by=secretary, description="减少规模", new_budget="30000.00")
        chain.change_decide(proposal=small, by=sd_secretary, consent=True)
    new.refresh_from_db()
    assert (new.small_group_committed, new.small_group_carried) == (Decimal("30000.00"), Decimal("30000.00"))
    assert reload(small).small_group_carried == Decimal("30000.00")
    with travel(D(2027, 1, 13)):
        chain.proposal_withdraw(proposal=small, by=secretary, reason="情况变化")
    new.refresh_from_db()
    assert (new.small_group_committed, new.small_group_carried, new.reserved) == (0, 0, 0)
    assert new.small_group_limit == Decimal("40000.00")  # 20% of 2027's total: its own room, untouched
    assert reload(small).small_group_carried == 0
    assert identity_holds(community)


@pytest.mark.django_db
def test_preview_is_the_close_in_a_fixed_number_of_queries(year_2026, django_assert_max_num_queries):
    org = year_2026["org"]
    community = org.community("a1")
    allocate(org, "b1")
    with django_assert_max_num_queries(3):
        city = year_close.fund_year_close_preview(year=2026)
    rows = {row.community.code: row for row in city}
    assert set(rows) == {"a1", "a2", "b1", "b2"}
    a1 = rows["a1"]
    assert (a1.closed, a1.available, a1.reserved, a1.to_carry) == (
        False, Decimal("150000.00"), Decimal("22000.00"), Decimal("172000.00"))
    assert (a1.moving, a1.moving_reserved, a1.proposals) == (3, Decimal("22000.00"), None)
    assert rows["b1"].to_carry == Decimal("200000.00") and rows["b1"].moving == 0
    assert rows["a2"].fund_year is None and rows["a2"].to_carry == 0
    (one,) = year_close.fund_year_close_preview(year=2026, communities=community)
    assert sorted(p[0] for p in one.proposals) == sorted(year_2026[k].pk for k in ("settled", "reserved", "waiting"))
    assert FundYear.objects.with_balance_to_carry().get(community=community, year=2026).to_carry == a1.to_carry
    with travel(NEW_YEAR):
        carried = year_close.fund_year_close(community=community, year=2026)
    assert carried == a1.to_carry
    (after,) = year_close.fund_year_close_preview(year=2026, communities=[community])
    assert after.closed and after.to_carry == 0 and after.moving == 0 and after.proposals == ()


def to_accepted_in_2027(org, proposal):
    with travel(D(2027, 1, 6)):
        chain.proposal_start(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY))
        chain.acceptance_record(proposal=proposal, by=org.person(Role.SUBDISTRICT_STAFF), inspected_on=D(2027, 1, 6),
                                quality="合格", satisfaction_method="问卷", asked_count=10, satisfied_count=9,
                                passed=True)


def signed_invoice_2027(org, proposal):
    with travel(D(2027, 1, 7)):
        invoice = chain.invoice_register(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY),
                                         contractor="承办方", number="2027-1", amount="20000.00",
                                         issued_on=D(2027, 1, 7))
        for role in (Role.COMMUNITY_SECRETARY, Role.CONSTRUCTION_DIRECTOR, Role.SUBDISTRICT_SECRETARY):
            chain.invoice_sign(invoice=invoice, by=org.person(role))
    return invoice


@pytest.mark.django_db
def test_a_city_wide_close_that_fails_half_way_completes_on_rerun_without_duplicates(year_2026):
    org = year_2026["org"]
    allocate(org, "b1")
    # b1 cannot receive a carry-over: its 2027 year was closed by mistake — the run fails for b1 only
    FundYear.objects.create(community=org.community("b1"), year=2027, status=FundYear.Status.CLOSED)
    with travel(NEW_YEAR):
        with pytest.raises(CommandError):
            call_command("close_year", "2026")
        assert FundYear.objects.get(community__code="a1", year=2026).is_closed
        b1 = FundYear.objects.get(community__code="b1", year=2026)
        assert not b1.is_closed and not LedgerEntry.objects.filter(fund_year=b1, kind="carry_out").exists()
        FundYear.objects.filter(community__code="b1", year=2027).update(status=FundYear.Status.OPEN)
        call_command("close_year", "2026")
    assert LedgerEntry.objects.filter(kind="carry_out").count() == 2  # a1 and b1 (a2, b2 had nothing)
    assert LedgerEntry.objects.filter(kind="carry_in").count() == 2
    for code in ("a1", "b1"):
        assert identity_holds(org.community(code))
    assert Proposal.objects.filter(state=State.DRAFT, fund_year__year=2027).count() == 1


@pytest.mark.django_db
def test_a_carried_projects_earlier_payments_stay_in_the_year_that_made_them(year_2026):
    """The project paid 28,000 in 2026 and not finished moves to 2027; every by-year figure (annual report,
    year-end disclosure, public page, finance summary) counts the 28,000 in 2026 and nothing in 2027, as
    the ledger does."""
    org = year_2026["org"]
    from approvals.reports import figures as report_figures
    from disclosure.services import disclosure_figures
    from desk.finance_selectors import summary
    from public.selectors import community_year

    community = org.community("a1")
    with travel(NEW_YEAR):
        year_close.fund_year_close(community=community, year=2026)
        assert reload(year_2026["settled"]).fund_year.year == 2027

        def settled_by_year(year):
            report = sum(Decimal(row["settled"]) for row in report_figures(community, year)["by_category"])
            disclosure = sum(Decimal(row["settled"]) for row in disclosure_figures(community, year)["by_category"])
            public = sum(Decimal(row["settled"]) for row in community_year(community, year)["by_category"])
            finance = sum(row["settled"] for row in summary([community], year).by_category)
            return {report, disclosure, public, finance}

        assert settled_by_year(2026) == {Decimal("28000.00")} == {FundYear.objects.get(community=community,
                                                                                        year=2026).settled}
        assert settled_by_year(2027) == {Decimal("0.00")}


@pytest.mark.django_db
def test_a_year_being_closed_takes_no_new_proposal_nor_allocation_and_a_closed_one_says_so(year_2026):
    """A close that failed half-way (step 1 committed, the process died before step 2) leaves 2026 closing:
    nothing new goes into it — a draft is refused naming the year to use — until a re-run closes it; then the
    message says closed. The proposals already in the year are untouched. A close the next year cannot take
    is refused before anything is written (the first lines here)."""
    org = year_2026["org"]
    allocate(org, "b1")
    community = org.community("b1")
    FundYear.objects.create(community=community, year=2027, status=FundYear.Status.CLOSED)
    with travel(NEW_YEAR):
        with pytest.raises(DomainError, match="2027年度已结转"):
            year_close.fund_year_close(community=community, year=2026)
        assert FundYear.objects.get(community=community, year=2026).status == FundYear.Status.OPEN
        FundYear.objects.filter(community=community, year=2027).update(status=FundYear.Status.OPEN)
        year_close._mark_closing(community, 2026)  # step 1 done; step 2 never ran
        fy = FundYear.objects.get(community=community, year=2026)
        assert fy.status == FundYear.Status.CLOSING and not fy.is_closed and fy.available > 0
        with pytest.raises(DomainError) as refused:
            draft(org, "b1", year=2026)
        assert str(refused.value) == "2026年度正在结转，不能再在该年度新建项目；请在2027年度新建。"
        with pytest.raises(DomainError, match="2026年度正在结转，不能再记账"):
            ledger_services.fund_year_allocate(community=community, year=2026, amount="1.00",
                                              entry_date=D(2026, 12, 30))
        assert year_close.fund_year_close(community=community, year=2026) == Decimal("200000.00")
        with pytest.raises(DomainError) as refused:
            draft(org, "b1", year=2026)
        assert str(refused.value) == "2026年度已结转，不能再在该年度新建项目；请在2027年度新建。"
        assert draft(org, "b1", year=2027).fund_year.year == 2027  # the year the message names takes it
    assert not Proposal.objects.filter(community=community, fund_year__year=2026).exists()
    assert identity_holds(community)
