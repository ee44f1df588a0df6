"""The year close against the acts that run beside it, on PostgreSQL (issue 13: "Year close belongs to the chain").

Each trial closes one community's 2026 while other people — threads with their own database connections,
released together by a Barrier, each a little staggered so the interleavings vary — draft proposals into
2026, give the second approval that reserves a project's budget, or settle signed invoices, all through the
services. Whatever the interleaving, after each trial:

- no database error escaped (no deadlock, no `Proposal.DoesNotExist`): an act either succeeded or was
  refused with a message a person can read;
- nothing is stranded: the closed year keeps only finished proposals; every unfinished proposal is in
  2027 with its reservation (2027's `reserved` is the sum of its proposals'), and has its
  "proposal.carried_over" audit record;
- a draft either was refused with the message naming the year, or is in the open year;
- the money invariant holds (desk.finance_selectors.reconcile_many for both years: the totals equal the
  ledger's sums; allocated = settled + reserved + available across the years) and the audit chain verifies.

The trials vary who comes first by staggering the threads; the last test fixes the one interleaving that
used to fail most (an approval waiting for the close's lock on its proposal) deterministically.
Against the code before issue 13's fix, the drafts test strands a draft in the closed year and the last
test gets `Proposal.DoesNotExist`.
"""
import datetime
import random
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from approvals import services as chain
from approvals.models import FINISHED, Category, Payment, Proposal, State
from approvals.year_close import fund_year_close
from audit.models import AuditRecord
from audit.services import verify_chain
from desk.finance_selectors import reconcile_many
from fundapp.errors import DomainError
from fundapp.models import FundYear, LedgerEntry, Role

from .chain import allocate, approve, draft, signed_invoice, to_accepted, to_review, travel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = datetime.date
CLOSE_DAY = D(2027, 1, 4)
TRIALS = ("a1", "a2", "b1", "b2")


def race(close, acts, spread=0.015, later=0.0):
    """Run `close()` and every act at once, each thread with its own connection, the acts `spread` seconds
    apart and the first `later` seconds after the close; (close outcome, [(result, exception)] of the acts)."""
    works = [close, *acts]
    barrier = threading.Barrier(len(works))
    outcomes = [None] * len(works)

    def run(i):
        try:
            barrier.wait(timeout=30)
            # Vary who reaches the database first: the close at a random moment, the acts spread out over
            # the time a close takes (a few tens of milliseconds), so some run before it, some during it.
            time.sleep(random.uniform(0, 0.03) if i == 0 else later + (i - 1) * spread + random.uniform(0, 0.01))
            outcomes[i] = (works[i](), None)
        except BaseException as exc:  # noqa: BLE001 - every outcome is inspected
            outcomes[i] = (None, exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return outcomes[0], outcomes[1:]


def describe(exc):
    return f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"


def only_refusals(outcomes, allowed=None):
    """Every failure is a DomainError (with one of the `allowed` messages, if given): no database error."""
    unexpected = [describe(e) for _, e in outcomes
                  if e is not None and (not isinstance(e, DomainError) or (allowed and str(e) not in allowed))]
    assert unexpected == [], unexpected


def assert_closed_cleanly(community):
    """Nothing stranded, every move audited, the money invariant, the audit chain."""
    old = FundYear.objects.get(community=community, year=2026)
    new = FundYear.objects.get(community=community, year=2027)
    assert old.is_closed and old.reserved == 0 and old.available == 0
    stranded = Proposal.objects.filter(fund_year=old).exclude(state__in=list(FINISHED))
    assert list(stranded.values_list("pk", "state")) == []
    for p in Proposal.objects.filter(community=community).exclude(state__in=list(FINISHED)):
        assert p.fund_year_id == new.pk
        assert AuditRecord.objects.filter(action="proposal.carried_over", target_id=str(p.pk)).count() == 1, p.pk
    reserved = Proposal.objects.filter(fund_year=new).aggregate(s=Sum("reserved_amount"))["s"] or Decimal("0.00")
    assert new.reserved == reserved
    moved = AuditRecord.objects.get(action="fund.close_year", community_id=community.pk).after["moved_proposals"]
    audited = AuditRecord.objects.filter(action="proposal.carried_over", community_id=community.pk)
    assert sorted(map(str, moved)) == sorted(audited.values_list("target_id", flat=True))
    years = FundYear.objects.filter(community=community)
    allocated = years.aggregate(s=Sum("allocated"))["s"]
    assert allocated == sum((fy.settled + fy.reserved + fy.available for fy in years), Decimal("0.00"))
    failures = [r for r in reconcile_many([community], 2026) + reconcile_many([community], 2027) if not r.ok]
    assert failures == [], [f.failures for f in failures]
    assert verify_chain() == []


PLAN = dict(category=Category.PROPERTY, content="更换楼道路灯", beneficiaries="broad", beneficiary_count=800,
            planned_start=D(2026, 10, 15), planned_end=D(2026, 11, 30), contractor="光明电器维修部",
            art4_declaration=True)


def _approved(org, code, title):
    return approve(org, to_review(org, draft(org, code, budget="30000.00", title=title), code), code)


def close(org, code):
    return lambda: fund_year_close(community=org.community(code), year=2026, by=org.person(Role.CITY_ADMIN))


def test_drafts_created_while_the_year_closes_are_refused_or_carried_never_stranded(org):
    for code in TRIALS:
        allocate(org, code)
        with travel(D(2026, 9, 1)):
            draft(org, code, title="早已起草的项目")
    refused_messages = {"2026年度正在结转，不能再在该年度新建项目；请在2027年度新建。",
                        "2026年度已结转，不能再在该年度新建项目；请在2027年度新建。"}
    tally = {"carried": 0, "refused": 0}
    for code in TRIALS:
        community = org.community(code)
        staff = org.person(Role.COMMUNITY_STAFF, code)
        with travel(CLOSE_DAY):
            closed, drafts = race(close(org, code), [
                lambda i=i: chain.proposal_create(community=community, by=staff, year=2026, title=f"结转时起草{i}",
                                                  lines=[("路灯及人工", "3000.00")], **PLAN) for i in range(4)])
        assert closed[1] is None, describe(closed[1])
        only_refusals(drafts, refused_messages)
        for proposal, exc in drafts:
            if exc is None:  # landed before the close marked the year: carried, with its own audit record
                p = Proposal.objects.select_related("fund_year").get(pk=proposal.pk)
                assert (p.fund_year.year, p.state) == (2027, State.DRAFT)
                assert AuditRecord.objects.filter(action="proposal.carried_over", target_id=str(p.pk)).exists()
                tally["carried"] += 1
            else:
                tally["refused"] += 1
        assert not Proposal.objects.filter(community=community, fund_year__year=2026).exists()
        assert_closed_cleanly(community)
    assert sum(tally.values()) == 4 * len(TRIALS), tally


def test_second_approvals_while_the_year_closes_reserve_in_one_year_or_the_other_and_move(org):
    budget = Decimal("30000.00")
    waiting = {}
    for code in TRIALS[:3]:
        allocate(org, code)
        waiting[code] = [to_review(org, draft(org, code, budget=str(budget), title=f"待审批{i}"), code)
                         for i in range(3)]
        with travel(D(2026, 10, 12)):
            for p in waiting[code]:
                chain.review_decide(proposal=p, by=org.person(Role.SUBDISTRICT_SECRETARY, code), decision="approve")
    # The close reaches the proposals first, or the approvals do, or they cross: the acts start 0, 0.12 and
    # 0.4 s after the close (an approval or a close takes a few hundred milliseconds on a busy machine).
    for code, later in zip(TRIALS[:3], (0.0, 0.12, 0.4)):
        community = org.community(code)
        director = org.person(Role.CONSTRUCTION_DIRECTOR, code)
        with travel(CLOSE_DAY):
            closed, approvals = race(close(org, code), [
                lambda p=p: chain.review_decide(proposal=p, by=director, decision="approve") for p in waiting[code]],
                spread=0.05, later=later)
        assert closed[1] is None, describe(closed[1])
        only_refusals(approvals)
        assert all(e is None for _, e in approvals), [describe(e) for _, e in approvals if e]
        for p in waiting[code]:
            p = Proposal.objects.select_related("fund_year").get(pk=p.pk)
            # Approved before the close (reserved in 2026, carried) or after it (reserved in 2027): either
            # way the project is in 2027, approved, with its whole budget reserved.
            assert (p.fund_year.year, p.state, p.reserved_amount) == (2027, State.APPROVED, budget)
        new = FundYear.objects.get(community=community, year=2027)
        assert new.reserved == budget * 3
        assert_closed_cleanly(community)


def test_settlements_and_voucher_payments_while_the_year_closes_are_paid_in_2026_or_refused(org):
    """Per trial two accepted projects, each with a signed 10,000 invoice and a 1,000 payment without an
    invoice, all four paid at once (dated 30 December) while the year closes."""
    paid_on = D(2026, 12, 30)
    invoices, vouchers = {}, {}
    for code in TRIALS[:3]:
        allocate(org, code)
        invoices[code], vouchers[code] = [], []
        for i in range(2):
            proposal = to_accepted(org, _approved(org, code, f"待结算{i}"), code)
            vouchers[code].append(proposal)
            invoices[code].append(signed_invoice(org, proposal, code, amount="10000.00", number=f"No.{code}-{i}"))
    refusal = ("付款日期 2026-12-30 不在2027年度内：2026-12-30 所在年度已结转，不再记账（第十三条）；"
               "本项目的款项记入2027年度，付款日期须在2027年内。")
    for code, later in zip(TRIALS[:3], (0.0, 0.05, 0.3)):
        community = org.community(code)
        finance = org.person(Role.FINANCE_OFFICER, code)
        settle = [lambda inv=inv: chain.invoice_settle(invoice=inv, by=finance, paid_on=paid_on, method="transfer",
                                                       reference=f"BANK-{inv.pk}") for inv in invoices[code]]
        pay = [lambda p=p: chain.voucher_pay(proposal=p, by=finance, meeting=p.meetings.get(), recipient_name="赵六",
                                             receipt_reference="签收单1", amount="1000.00", paid_on=paid_on,
                                             method="cash", reference=f"V-{p.pk}") for p in vouchers[code]]
        with travel(CLOSE_DAY):
            closed, payments = race(close(org, code), [settle[0], pay[0], settle[1], pay[1]],
                                    later=later)
        assert closed[1] is None, describe(closed[1])
        only_refusals(payments, {refusal})
        paid = [payment for payment, e in payments if e is None]
        old = FundYear.objects.get(community=community, year=2026)
        # Every payment made is booked in 2026, the year of its date, before the close carried the rest.
        assert {p.ledger_entry.fund_year_id for p in Payment.objects.filter(pk__in=[p.pk for p in paid])} <= {old.pk}
        assert old.settled == sum((p.amount for p in paid), Decimal("0.00"))
        assert LedgerEntry.objects.filter(fund_year=old, kind=LedgerEntry.Kind.EXPENDITURE).count() == len(paid)
        assert Payment.objects.filter(proposal__community=community).count() == len(paid)
        for proposal in Proposal.objects.filter(community=community):
            assert proposal.fund_year.year == 2027 and proposal.state == State.ACCEPTED
            assert proposal.reserved_amount == Decimal("30000.00") - proposal.settled_amount
        assert_closed_cleanly(community)


def test_an_approval_waiting_for_the_close_finds_the_moved_proposal_not_a_missing_one(org):
    """Deterministic: the close holds its locks (it runs inside a transaction that stays open half a second)
    while the second approval waits for the proposal's row; when the close commits, the approval goes on
    with the proposal as moved — in 2027, reserving there — instead of `Proposal.DoesNotExist` (which a
    FOR UPDATE over a join with the old fund year used to return: a 500 in the views)."""
    from django.db import transaction

    allocate(org)
    proposal = to_review(org, draft(org, budget="30000.00"))
    with travel(D(2026, 10, 12)):
        chain.review_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY), decision="approve")
    closed_and_holding = threading.Event()
    outcome = {}

    def close_and_hold():
        try:
            with transaction.atomic():
                outcome["close"] = fund_year_close(community=org.community("a1"), year=2026)
                closed_and_holding.set()
                time.sleep(0.5)
        except BaseException as exc:  # noqa: BLE001
            outcome["close"] = exc
            closed_and_holding.set()
        finally:
            connection.close()

    def approve_when_locked_out():
        try:
            closed_and_holding.wait(timeout=30)
            outcome["approval"] = chain.review_decide(proposal=proposal, by=org.person(Role.CONSTRUCTION_DIRECTOR),
                                                      decision="approve")
        except BaseException as exc:  # noqa: BLE001
            outcome["approval"] = exc
        finally:
            connection.close()

    with travel(CLOSE_DAY):
        threads = [threading.Thread(target=close_and_hold), threading.Thread(target=approve_when_locked_out)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert outcome["close"] == Decimal("200000.00"), outcome
    assert not isinstance(outcome["approval"], BaseException), describe(outcome["approval"])
    p = Proposal.objects.select_related("fund_year").get(pk=proposal.pk)
    assert (p.fund_year.year, p.state, p.reserved_amount) == (2027, State.APPROVED, Decimal("30000.00"))
    assert FundYear.objects.get(community=org.community("a1"), year=2027).reserved == Decimal("30000.00")
    assert_closed_cleanly(org.community("a1"))
