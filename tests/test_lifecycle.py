"""One proposal through all 13 steps of SPEC §4, checking money and the audit trail after each."""
import datetime
from decimal import Decimal

import pytest

from approvals import services as chain
from approvals.models import Invoice, Notice, State
from audit.models import AuditRecord
from audit.services import verify_chain
from fundapp.models import FundYear, LedgerEntry, Role

from .chain import ALLOCATION, allocate, draft, reload, travel

D = datetime.date


def money(org, code="a1"):
    fy = FundYear.objects.get(community=org.community(code), year=2026)
    return fy.total, fy.settled, fy.reserved, fy.available


@pytest.fixture
def people(org):
    return {
        "staff": org.person(Role.COMMUNITY_STAFF),
        "secretary": org.person(Role.COMMUNITY_SECRETARY),
        "sd_secretary": org.person(Role.SUBDISTRICT_SECRETARY),
        "director": org.person(Role.CONSTRUCTION_DIRECTOR),
        "sd_staff": org.person(Role.SUBDISTRICT_STAFF),
        "finance": org.person(Role.FINANCE_OFFICER),
    }


@pytest.mark.django_db
def test_one_proposal_through_the_whole_chain(org, people):
    allocate(org)
    audits = AuditRecord.objects.filter(community_id=org.community("a1").pk)
    n = audits.count()

    def step(expected_state, expected_money, action):
        nonlocal n
        p = reload(proposal)
        assert p.state == expected_state
        assert money(org) == tuple(Decimal(x) for x in expected_money)
        # the step's own record (posting a notice also records its archived paper, approvals.paper_archive)
        latest = audits.filter(action__startswith="proposal.").order_by("-seq").first()
        assert audits.count() > n and latest.action == f"proposal.{action}"
        n = audits.count()
        return p

    untouched = (ALLOCATION, "0.00", "0.00", ALLOCATION)
    # 1-2. needs collected, proposal drafted by community staff
    proposal = draft(org, budget="30000.00")
    assert proposal.state == State.DRAFT and proposal.budget == Decimal("30000.00")
    # 2-3. the secretary files it; the subdistrict gives preliminary consent
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=proposal, by=people["secretary"])
        step(State.CONSENT_PENDING, untouched, "submit_for_consent")
        chain.consent_decide(proposal=proposal, by=people["sd_secretary"], consented=True, comments="同意上会")
        step(State.CONSENTED, untouched, "consent")
        # 5. joint meeting
        chain.meeting_record(proposal=proposal, by=people["secretary"], held_on=D(2026, 9, 28), place="会议室",
                             attendance=25, votes_for=20, votes_against=3, votes_abstain=2, minutes="通过")
        step(State.MEETING_PASSED, untouched, "meeting_passed")
    # 6. public notice of 3 working days across the National Day holiday
    with travel(D(2026, 9, 30)):
        chain.notice_post(proposal=proposal, by=people["secretary"], posted_on=D(2026, 9, 30), working_days=3)
        p = step(State.NOTICE, untouched, "post_notice")
        notice = p.notices.get()
        assert (notice.last_day, notice.next_step_day) == (D(2026, 10, 9), D(2026, 10, 10))
    # 7. submission only after the full period
    with travel(D(2026, 10, 9)):
        with pytest.raises(chain.DomainError):
            chain.proposal_submit_for_review(proposal=proposal, by=people["secretary"])
    with travel(D(2026, 10, 10)):
        chain.proposal_submit_for_review(proposal=proposal, by=people["secretary"])
        p = step(State.UNDER_REVIEW, untouched, "submit_for_review")
        assert p.review_received_on == D(2026, 10, 10) and p.review_deadline == D(2026, 10, 16)
    # 8. both leaders approve; the second approval reserves the budget
    with travel(D(2026, 10, 12)):
        chain.review_decide(proposal=proposal, by=people["sd_secretary"], decision="approve")
        step(State.UNDER_REVIEW, untouched, "review_approve")
        chain.review_decide(proposal=proposal, by=people["director"], decision="approve")
        p = step(State.APPROVED, (ALLOCATION, "0.00", "30000.00", "170000.00"), "approve")
        assert p.approved_budget == p.reserved_amount == Decimal("30000.00")
    # 9. execution with follow-ups
    with travel(D(2026, 10, 15)):
        chain.proposal_start(proposal=proposal, by=people["secretary"])
        step(State.IN_PROGRESS, (ALLOCATION, "0.00", "30000.00", "170000.00"), "start")
        chain.follow_up_record(proposal=proposal, by=people["sd_staff"], visited_on=D(2026, 10, 15), notes="已进场")
        step(State.IN_PROGRESS, (ALLOCATION, "0.00", "30000.00", "170000.00"), "follow_up")
    # 10. acceptance
    with travel(D(2026, 11, 2)):
        chain.acceptance_record(proposal=proposal, by=people["sd_staff"], inspected_on=D(2026, 11, 2),
                                quality="合格", satisfaction_method="入户问卷", asked_count=50, satisfied_count=47,
                                passed=True)
        step(State.ACCEPTED, (ALLOCATION, "0.00", "30000.00", "170000.00"), "accept")
    # 11. invoice signed by three people in order
    with travel(D(2026, 11, 3)):
        invoice = chain.invoice_register(proposal=proposal, by=people["secretary"], contractor="光明电器维修部",
                                         number="No.0001", amount="28000.00", issued_on=D(2026, 11, 3))
        step(State.ACCEPTED, (ALLOCATION, "0.00", "30000.00", "170000.00"), "register_invoice")
        for who in ("secretary", "director", "sd_secretary"):
            chain.invoice_sign(invoice=invoice, by=people[who])
            step(State.ACCEPTED, (ALLOCATION, "0.00", "30000.00", "170000.00"), "sign_invoice")
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.SIGNED
        assert [s.role for s in invoice.signatures.all()] == [
            "community_secretary", "construction_director", "subdistrict_secretary"]
    # 12. settlement: the expenditure is posted, the reservation shrinks
    with travel(D(2026, 11, 4)):
        payment = chain.invoice_settle(invoice=invoice, by=people["finance"], paid_on=D(2026, 11, 4),
                                       method="transfer", reference="BANK-778")
        step(State.ACCEPTED, (ALLOCATION, "28000.00", "2000.00", "170000.00"), "settle_invoice")
        assert payment.ledger_entry.kind == LedgerEntry.Kind.EXPENDITURE
        assert payment.ledger_entry.amount == Decimal("28000.00")
        chain.settlement_finish(proposal=proposal, by=people["secretary"])
        p = step(State.SETTLED, (ALLOCATION, "28000.00", "0.00", "172000.00"), "finish_settlement")
        assert p.reserved_amount == 0 and p.settled_amount == Decimal("28000.00")
    # 13. completion notice for 3 working days
    with travel(D(2026, 11, 5)):
        chain.completion_notice_post(proposal=proposal, by=people["secretary"], posted_on=D(2026, 11, 5))
        step(State.COMPLETION_NOTICE, (ALLOCATION, "28000.00", "0.00", "172000.00"), "post_completion_notice")
        with pytest.raises(chain.DomainError):
            chain.proposal_complete(proposal=proposal, by=people["secretary"])
    with travel(D(2026, 11, 10)):
        chain.proposal_complete(proposal=proposal, by=people["secretary"])
        step(State.COMPLETED, (ALLOCATION, "28000.00", "0.00", "172000.00"), "complete")
    assert reload(proposal).notices.filter(status=Notice.Status.RUNNING).count() == 0
    assert verify_chain() == []
    # the audit trail names who acted in which post for every step
    for record in audits.filter(action__startswith="proposal."):
        assert record.actor_id and record.post_label
