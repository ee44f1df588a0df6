"""Real parallel requests against PostgreSQL: one settlement of 100 pays once, approvals never overdraw the fund.

Each worker is a thread with its own database connection (Django opens one per thread), closed when the
thread ends. A Barrier releases them together so the requests genuinely overlap. The test database is
committed to (transaction=True), otherwise the workers could not see the rows prepared by the test.
"""
import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.urls import reverse

from approvals import services as chain
from approvals.models import Invoice, Payment, Proposal, ReviewDecision, State
from audit.models import AuditRecord
from audit.services import verify_chain
from fundapp.errors import Conflict, DomainError
from fundapp.models import FundYear, LedgerEntry, Role

from . import chain as chain_helpers
from .chain import allocate, draft, travel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = datetime.date


def race(n, work):
    """Run `work(i)` in n threads started together; return [(i, result, exception)] in index order."""
    barrier = threading.Barrier(n)
    outcomes = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=60)
            outcomes[i] = (i, work(i), None)
        except BaseException as exc:  # noqa: BLE001 - every outcome is inspected by the test
            outcomes[i] = (i, None, exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), name=f"race-{i}") for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a worker hung (lock wait or deadlock)"
    return outcomes


def describe(exc):
    return f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"


def assert_fund_identity(fy):
    assert fy.allocated + fy.carried_in == fy.settled + fy.reserved + fy.carried_out + fy.available
    assert fy.available >= 0
    reserved = Proposal.objects.filter(fund_year=fy).aggregate(s=Sum("reserved_amount"))["s"] or Decimal("0.00")
    assert fy.reserved == reserved
    spent = LedgerEntry.objects.filter(fund_year=fy, kind=LedgerEntry.Kind.EXPENDITURE).aggregate(s=Sum("amount"))
    assert fy.settled == (spent["s"] or Decimal("0.00"))
    paid = Payment.objects.filter(proposal__fund_year=fy).aggregate(s=Sum("amount"))["s"] or Decimal("0.00")
    assert fy.settled == paid
    # The hash-chained audit trail stayed one unbroken chain under the concurrent appends.
    assert verify_chain() == []


@pytest.fixture
def settleable(org):
    """One accepted project with one invoice carrying all three signatures, committed to the database."""
    proposal, invoice = chain_helpers.settleable(org)
    assert invoice.status == Invoice.Status.SIGNED
    return proposal, invoice


SETTLERS = 100  # PostgreSQL allows 300 connections here and in CI: room for one each, plus the test's own
ALREADY_SETTLED = "该发票已结算，不能重复结算。"


def money_state(community):
    fy = FundYear.objects.get(community=community, year=2026)
    return {
        "fund_year": {k: getattr(fy, k) for k in ("allocated", "carried_in", "settled", "reserved", "carried_out",
                                                  "small_group_committed")},
        "available": fy.available,
        "entries": list(LedgerEntry.objects.filter(fund_year=fy).order_by("pk").values_list("pk", "kind", "amount")),
        "audit": AuditRecord.objects.filter(action="proposal.settle_invoice").count(),
    }


def test_hundred_simultaneous_settlements_pay_once(org, settleable):
    proposal, invoice = settleable
    finance = org.person(Role.FINANCE_OFFICER)
    before = money_state(org.community("a1"))
    assert before["fund_year"]["settled"] == 0 and before["fund_year"]["reserved"] == Decimal("30000.00")

    def settle(i):
        return chain.invoice_settle(invoice=invoice, by=finance, paid_on=D(2026, 11, 4), method="transfer",
                                    reference=f"BANK-{i}", idempotency_key=f"settle-{invoice.pk}-{i}")

    with travel(D(2026, 11, 4)):
        outcomes = race(SETTLERS, settle)

    winners = [(i, r) for i, r, e in outcomes if e is None]
    losers = [(i, e) for i, r, e in outcomes if e is not None]
    assert len(winners) == 1, [describe(e) for _, e in losers]
    # Every other attempt gets the domain's conflict — a message the officer can read, never a database error.
    unexpected = [describe(e) for _, e in losers if type(e) is not Conflict or str(e) != ALREADY_SETTLED]
    assert unexpected == [], unexpected
    assert len(losers) == SETTLERS - 1

    assert Payment.objects.count() == 1
    payment = Payment.objects.get()
    assert payment.pk == winners[0][1].pk and payment.invoice_id == invoice.pk
    assert payment.amount == Decimal("28000.00") and payment.reference == f"BANK-{winners[0][0]}"
    # The ledger moved once: exactly one new entry, the expenditure of this payment.
    after = money_state(org.community("a1"))
    new_entries = after["entries"][len(before["entries"]):]
    assert after["entries"][:len(before["entries"])] == before["entries"]
    assert new_entries == [(payment.ledger_entry_id, LedgerEntry.Kind.EXPENDITURE, Decimal("28000.00"))]
    # The fund year's totals changed once: 28,000 moved from reserved to settled, nothing else.
    changed = {k: (before["fund_year"][k], v) for k, v in after["fund_year"].items() if v != before["fund_year"][k]}
    assert changed == {"settled": (Decimal("0.00"), Decimal("28000.00")),
                       "reserved": (Decimal("30000.00"), Decimal("2000.00"))}
    assert after["available"] == before["available"] == Decimal("170000.00")
    assert after["audit"] == before["audit"] + 1
    p = Proposal.objects.get(pk=proposal.pk)
    assert (p.settled_amount, p.reserved_amount) == (Decimal("28000.00"), Decimal("2000.00"))
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.SETTLED
    assert_fund_identity(FundYear.objects.get(community=org.community("a1"), year=2026))


def test_simultaneous_settlements_over_http_pay_once_and_answer_the_others_plainly(org, settleable):
    """The same race through the settlement form, each officer's browser a thread with its own client."""
    from django.test import Client

    proposal, invoice = settleable
    finance = org.person(Role.FINANCE_OFFICER)
    n = 30
    url = reverse("approvals:proposal-action", args=[proposal.pk, "settle_invoice"]) + f"?target={invoice.pk}"
    with travel(D(2026, 11, 4)):
        clients = []
        for _ in range(n):
            client = Client()
            client.force_login(finance)
            clients.append(client)
        assert clients[0].get(url).status_code == 200  # the form is offered to every one of them

        def post(i):
            return clients[i].post(url, {"paid_on": "2026-11-04", "method": "transfer", "reference": f"BANK-{i}",
                                         "request_key": f"http-{i}"})

        outcomes = race(n, post)

    errors = [f"{i}: {describe(e)}" for i, _, e in outcomes if e is not None]
    assert errors == [], errors
    statuses = [r.status_code for _, r, _ in outcomes]
    assert 500 not in statuses
    settled = [r for r in (r for _, r, _ in outcomes) if r.status_code == 302]
    assert len(settled) == 1 and settled[0]["Location"] == reverse("approvals:proposal", args=[proposal.pk])
    for _, response, _ in outcomes:
        if response.status_code == 302:
            continue
        # Those that reached the service while the winner paid get the form back with the conflict said
        # plainly; those that arrived after it committed find settlement no longer offered (404, the
        # app's one answer for a step that is not open to this person now).
        assert response.status_code in (200, 404), response.status_code
        if response.status_code == 200:
            assert ALREADY_SETTLED in response.content.decode()
    assert Payment.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.EXPENDITURE).count() == 1
    fy = FundYear.objects.get(community=org.community("a1"), year=2026)
    assert (fy.settled, fy.reserved) == (Decimal("28000.00"), Decimal("2000.00"))
    assert_fund_identity(fy)


def test_same_settlement_retried_in_parallel_with_one_key_returns_one_payment(org, settleable):
    _, invoice = settleable
    finance = org.person(Role.FINANCE_OFFICER)
    key = f"retry-{invoice.pk}"

    def settle(i):
        return chain.invoice_settle(invoice=invoice, by=finance, paid_on=D(2026, 11, 4), method="transfer",
                                    reference="BANK-778", idempotency_key=key)

    with travel(D(2026, 11, 4)):
        outcomes = race(10, settle)

    assert Payment.objects.count() == 1
    payment = Payment.objects.get()
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.EXPENDITURE).count() == 1
    fy = FundYear.objects.get(community=org.community("a1"), year=2026)
    assert fy.settled == Decimal("28000.00")
    assert_fund_identity(fy)
    # A retry with the same key is the same request: each call must hand back that one payment.
    errors = [f"call {i}: {describe(e)}" for i, _, e in outcomes if e is not None]
    assert errors == [], f"{len(errors)} of 10 retries with the same idempotency key raised instead of " \
                         f"returning payment {payment.pk}: {errors}"
    assert {r.pk for _, r, _ in outcomes} == {payment.pk}


def test_parallel_approvals_never_overdraw_the_fund(org):
    started = time.monotonic()
    allocate(org, amount=Decimal("100000.00"))
    budget = Decimal("9000.00")
    n = 20
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    sd_secretary = org.person(Role.SUBDISTRICT_SECRETARY)
    director = org.person(Role.CONSTRUCTION_DIRECTOR)
    proposals = [draft(org, budget=str(budget), title=f"项目{i:02d}") for i in range(n)]
    # The same steps as tests.chain.to_review, a day at a time for all twenty (fewer clock jumps).
    with travel(D(2026, 9, 28)):
        for p in proposals:
            chain.proposal_submit_for_consent(proposal=p, by=secretary)
            chain.consent_decide(proposal=p, by=sd_secretary, consented=True)
            chain.meeting_record(proposal=p, by=secretary, held_on=D(2026, 9, 28), place="社区会议室",
                                 attendance=25, votes_for=20, votes_against=3, votes_abstain=2, minutes="同意实施")
    with travel(D(2026, 9, 30)):
        for p in proposals:
            chain.notice_post(proposal=p, by=secretary, posted_on=D(2026, 9, 30), working_days=3)
    with travel(D(2026, 10, 10)):
        for p in proposals:
            chain.proposal_submit_for_review(proposal=p, by=secretary)
    with travel(D(2026, 10, 12)):
        for p in proposals:  # leader 1, one after another
            chain.review_decide(proposal=p, by=sd_secretary, decision="approve")
        prepared = time.monotonic() - started

        def second_approval(i):  # leader 2, all at once
            return chain.review_decide(proposal=proposals[i], by=director, decision="approve")

        outcomes = race(n, second_approval)

    unexpected = [describe(e) for _, _, e in outcomes if e is not None and not isinstance(e, DomainError)]
    assert unexpected == [], unexpected
    refused = [i for i, _, e in outcomes if e is not None]
    assert all(str(e).strip() for _, _, e in outcomes if e is not None)

    fits = int(Decimal("100000.00") // budget)  # 11
    states = {p.pk: p for p in Proposal.objects.filter(pk__in=[p.pk for p in proposals])}
    approved = [pk for pk, p in states.items() if p.state == State.APPROVED]
    assert len(approved) == fits, (len(approved), prepared)
    assert len(refused) == n - fits
    for i in refused:
        p = states[proposals[i].pk]
        assert p.state == State.UNDER_REVIEW
        assert p.reserved_amount == 0 and p.approved_budget == 0
        # The refused second approval left no half-recorded decision behind: leader 2 can decide later.
        assert list(ReviewDecision.objects.filter(proposal=p).values_list("role", flat=True)) == [
            Role.SUBDISTRICT_SECRETARY]
    for pk in approved:
        assert states[pk].reserved_amount == states[pk].approved_budget == budget

    fy = FundYear.objects.get(community=org.community("a1"), year=2026)
    assert fy.available >= 0
    assert fy.reserved == budget * fits
    assert fy.available == Decimal("100000.00") - budget * fits
    assert_fund_identity(fy)
