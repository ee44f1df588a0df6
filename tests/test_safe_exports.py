"""Every export, staff and public, goes through the one table writer (fundapp.tabular): a cell that a
spreadsheet would take for a formula comes out as text with an apostrophe; amounts stay numbers."""
import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from openpyxl import load_workbook

from approvals import services as chain
from desk import exports
from fundapp import tabular
from fundapp.models import FundYear, LedgerEntry, Role
from fundapp.services import ledger as ledger_services
from fundapp.services import org as org_services
from tests.chain import allocate, draft, meeting_passed, travel

D = datetime.date
DANGEROUS = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1:A9)", "\tx", "\rx"]


def neutralised(value):
    return "'" + value


def read_back(value):
    """A string as openpyxl reads it back: XML turns a carriage return into a line feed."""
    return value.replace("\r", "\n")


def test_the_writer_neutralises_text_and_keeps_numbers_numbers():
    text = tabular.csv_text([[*DANGEROUS, Decimal("-5.00"), -3, D(2026, 12, 2), None, "正常"]], bom=False)
    row = next(csv.reader(io.StringIO(text)))
    assert row == [neutralised(v) for v in DANGEROUS] + ["-5.00", "-3", "2026-12-02", "", "正常"]
    assert tabular.xlsx_value(Decimal("-5.00")) == Decimal("-5.00")
    assert tabular.xlsx_value("-5.00") == "'-5.00"  # text that looks like a number is still text


@pytest.mark.django_db
def test_public_csv_neutralises_titles_and_contractors_and_keeps_amounts_numeric(org, client):
    allocate(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY, "a1")
    pairs = list(zip(DANGEROUS[0::2], DANGEROUS[1::2]))  # (title, contractor) of three public projects
    for title, contractor in pairs:
        proposal = draft(org, title=title, budget="1000.00")
        chain.proposal_update(proposal=proposal, by=org.person(Role.COMMUNITY_STAFF, "a1"), contractor=contractor)
        meeting_passed(org, proposal)
        with travel(D(2026, 9, 30)):
            chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 9, 30), working_days=3)
    with travel(D(2026, 10, 1)):
        response = client.get(reverse("public:community-year-csv", args=["a1", 2026]))
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    header = rows[1]
    projects = {row[header.index("title")]: row for row in rows[2:]}
    for title, contractor in pairs:
        row = projects[neutralised(title)]
        assert row[header.index("contractor")] == neutralised(contractor)
        assert Decimal(row[header.index("budget")]) == Decimal("1000.00")
        assert row[header.index("budget")] == "1000.00"
    for row in rows[2:]:
        assert not row[header.index("title")].startswith(tuple(tabular.FORMULA_START))


@pytest.mark.django_db
def test_staff_ledger_csv_and_xlsx_neutralise_descriptions(org):
    allocate(org)
    with transaction.atomic():
        fund_year = ledger_services.fund_year_for_update(community=org.community("a1"), year=2026)
        for i, text in enumerate(DANGEROUS):
            ledger_services.ledger_entry_add(fund_year, LedgerEntry.Kind.ALLOCATION, Decimal("1.00"),
                                             D(2026, 1, 11 + i), description=text)
    fund_year = FundYear.objects.select_related("community").get(community__code="a1", year=2026)
    rows = list(csv.reader(io.StringIO(exports.ledger_csv(fund_year)[1:])))
    descriptions = [row[2] for row in rows[1:]]
    for text in DANGEROUS:
        assert neutralised(text) in descriptions
    assert all(row[3] == "" or Decimal(row[3]) > 0 for row in rows[1:])

    ws = load_workbook(io.BytesIO(exports.ledger_xlsx(fund_year))).active
    cells = {cell.value: cell for row in ws.iter_rows(min_row=4) for cell in row if isinstance(cell.value, str)}
    for text in DANGEROUS:
        assert read_back(neutralised(text)) in cells and cells[read_back(neutralised(text))].data_type == "s"
    amounts = [row[3].value for row in ws.iter_rows(min_row=4) if isinstance(row[0].value, datetime.datetime)]
    assert amounts and all(isinstance(value, (int, float)) for value in amounts if value is not None)


@pytest.mark.django_db
def test_staff_summary_xlsx_neutralises_community_names(org, client):
    allocate(org)
    for code, name in zip(("a1", "a2", "b1", "b2"), DANGEROUS):
        org_services.community_update(community=org.community(code), by=org.city_admin, name=name)
    client.force_login(org.city_admin)
    response = client.get(reverse("finance:summary-xlsx", args=[2026]))
    ws = load_workbook(io.BytesIO(response.content))["按社区"]
    names = {row[1].value: row for row in ws.iter_rows(min_row=4)}
    for name in DANGEROUS[:4]:
        assert neutralised(name) in names
        assert names[neutralised(name)][1].data_type == "s"
    total = names[neutralised(DANGEROUS[0])][4]
    assert total.data_type == "n" and Decimal(str(total.value)) == Decimal("200000.00")


@pytest.mark.django_db
def test_city_csv_neutralises_names_and_keeps_amounts_numeric(org, client):
    """The city-wide file (streamed) goes through the same writer: a community named like a formula comes out
    as text, its amounts as numbers."""
    allocate(org)
    community = org.community("a1")
    org_services.community_update(community=community, by=org.city_admin, name=DANGEROUS[0])
    response = client.get(reverse("public:city-csv"))
    text = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text[1:])))
    header = rows[1]
    row = next(r for r in rows[2:] if r[header.index("community_code")] == "a1")
    assert row[header.index("community")] == neutralised(DANGEROUS[0])
    assert Decimal(row[header.index("allocated")]) > 0 and not row[header.index("allocated")].startswith("'")
