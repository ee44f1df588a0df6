"""Year close (Art. 13): the unspent, unreserved money carries over once; the closed year takes no new
allocations or commitments; money is never created or lost across years."""
import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Sum

from approvals import services as chain
from approvals.models import Proposal, State
from fundapp.errors import DomainError
from fundapp.models import FundYear, LedgerEntry, Role
from fundapp.services import money as money_services
from fundapp.tasks import close_previous_year
from tests.chain import allocate, approve, draft, reload, signed_invoice, to_accepted, to_review, travel

D = datetime.date
NEW_YEAR = D(2027, 1, 1)


def identity_holds(community):
    """Allocations ever made = settled + reserved + available, over all the community's years."""
    years = FundYear.objects.filter(community=community)
    allocated = years.aggregate(s=Sum("allocated"))["s"] or 0
    return allocated == sum((fy.settled + fy.reserved + fy.available for fy in years), Decimal("0.00"))


@pytest.fixture
def year_2026(org):
    """a1: one project settled (28,000 of 30,000), one approved and unpaid (20,000), one still a draft."""
    allocate(org)
    settled = to_accepted(org, approve(org, to_review(org, draft(org, budget="30000.00", title="已结算项目"))))
    invoice = signed_invoice(org, settled, amount="28000.00")
    with travel(D(2026, 11, 4)):
        chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER), paid_on=D(2026, 11, 4),
                             method="transfer", reference="R1")
    reserved = approve(org, to_review(org, draft(org, budget="20000.00", title="在建项目")))
    waiting = draft(org, budget="5000.00", title="草稿项目")
    return {"settled": settled, "reserved": reserved, "waiting": waiting}


@pytest.mark.django_db
def test_close_carries_available_once_and_keeps_reservations(org, year_2026):
    community = org.community("a1")
    with travel(NEW_YEAR):
        assert close_previous_year.delay().get()["closed"] == 4
        assert close_previous_year.delay().get()["closed"] == 0  # twice: nothing carried twice
        call_command("close_year", "2026")
    old = FundYear.objects.get(community=community, year=2026)
    new = FundYear.objects.get(community=community, year=2027)
    # 200,000 − 28,000 settled − 2,000 still reserved on the settled project − 20,000 reserved
    assert old.is_closed and old.available == 0
    assert old.carried_out == new.carried_in == Decimal("150000.00")
    assert old.reserved == Decimal("22000.00")
    assert LedgerEntry.objects.filter(kind="carry_out", fund_year=old).count() == 1
    assert LedgerEntry.objects.filter(kind="carry_in", fund_year=new).count() == 1
    # the draft goes on in the new year; the approved project keeps its 2026 reservation
    assert reload(year_2026["waiting"]).fund_year == new
    assert reload(year_2026["reserved"]).fund_year == old
    assert identity_holds(community)


@pytest.mark.django_db
def test_closed_year_refuses_allocations_and_new_commitments(org, year_2026):
    community = org.community("a1")
    with travel(NEW_YEAR):
        money_services.fund_year_close(community=community, year=2026)
        with pytest.raises(DomainError):
            money_services.fund_year_allocate(community=community, year=2026, amount="1.00",
                                              entry_date=NEW_YEAR)
    with pytest.raises(DomainError):
        money_services.fund_year_close(community=community, year=2027)  # not over yet


@pytest.mark.django_db
def test_after_close_old_projects_are_paid_from_their_reservation_and_leftovers_carry(org, year_2026):
    community = org.community("a1")
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    settled = year_2026["settled"]
    with travel(NEW_YEAR):
        money_services.fund_year_close(community=community, year=2026)
    with travel(D(2027, 1, 5)):
        chain.settlement_finish(proposal=settled, by=secretary)  # releases the last 2,000
    old = FundYear.objects.get(community=community, year=2026)
    new = FundYear.objects.get(community=community, year=2027)
    assert old.available == 0 and old.reserved == Decimal("20000.00")
    assert new.carried_in == Decimal("152000.00") and new.available == Decimal("152000.00")
    assert identity_holds(community)
    # the project approved in 2026 is still settled against 2026
    reserved = year_2026["reserved"]
    to_accepted_in_2027(org, reserved)
    invoice = signed_invoice_2027(org, reserved)
    with travel(D(2027, 1, 8)):
        chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER), paid_on=D(2027, 1, 8),
                             method="transfer", reference="R2")
    old.refresh_from_db()
    assert old.settled == Decimal("48000.00") and old.reserved == 0
    assert identity_holds(community)


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
def test_a_city_wide_close_that_fails_half_way_completes_on_rerun_without_duplicates(org, year_2026):
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
