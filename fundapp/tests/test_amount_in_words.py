"""fundapp.amounts.amount_in_words against the People's Bank of China's 《正确填写票据和结算凭证的基本规定》.

Every expected string is written by hand from the rules (never computed by the function under test). Our
choices where the rules allow two forms (see the docstring): 整 after 元 and after 角, none after 分; 零 after
元 when the 元 place is 0 and 角 is not; no 零 after 万 when the thousands place is not 0; below one yuan no 元
and no leading 零; 零元 only in 零元整."""
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse

from fundapp.models import Role
from fundapp.amounts import MAX_AMOUNT, amount_in_words
from desk.tests.test_exports import build_books
from tests.chain import allocate, draft

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

# The rules' own examples (the first form where they give two; 整 added after 角 by our choice).
PBOC_EXAMPLES = [
    ("1409.50", "壹仟肆佰零玖元伍角整"),  # a 0 between digits: 零
    ("6007.14", "陆仟零柒元壹角肆分"),  # several 0s in a row: one 零
    ("1680.32", "壹仟陆佰捌拾元零叁角贰分"),  # 元 place 0, 角 not: 零 after 元
    ("107000.53", "壹拾万柒仟元零伍角叁分"),  # 万 place 0, 仟 not: no 零 after 万; 元 place 0: 零 after 元
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),  # 角 0, 分 not: 零 after 元
    ("325.04", "叁佰贰拾伍元零肆分"),
]

MORE = [
    # the amounts the old function got wrong
    ("22000.00", "贰万贰仟元整"),
    ("12000.00", "壹万贰仟元整"),
    ("10.05", "壹拾元零伍分"),
    ("0.05", "伍分"),
    ("0.50", "伍角整"),
    ("100000.00", "壹拾万元整"),
    # zero and below one yuan
    ("0.00", "零元整"),
    ("0.01", "壹分"),
    ("0.09", "玖分"),
    ("0.10", "壹角整"),
    ("0.11", "壹角壹分"),
    ("0.99", "玖角玖分"),
    # a leading ten is 壹拾
    ("1.00", "壹元整"),
    ("10.00", "壹拾元整"),
    ("11.00", "壹拾壹元整"),
    ("15.00", "壹拾伍元整"),
    ("19.99", "壹拾玖元玖角玖分"),
    ("110000.00", "壹拾壹万元整"),
    ("1100000.00", "壹佰壹拾万元整"),
    # zeros in every position
    ("1.01", "壹元零壹分"),
    ("1.10", "壹元壹角整"),
    ("1.11", "壹元壹角壹分"),
    ("20.20", "贰拾元零贰角整"),
    ("100.00", "壹佰元整"),
    ("101.00", "壹佰零壹元整"),
    ("105.00", "壹佰零伍元整"),
    ("110.00", "壹佰壹拾元整"),
    ("1001.01", "壹仟零壹元零壹分"),
    ("1010.00", "壹仟零壹拾元整"),
    ("1100.00", "壹仟壹佰元整"),
    ("1000.60", "壹仟元零陆角整"),
    ("1600.32", "壹仟陆佰元零叁角贰分"),
    ("2000.06", "贰仟元零陆分"),
    ("10000.10", "壹万元零壹角整"),
    ("10001.00", "壹万零壹元整"),
    ("10100.00", "壹万零壹佰元整"),
    ("11000.00", "壹万壹仟元整"),
    ("28000.00", "贰万捌仟元整"),
    ("30000.50", "叁万元零伍角整"),
    ("100010.00", "壹拾万零壹拾元整"),
    ("100500.00", "壹拾万零伍佰元整"),
    ("200000.00", "贰拾万元整"),
    ("1000000.00", "壹佰万元整"),
    ("1000001.00", "壹佰万零壹元整"),
    ("1010000.00", "壹佰零壹万元整"),
    ("10000000.01", "壹仟万元零壹分"),
    ("10010001.01", "壹仟零壹万零壹元零壹分"),
    ("12345678.90", "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元玖角整"),
    ("50000000.00", "伍仟万元整"),
    ("99999999.99", "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("100000000.00", "壹亿元整"),  # MAX_AMOUNT
    # beyond one figure's bound, as a city's totals may be
    ("100000001.00", "壹亿零壹元整"),
    ("100010000.00", "壹亿零壹万元整"),
    ("110000000.00", "壹亿壹仟万元整"),
    ("100000000000.00", "壹仟亿元整"),
    ("1234567890123.45", "壹万贰仟叁佰肆拾伍亿陆仟柒佰捌拾玖万零壹佰贰拾叁元肆角伍分"),
]


@pytest.mark.parametrize("amount, words", PBOC_EXAMPLES + MORE)
def test_amount_in_words(amount, words):
    assert amount_in_words(Decimal(amount)) == words


def test_the_table_is_large_enough_and_reaches_the_bound():
    assert len(MORE) >= 30
    assert amount_in_words(MAX_AMOUNT) == "壹亿元整"


def test_ints_and_text_are_read_as_yuan():
    assert amount_in_words(30000) == "叁万元整"
    assert amount_in_words("6007.14") == "陆仟零柒元壹角肆分"


@pytest.mark.parametrize("bad", [Decimal("-0.01"), Decimal("0.001"), Decimal("NaN"), Decimal("Infinity"), 1.5,
                                 Decimal("1E+16"), Decimal("1E+30")])
def test_what_is_not_an_amount_is_a_bug_not_words(bad):
    with pytest.raises(ValueError):
        amount_in_words(bad)


# ---- on paper ----------------------------------------------------------------------------------------------

def pdf_text(content, tmp_path):
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext missing: apt-get install poppler-utils")
    path = tmp_path / "paper.pdf"
    path.write_bytes(content)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return re.sub(r"\s+", "", text)


@pytest.mark.django_db
def test_the_application_form_shows_the_budget_in_capitals(org, client, tmp_path):
    allocate(org)
    proposal = draft(org, budget="22000.00")
    client.force_login(org.person(Role.COMMUNITY_SECRETARY))
    response = client.get(reverse("approvals:proposal-pdf", args=[proposal.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    assert "（大写：贰万贰仟元整）" in text  # the old function wrote 贰万零贰仟元整
    assert "零贰仟" not in text


@pytest.mark.django_db
def test_the_finance_summary_shows_the_grand_total_in_capitals(org, client, tmp_path):
    books = build_books(org)
    client.force_login(books.person(Role.SUBDISTRICT_SECRETARY, "a1"))
    response = client.get(reverse("finance:summary-pdf", args=[2026]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    assert "¥350,000.00" in text  # 200,000 + 150,000, as desk/tests/test_exports.py checks
    assert "总额合计（大写）：人民币叁拾伍万元整" in text
    client.cookies["django_language"] = "en"  # capitals are a Chinese paper's: not on the English one
    text = pdf_text(client.get(reverse("finance:summary-pdf", args=[2026])).content, tmp_path)
    assert "叁拾伍万" not in text and "Grand total (in words)" not in text
