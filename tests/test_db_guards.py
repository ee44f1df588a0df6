"""What the database itself refuses, whatever code (or a person at a SQL prompt) asks: a second payment of
one invoice, a payment without its ledger line, an audit or ledger row changed. The services refuse these
first; these tests go around them with raw SQL."""
import datetime

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from approvals import services as chain
from approvals.models import Invoice, Payment
from fundapp.models import LedgerEntry, Role

from .chain import settleable, travel

pytestmark = pytest.mark.django_db


@pytest.fixture
def settled(org):
    _, invoice = settleable(org)
    with travel(datetime.date(2026, 11, 5)):
        payment = chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER, "a1"),
                                       paid_on=datetime.date(2026, 11, 5), method="transfer", reference="T-1")
    return payment


def _raw(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_raw_sql_cannot_pay_an_invoice_twice(settled):
    # A ledger line of its own, so that the only thing wrong with the second payment is its invoice.
    entry = LedgerEntry.objects.create(fund_year=settled.ledger_entry.fund_year, kind="expenditure",
                                       amount=settled.amount, entry_date=settled.paid_on, description="raw")
    # A copy of the payment row with its own key and ledger line: only its invoice is the same.
    table = Payment._meta.db_table
    columns = [f.column for f in Payment._meta.concrete_fields
               if f.column not in ("id", "idempotency_key", "ledger_entry_id")]
    with pytest.raises(IntegrityError, match="invoice"):
        _raw(f"INSERT INTO {table} ({', '.join(columns)}, idempotency_key, ledger_entry_id)"
             f" SELECT {', '.join(columns)}, 'raw-second', %s FROM {table} WHERE id = %s", [entry.pk, settled.pk])
    assert Payment.objects.filter(invoice=settled.invoice_id).count() == 1
    assert Invoice.objects.get(pk=settled.invoice_id).status == Invoice.Status.SETTLED


def test_raw_sql_cannot_change_or_remove_a_payments_ledger_line(settled):
    table = LedgerEntry._meta.db_table
    for sql in (f"UPDATE {table} SET amount = amount - 1 WHERE id = %s", f"DELETE FROM {table} WHERE id = %s"):
        with pytest.raises(DatabaseError):
            _raw(sql, [settled.ledger_entry_id])
    assert LedgerEntry.objects.get(pk=settled.ledger_entry_id).amount == settled.amount


def test_raw_sql_cannot_settle_more_than_was_approved(settled):
    proposal = settled.proposal
    table = proposal._meta.db_table
    with pytest.raises(IntegrityError):
        _raw(f"UPDATE {table} SET settled_amount = approved_budget + 1 WHERE id = %s", [proposal.pk])
