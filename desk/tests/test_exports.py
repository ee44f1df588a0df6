"""Ledger exports (Excel, CSV) and the summary's page, PDF and workbook, against the ledger they come from."""
import csv
import datetime
import io
import re
import shutil
import subprocess
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from approvals import services as chain
from approvals.models import Proposal
from desk import exports
from fundapp import selectors
from fundapp.models import FundYear, Role
from fundapp.services import ledger as ledger_services
from tests.chain import allocate, approve, draft, signed_invoice, to_accepted, to_review, travel
from tests.snapshot import org_snapshot_fixtures

D = datetime.date
HEADERS = ["日期", "类型", "摘要", "收入", "支出", "余额", "来源"]
TOTAL_LABELS = ["年度拨款", "上年结转", "已结算", "已预留", "结转下年", "可用"]


def build_books(org):
    """a1: an allocation, a duplicate one reversed, a project settled in full and one approved (reserved);
    a2 and b1 funded. Through the real services, as the application itself writes them."""
    allocate(org, "a1")
    duplicate = allocate(org, "a1", amount=Decimal("5000.00"))
    ledger_services.ledger_entry_reverse(entry=duplicate, reason="重复拨款", entry_date=D(2026, 1, 12))
    allocate(org, "a2", amount=Decimal("150000.00"))
    allocate(org, "b1", amount=Decimal("90000.00"))
    settled = draft(org, "a1")
    reserved = draft(org, "a1", budget="12000.00", title="社区助老餐桌")
    to_review(org, settled)
    to_review(org, reserved)
    approve(org, settled)
    approve(org, reserved)
    to_accepted(org, settled)
    invoice = signed_invoice(org, settled)
    with travel(D(2026, 11, 4)):
        chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER, "a1"), paid_on=D(2026, 11, 4),
                             method="transfer", reference="BANK-778")
        chain.settlement_finish(proposal=settled, by=org.person(Role.COMMUNITY_SECRETARY, "a1"))
    return org


books_snapshot, books = org_snapshot_fixtures(build_books)


def a1_year():
    return FundYear.objects.select_related("community").get(community__code="a1", year=2026)


def number(value):
    return Decimal(str(value or 0))


def read_ledger_sheet(content):
    ws = load_workbook(io.BytesIO(content)).active
    entries = [row for row in ws.iter_rows(min_row=4) if isinstance(row[0].value, datetime.datetime)]
    labels = {row[2].value: row for row in ws.iter_rows(min_row=4) if row[2].value in TOTAL_LABELS + ["合计"]}
    return ws, entries, labels


@pytest.mark.django_db
def test_ledger_xlsx_opens_and_its_totals_equal_the_ledger(books):
    fy = a1_year()
    assert (fy.allocated, fy.settled, fy.reserved, fy.available) == (
        Decimal("200000.00"), Decimal("28000.00"), Decimal("12000.00"), Decimal("160000.00"))
    ws, entries, labels = read_ledger_sheet(exports.ledger_xlsx(fy))
    assert ws["A1"].value == "东城街道1号社区 2026年度 党组织服务群众专项经费明细账"
    assert [cell.value for cell in ws[3]] == HEADERS
    assert ws.freeze_panes == "A4"
    assert ws.column_dimensions["C"].width >= 30 and ws.column_dimensions["A"].width >= 10

    ledger = selectors.ledger(fy)
    assert len(entries) == len(ledger) == 4  # allocation, duplicate allocation, its reversal, expenditure
    for cells, row in zip(entries, ledger):
        assert cells[0].value.date() == row["entry"].entry_date
        assert cells[0].number_format == "yyyy-mm-dd"
        assert cells[1].value == row["entry"].get_kind_display()
        for cell, amount in zip(cells[3:6], (row["credit"], row["debit"], row["balance"])):
            assert (cell.value is None) == (amount is None)
            if amount is not None:
                assert isinstance(cell.value, (int, float)) and cell.number_format == "#,##0.00"
                assert number(cell.value) == amount
    assert entries[2][1].value == "冲销" and entries[2][4].value == 5000  # a reversed allocation is paid out
    assert "BANK-778" in entries[3][6].value

    credit = sum(number(cells[3].value) for cells in entries)
    debit = sum(number(cells[4].value) for cells in entries)
    assert credit - debit == ledger[-1]["balance"] == fy.reserved + fy.available == Decimal("172000.00")
    total_row = labels["合计"]
    assert (number(total_row[3].value), number(total_row[4].value), number(total_row[5].value)) == (
        credit, debit, ledger[-1]["balance"])
    block = {label: number(labels[label][3].value) for label in TOTAL_LABELS}
    assert block == {"年度拨款": fy.allocated, "上年结转": fy.carried_in, "已结算": fy.settled,
                     "已预留": fy.reserved, "结转下年": fy.carried_out, "可用": fy.available}
    assert block["已结算"] == debit - Decimal("5000.00")  # the expenditure entries


@pytest.mark.django_db
def test_ledger_csv_parses_and_sums_to_the_same(books):
    fy = a1_year()
    text = exports.ledger_csv(fy)
    assert text.startswith("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(text[1:])))
    assert header == HEADERS
    ledger = selectors.ledger(fy)
    assert len(rows) == len(ledger)
    for row, line in zip(rows, ledger):
        assert row[0] == line["entry"].entry_date.isoformat()
        for cell in row[3:6]:
            assert cell == "" or re.fullmatch(r"\d+\.\d{2}", cell), cell
    credit = sum(Decimal(row[3] or "0") for row in rows)
    debit = sum(Decimal(row[4] or "0") for row in rows)
    assert credit - debit == Decimal(rows[-1][5]) == ledger[-1]["balance"] == fy.reserved + fy.available
    # the same figures as the workbook
    _, entries, _ = read_ledger_sheet(exports.ledger_xlsx(fy))
    assert [Decimal(row[5]) for row in rows] == [number(cells[5].value) for cells in entries]


def test_text_that_looks_like_a_formula_stays_text():
    assert exports._csv_text("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert exports._csv_text("结算发票") == "结算发票"
    assert exports.safe_filename('a/b:c*?"<>|') == "a_b_c_"


@pytest.mark.django_db
def test_ledger_downloads_carry_a_chinese_file_name_and_refuse_other_communities(books, client):
    fy = a1_year()
    client.force_login(books.person(Role.SUPERVISOR, "a1"))
    response = client.get(reverse("finance:ledger-xlsx", args=["a1", 2026]))
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert 'filename="ledger-a1-2026.xlsx"' in disposition
    assert "filename*=UTF-8''" + quote("东城街道1号社区2026年度专项经费明细账.xlsx", safe="") in disposition
    assert disposition.isascii()
    _, entries, _ = read_ledger_sheet(response.content)
    assert len(entries) == 4

    response = client.get(reverse("finance:ledger-csv", args=["a1", 2026]))
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert 'filename="ledger-a1-2026.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == HEADERS and Decimal(rows[-1][5]) == fy.reserved + fy.available

    # another community of the same subdistrict, another subdistrict's community, a year that does not exist
    for code, year in (("a2", 2026), ("b1", 2026), ("a1", 2025)):
        for name in ("finance:ledger-xlsx", "finance:ledger-csv"):
            assert client.get(reverse(name, args=[code, year])).status_code == 404, (name, code, year)
    client.force_login(books.person(Role.FINANCE_OFFICER, "a1"))
    assert client.get(reverse("finance:ledger-xlsx", args=["a2", 2026])).status_code == 200
    for name in ("finance:ledger-xlsx", "finance:ledger-csv"):
        assert client.get(reverse(name, args=["b1", 2026])).status_code == 404
    client.logout()
    response = client.get(reverse("finance:ledger-csv", args=["a1", 2026]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.django_db
def test_ledger_page_links_to_the_exports(books, client):
    client.force_login(books.person(Role.SUPERVISOR, "a1"))
    page = client.get(reverse("ledger", args=["a1", 2026])).content.decode()
    assert reverse("finance:ledger-xlsx", args=["a1", 2026]) in page and "导出 Excel" in page
    assert reverse("finance:ledger-csv", args=["a1", 2026]) in page and "导出 CSV" in page


def _pdf_tool(name):
    if not shutil.which(name):
        pytest.fail(f"{name} missing: apt-get install poppler-utils")
    return name


@pytest.mark.django_db
def test_summary_pdf_shows_the_communities_and_totals_with_an_embedded_cjk_font(books, client, tmp_path):
    client.force_login(books.person(Role.SUBDISTRICT_SECRETARY, "a1"))
    response = client.get(reverse("finance:summary-pdf", args=[2026]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''" + quote("东城街道2026年度专项经费汇总.pdf", safe="") in response["Content-Disposition"]
    path = tmp_path / "summary.pdf"
    path.write_bytes(response.content)
    fonts = subprocess.run([_pdf_tool("pdffonts"), str(path)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts
    text = subprocess.run([_pdf_tool("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "东城街道 2026年度 党组织服务群众专项经费使用情况汇总" in text
    assert "东城街道1号社区" in text and "东城街道2号社区" in text
    assert "西城街道" not in text  # b1 is funded, but another subdistrict's
    assert "¥350,000.00" in text  # 200,000 + 150,000
    assert "¥28,000.00" in text and "¥12,000.00" in text and "¥310,000.00" in text  # settled, reserved, available
    assert "物业管理服务" in text


@pytest.mark.django_db
def test_summary_xlsx_and_page(books, client):
    client.force_login(books.person(Role.CITY_ADMIN))
    response = client.get(reverse("finance:summary-xlsx", args=[2026]))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment; ")
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["汇总", "按社区", "按类别", "按状态"]
    assert wb["汇总"]["A1"].value == "全市 2026年度 党组织服务群众专项经费使用情况汇总"
    rows = {row[1]: row for row in wb["按社区"].iter_rows(min_row=4, values_only=True)}
    assert number(rows["东城街道1号社区"][4]) == Decimal("200000.00")  # 总额
    assert number(rows["东城街道1号社区"][5]) == Decimal("28000.00")  # 已结算
    assert number(rows["合计"][4]) == Decimal("440000.00") and number(rows["合计"][5]) == Decimal("28000.00")
    assert wb["按社区"]["E4"].number_format == "#,##0.00"
    categories = {row[0]: row for row in wb["按类别"].iter_rows(min_row=4, values_only=True)}
    assert categories["物业管理服务"][1] == 2
    assert number(categories["物业管理服务"][2]) == Decimal("42000.00")
    assert number(categories["物业管理服务"][3]) == Decimal("28000.00")
    states = {row[0]: row[1] for row in wb["按状态"].iter_rows(min_row=4, values_only=True)}
    assert states["已结算"] == 1 and states["已批准"] == 1 and states["合计"] == Proposal.objects.count()

    page = client.get(reverse("finance:summary"), {"year": 2026}).content.decode()
    for name in ("东城街道1号社区", "东城街道2号社区", "西城街道1号社区", "西城街道2号社区", "¥440,000.00"):
        assert name in page
    assert "本年度尚无经费账" in page  # b2
    assert reverse("finance:summary-pdf", args=[2026]) in page
    page = client.get(reverse("finance:summary"), {"year": 2026, "subdistrict": "b"}).content.decode()
    assert "西城街道1号社区" in page and "东城街道1号社区" not in page and "¥90,000.00" in page
    assert reverse("finance:summary-pdf", args=[2026]) + "?subdistrict=b" in page


@pytest.mark.django_db
def test_printed_tables_carry_signature_lines_the_date_in_words_a_page_footer_and_totals_in_capitals(books, client):
    from fundapp.amounts import amount_in_words

    with travel(D(2026, 12, 2)):
        ws = load_workbook(io.BytesIO(exports.ledger_xlsx(a1_year()))).active
    cells = [str(cell.value) for row in ws.iter_rows() for cell in row if cell.value is not None]
    for label in ("制表人：", "审核人：", "负责人："):
        assert any(value.startswith(label) for value in cells), label
    assert "制表日期：2026年12月2日" in cells
    assert ws.oddFooter.center.text == "第 &P 页，共 &N 页" and ws.oddFooter.left.text == "制表日期：2026年12月2日"
    assert "打印" in ws.oddFooter.right.text and "明细账" in ws.oddHeader.center.text
    # the signature lines come after the totals, where a clerk signs the printed table
    last_total = max(row[0].row for row in ws.iter_rows() if row[2].value == "可用")
    signs = min(cell.row for row in ws.iter_rows() for cell in row if str(cell.value).startswith("制表人"))
    assert signs > last_total

    with travel(D(2026, 12, 2)):
        client.force_login(books.person(Role.CITY_ADMIN))
        wb = load_workbook(io.BytesIO(client.get(reverse("finance:summary-xlsx", args=[2026])).content))
    ws = wb["汇总"]
    cells = [str(cell.value) for row in ws.iter_rows() for cell in row if cell.value is not None]
    words = next(value for value in cells if value.startswith("经费总额（大写）"))
    assert words == f"经费总额（大写）：{amount_in_words(Decimal('440000.00'))}　　已结算（大写）：{amount_in_words(Decimal('28000.00'))}"
    assert "肆拾肆万元整" in words and "贰万捌仟元整" in words
    assert any(value.startswith("负责人：") for value in cells) and "制表日期：2026年12月2日" in cells
    for sheet in wb.worksheets:
        assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页", sheet.title
