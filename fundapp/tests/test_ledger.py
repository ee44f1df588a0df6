import datetime
from decimal import Decimal

import pytest

from fundapp.errors import DomainError, NotAllowed
from fundapp.models import FundYear, LedgerEntry, Role
from fundapp.amounts import format_yuan, parse_amount
from fundapp.services import ledger as ledger_services


@pytest.mark.parametrize("raw", ["-1", "0", "0.001", "1e3x", "abc", "", "100000000.01", "NaN", "Infinity"])
def test_bad_amounts_are_refused_with_a_message(raw):
    with pytest.raises(DomainError) as exc:
        parse_amount(raw)
    assert str(exc.value)


def test_amounts_are_exact():
    assert parse_amount("1,234.5") == Decimal("1234.50")
    assert format_yuan(Decimal("1234.5")) == "¥1,234.50"
    with pytest.raises(DomainError):
        parse_amount(0.1)


@pytest.mark.django_db
def test_allocation_posts_an_entry_and_raises_the_total(org):
    community = org.community("a1")
    ledger_services.fund_year_allocate(community=community, year=2026, amount="200000.00",
                                      entry_date=datetime.date(2026, 1, 10), by=org.city_admin)
    fund_year = FundYear.objects.get(community=community, year=2026)
    assert fund_year.total == Decimal("200000.00") == fund_year.available
    assert fund_year.small_group_limit == Decimal("40000.00")
    assert LedgerEntry.objects.get(fund_year=fund_year).kind == LedgerEntry.Kind.ALLOCATION


@pytest.mark.django_db
def test_allocation_is_the_city_admins_alone(org):
    with pytest.raises(NotAllowed):
        ledger_services.fund_year_allocate(community=org.community("a1"), year=2026, amount="1.00",
                                          entry_date=datetime.date(2026, 1, 10),
                                          by=org.person(Role.FINANCE_OFFICER, "a1"))
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_closed_year_refuses_allocations(org):
    community = org.community("a1")
    FundYear.objects.create(community=community, year=2025, status=FundYear.Status.CLOSED)
    with pytest.raises(DomainError):
        ledger_services.fund_year_allocate(community=community, year=2025, amount="1.00",
                                          entry_date=datetime.date(2025, 1, 10))
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_a_wrong_allocation_is_corrected_by_a_reversal_once(org):
    community = org.community("a1")
    wrong = ledger_services.fund_year_allocate(community=community, year=2026, amount="20000.00",
                                              entry_date=datetime.date(2026, 1, 10), by=org.city_admin)
    ledger_services.fund_year_allocate(community=community, year=2026, amount="200000.00",
                                      entry_date=datetime.date(2026, 1, 11), by=org.city_admin)
    with pytest.raises(DomainError):
        ledger_services.ledger_entry_reverse(entry=wrong, reason="", entry_date=datetime.date(2026, 1, 12),
                                            by=org.city_admin)
    reversal = ledger_services.ledger_entry_reverse(entry=wrong, reason="重复拨款", by=org.city_admin,
                                                   entry_date=datetime.date(2026, 1, 12))
    assert reversal.kind == LedgerEntry.Kind.REVERSAL and reversal.reverses == wrong
    assert FundYear.objects.get(community=community).allocated == Decimal("200000.00")
    with pytest.raises(DomainError):
        ledger_services.ledger_entry_reverse(entry=wrong, reason="再次", by=org.city_admin,
                                            entry_date=datetime.date(2026, 1, 12))
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REVERSAL).count() == 1


@pytest.mark.django_db
def test_a_reversal_cannot_make_the_balance_negative(org):
    community = org.community("a1")
    entry = ledger_services.fund_year_allocate(community=community, year=2026, amount="1000.00",
                                              entry_date=datetime.date(2026, 1, 10))
    FundYear.objects.filter(community=community).update(reserved=Decimal("600.00"))
    with pytest.raises(DomainError):
        ledger_services.ledger_entry_reverse(entry=entry, reason="错误", entry_date=datetime.date(2026, 1, 12))
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REVERSAL).exists()


@pytest.mark.django_db
def test_a_reversal_that_would_push_small_groups_over_their_20_percent_is_refused(org):
    """Found by the money property test: the small groups' ceiling is 20% of the total, so a reversal lowers
    it; the service refuses with Art. 7's message instead of the database's constraint failing (a 500)."""
    community = org.community("a1")
    wrong = ledger_services.fund_year_allocate(community=community, year=2026, amount="20000.00",
                                              entry_date=datetime.date(2026, 1, 10), by=org.city_admin)
    ledger_services.fund_year_allocate(community=community, year=2026, amount="50000.00",
                                      entry_date=datetime.date(2026, 1, 11), by=org.city_admin)
    # Two small-group projects approved: 12,000 of the 14,000 allowed on 70,000; after the reversal 10,000.
    FundYear.objects.filter(community=community).update(reserved=Decimal("12000.00"),
                                                        small_group_committed=Decimal("12000.00"))
    wrong = LedgerEntry.objects.get(pk=wrong.pk)
    assert "20%" in ledger_services.ledger_entry_reverse_check(entry=wrong, by=org.city_admin)
    with pytest.raises(DomainError, match="20%.*¥10,000.00"):
        ledger_services.ledger_entry_reverse(entry=wrong, reason="重复拨款", by=org.city_admin,
                                            entry_date=datetime.date(2026, 1, 12))
    assert FundYear.objects.get(community=community).allocated == Decimal("70000.00")
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REVERSAL).exists()


@pytest.mark.django_db
def test_the_database_refuses_a_negative_balance_even_without_the_services(org):
    from django.db import IntegrityError, transaction

    community = org.community("a1")
    ledger_services.fund_year_allocate(community=community, year=2026, amount="1000.00",
                                      entry_date=datetime.date(2026, 1, 10))
    with pytest.raises(IntegrityError), transaction.atomic():
        FundYear.objects.filter(community=community).update(reserved=Decimal("1000.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        FundYear.objects.filter(community=community).update(small_group_committed=Decimal("200.01"))


@pytest.mark.django_db
def test_the_database_keeps_the_ledger_append_only_and_closed_years_closed(org):
    from django.db import DatabaseError, connection, transaction

    community = org.community("a1")
    entry = ledger_services.fund_year_allocate(community=community, year=2026, amount="1000.00",
                                              entry_date=datetime.date(2026, 1, 10))
    table = LedgerEntry._meta.db_table
    for sql in (f"UPDATE {table} SET amount = 1 WHERE id = %s", f"DELETE FROM {table} WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
            c.execute(sql, [entry.pk])
    assert LedgerEntry.objects.get(pk=entry.pk).amount == Decimal("1000.00")
    closed = FundYear.objects.create(community=community, year=2025, status=FundYear.Status.CLOSED)
    with pytest.raises(DatabaseError, match="closed"), transaction.atomic():
        LedgerEntry.objects.create(fund_year=closed, kind="allocation", amount=Decimal("5.00"),
                                   entry_date=datetime.date(2025, 5, 1), description="raw")
    assert not LedgerEntry.objects.filter(fund_year=closed).exists()
