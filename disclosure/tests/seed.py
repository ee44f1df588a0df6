"""A seeded year (2026) for the disclosure and batch tests: the real services, through the approval chain.

    a1  ¥200,000.00  路灯 (物业, settled 28,000 of 30,000) + 助餐 (特困, approved 12,000, reserved)
    a2  ¥150,000.00  nothing spent
    b1  ¥100,000.00  文体 project under review (budget 20,000; nothing approved)
    b2  no allocation at all
"""
import datetime
from decimal import Decimal

from approvals import services as chain
from approvals.models import Category
from fundapp.models import Role
from tests.chain import allocate, approve, signed_invoice, to_accepted, to_review, travel

YEAR = 2026

EXPECTED = {
    "a1": {"total": "200000.00", "settled": "28000.00", "reserved": "12000.00", "available": "160000.00"},
    "a2": {"total": "150000.00", "settled": "0.00", "reserved": "0.00", "available": "150000.00"},
    "b1": {"total": "100000.00", "settled": "0.00", "reserved": "0.00", "available": "100000.00"},
    "b2": {"total": "0.00", "settled": "0.00", "reserved": "0.00", "available": "0.00"},
}


def plan(org, code, *, title, category, budget, year=YEAR):
    community = org.community(code)
    staff = org.person(Role.COMMUNITY_STAFF, code)
    need = chain.need_record(community=community, by=staff, channel="door", description="居民反映的需求",
                             resident_name="张三", on=datetime.date(year, 1, 5))
    return chain.proposal_create(
        community=community, by=staff, year=year, title=title, category=category,
        content=f"{title}，具体方案见附件", beneficiaries="broad", beneficiary_count=800,
        planned_start=datetime.date(year, 10, 15), planned_end=datetime.date(year, 11, 30),
        contractor="光明电器维修部", art4_declaration=True, lines=[("服务及材料", budget)], needs=[need],
    )


def seed_year(org):
    with travel(datetime.date(YEAR, 1, 10)):
        allocate(org, "a1", amount=Decimal("200000.00"))
        allocate(org, "a2", amount=Decimal("150000.00"))
        allocate(org, "b1", amount=Decimal("100000.00"))
    lights = plan(org, "a1", title="老旧小区路灯维修", category=Category.PROPERTY, budget="30000.00")
    meals = plan(org, "a1", title="困难老人助餐服务", category=Category.HARDSHIP, budget="12000.00")
    concerts = plan(org, "b1", title="社区文艺汇演", category=Category.CULTURE_SPORTS, budget="20000.00")
    for proposal, code in ((lights, "a1"), (meals, "a1"), (concerts, "b1")):
        to_review(org, proposal, code)
    approve(org, lights)
    approve(org, meals)
    to_accepted(org, lights)
    invoice = signed_invoice(org, lights, amount="28000.00")
    with travel(datetime.date(YEAR, 11, 4)):
        chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER, "a1"),
                             paid_on=datetime.date(YEAR, 11, 4), method="transfer", reference="BANK-778")
        chain.settlement_finish(proposal=lights, by=org.person(Role.COMMUNITY_SECRETARY, "a1"))
    return {"lights": lights, "meals": meals, "concerts": concerts}
