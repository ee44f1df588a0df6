"""The year's allocation confirmed many times at once on PostgreSQL (double clicks, two administrators, a
re-uploaded sheet): every community gets one allocation, the trail stays one unbroken chain."""
import datetime
from decimal import Decimal

import pytest

from audit.models import AuditRecord
from audit.services import verify_chain
from fundapp.models import FundYear, LedgerEntry
from fundapp.services import allocations

from .chain import travel
from .test_concurrency import describe, race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TODAY = datetime.date(2026, 3, 2)


@pytest.mark.parametrize("years_exist", [False, True], ids=["new-fund-years", "existing-fund-years"])
def test_simultaneous_confirmations_allocate_each_community_once(org, years_exist):
    admin = org.city_admin
    if years_exist:  # the rows are there already (empty): only their locks can serialise the acts
        for community in org.communities.values():
            FundYear.objects.get_or_create(community=community, year=2026)
    with travel(TODAY):
        plan = allocations.year_allocation_plan(year=2026, entry_date=TODAY, amount="200000", by=admin)

    def confirm(i):
        # Most confirm the previewed plan; some send another amount for two communities (a sheet): whichever
        # commits first wins a community, the others find it allocated and skip it.
        with travel(TODAY):
            if i % 4 == 3:
                return allocations.year_allocation_confirm(year=2026, entry_date=TODAY, by=admin,
                                                           amounts={"a1": "150000", "b2": "150000"})
            return allocations.year_allocation_confirm(year=2026, entry_date=TODAY, amount="200000", by=admin,
                                                       key=plan.key)

    outcomes = race(12, confirm)
    errors = [describe(e) for _i, _r, e in outcomes if e is not None]
    assert errors == []
    written = [r.community.code for _i, result, _e in outcomes for r in result.due]
    assert sorted(written) == ["a1", "a2", "b1", "b2"]  # each community written by exactly one act
    entries = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.ALLOCATION, fund_year__year=2026)
    assert entries.count() == 4
    for fy in FundYear.objects.filter(year=2026):
        assert fy.allocated in (Decimal("200000.00"), Decimal("150000.00"))
        assert fy.allocated == sum(e.amount for e in entries if e.fund_year_id == fy.pk)
    acts = AuditRecord.objects.filter(action="fund.year_allocate")
    assert sum(a.after["count"] for a in acts) == 4
    assert AuditRecord.objects.filter(action="fund.allocate").count() == 4
    assert verify_chain() == []
