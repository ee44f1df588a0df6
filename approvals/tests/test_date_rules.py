"""The date rules of approvals.workflow.DATE_RULES (docs/workflow.md, "Date rules"), one table per rule.

For every entered date: a date before the step it follows is refused, naming that step, and so is a date
after today; a refusal writes nothing (state, rows, ledger, audit). The boundaries are accepted: the same
day as the step it follows, and today. Accepted cases run in a savepoint that is rolled back, so the next
case starts from the same history.
"""
import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from approvals import services as chain
from approvals.guards import GUARDS
from approvals.models import (
    Acceptance,
    Change,
    ConsentDecision,
    FollowUp,
    Invoice,
    Meeting,
    Notice,
    Payment,
    Proposal,
    Signature,
    State,
)
from approvals.workflow import DATE_RULES, STEPS, TRANSITIONS
from audit.models import AuditRecord
from fundapp import clock
from fundapp.errors import DomainError
from fundapp.models import LedgerEntry, Role
from tests.chain import allocate, approve, draft, meeting_passed, signed_invoice, to_accepted, to_review, travel

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

D = datetime.date
FUTURE = "晚于今天"


def step(name):
    return str(STEPS[name].label)


def snapshot(proposal):
    p = Proposal.objects.get(pk=proposal.pk)
    return (p.state, p.settled_amount, p.reserved_amount, p.planned_end,
            *(m.objects.count() for m in (Meeting, Notice, FollowUp, Acceptance, Invoice, Signature, Payment, Change,
                                          LedgerEntry, AuditRecord)))


def refused(proposal, day, call, match):
    """`call()` on `day` is refused with a message containing `match`, and writes nothing."""
    before = snapshot(proposal)
    with clock.as_of(day), pytest.raises(DomainError) as exc:
        call()
    assert match in str(exc.value), str(exc.value)
    assert snapshot(proposal) == before
    return str(exc.value)


class _Undo(Exception):
    pass


def accepted(day, call):
    """`call()` on `day` goes through; what it wrote is rolled back."""
    try:
        with transaction.atomic(), clock.as_of(day):
            call()
            raise _Undo
    except _Undo:
        pass


def people(org, code="a1"):
    return {name: org.person(role, code) for name, role in [
        ("secretary", Role.COMMUNITY_SECRETARY), ("sd_secretary", Role.SUBDISTRICT_SECRETARY),
        ("sd_staff", Role.SUBDISTRICT_STAFF), ("finance", Role.FINANCE_OFFICER)]}


@pytest.fixture
def org_funded(org):
    allocate(org)
    return org


def consented(org, day=D(2026, 9, 28), hour=10):
    proposal = draft(org)
    P = people(org)
    with clock.as_of(day, hour):
        chain.proposal_submit_for_consent(proposal=proposal, by=P["secretary"])
        chain.consent_decide(proposal=proposal, by=P["sd_secretary"], consented=True)
    return proposal


def in_progress(org):
    """Approved on 2026-10-12, started on 2026-10-15."""
    proposal = approve(org, to_review(org, draft(org)))
    with travel(D(2026, 10, 15)):
        chain.proposal_start(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY))
    return proposal


def accepted_project(org):
    """Approved on 2026-10-12, passed inspection on 2026-11-02."""
    return to_accepted(org, approve(org, to_review(org, draft(org))))


def meeting_call(proposal, secretary, held_on, votes_for=20):
    return lambda: chain.meeting_record(proposal=proposal, by=secretary, held_on=held_on, place="会议室",
                                        attendance=25, votes_for=votes_for, votes_against=25 - votes_for,
                                        votes_abstain=0, minutes="纪要")


# ---- the table itself ------------------------------------------------------------------------------

def test_every_rule_names_a_guard_of_its_transitions_and_known_steps():
    for rule in DATE_RULES:
        assert all(name in STEPS for name in rule.not_before), rule
        if not rule.guard:
            continue
        assert rule.guard in GUARDS and GUARDS[rule.guard].__doc__
        for name in rule.transitions:
            assert rule.guard in TRANSITIONS[name].guards, (rule.guard, name)
    guarded = {rule.guard for rule in DATE_RULES}
    for name in ("meeting_date", "notice_date", "follow_up_date", "acceptance_date", "failed_acceptance_date",
                 "invoice_date", "settlement_date", "voucher_payment_date", "voucher_notice_date",
                 "completion_notice_date", "change_end_date"):
        assert name in guarded


# ---- meeting ----------------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("outcome", [20, 5], ids=["passed", "failed"])
def test_meeting_follows_consent_and_is_not_in_the_future(org_funded, outcome):
    org = org_funded
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = consented(org)  # consent 2026-09-28
    today = D(2026, 10, 5)
    message = refused(proposal, today, meeting_call(proposal, secretary, D(2026, 9, 27), outcome), step("consent"))
    assert "2026年9月28日" in message and "第十条" in message
    refused(proposal, today, meeting_call(proposal, secretary, D(2026, 10, 6), outcome), FUTURE)
    accepted(today, meeting_call(proposal, secretary, D(2026, 9, 28), outcome))
    accepted(today, meeting_call(proposal, secretary, today, outcome))


@pytest.mark.django_db
def test_consent_counts_on_its_local_date_not_its_utc_date(org_funded):
    """Consent given at 00:30 in Beijing on 29 September is 28 September in UTC: the meeting may not be the 28th."""
    org = org_funded
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = draft(org)
    with clock.as_of(D(2026, 9, 29), hour=0):
        chain.proposal_submit_for_consent(proposal=proposal, by=secretary)
        chain.consent_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)
    at = ConsentDecision.objects.get(proposal=proposal).at
    assert at.astimezone(datetime.timezone.utc).date() == D(2026, 9, 28)
    assert timezone.localdate(at) == D(2026, 9, 29)
    message = refused(proposal, D(2026, 9, 30), meeting_call(proposal, secretary, D(2026, 9, 28)), step("consent"))
    assert "2026年9月29日" in message
    accepted(D(2026, 9, 30), meeting_call(proposal, secretary, D(2026, 9, 29)))


@pytest.mark.django_db
def test_a_new_meeting_after_a_hold_follows_the_notice_it_resumes(org_funded):
    org = org_funded
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = meeting_passed(org, draft(org))  # 2026-09-28
    with clock.as_of(D(2026, 9, 30)):
        chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 9, 30))
        chain.proposal_hold(proposal=proposal, by=secretary, reason="意见分歧较大")
    assert Proposal.objects.get(pk=proposal.pk).state == State.ON_HOLD
    today = D(2026, 10, 20)
    message = refused(proposal, today, meeting_call(proposal, secretary, D(2026, 9, 29)), step("last_plan_notice"))
    assert "2026年9月30日" in message
    accepted(today, meeting_call(proposal, secretary, D(2026, 9, 30)))
    accepted(today, meeting_call(proposal, secretary, today))


# ---- plan notice ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_plan_notice_follows_the_passing_meeting_and_is_not_in_the_future(org_funded):
    org = org_funded
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = meeting_passed(org, draft(org))  # 2026-09-28

    def post(day):
        return lambda: chain.notice_post(proposal=proposal, by=secretary, posted_on=day)

    today = D(2026, 9, 30)
    refused(proposal, today, post(D(2026, 9, 27)), step("passing_meeting"))
    refused(proposal, today, post(D(2026, 10, 1)), FUTURE)
    accepted(today, post(D(2026, 9, 28)))
    accepted(today, post(today))


# ---- execution: follow-ups and inspections -----------------------------------------------------------

@pytest.mark.django_db
def test_follow_up_is_after_approval_and_not_in_the_future(org_funded):
    org = org_funded
    staff = org.person(Role.SUBDISTRICT_STAFF)
    proposal = in_progress(org)  # approved 2026-10-12

    def visit(day):
        return lambda: chain.follow_up_record(proposal=proposal, by=staff, visited_on=day, notes="施工中")

    today = D(2026, 10, 20)
    message = refused(proposal, today, visit(D(2026, 10, 11)), step("approval"))
    assert "2026年10月12日" in message and "第十二条" in message
    refused(proposal, today, visit(D(2026, 10, 21)), FUTURE)
    accepted(today, visit(D(2026, 10, 12)))
    accepted(today, visit(today))


def inspect(proposal, staff, day, passed=True):
    return lambda: chain.acceptance_record(proposal=proposal, by=staff, inspected_on=day, quality="合格",
                                           satisfaction_method="问卷", asked_count=10, satisfied_count=9,
                                           passed=passed)


@pytest.mark.django_db
def test_passing_inspection_follows_approval_every_follow_up_and_any_failed_inspection(org_funded):
    org = org_funded
    staff = org.person(Role.SUBDISTRICT_STAFF)
    proposal = in_progress(org)  # approved 2026-10-12
    today = D(2026, 10, 25)
    refused(proposal, today, inspect(proposal, staff, D(2026, 10, 11)), step("approval"))
    with clock.as_of(D(2026, 10, 16)):
        chain.follow_up_record(proposal=proposal, by=staff, visited_on=D(2026, 10, 16), notes="施工中")
    refused(proposal, today, inspect(proposal, staff, D(2026, 10, 15)), step("last_follow_up"))
    with clock.as_of(D(2026, 10, 18)):
        inspect(proposal, staff, D(2026, 10, 18), passed=False)()
    message = refused(proposal, today, inspect(proposal, staff, D(2026, 10, 11)), step("last_failed_inspection"))
    assert "2026年10月18日" in message  # the latest of the steps it would precede is named
    refused(proposal, today, inspect(proposal, staff, D(2026, 10, 26)), FUTURE)
    accepted(today, inspect(proposal, staff, D(2026, 10, 18)))
    accepted(today, inspect(proposal, staff, today))


@pytest.mark.django_db
def test_failed_inspection_follows_approval_and_the_previous_inspection_only(org_funded):
    org = org_funded
    staff = org.person(Role.SUBDISTRICT_STAFF)
    proposal = in_progress(org)
    today = D(2026, 10, 25)
    refused(proposal, today, inspect(proposal, staff, D(2026, 10, 11), passed=False), step("approval"))
    with clock.as_of(D(2026, 10, 18)):
        inspect(proposal, staff, D(2026, 10, 18), passed=False)()
        chain.follow_up_record(proposal=proposal, by=staff, visited_on=D(2026, 10, 18), notes="整改中")
    refused(proposal, today, inspect(proposal, staff, D(2026, 10, 17), passed=False), step("last_failed_inspection"))
    refused(proposal, today, inspect(proposal, staff, D(2026, 10, 26), passed=False), FUTURE)
    accepted(today, inspect(proposal, staff, D(2026, 10, 18), passed=False))
    accepted(today, inspect(proposal, staff, today, passed=False))


# ---- invoices and payments ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_invoice_is_dated_on_or_after_the_passing_inspection_and_not_in_the_future(org_funded):
    org = org_funded
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = accepted_project(org)  # passed inspection 2026-11-02

    def register(day):
        return lambda: chain.invoice_register(proposal=proposal, by=secretary, contractor="光明电器维修部",
                                              number="No.9", amount="1000.00", issued_on=day)

    today = D(2026, 11, 6)
    message = refused(proposal, today, register(D(2026, 11, 1)), step("acceptance"))
    assert "2026年11月2日" in message and "第十三条" in message
    refused(proposal, today, register(D(2026, 11, 7)), FUTURE)
    accepted(today, register(D(2026, 11, 2)))
    accepted(today, register(today))


def settle_call(invoice, finance, day, key="k"):
    return lambda: chain.invoice_settle(invoice=invoice, by=finance, paid_on=day, method="transfer",
                                        reference="BANK-1", idempotency_key=key)


@pytest.mark.django_db
def test_settlement_follows_the_third_signature_and_is_not_in_the_future(org_funded):
    org = org_funded
    P = people(org)
    proposal = accepted_project(org)
    with clock.as_of(D(2026, 11, 3)):
        invoice = chain.invoice_register(proposal=proposal, by=P["secretary"], contractor="光明电器维修部",
                                         number="No.1", amount="28000.00", issued_on=D(2026, 11, 3))
        chain.invoice_sign(invoice=invoice, by=P["secretary"])
        chain.invoice_sign(invoice=invoice, by=org.person(Role.CONSTRUCTION_DIRECTOR))
    with clock.as_of(D(2026, 11, 5)):
        chain.invoice_sign(invoice=invoice, by=P["sd_secretary"])
    today = D(2026, 11, 9)
    message = refused(proposal, today, settle_call(invoice, P["finance"], D(2026, 11, 4)), step("third_signature"))
    assert "2026年11月5日" in message
    refused(proposal, today, settle_call(invoice, P["finance"], D(2026, 11, 10)), FUTURE)
    accepted(today, settle_call(invoice, P["finance"], D(2026, 11, 5)))
    accepted(today, settle_call(invoice, P["finance"], today))


@pytest.mark.django_db
def test_settlement_follows_the_invoice_date_and_the_acceptance_even_for_older_records(org_funded):
    """Recorded in order the third signature comes last; an invoice or inspection recorded before these rules,
    with a later date, still bounds the payment."""
    org = org_funded
    finance = org.person(Role.FINANCE_OFFICER)
    proposal = accepted_project(org)
    invoice = signed_invoice(org, proposal, amount="1000.00")  # issued and signed 2026-11-03
    today = D(2026, 11, 20)
    Invoice.objects.filter(pk=invoice.pk).update(issued_on=D(2026, 11, 10))
    refused(proposal, today, settle_call(invoice, finance, D(2026, 11, 9)), step("invoice_issued"))
    Acceptance.objects.filter(proposal=proposal).update(inspected_on=D(2026, 11, 12))
    refused(proposal, today, settle_call(invoice, finance, D(2026, 11, 11)), step("acceptance"))
    accepted(today, settle_call(invoice, finance, D(2026, 11, 12)))


def voucher_call(proposal, finance, day):
    meeting = proposal.meetings.get(passed=True)
    return lambda: chain.voucher_pay(proposal=proposal, by=finance, meeting=meeting, recipient_name="王五",
                                     receipt_reference="收据001", amount="800.00", paid_on=day, method="cash",
                                     reference="CASH-1")


@pytest.mark.django_db
def test_voucher_payment_follows_the_acceptance_and_the_prior_decision_and_is_not_in_the_future(org_funded):
    org = org_funded
    finance = org.person(Role.FINANCE_OFFICER)
    proposal = accepted_project(org)  # meeting 2026-09-28, approved 2026-10-12, inspected 2026-11-02
    today = D(2026, 11, 6)
    refused(proposal, today, voucher_call(proposal, finance, D(2026, 11, 1)), step("acceptance"))
    refused(proposal, today, voucher_call(proposal, finance, D(2026, 11, 7)), FUTURE)
    accepted(today, voucher_call(proposal, finance, D(2026, 11, 2)))
    accepted(today, voucher_call(proposal, finance, today))
    # a prior decision recorded with a later date than the payment (an older record) still bounds it
    Meeting.objects.filter(proposal=proposal, passed=True).update(held_on=D(2026, 11, 4))
    refused(proposal, today, voucher_call(proposal, finance, D(2026, 11, 3)), step("linked_meeting"))


@pytest.mark.django_db
def test_voucher_notice_follows_its_payment_and_is_not_in_the_future(org_funded):
    org = org_funded
    secretary, finance = org.person(Role.COMMUNITY_SECRETARY), org.person(Role.FINANCE_OFFICER)
    proposal = accepted_project(org)
    with clock.as_of(D(2026, 11, 6)):
        payment = voucher_call(proposal, finance, D(2026, 11, 5))()

    def post(day):
        return lambda: chain.voucher_notice_post(payment=payment, by=secretary, posted_on=day)

    today = D(2026, 11, 9)
    refused(proposal, today, post(D(2026, 11, 4)), step("payment"))
    refused(proposal, today, post(D(2026, 11, 10)), FUTURE)
    accepted(today, post(D(2026, 11, 5)))
    accepted(today, post(today))


@pytest.mark.django_db
def test_completion_notice_follows_the_last_payment_and_is_not_in_the_future(org_funded):
    org = org_funded
    secretary, finance = org.person(Role.COMMUNITY_SECRETARY), org.person(Role.FINANCE_OFFICER)
    proposal = accepted_project(org)
    invoice = signed_invoice(org, proposal, amount="28000.00")  # signed 2026-11-03
    with clock.as_of(D(2026, 11, 6)):
        settle_call(invoice, finance, D(2026, 11, 4))()
        chain.settlement_finish(proposal=proposal, by=secretary)

    def post(day):
        return lambda: chain.completion_notice_post(proposal=proposal, by=secretary, posted_on=day)

    today = D(2026, 11, 9)
    message = refused(proposal, today, post(D(2026, 11, 3)), step("last_payment"))
    assert "第十五条" in message
    refused(proposal, today, post(D(2026, 11, 10)), FUTURE)
    accepted(today, post(D(2026, 11, 4)))
    accepted(today, post(today))


# ---- planned dates ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_change_never_ends_the_plan_before_it_starts(org_funded):
    org = org_funded
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = in_progress(org)  # planned_start 2026-10-15

    def request(day):
        return lambda: chain.change_request(proposal=proposal, by=secretary, description="延期",
                                            new_planned_end=day)

    today = D(2026, 10, 20)
    refused(proposal, today, request(D(2026, 10, 14)), step("planned_start"))
    accepted(today, request(D(2026, 10, 15)))
    accepted(today, request(D(2027, 3, 1)))  # a plan may lie in the future
    accepted(today, request(None))
    accepted(today, request(""))
    refused(proposal, today, request("2026-10-20"), "须为日期")


# ---- not a date -------------------------------------------------------------------------------------

NOT_DATES = [("2026-11-04", "须为日期"), (datetime.datetime(2026, 11, 4, 10, tzinfo=datetime.timezone.utc), "须为日期"),
             (None, "请填写"), ("", "请填写"), (20261104, "须为日期")]


@pytest.mark.django_db
@pytest.mark.parametrize("value,match", NOT_DATES)
def test_a_value_that_is_not_a_date_is_refused_with_a_message(org_funded, value, match):
    org = org_funded
    P = people(org)
    proposal = accepted_project(org)
    invoice = signed_invoice(org, proposal, amount="1000.00")
    today = D(2026, 11, 9)
    refused(proposal, today, settle_call(invoice, P["finance"], value), match)
    refused(proposal, today, lambda: chain.invoice_register(
        proposal=proposal, by=P["secretary"], contractor="甲", number="N-7", amount="10.00", issued_on=value), match)
    refused(proposal, today, voucher_call(proposal, P["finance"], value), match)


@pytest.mark.django_db
@pytest.mark.parametrize("value,match", NOT_DATES[:2])
def test_a_meeting_or_notice_date_that_is_not_a_date_is_refused(org_funded, value, match):
    org = org_funded
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = consented(org)
    refused(proposal, D(2026, 10, 5), meeting_call(proposal, secretary, value), match)
    with clock.as_of(D(2026, 10, 5)):
        meeting_call(proposal, secretary, D(2026, 10, 5))()
    refused(proposal, D(2026, 10, 5), lambda: chain.notice_post(proposal=proposal, by=secretary, posted_on=value),
            match)


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["planned_start", "planned_end"])
def test_planned_dates_that_are_not_dates_are_refused(org, field):
    staff = org.person(Role.COMMUNITY_STAFF)
    allocate(org)
    fields = dict(title="项目", category=2, content="内容", beneficiaries="broad", beneficiary_count=10,
                  planned_start=D(2026, 10, 1), planned_end=D(2026, 10, 30), contractor="", art4_declaration=True)
    fields[field] = "2026-10-15"
    before = (Proposal.objects.count(), AuditRecord.objects.count())
    with pytest.raises(DomainError, match="须为日期"):
        chain.proposal_create(community=org.community("a1"), by=staff, lines=[("物品", "100.00")], year=2026,
                              **fields)
    assert (Proposal.objects.count(), AuditRecord.objects.count()) == before


@pytest.mark.django_db
def test_messages_are_translated(org_funded, settings):
    from django.utils import translation

    org = org_funded
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = meeting_passed(org, draft(org))
    with translation.override("en"):
        message = refused(proposal, D(2026, 9, 30), lambda: chain.notice_post(
            proposal=proposal, by=secretary, posted_on=D(2026, 9, 27)), "28 September 2026")
    assert "Art. 10" in message and "joint meeting" in message


# ---- through the page --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_page_shows_the_rule_and_keeps_the_input(org_funded, client):
    """An invoice dated before the passing inspection, typed into the form: the page says why; nothing is written."""
    from django.urls import reverse

    org = org_funded
    proposal = accepted_project(org)  # passed inspection 2026-11-02
    url = reverse("approvals:proposal-action", args=[proposal.pk, "register_invoice"])
    before = snapshot(proposal)
    with travel(D(2026, 11, 6)):
        client.force_login(org.person(Role.COMMUNITY_SECRETARY))
        response = client.post(url, {"contractor": "光明电器维修部", "number": "No.77", "amount": "1000.00",
                                     "issued_on": "2026-11-01"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "开票日期不能早于验收合格日期 2026年11月2日（第十三条）。" in page and "No.77" in page
    assert snapshot(proposal) == before
