"""Helpers that walk a proposal through the chain with the real services, for the cross-app tests."""
import datetime
from decimal import Decimal

import time_machine

from approvals import services as chain
from approvals.models import Category, Proposal
from fundapp.models import Role
from fundapp.services import ledger as ledger_services

ALLOCATION = Decimal("200000.00")


def travel(day):
    """Move 'today' (Asia/Shanghai) to `day` at 10:00 local time."""
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, 10, 0,
                                                 tzinfo=datetime.timezone(datetime.timedelta(hours=8))), tick=False)


def allocate(org, code="a1", year=2026, amount=ALLOCATION):
    return ledger_services.fund_year_allocate(community=org.community(code), year=year, amount=amount,
                                             entry_date=datetime.date(year, 1, 10))


def draft(org, code="a1", *, budget="30000.00", small_group=False, title="老旧小区路灯维修", year=2026):
    community = org.community(code)
    staff = org.person(Role.COMMUNITY_STAFF, code)
    need = chain.need_record(community=community, by=staff, channel="door", description="楼道路灯不亮",
                             resident_name="张三", on=datetime.date(year, 1, 5))
    return chain.proposal_create(
        community=community, by=staff, year=year, title=title, category=Category.PROPERTY,
        content="更换 40 盏楼道路灯", beneficiaries="small_group" if small_group else "broad",
        beneficiary_count=12 if small_group else 800,
        planned_start=datetime.date(year, 10, 15), planned_end=datetime.date(year, 11, 30),
        contractor="光明电器维修部", art4_declaration=True, lines=[("路灯及人工", budget)], needs=[need],
    )


def meeting_passed(org, proposal, code="a1", day=datetime.date(2026, 9, 28)):
    """Filed, preliminary consent given and the joint meeting passed, all on `day`."""
    secretary = org.person(Role.COMMUNITY_SECRETARY, code)
    with travel(day):
        chain.proposal_submit_for_consent(proposal=proposal, by=secretary)
        chain.consent_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY, code), consented=True)
        chain.meeting_record(proposal=proposal, by=secretary, held_on=day, place="社区会议室",
                             attendance=25, votes_for=20, votes_against=3, votes_abstain=2, minutes="同意实施")
    return proposal


def to_review(org, proposal, code="a1"):
    """From draft to under review, starting on Wed 2026-09-30 (the SPEC's example notice)."""
    secretary = org.person(Role.COMMUNITY_SECRETARY, code)
    meeting_passed(org, proposal, code)
    with travel(datetime.date(2026, 9, 30)):
        chain.notice_post(proposal=proposal, by=secretary, posted_on=datetime.date(2026, 9, 30), working_days=3)
    with travel(datetime.date(2026, 10, 10)):
        chain.proposal_submit_for_review(proposal=proposal, by=secretary)
    return proposal


def approve(org, proposal, code="a1"):
    with travel(datetime.date(2026, 10, 12)):
        chain.review_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY, code), decision="approve")
        chain.review_decide(proposal=proposal, by=org.person(Role.CONSTRUCTION_DIRECTOR, code), decision="approve")
    return proposal


def to_accepted(org, proposal, code="a1"):
    with travel(datetime.date(2026, 10, 15)):
        chain.proposal_start(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY, code))
    with travel(datetime.date(2026, 11, 2)):
        chain.acceptance_record(proposal=proposal, by=org.person(Role.SUBDISTRICT_STAFF, code),
                                inspected_on=datetime.date(2026, 11, 2), quality="路灯全部点亮",
                                satisfaction_method="入户问卷", asked_count=50, satisfied_count=48, passed=True)
    return proposal


def funded_and_accepted(org):
    """a1 funded, one proposal walked to its acceptance (passed): the invoice is next."""
    allocate(org)
    return to_accepted(org, approve(org, to_review(org, draft(org))))


def signed_invoice(org, proposal, code="a1", amount="28000.00", number="No.0001"):
    with travel(datetime.date(2026, 11, 3)):
        invoice = chain.invoice_register(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY, code),
                                         contractor="光明电器维修部", number=number, amount=amount,
                                         issued_on=datetime.date(2026, 11, 3))
        for role in (Role.COMMUNITY_SECRETARY, Role.CONSTRUCTION_DIRECTOR, Role.SUBDISTRICT_SECRETARY):
            chain.invoice_sign(invoice=invoice, by=org.person(role, code))
    invoice.refresh_from_db()
    return invoice


def settleable(org):
    """A 30,000 project accepted with one 28,000 invoice carrying all three signatures: (proposal, invoice)."""
    allocate(org)
    proposal = draft(org, budget="30000.00")
    to_review(org, proposal)
    approve(org, proposal)
    to_accepted(org, proposal)
    return proposal, signed_invoice(org, proposal, amount="28000.00")


def reload(proposal):
    return Proposal.objects.get(pk=proposal.pk)
