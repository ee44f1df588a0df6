"""fundapp.amounts.parse_amount, the one parser behind every amount a person types: what it accepts (exact
Decimal results), what it refuses (with which message), and that every amount field on the pages and in the
back office goes through it — "1e5" is no longer ¥100,000.00."""
import datetime
from decimal import Decimal

import pytest
from django import forms
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from approvals.models import Invoice, Proposal
from audit.models import AuditRecord
from fundapp.errors import DomainError
from fundapp.models import Community, LedgerEntry, Role
from fundapp.amounts import MAX_AMOUNT, parse_amount
from tests.chain import allocate, approve, draft, to_accepted, to_review, travel

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

ACCEPTED = [
    # plain digits, with and without decimals
    ("1", "1.00"),
    ("12", "12.00"),
    ("1.5", "1.50"),
    ("1.05", "1.05"),
    ("0.01", "0.01"),
    ("0.1", "0.10"),
    ("30000", "30000.00"),
    ("30000.00", "30000.00"),
    ("007", "7.00"),  # leading zeros are harmless: the value is not in doubt
    # thousands separators, in correct groups of three
    ("1,234.5", "1234.50"),
    ("1,234,567.89", "1234567.89"),
    ("12,000", "12000.00"),
    ("100,000,000.00", "100000000.00"),
    # surrounding whitespace, ASCII, no-break and ideographic
    ("  42.10  ", "42.10"),
    ("\t8\n", "8.00"),
    ("\u3000１２\u3000", "12.00"),
    ("\xa05\xa0", "5.00"),
    # full-width digits and punctuation of a Chinese input method
    ("１２３４．５６", "1234.56"),
    ("１，２３４．５", "1234.50"),
    ("１２，０００", "12000.00"),
    ("１２３４", "1234.00"),
    ("1，234", "1234.00"),  # mixed: each character is normalised on its own
    # "。" typed for the "." key in Chinese punctuation mode
    ("1。5", "1.50"),
    ("１２３４。５６", "1234.56"),
    ("1,234。50", "1234.50"),
    # the yuan sign before, 元 after
    ("¥1,234.56", "1234.56"),
    ("￥１２３４．５６", "1234.56"),
    ("¥ 88", "88.00"),
    ("100元", "100.00"),
    ("100 元", "100.00"),
    ("￥2,000.00元", "2000.00"),
    # the bounds
    ("100000000", "100000000.00"),
    ("99999999.99", "99999999.99"),
]

EMPTY = "请输入金额。"
NOT_AMOUNT = "不是有效的金额"
EXPONENT = "金额不能用科学记数法（如“1e5”）填写，请直接写出数字，例如 100000。"
SIGN = "金额不能带正负号，请只填写数字，例如 1234.56。"
SPACE = "金额中间不能有空格。"
POINTS = "金额只能有一个小数点。"
DECIMALS = "金额最多保留两位小数（到分）。"
GROUPS = "千位分隔符须每三位一组，例如 1,234,567.89。"
ZERO = "金额必须大于零。"
TOO_LARGE = "金额过大（上限 ¥100,000,000.00），请核对。"

REFUSED = [
    ("", EMPTY),
    ("  ", EMPTY),
    ("\u3000", EMPTY),
    ("1e5", EXPONENT),
    ("1E5", EXPONENT),
    ("1e-2", EXPONENT),
    ("2.5e3", EXPONENT),
    ("１ｅ５", EXPONENT),
    ("1e26", EXPONENT),
    ("-1e30", EXPONENT),
    ("-1", SIGN),
    ("+1", SIGN),
    ("-0", SIGN),
    ("-0.01", SIGN),
    ("－５", SIGN),  # full-width minus
    ("\u22125", SIGN),  # the minus sign
    ("5-", SIGN),
    ("NaN", NOT_AMOUNT),
    ("nan", NOT_AMOUNT),
    ("-NaN", NOT_AMOUNT),
    ("sNaN", NOT_AMOUNT),
    ("Infinity", NOT_AMOUNT),
    ("-Infinity", NOT_AMOUNT),
    ("inf", NOT_AMOUNT),
    ("1.234", DECIMALS),
    ("0.001", DECIMALS),
    ("12.345", DECIMALS),
    ("1,234.567", DECIMALS),
    ("１．２３４", DECIMALS),
    ("1..2", POINTS),
    ("1.2.3", POINTS),
    ("1。2.3", POINTS),
    ("1 000", SPACE),
    ("1\u3000000", SPACE),
    ("12. 5", SPACE),
    ("12,34", GROUPS),
    ("1234,567", GROUPS),
    ("1,2345", GROUPS),
    ("1,,234", GROUPS),
    (",123", GROUPS),
    ("1_000", NOT_AMOUNT),
    (" 1_000 ", NOT_AMOUNT),
    ("5.", NOT_AMOUNT),
    (".5", NOT_AMOUNT),
    ("abc", NOT_AMOUNT),
    ("1e3x", EXPONENT),
    ("0x10", NOT_AMOUNT),
    ("一百", NOT_AMOUNT),
    ("①", NOT_AMOUNT),  # NFKC would make these digits; nobody types them as an amount
    ("1²", NOT_AMOUNT),
    ("𝟏𝟐", NOT_AMOUNT),
    ("⒈5", NOT_AMOUNT),
    ("١٢", NOT_AMOUNT),  # Arabic-Indic digits
    ("100元整", NOT_AMOUNT),
    ("USD 5", NOT_AMOUNT),
    ("0", ZERO),
    ("0.00", ZERO),
    ("０", ZERO),
    ("100000000.01", TOO_LARGE),
    ("100,000,000.01", TOO_LARGE),
    ("1" + "0" * 19, TOO_LARGE),
    ("9" * 400, TOO_LARGE),
]


@pytest.mark.parametrize("typed, exact", ACCEPTED)
def test_accepted_amounts_are_exact(typed, exact):
    amount = parse_amount(typed)
    assert isinstance(amount, Decimal) and amount == Decimal(exact) and str(amount) == exact


@pytest.mark.parametrize("typed, message", REFUSED)
def test_refused_amounts_say_why(typed, message):
    with pytest.raises(DomainError) as refused:
        parse_amount(typed)
    assert message in str(refused.value)


def test_the_tables_are_large_enough():
    assert len(ACCEPTED) + len(REFUSED) >= 40


def test_zero_is_allowed_only_when_asked():
    for typed in ("0", "0.00", "０．００", "¥0"):
        with pytest.raises(DomainError, match=ZERO):
            parse_amount(typed)
        assert parse_amount(typed, allow_zero=True) == Decimal("0.00")
    with pytest.raises(DomainError, match=SIGN):
        parse_amount("-0", allow_zero=True)


def test_the_largest_amount_and_one_fen_more():
    assert parse_amount(str(MAX_AMOUNT)) == MAX_AMOUNT == Decimal("100000000.00")
    with pytest.raises(DomainError, match="金额过大"):
        parse_amount(str(MAX_AMOUNT + Decimal("0.01")))


def test_values_from_the_code():
    with pytest.raises(DomainError, match="浮点数"):
        parse_amount(0.1)
    with pytest.raises(DomainError, match="浮点数"):
        parse_amount(100.0)
    assert parse_amount(Decimal("1234.5")) == Decimal("1234.50")
    assert parse_amount(Decimal("1E+5")) == Decimal("100000.00")  # a Decimal is a number already, not typing
    assert parse_amount(Decimal("100.000")) == Decimal("100.00")
    assert parse_amount(12) == Decimal("12.00")
    for bad, message in ((Decimal("NaN"), NOT_AMOUNT), (Decimal("Infinity"), NOT_AMOUNT), (Decimal("-1"), SIGN),
                         (Decimal("1.234"), DECIMALS), (True, NOT_AMOUNT), (None, NOT_AMOUNT), (["1"], NOT_AMOUNT),
                         (Decimal("1E+30"), TOO_LARGE)):
        with pytest.raises(DomainError) as refused:
            parse_amount(bad)
        assert message in str(refused.value), bad


def test_a_long_value_is_not_echoed_whole():
    with pytest.raises(DomainError) as refused:
        parse_amount("x" * 10_000)
    assert len(str(refused.value)) < 60


# ---- every amount field goes through it ------------------------------------------------------------------

@pytest.fixture
def funded(org):
    allocate(org)
    return org


def _changes():
    return (Proposal.objects.count(), Invoice.objects.count(), LedgerEntry.objects.count(),
            AuditRecord.objects.count())


@pytest.mark.django_db
def test_a_budget_line_typed_as_1e5_is_refused_and_nothing_is_written(funded, client):
    client.force_login(funded.person(Role.COMMUNITY_STAFF))
    url = reverse("approvals:proposal-new")
    data = {"community": "a1", "title": "健身步道", "category": "5", "content": "修建健身步道",
            "beneficiaries": "broad", "beneficiary_count": "300", "planned_start": "2026-10-01",
            "planned_end": "2026-11-01", "contractor": "", "art4_declaration": "on",
            "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "50", "lines-0-item": "材料", "lines-0-amount": "1e5",
            "lines-0-in_procurement_catalogue": "0"}
    before = _changes()
    for typed, message in (("1e5", EXPONENT), ("1E5", EXPONENT), ("-5", SIGN), ("NaN", NOT_AMOUNT)):
        response = client.post(url, {**data, "lines-0-amount": typed})
        assert response.status_code == 200 and message in response.content.decode(), typed
    assert _changes() == before
    response = client.post(url, {**data, "lines-0-amount": "１２，０００．５０"})
    assert response.status_code == 302 and Proposal.objects.get().budget == Decimal("12000.50")


@pytest.mark.django_db
def test_an_invoice_typed_as_1e5_is_refused_and_nothing_is_written(funded, client):
    proposal = draft(funded)
    to_review(funded, proposal)
    approve(funded, proposal)
    to_accepted(funded, proposal)
    client.force_login(funded.person(Role.COMMUNITY_SECRETARY))
    url = reverse("approvals:proposal-action", args=[proposal.pk, "register_invoice"])
    before = _changes()
    with travel(datetime.date(2026, 11, 3)):
        for typed, message in (("1e5", EXPONENT), ("1E5", EXPONENT), ("+100", SIGN), ("Infinity", NOT_AMOUNT),
                               ("100.001", DECIMALS)):
            response = client.post(url, {"contractor": "光明电器维修部", "number": "No.1", "amount": typed,
                                         "issued_on": "2026-11-03"})
            assert response.status_code == 200 and message in response.content.decode(), typed
        assert _changes() == before
        response = client.post(url, {"contractor": "光明电器维修部", "number": "No.1", "amount": "¥28,000.00",
                                     "issued_on": "2026-11-03"})
    assert response.status_code == 302 and Invoice.objects.get().amount == Decimal("28000.00")


@pytest.mark.django_db
def test_an_allocation_typed_as_1e5_in_the_admin_is_refused_and_nothing_is_written(org, client):
    client.force_login(org.city_admin)
    community = Community.objects.get(code="a1")
    url = reverse("admin:fundapp_ledgerentry_add")
    before = _changes()
    for typed, message in (("1e5", EXPONENT), ("1E5", EXPONENT), ("-200000", SIGN), ("NaN", NOT_AMOUNT),
                           ("200 000", SPACE)):
        response = client.post(url, {"community": community.pk, "year": 2026, "amount": typed,
                                     "entry_date": "2026-01-10"})
        assert response.status_code == 200 and message in response.content.decode(), typed
    assert _changes() == before
    response = client.post(url, {"community": community.pk, "year": 2026, "amount": "２０００００",
                                 "entry_date": "2026-01-10"})
    assert response.status_code == 302 and LedgerEntry.objects.get().amount == Decimal("200000.00")


@pytest.mark.django_db
def test_no_admin_form_takes_a_number_through_djangos_own_decimal_field(org):
    """A Django DecimalField accepts "1e5"; every admin page that can add or change a record must take its
    amounts as text for parse_amount (or show them read-only)."""
    request = RequestFactory().get("/admin/")
    request.user = org.city_admin
    checked = set()
    for model, model_admin in admin.site._registry.items():
        for obj in (None, model.objects.first()):
            allowed = (model_admin.has_add_permission(request) if obj is None
                       else model_admin.has_change_permission(request, obj))
            if not allowed:
                continue
            form = model_admin.get_form(request, obj)
            for name, field in form.base_fields.items():
                assert not isinstance(field, (forms.DecimalField, forms.FloatField)), (model, name)
            checked.add(model)
    assert LedgerEntry in checked  # the allocation form at least was looked at
