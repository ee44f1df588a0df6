"""The finance officer's reversal page (the guides: "a mistake is corrected by a reversing entry"): a wrong
allocation is reversed with a reason and a date through fundapp.services.ledger.ledger_entry_reverse, audited;
the page is offered only where the service would allow it, and bad input changes nothing."""
import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditRecord
from fundapp.models import FundYear, LedgerEntry, Post, Role
from fundapp.services import ledger as ledger_services
from tests.chain import settleable, travel

D = datetime.date


def _allocate(org, amount, day):
    return ledger_services.fund_year_allocate(community=org.community("a1"), year=2026, amount=amount,
                                              entry_date=day)


def _state():
    """What a refused reversal must leave untouched."""
    return (LedgerEntry.objects.count(), AuditRecord.objects.count(),
            list(FundYear.objects.order_by("pk").values_list("allocated", "reserved", "settled")))


def _urls(entry):
    return (reverse("ledger", args=["a1", 2026]),
            reverse("finance:ledger-reverse", args=["a1", 2026, entry.pk]))


@pytest.mark.django_db
def test_the_finance_officer_reverses_a_wrong_allocation_with_a_reason(org, client):
    _allocate(org, "200000.00", D(2026, 1, 10))
    wrong = _allocate(org, "50000.00", D(2026, 1, 12))
    finance = org.person(Role.FINANCE_OFFICER, "a1")
    client.force_login(finance)
    ledger_url, url = _urls(wrong)
    with travel(D(2026, 3, 2)):
        page = client.get(ledger_url).content.decode()
        assert f'data-reverse="{wrong.pk}"' in page
        assert client.get(url).status_code == 200

        before = _state()
        for data, message in [
            ({"entry_date": "2026-02-01", "reason": ""}, "请填写冲销理由。"),
            ({"entry_date": "2026-01-11", "reason": "重复拨款"}, "早于被冲销分录的记账日期"),
            ({"entry_date": "2026-03-03", "reason": "重复拨款"}, "晚于今天"),
            ({"entry_date": "2025-12-31", "reason": "重复拨款"}, "不在2026年度内"),
            ({"entry_date": "不是日期", "reason": "重复拨款"}, "请输入有效日期"),
        ]:
            response = client.post(url, data)
            assert response.status_code == 200 and message in response.content.decode(), (data, message)
            assert _state() == before, data

        response = client.post(url, {"entry_date": "2026-02-01", "reason": "重复拨款"})
        assert response.status_code == 302 and response["Location"] == ledger_url
    reversal = LedgerEntry.objects.get(reverses=wrong)
    assert reversal.kind == LedgerEntry.Kind.REVERSAL and reversal.amount == Decimal("50000.00")
    assert reversal.entry_date == D(2026, 2, 1) and reversal.created_by == finance
    assert FundYear.objects.get(community__code="a1", year=2026).allocated == Decimal("200000.00")
    record = AuditRecord.objects.get(action="ledger.reverse")
    assert record.actor == finance and record.note == "重复拨款"
    assert Post.objects.get(pk=record.post_id).role == Role.FINANCE_OFFICER

    with travel(D(2026, 3, 2)):
        # Reversed once: no longer offered; its page says why and has no form; a POST changes nothing.
        assert f'data-reverse="{wrong.pk}"' not in client.get(ledger_url).content.decode()
        before = _state()
        response = client.post(url, {"entry_date": "2026-02-02", "reason": "再次"})
        assert response.status_code == 200 and "该分录已经冲销过。" in response.content.decode()
        assert response.context["form"] is None and _state() == before


@pytest.mark.django_db
def test_only_the_keepers_of_the_ledger_reach_the_page(org, client):
    entry = _allocate(org, "200000.00", D(2026, 1, 10))
    ledger_url, url = _urls(entry)
    before = _state()
    with travel(D(2026, 3, 2)):
        for role, code, offered in [(Role.FINANCE_OFFICER, "a1", True), (Role.CITY_ADMIN, "a1", True),
                                    (Role.COMMUNITY_SECRETARY, "a1", False), (Role.SUBDISTRICT_SECRETARY, "a1", False),
                                    (Role.SUPERVISOR, "a1", False), (Role.FINANCE_OFFICER, "b1", False)]:
            client.force_login(org.person(role, code))
            ledger = client.get(ledger_url)
            if ledger.status_code == 200:
                assert (f'data-reverse="{entry.pk}"' in ledger.content.decode()) is offered, role
            else:
                assert ledger.status_code == 404 and not offered, role
            assert client.get(url).status_code == (200 if offered else 404), role
            if not offered:
                response = client.post(url, {"entry_date": "2026-02-01", "reason": "越权"})
                assert response.status_code == 404, role
    assert _state() == before


@pytest.mark.django_db
def test_what_cannot_be_reversed_is_not_offered_and_says_why(org, client):
    proposal, invoice = settleable(org)  # allocation of 200,000; a 30,000 project approved and reserved
    from approvals import services as chain

    with travel(D(2026, 11, 4)):
        chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER), paid_on=D(2026, 11, 4),
                             method="transfer", reference="T-1")
    allocation = LedgerEntry.objects.get(kind=LedgerEntry.Kind.ALLOCATION)
    expenditure = LedgerEntry.objects.get(kind=LedgerEntry.Kind.EXPENDITURE)
    client.force_login(org.person(Role.FINANCE_OFFICER))
    with travel(D(2026, 11, 20)):
        page = client.get(reverse("ledger", args=["a1", 2026])).content.decode()
        assert "data-reverse=" not in page  # the allocation is partly reserved and spent; payments are not reversed here
        before = _state()
        for entry, message in [(allocation, "冲销后可用经费将为负数"), (expenditure, "只有拨款分录可以在此冲销")]:
            url = reverse("finance:ledger-reverse", args=["a1", 2026, entry.pk])
            response = client.get(url)
            assert response.status_code == 200 and message in response.content.decode()
            response = client.post(url, {"entry_date": "2026-11-20", "reason": "试图冲销"})
            assert response.status_code == 200 and response.context["form"] is None
        assert _state() == before
        # A second, unused allocation can be reversed: it is offered.
        extra = _allocate(org, "1000.00", D(2026, 11, 5))
        assert f'data-reverse="{extra.pk}"' in client.get(reverse("ledger", args=["a1", 2026])).content.decode()
