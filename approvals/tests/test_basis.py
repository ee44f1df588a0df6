"""The basis of a decision and what a confirmation changes (approvals.basis), checked against what the
services then really do to the fund year."""
import datetime
from decimal import Decimal

import pytest

from approvals import services as chain
from approvals.basis import decision_basis, effect_summary
from approvals.models import Proposal, State
from fundapp.models import FundYear, Role
from tests.chain import allocate, approve, draft, signed_invoice, to_accepted, to_review, travel

D = datetime.date


@pytest.fixture
def funded(org):
    allocate(org)
    return org


def fund_year(p):
    return FundYear.objects.get(pk=p.fund_year_id)


@pytest.mark.django_db
def test_the_second_approval_is_shown_to_reserve_the_budget_exactly_as_it_then_does(funded):
    org = funded
    p = to_review(org, draft(org, budget="30000.00", small_group=True))
    with travel(D(2026, 10, 12)):
        first = effect_summary(Proposal.objects.get(pk=p.pk), "review")
        approve_first = first.outcomes[0]
        assert approve_first.state is None and approve_first.money is None  # one approval changes nothing yet
        chain.review_decide(proposal=p, by=org.person(Role.SUBDISTRICT_SECRETARY), decision="approve")
        effect = effect_summary(Proposal.objects.get(pk=p.pk), "review")
        cases = {str(o.case): o for o in effect.outcomes}
        assert set(cases) == {"同意", "退回修改", "不予批准"}
        assert cases["退回修改"].state == State.DRAFT and cases["不予批准"].state == State.REJECTED
        approving = cases["同意"]
        assert approving.state == State.APPROVED
        money = approving.money
        assert money.kind == "reserve" and money.amount == Decimal("30000.00") and money.small_group
        before = fund_year(p)
        assert money.before.available == before.available
        chain.review_decide(proposal=p, by=org.person(Role.CONSTRUCTION_DIRECTOR), decision="approve")
    after = fund_year(p)
    assert Proposal.objects.get(pk=p.pk).state == State.APPROVED
    assert money.after.available == after.available == before.available - Decimal("30000.00")
    assert money.after.reserved == after.reserved
    assert money.after.small_group_committed == after.small_group_committed


@pytest.mark.django_db
def test_settling_and_finishing_show_the_money_paid_and_released(funded):
    org = funded
    p = to_accepted(org, approve(org, to_review(org, draft(org, budget="30000.00"))))
    invoice = signed_invoice(org, p, amount="28000.00")
    pay = effect_summary(Proposal.objects.get(pk=p.pk), "settle_invoice", target=invoice).outcomes[0].money
    assert pay.kind == "pay" and pay.amount == Decimal("28000.00")
    with travel(D(2026, 11, 5)):
        chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER), paid_on=D(2026, 11, 5),
                             method="transfer", reference="T1")
    now = fund_year(p)
    assert (pay.after.settled, pay.after.reserved, pay.after.available) == (now.settled, now.reserved, now.available)
    finish = effect_summary(Proposal.objects.get(pk=p.pk), "finish_settlement").outcomes[0]
    assert finish.state == State.SETTLED and finish.money.kind == "release"
    assert finish.money.amount == Decimal("2000.00")
    with travel(D(2026, 11, 6)):
        chain.settlement_finish(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY))
    assert finish.money.after.available == fund_year(p).available


@pytest.mark.django_db
def test_every_action_has_a_summary(funded):
    from approvals.actions import ACTIONS

    org = funded
    p = to_review(org, draft(org))
    for name in ACTIONS:
        assert effect_summary(p, name).outcomes, name


@pytest.mark.django_db
def test_the_basis_shows_money_before_and_after_meeting_notice_objections_and_this_rounds_decisions(funded):
    org = funded
    p = draft(org, budget="30000.00", small_group=True)
    from tests.chain import meeting_passed

    meeting_passed(org, p)
    with travel(D(2026, 9, 30)):
        notice = chain.notice_post(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY), posted_on=D(2026, 9, 30),
                                   working_days=3)
        objection = chain.objection_record(notice=notice, channel="online", resident_name="张三", text="太吵",
                                           resident_contact="13900000000")
        chain.objection_answer(objection=objection, by=org.person(Role.COMMUNITY_SECRETARY), answer="白天施工",
                               channel="phone")
    with travel(D(2026, 10, 10)):
        chain.proposal_submit_for_review(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY))
    with travel(D(2026, 10, 12)):
        chain.review_decide(proposal=p, by=org.person(Role.SUBDISTRICT_SECRETARY), decision="approve")
        basis = decision_basis(Proposal.objects.get(pk=p.pk), user=org.person(Role.CONSTRUCTION_DIRECTOR))
    fy = fund_year(p)
    assert basis.before.available == fy.available and basis.takes == Decimal("30000.00")
    assert basis.after.available == fy.available - Decimal("30000.00")
    assert basis.after.small_group_committed == fy.small_group_committed + Decimal("30000.00")
    assert basis.before.small_group_limit == Decimal("40000.00")
    assert basis.meeting.votes_for == 20 and basis.notice.pk == notice.pk
    assert [o.pk for o in basis.objections] == [objection.pk] and basis.objections_open == 0
    [(who, decision, reason, at, mine)] = basis.decisions
    assert decision == "同意" and not mine  # the other leader's decision, seen by the director


@pytest.mark.django_db
def test_a_change_decision_shows_the_change_and_the_money_it_would_reserve(funded):
    org = funded
    p = approve(org, to_review(org, draft(org, budget="30000.00")))
    with travel(D(2026, 10, 15)):
        chain.proposal_start(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY))
        chain.change_request(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY), description="增加 10 盏",
                             new_budget="36000.00")
        p = Proposal.objects.get(pk=p.pk)
        basis = decision_basis(p, user=org.person(Role.SUBDISTRICT_SECRETARY))
        assert basis.change.description == "增加 10 盏" and basis.takes == Decimal("6000.00")
        assert basis.after.available == basis.before.available - Decimal("6000.00")
        consent = effect_summary(p, "consent_change").outcomes[0]
        assert consent.money.kind == "reserve" and consent.money.amount == Decimal("6000.00")
        assert effect_summary(p, "refuse_change").outcomes[0].money is None
        chain.change_decide(proposal=p, by=org.person(Role.SUBDISTRICT_SECRETARY), consent=True)
    assert fund_year(p).available == consent.money.after.available
