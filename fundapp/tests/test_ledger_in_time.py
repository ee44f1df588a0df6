"""The ledger is in order in time (SPEC §2, §9, Art. 13): every entry is dated inside its fund year, not
after today where a person dates it, never in a closed year, a reversal not before what it reverses, and
the running balance in date order (end of each day) never below zero. The services refuse first, with a
message citing the rule; the database triggers (migration 0005) refuse the same from raw SQL."""
import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from fundapp.errors import DomainError
from fundapp.models import FundYear, LedgerEntry
from fundapp.services import ledger as ledger_services
from tests.chain import travel

D = datetime.date
pytestmark = pytest.mark.django_db


def counts():
    return LedgerEntry.objects.count(), list(FundYear.objects.order_by("pk").values())


@pytest.fixture
def community(org):
    return org.community("a1")


def allocate(community, amount, day, year=None):
    with travel(max(day, D(2026, 1, 1))):
        return ledger_services.fund_year_allocate(community=community, year=year or day.year, amount=amount,
                                                 entry_date=day)


def reserved_year(community, allocation_day=D(2026, 6, 1), amount="50000.00", reserve="30000.00"):
    allocate(community, amount, allocation_day)
    with transaction.atomic():
        fy = ledger_services.fund_year_for_update(community=community, year=2026)
        ledger_services.fund_year_reserve(fy, Decimal(reserve), small_group=False)
    return FundYear.objects.get(pk=fy.pk)


def spend(fy, amount, day):
    with travel(D(2026, 11, 30)), transaction.atomic():
        fy = ledger_services.fund_year_for_update(community=fy.community, year=fy.year)
        return ledger_services.fund_year_spend(fy, Decimal(amount), by=None, entry_date=day, description="支付",
                                              source="test")


@pytest.mark.parametrize("day, message", [
    (D(2025, 12, 31), "不在2026年度内"),
    (D(2027, 1, 1), "不在2026年度内"),
    (D(2026, 11, 21), "晚于今天"),
])
def test_an_allocation_is_dated_inside_its_year_and_not_after_today(community, day, message):
    before = counts()
    with travel(D(2026, 11, 20)), pytest.raises(DomainError, match=message):
        ledger_services.fund_year_allocate(community=community, year=2026, amount="1000.00", entry_date=day)
    assert counts() == before


def test_an_entry_needs_a_date_not_a_moment(community):
    with pytest.raises(DomainError, match="记账日期"):
        ledger_services.fund_year_allocate(community=community, year=2026, amount="1000.00",
                                          entry_date=datetime.datetime(2026, 1, 10, 9, 0))


def test_the_boundary_days_belong_to_the_year(community):
    allocate(community, "1000.00", D(2026, 1, 1))
    with travel(D(2027, 1, 1)):
        ledger_services.fund_year_allocate(community=community, year=2026, amount="1000.00",
                                          entry_date=D(2026, 12, 31))
    assert FundYear.objects.get(community=community, year=2026).allocated == Decimal("2000.00")


def test_a_payment_dated_before_the_allocation_that_funds_it_is_refused(community):
    fy = reserved_year(community)
    before = counts()
    with pytest.raises(DomainError, match="2026-05-01 的余额将为负数（-¥1,000.00）"):
        spend(fy, "1000.00", D(2026, 5, 1))
    assert counts() == before
    # On the allocation's own day the balance at the end of the day counts: allowed.
    spend(fy, "1000.00", D(2026, 6, 1))
    fy.refresh_from_db()
    assert (fy.settled, fy.reserved) == (Decimal("1000.00"), Decimal("29000.00"))


def test_a_payment_is_not_dated_after_today_nor_outside_its_year(community):
    fy = reserved_year(community)
    with pytest.raises(DomainError, match="晚于今天"):
        spend(fy, "1000.00", D(2026, 12, 1))
    with pytest.raises(DomainError, match="2026年度的支出须在当年记账（第十三条）"):
        spend(fy, "1000.00", D(2027, 1, 2))
    with pytest.raises(DomainError, match="不在2026年度内"):
        spend(fy, "1000.00", D(2025, 12, 30))
    assert not LedgerEntry.objects.filter(kind="expenditure").exists()


def test_a_later_allocation_does_not_fund_an_earlier_payment(community):
    """Two allocations; the money spent before the second may not exceed the first."""
    allocate(community, "10000.00", D(2026, 1, 10))
    fy = reserved_year(community, allocation_day=D(2026, 6, 1), amount="40000.00", reserve="30000.00")
    spend(fy, "10000.00", D(2026, 3, 1))  # funded by January's 10,000
    with pytest.raises(DomainError, match="2026-03-02 的余额将为负数"):
        spend(fy, "0.01", D(2026, 3, 2))
    spend(fy, "20000.00", D(2026, 6, 2))


def test_a_reversal_is_not_dated_before_its_entry_and_keeps_the_balance_in_date_order(community):
    first = allocate(community, "100000.00", D(2026, 1, 10))
    with transaction.atomic():
        fy = ledger_services.fund_year_for_update(community=community, year=2026)
        ledger_services.fund_year_reserve(fy, Decimal("90000.00"), small_group=False)
    fy = FundYear.objects.get(pk=fy.pk)
    spend(fy, "90000.00", D(2026, 3, 1))
    allocate(community, "100000.00", D(2026, 6, 1))
    with travel(D(2026, 11, 20)):
        with pytest.raises(DomainError, match="早于被冲销分录"):
            ledger_services.ledger_entry_reverse(entry=first, reason="重复", entry_date=D(2026, 1, 9))
        # the available money allows it, but on 1 March the year would have paid 90,000 out of nothing
        with pytest.raises(DomainError, match="2026-03-01 的余额将为负数"):
            ledger_services.ledger_entry_reverse(entry=first, reason="重复", entry_date=D(2026, 2, 1))
        ledger_services.ledger_entry_reverse(entry=first, reason="重复", entry_date=D(2026, 6, 1))
    assert FundYear.objects.get(pk=fy.pk).allocated == Decimal("100000.00")


# ---- the database: raw SQL, around the services --------------------------------------------------------

def _insert(fund_year, kind, amount, day):
    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (fund_year_id, kind, amount, entry_date, description, source, "
                       f"created_at) VALUES (%s, %s, %s, %s, 'raw', '', %s)",
                       [fund_year.pk, kind, Decimal(amount), day, datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)])


@pytest.fixture
def raw_year(community):
    allocate(community, "1000.00", D(2026, 6, 1))
    return FundYear.objects.get(community=community, year=2026)


@pytest.mark.parametrize("day", [D(2025, 12, 31), D(2027, 1, 1)])
def test_the_database_refuses_an_entry_outside_its_year(raw_year, day):
    with pytest.raises(DatabaseError, match="outside its fund year"):
        _insert(raw_year, "allocation", "5.00", day)
    assert LedgerEntry.objects.count() == 1


@pytest.mark.parametrize("kind", ["allocation", "carry_in", "expenditure", "carry_out"])
def test_the_database_refuses_any_entry_in_a_closed_year(community, kind):
    closed = FundYear.objects.create(community=community, year=2025, status=FundYear.Status.CLOSED)
    with pytest.raises(DatabaseError, match="closed"):
        _insert(closed, kind, "5.00", D(2025, 12, 31))
    assert not LedgerEntry.objects.filter(fund_year=closed).exists()


@pytest.mark.parametrize("kind", ["expenditure", "carry_out"])
def test_the_database_refuses_a_negative_running_balance_in_date_order(raw_year, kind):
    with pytest.raises(DatabaseError, match="running balance"):
        _insert(raw_year, kind, "5.00", D(2026, 5, 31))  # before the allocation
    with pytest.raises(DatabaseError, match="running balance"):
        _insert(raw_year, kind, "1000.01", D(2026, 6, 2))  # more than there is
    _insert(raw_year, kind, "1000.00", D(2026, 6, 1))  # the whole allocation, the same day: the day's end counts
    assert LedgerEntry.objects.filter(fund_year=raw_year).count() == 2


def test_the_database_refuses_a_reversal_that_leaves_an_earlier_day_negative(raw_year):
    allocate(raw_year.community, "500.00", D(2026, 7, 1))
    _insert(raw_year, "expenditure", "1200.00", D(2026, 7, 2))
    entry = LedgerEntry.objects.get(kind="allocation", entry_date=D(2026, 6, 1))
    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    with pytest.raises(DatabaseError, match="running balance"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (fund_year_id, kind, amount, entry_date, description, source, "
                       f"created_at, reverses_id) VALUES (%s, 'reversal', 1000, %s, 'raw', '', %s, %s)",
                       [raw_year.pk, D(2026, 6, 15), datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC), entry.pk])


@pytest.mark.postgres
def test_postgres_checks_the_balance_once_per_statement(raw_year):
    """A statement's rows are checked together: an outflow and the inflow that funds it, in one INSERT, go
    in; a statement leaving any day negative is refused whole."""
    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    sql = (f"INSERT INTO {table} (fund_year_id, kind, amount, entry_date, description, source, created_at) "
           f"VALUES (%s, 'expenditure', 1500, %s, 'raw', '', now()), (%s, 'allocation', 600, %s, 'raw', '', now())")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [raw_year.pk, D(2026, 8, 1), raw_year.pk, D(2026, 8, 1)])
    with pytest.raises(DatabaseError, match="running balance"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [raw_year.pk, D(2026, 8, 2), raw_year.pk, D(2026, 8, 3)])
    assert LedgerEntry.objects.filter(fund_year=raw_year).count() == 3
