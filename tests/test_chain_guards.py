"""Every guard of the approval chain refuses with a reason and writes nothing."""
import datetime
from decimal import Decimal

import pytest

from approvals import services as chain
from approvals.models import Invoice, Payment, ReviewDecision, Signature, State
from approvals.workflow import TRANSITIONS
from audit.models import AuditRecord
from fundapp.errors import Conflict, DomainError, NotAllowed
from fundapp.models import FundYear, LedgerEntry, Post, Role

from .chain import allocate, approve, draft, meeting_passed, reload, signed_invoice, to_accepted, to_review, travel

D = datetime.date


def snapshot(proposal):
    p = reload(proposal)
    fy = FundYear.objects.get(pk=p.fund_year_id)
    return (
        (p.state, p.budget, p.approved_budget, p.settled_amount, p.reserved_amount, p.review_round),
        (fy.settled, fy.reserved, fy.small_group_committed),
        AuditRecord.objects.count(), LedgerEntry.objects.count(), Payment.objects.count(),
        Signature.objects.count(), ReviewDecision.objects.count(), p.notices.count(), p.meetings.count(),
    )


def refused(proposal, call, error=DomainError, match=None):
    before = snapshot(proposal)
    with pytest.raises(error) as exc:
        call()
    assert str(exc.value)
    if match:
        assert match in str(exc.value)
    assert snapshot(proposal) == before
    return exc.value


@pytest.fixture
def funded(org):
    allocate(org)
    return org


@pytest.mark.django_db
def test_no_step_can_be_skipped_or_reordered(funded):
    """Walk one proposal along; in every state, every transition not allowed from it is refused."""
    org = funded
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = draft(org)
    seen = set()

    def try_all_others():
        state = reload(proposal).state
        seen.add(state)
        for name, transition in TRANSITIONS.items():
            if state in transition.sources:
                continue
            refused(proposal, lambda: chain.perform(proposal=proposal, action=name, by=secretary), match="不能办理")

    try_all_others()
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=proposal, by=secretary)
        try_all_others()
        chain.consent_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)
        try_all_others()
        chain.meeting_record(proposal=proposal, by=secretary, held_on=D(2026, 9, 28), place="会议室",
                             attendance=10, votes_for=9, votes_against=1, votes_abstain=0, minutes="通过")
        try_all_others()
    with travel(D(2026, 9, 30)):
        chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 9, 30))
        try_all_others()
    with travel(D(2026, 10, 10)):
        chain.proposal_submit_for_review(proposal=proposal, by=secretary)
        try_all_others()
    approve(org, proposal)
    try_all_others()
    to_accepted(org, proposal)
    try_all_others()
    invoice = signed_invoice(org, proposal)
    with travel(D(2026, 11, 4)):
        chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER), paid_on=D(2026, 11, 4),
                             method="transfer", reference="R1")
        chain.settlement_finish(proposal=proposal, by=secretary)
        try_all_others()
        chain.completion_notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 11, 4))
        try_all_others()
    with travel(D(2026, 11, 9)):
        chain.proposal_complete(proposal=proposal, by=secretary)
        try_all_others()
    assert {State.DRAFT, State.NOTICE, State.UNDER_REVIEW, State.COMPLETED} <= seen


@pytest.mark.django_db
def test_submission_needs_complete_declared_plan_with_needs(funded):
    org = funded
    proposal = draft(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    chain.proposal_update(proposal=proposal, by=secretary, art4_declaration=False)
    refused(proposal, lambda: chain.proposal_submit_for_consent(proposal=proposal, by=secretary), match="第四条")
    chain.proposal_update(proposal=proposal, by=secretary, art4_declaration=True, needs=[])
    refused(proposal, lambda: chain.proposal_submit_for_consent(proposal=proposal, by=secretary), match="需求")


@pytest.mark.django_db
def test_only_the_secretary_files_and_only_the_subdistrict_consents(funded):
    org = funded
    proposal = draft(org)
    refused(proposal, lambda: chain.proposal_submit_for_consent(
        proposal=proposal, by=org.person(Role.COMMUNITY_STAFF)), NotAllowed)
    refused(proposal, lambda: chain.proposal_submit_for_consent(
        proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY, "a2")), NotAllowed)
    chain.proposal_submit_for_consent(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY))
    refused(proposal, lambda: chain.consent_decide(
        proposal=proposal, by=org.person(Role.CONSTRUCTION_DIRECTOR), consented=True), NotAllowed)
    refused(proposal, lambda: chain.consent_decide(
        proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY, "b1"), consented=True), NotAllowed)
    refused(proposal, lambda: chain.consent_decide(
        proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=False, comments=""), match="理由")


@pytest.mark.django_db
def test_meeting_must_follow_consent_and_a_failed_vote_returns_to_drafting(funded):
    org = funded
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = draft(org)
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=proposal, by=secretary)
        chain.consent_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)
        meeting = dict(place="会议室", attendance=10, votes_abstain=0, minutes="纪要")
        refused(proposal, lambda: chain.meeting_record(proposal=proposal, by=secretary, held_on=D(2026, 9, 27),
                                                       votes_for=9, votes_against=1, **meeting), match="初步同意")
        refused(proposal, lambda: chain.meeting_record(proposal=proposal, by=secretary, held_on=D(2026, 9, 28),
                                                       votes_for=9, votes_against=5, **meeting), match="票数")
        chain.meeting_record(proposal=proposal, by=secretary, held_on=D(2026, 9, 28), votes_for=4,
                             votes_against=6, **meeting)
    p = reload(proposal)
    assert p.state == State.DRAFT and p.meetings.get().passed is False


@pytest.mark.django_db
def test_notice_of_fewer_than_3_working_days_is_refused(funded):
    org = funded
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = draft(org)
    meeting_passed(org, proposal)
    with travel(D(2026, 9, 28)):
        refused(proposal, lambda: chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 9, 28),
                                                    working_days=2), match="3个工作日")
        refused(proposal, lambda: chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 9, 27)),
                match="联席会议")
        refused(proposal, lambda: chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 10, 1)),
                match="晚于今天")


@pytest.mark.django_db
def test_open_objection_blocks_submission_until_answered(funded):
    org = funded
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = draft(org)
    meeting_passed(org, proposal)
    with travel(D(2026, 9, 30)):
        notice = chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 9, 30))
    with travel(D(2026, 10, 8)):
        objection = chain.objection_record(notice=notice, channel="paper", resident_name="李四", text="选址不合理",
                                           by=org.person(Role.COMMUNITY_STAFF))
    with travel(D(2026, 10, 12)):
        # the period is over, but the objection is open
        refused(proposal, lambda: chain.proposal_submit_for_review(proposal=proposal, by=secretary), match="异议")
        # objecting after the notice ended is refused
        refused(proposal, lambda: chain.objection_record(notice=notice, channel="online", resident_name="王五",
                                                         text="迟到的异议"), match="公示期")
        chain.objection_answer(objection=objection, by=secretary, answer="已调整选址说明")
        chain.proposal_submit_for_review(proposal=proposal, by=secretary)
    assert reload(proposal).state == State.UNDER_REVIEW


@pytest.mark.django_db
def test_hold_resumes_only_through_a_new_meeting(funded):
    org = funded
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = draft(org)
    to_review_until_notice = dict(place="室", attendance=5, votes_against=0, votes_abstain=0, minutes="纪要")
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=proposal, by=secretary)
        chain.consent_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)
        chain.meeting_record(proposal=proposal, by=secretary, held_on=D(2026, 9, 28), votes_for=5,
                             **to_review_until_notice)
        chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 9, 28))
        chain.proposal_hold(proposal=proposal, by=secretary, reason="意见分歧较大")
    assert reload(proposal).state == State.ON_HOLD
    with travel(D(2026, 10, 20)):
        refused(proposal, lambda: chain.proposal_submit_for_review(proposal=proposal, by=secretary))
        chain.meeting_record(proposal=proposal, by=secretary, held_on=D(2026, 10, 20), votes_for=4,
                             **to_review_until_notice)
    assert reload(proposal).state == State.MEETING_PASSED
    assert reload(proposal).notices.get().status == "withdrawn"


@pytest.mark.django_db
def test_review_by_the_wrong_person_or_the_same_person_twice(funded):
    org = funded
    proposal = to_review(org, draft(org))
    with travel(D(2026, 10, 12)):
        for wrong in (org.person(Role.SUBDISTRICT_STAFF), org.person(Role.FINANCE_OFFICER),
                      org.person(Role.COMMUNITY_SECRETARY), org.person(Role.SUBDISTRICT_SECRETARY, "b1")):
            refused(proposal, lambda: chain.review_decide(proposal=proposal, by=wrong, decision="approve"),
                    NotAllowed)
        leader = org.person(Role.SUBDISTRICT_SECRETARY)
        chain.review_decide(proposal=proposal, by=leader, decision="approve")
        refused(proposal, lambda: chain.review_decide(proposal=proposal, by=leader, decision="approve"),
                match="已作出决定")
        refused(proposal, lambda: chain.review_decide(proposal=proposal, by=org.person(Role.CONSTRUCTION_DIRECTOR),
                                                      decision="reject", reason=""), match="理由")
    assert reload(proposal).state == State.UNDER_REVIEW and reload(proposal).reserved_amount == 0


@pytest.mark.django_db
def test_review_after_the_deadline_is_flagged(funded):
    org = funded
    proposal = to_review(org, draft(org))
    assert reload(proposal).review_deadline == D(2026, 10, 16)
    with travel(D(2026, 10, 19)):
        decision = chain.review_decide(proposal=proposal, by=org.person(Role.CONSTRUCTION_DIRECTOR),
                                       decision="approve")
    assert decision.late is True


@pytest.mark.django_db
def test_rejection_and_return_keep_history_and_release_nothing(funded):
    org = funded
    proposal = to_review(org, draft(org))
    with travel(D(2026, 10, 12)):
        chain.review_decide(proposal=proposal, by=org.person(Role.CONSTRUCTION_DIRECTOR), decision="return",
                            reason="预算明细不清")
    p = reload(proposal)
    assert p.state == State.DRAFT and p.reviews.get().reason == "预算明细不清"
    assert p.meetings.count() == 1 and p.notices.count() == 1


@pytest.mark.django_db
def test_signatures_in_order_by_three_different_people_in_office(funded):
    org = funded
    proposal = to_accepted(org, approve(org, to_review(org, draft(org))))
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(D(2026, 11, 3)):
        invoice = chain.invoice_register(proposal=proposal, by=secretary, contractor="承办方", number="A1",
                                         amount="1000.00", issued_on=D(2026, 11, 3))
        # out of order: the director cannot sign first
        refused(proposal, lambda: chain.invoice_sign(invoice=invoice, by=org.person(Role.CONSTRUCTION_DIRECTOR)),
                NotAllowed)
        chain.invoice_sign(invoice=invoice, by=secretary)
        # the same person cannot sign twice (and is not the next signer anyway)
        refused(proposal, lambda: chain.invoice_sign(invoice=invoice, by=secretary), NotAllowed)
        # settling before the third signature
        refused(proposal, lambda: chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER),
                                                       paid_on=D(2026, 11, 3), method="transfer", reference="X"),
                match="三人")
        # a signer whose post has ended
        director = org.person(Role.CONSTRUCTION_DIRECTOR)
        Post.objects.filter(user=director).update(end_date=D(2026, 11, 3))
        refused(proposal, lambda: chain.invoice_sign(invoice=invoice, by=director), NotAllowed)
        Post.objects.filter(user=director).update(end_date=None)
        chain.invoice_sign(invoice=invoice, by=director)
        # refusal with a reason returns the invoice
        refused(proposal, lambda: chain.invoice_refuse(invoice=invoice, by=org.person(Role.SUBDISTRICT_SECRETARY),
                                                       reason=""), match="理由")
        chain.invoice_refuse(invoice=invoice, by=org.person(Role.SUBDISTRICT_SECRETARY), reason="金额与合同不符")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.RETURNED and invoice.refusals.get().reason == "金额与合同不符"


@pytest.mark.django_db
def test_one_person_holding_two_signing_posts_cannot_sign_twice(funded, make_user):
    org = funded
    proposal = to_accepted(org, approve(org, to_review(org, draft(org))))
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    from fundapp.services import org as org_services

    org_services.post_create(user=secretary, role=Role.CONSTRUCTION_DIRECTOR, subdistrict=org.a,
                             start_date=D(2020, 1, 1))
    with travel(D(2026, 11, 3)):
        invoice = chain.invoice_register(proposal=proposal, by=secretary, contractor="承办方", number="A2",
                                         amount="1000.00", issued_on=D(2026, 11, 3))
        chain.invoice_sign(invoice=invoice, by=secretary)
        refused(proposal, lambda: chain.invoice_sign(invoice=invoice, by=secretary), match="两次")


@pytest.mark.django_db
def test_settling_twice_and_overspending_are_refused(funded):
    org = funded
    finance = org.person(Role.FINANCE_OFFICER)
    proposal = to_accepted(org, approve(org, to_review(org, draft(org, budget="30000.00"))))
    invoice = signed_invoice(org, proposal, amount="20000.00")
    with travel(D(2026, 11, 4)):
        first = chain.invoice_settle(invoice=invoice, by=finance, paid_on=D(2026, 11, 4), method="transfer",
                                     reference="R1", idempotency_key="k1")
        # a retried request with the same key pays once and answers with the same payment
        assert chain.invoice_settle(invoice=invoice, by=finance, paid_on=D(2026, 11, 4), method="transfer",
                                    reference="R1", idempotency_key="k1") == first
        refused(proposal, lambda: chain.invoice_settle(invoice=invoice, by=finance, paid_on=D(2026, 11, 4),
                                                       method="transfer", reference="R1", idempotency_key="k2"),
                Conflict, match="重复结算")
        # only 10,000 left of the approved budget
        refused(proposal, lambda: chain.invoice_register(
            proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY), contractor="承办方", number="N2",
            amount="10000.01", issued_on=D(2026, 11, 4)), match="超出批准预算")
    assert Payment.objects.count() == 1 and LedgerEntry.objects.filter(kind="expenditure").count() == 1


@pytest.mark.django_db
def test_the_balance_and_the_small_group_cap(funded):
    org = funded
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    big = draft(org, budget="200000.01")
    refused(big, lambda: chain.proposal_submit_for_consent(proposal=big, by=secretary), match="可用经费")
    # 20% of 200,000 = 40,000 for small-group projects together
    first = approve(org, to_review(org, draft(org, small_group=True, budget="30000.00", title="助残")))
    assert FundYear.objects.get().small_group_committed == Decimal("30000.00")
    second = draft(org, small_group=True, budget="10000.01", title="助老")
    refused(second, lambda: chain.proposal_submit_for_consent(proposal=second, by=secretary), match="20%")
    # a budget change that would breach the cap is refused too
    with travel(D(2026, 10, 13)):
        chain.proposal_start(proposal=first, by=secretary)
        chain.change_request(proposal=first, by=secretary, description="增加数量", new_budget="40000.01")
        refused(first, lambda: chain.change_decide(proposal=first, by=org.person(Role.SUBDISTRICT_SECRETARY),
                                                   consent=True), match="20%")
        chain.change_decide(proposal=first, by=org.person(Role.SUBDISTRICT_SECRETARY), consent=False,
                            comments="超出比例")
        chain.change_request(proposal=first, by=secretary, description="增加数量", new_budget="40000.00")
        chain.change_decide(proposal=first, by=org.person(Role.SUBDISTRICT_SECRETARY), consent=True)
    fy = FundYear.objects.get()
    assert fy.small_group_committed == fy.small_group_limit == Decimal("40000.00")
    assert reload(first).approved_budget == Decimal("40000.00")


@pytest.mark.django_db
def test_withdrawal_after_approval_releases_the_reservation(funded):
    org = funded
    proposal = approve(org, to_review(org, draft(org, budget="30000.00")))
    assert FundYear.objects.get().reserved == Decimal("30000.00")
    chain.proposal_withdraw(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY), reason="居民另有安排")
    fy = FundYear.objects.get()
    assert fy.reserved == 0 and fy.available == fy.total
    assert reload(proposal).state == State.WITHDRAWN


@pytest.mark.django_db
def test_voucher_path_needs_prior_meeting_receipt_and_a_notice_afterwards(funded):
    org = funded
    secretary, finance = org.person(Role.COMMUNITY_SECRETARY), org.person(Role.FINANCE_OFFICER)
    proposal = to_accepted(org, approve(org, to_review(org, draft(org, budget="5000.00"))))
    meeting = reload(proposal).meetings.get()
    pay = dict(proposal=proposal, by=finance, amount="800.00", paid_on=D(2026, 11, 5), method="cash",
               reference="V-1")
    with travel(D(2026, 11, 5)):
        refused(proposal, lambda: chain.voucher_pay(meeting=None, recipient_name="赵六", receipt_reference="签收单1",
                                                    **pay), match="会议决定")
        refused(proposal, lambda: chain.voucher_pay(meeting=meeting, recipient_name="赵六", receipt_reference="",
                                                    **pay), match="签字")
        payment = chain.voucher_pay(meeting=meeting, recipient_name="赵六", receipt_reference="签收单1", **pay)
        refused(proposal, lambda: chain.settlement_finish(proposal=proposal, by=secretary), match="事后公示")
        chain.voucher_notice_post(payment=payment, by=secretary, posted_on=D(2026, 11, 5))
        chain.settlement_finish(proposal=proposal, by=secretary)
    fy = FundYear.objects.get()
    assert fy.settled == Decimal("800.00") and fy.reserved == 0
    assert reload(proposal).state == State.SETTLED


@pytest.mark.parametrize("field,value,message", [
    ("budget", "-5", "正负号"), ("budget", "0", "大于零"), ("budget", "1.005", "两位小数"),
    ("budget", "abc", "不是有效的金额"), ("budget", "999999999999", "过大"),
    ("category", 9, "未知的使用范围"), ("beneficiary_count", "十", "整数"),
    ("planned_end", D(2026, 1, 1), "早于开始日期"),
])
@pytest.mark.django_db
def test_bad_input_is_refused_and_writes_nothing(funded, field, value, message):
    org = funded
    staff = org.person(Role.COMMUNITY_STAFF)
    fields = dict(title="项目", category=2, content="内容", beneficiaries="broad", beneficiary_count=10,
                  planned_start=D(2026, 10, 1), planned_end=D(2026, 10, 30), contractor="", art4_declaration=True)
    lines = [("物品", "100.00")]
    if field == "budget":
        lines = [("物品", value)]
    else:
        fields[field] = value
    from approvals.models import Proposal

    before = (Proposal.objects.count(), AuditRecord.objects.count())
    with pytest.raises(DomainError) as exc:
        chain.proposal_create(community=org.community("a1"), by=staff, lines=lines, year=2026, **fields)
    assert message in str(exc.value)
    assert (Proposal.objects.count(), AuditRecord.objects.count()) == before
