"""factory_boy factories that build through the services, the way the application builds: never `Model.save()`.

    ProposalFactory(org=org)                                 # a draft of community a1, 2026, ¥30,000
    ProposalFactory(org=org, state=State.APPROVED)           # walked through the real services to approved
    ProposalFactory(org=org, code="b1", state=State.SETTLED, budget="50000.00", title="…")
    InvoiceFactory(org=org, proposal=p)                      # registered and signed by all three signers
    InvoiceFactory(org=org, proposal=p, signers=0)           # registered only

`org` is the `org` fixture (conftest.Org). Every step is taken by the person whose job it is, on the dates of
tests/chain.py (a 2026 project: meeting on 28 September, notice posted 30 September, reviewed 12 October,
started 15 October, accepted 2 November, invoiced 3 November, settled 4 November, completion notice
5 November), with the clock moved there. The year's allocation (¥200,000) is recorded first when the
community has none. Free text (need descriptions, residents' names, minutes) comes from Faker's Chinese
locale with a fixed seed, so a run is repeatable.
"""
import datetime
from decimal import Decimal

import factory
from factory.random import reseed_random

from approvals import services as chain
from approvals.models import Category, Invoice, Notice, Proposal, State
from fundapp.models import FundYear, Role
from tests.chain import ALLOCATION, allocate, travel

reseed_random("fund-tests")

D = datetime.date
# Who signs an invoice, in the order the rules require (Art. 13).
SIGNERS = (Role.COMMUNITY_SECRETARY, Role.CONSTRUCTION_DIRECTOR, Role.SUBDISTRICT_SECRETARY)


# ---- the steps, each from the state before it ------------------------------------------------------------

def _submit_for_consent(org, p, code, year):
    with travel(D(year, 9, 28)):
        chain.proposal_submit_for_consent(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY, code))


def _consent(org, p, code, year):
    with travel(D(year, 9, 28)):
        chain.consent_decide(proposal=p, by=org.person(Role.SUBDISTRICT_SECRETARY, code), consented=True)


def _meeting(org, p, code, year):
    with travel(D(year, 9, 28)):
        chain.meeting_record(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY, code), held_on=D(year, 9, 28),
                             place="社区会议室", attendance=25, votes_for=20, votes_against=3, votes_abstain=2,
                             minutes="同意实施")


def _notice(org, p, code, year):
    with travel(D(year, 9, 30)):
        chain.notice_post(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY, code), posted_on=D(year, 9, 30),
                          working_days=3)


def _submit_for_review(org, p, code, year):
    with travel(D(year, 10, 10)):
        chain.proposal_submit_for_review(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY, code))


def _approve(org, p, code, year):
    with travel(D(year, 10, 12)):
        for role in (Role.SUBDISTRICT_SECRETARY, Role.CONSTRUCTION_DIRECTOR):
            chain.review_decide(proposal=p, by=org.person(role, code), decision="approve")


def _start(org, p, code, year):
    with travel(D(year, 10, 15)):
        chain.proposal_start(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY, code))


def _accept(org, p, code, year):
    with travel(D(year, 11, 2)):
        chain.acceptance_record(proposal=p, by=org.person(Role.SUBDISTRICT_STAFF, code),
                                inspected_on=D(year, 11, 2), quality="按方案完成", satisfaction_method="入户问卷",
                                asked_count=50, satisfied_count=48, passed=True)


def _settle(org, p, code, year):
    invoice = InvoiceFactory(org=org, proposal=p, code=code, amount=p.budget, issued_on=D(year, 11, 3))
    with travel(D(year, 11, 4)):
        chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER, code), paid_on=D(year, 11, 4),
                             method="transfer", reference=f"BANK-{invoice.pk}")
        chain.settlement_finish(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY, code))


def _completion_notice(org, p, code, year):
    with travel(D(year, 11, 5)):
        chain.completion_notice_post(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY, code),
                                     posted_on=D(year, 11, 5), working_days=3)


def _complete(org, p, code, year):
    notice = p.notices.get(kind=Notice.Kind.COMPLETION)
    with travel(notice.next_step_day):
        chain.proposal_complete(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY, code))


def _hold(org, p, code, year):
    with travel(D(year, 10, 1)):
        chain.proposal_hold(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY, code), reason="居民对选址意见分歧")


def _reject(org, p, code, year):
    with travel(D(year, 10, 12)):
        chain.review_decide(proposal=p, by=org.person(Role.CONSTRUCTION_DIRECTOR, code), decision="reject",
                            reason="属于物业应承担的费用")


def _withdraw(org, p, code, year):
    with travel(D(year, 9, 29)):
        chain.proposal_withdraw(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY, code), reason="已由驻区单位捐助")


# The main line of the chain, in order: the state each step reaches, and the step.
MAIN_LINE = [
    (State.CONSENT_PENDING, _submit_for_consent),
    (State.CONSENTED, _consent),
    (State.MEETING_PASSED, _meeting),
    (State.NOTICE, _notice),
    (State.UNDER_REVIEW, _submit_for_review),
    (State.APPROVED, _approve),
    (State.IN_PROGRESS, _start),
    (State.ACCEPTED, _accept),
    (State.SETTLED, _settle),
    (State.COMPLETION_NOTICE, _completion_notice),
    (State.COMPLETED, _complete),
]
# The side states: reached by one step from a state of the main line.
SIDE = {
    State.ON_HOLD: (State.NOTICE, _hold),
    State.REJECTED: (State.UNDER_REVIEW, _reject),
    State.WITHDRAWN: (State.CONSENTED, _withdraw),
}


def walk(org, proposal, state, code="a1", year=2026):
    """Take `proposal` from where it stands to `state` through the services; returns it reloaded."""
    state = State(state)
    if state in SIDE:
        via, step = SIDE[state]
        walk(org, proposal, via, code, year)
        step(org, proposal, code, year)
        return Proposal.objects.get(pk=proposal.pk)
    targets = [reached for reached, _ in MAIN_LINE]
    if state != State.DRAFT and state not in targets:
        raise ValueError(f"no walk to {state}")
    for reached, step in MAIN_LINE:
        proposal.refresh_from_db()
        if proposal.state == state:
            break
        done = targets.index(proposal.state) if proposal.state in targets else -1
        if targets.index(reached) <= done:
            continue
        step(org, proposal, code, year)
    return Proposal.objects.get(pk=proposal.pk)


class ProposalFactory(factory.Factory):
    """A proposal drafted by the community's staff (with one recorded need) and walked to `state`."""

    class Meta:
        model = Proposal

    org = None
    code = "a1"
    year = 2026
    state = State.DRAFT
    title = "老旧小区路灯维修"
    budget = "30000.00"
    small_group = False
    category = Category.PROPERTY
    content = "更换 40 盏楼道路灯"
    contractor = "光明电器维修部"
    need = factory.Faker("sentence", locale="zh_CN", nb_words=6)
    resident_name = factory.Faker("name", locale="zh_CN")

    @classmethod
    def _create(cls, model_class, *, org, code, year, state, title, budget, small_group, category, content,
                contractor, need, resident_name):
        if org is None:
            raise TypeError("ProposalFactory needs org=<the org fixture>")
        community = org.community(code)
        if not FundYear.objects.filter(community=community, year=year).exists():
            allocate(org, code, year=year, amount=ALLOCATION)
        staff = org.person(Role.COMMUNITY_STAFF, code)
        with travel(D(year, 1, 5)):
            recorded = chain.need_record(community=community, by=staff, channel="door", description=need,
                                         resident_name=resident_name, on=D(year, 1, 5))
        proposal = chain.proposal_create(
            community=community, by=staff, year=year, title=title, category=category, content=content,
            beneficiaries="small_group" if small_group else "broad", beneficiary_count=12 if small_group else 800,
            planned_start=D(year, 10, 15), planned_end=D(year, 11, 30), contractor=contractor,
            art4_declaration=True, lines=[("材料及人工", budget)], needs=[recorded],
        )
        return walk(org, proposal, state, code, year)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise TypeError("a proposal exists only through the services: use ProposalFactory(...) (create)")


class InvoiceFactory(factory.Factory):
    """An invoice registered by the community secretary on an accepted proposal, signed by the first
    `signers` of the three signers in their order (secretary, 建管委 director, 党工委 secretary)."""

    class Meta:
        model = Invoice

    org = None
    proposal = None
    code = "a1"
    contractor = "光明电器维修部"
    number = factory.Sequence(lambda n: f"No.{n + 1:04d}")
    amount = "28000.00"
    issued_on = D(2026, 11, 3)
    signers = 3

    @classmethod
    def _create(cls, model_class, *, org, proposal, code, contractor, number, amount, issued_on, signers):
        if org is None or proposal is None:
            raise TypeError("InvoiceFactory needs org=… and proposal=…")
        with travel(issued_on):
            invoice = chain.invoice_register(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY, code),
                                             contractor=contractor, number=number, amount=Decimal(str(amount)),
                                             issued_on=issued_on)
            for role in SIGNERS[:signers]:
                chain.invoice_sign(invoice=invoice, by=org.person(role, code))
        return Invoice.objects.get(pk=invoice.pk)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise TypeError("an invoice exists only through the services: use InvoiceFactory(...) (create)")
