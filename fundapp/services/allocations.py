"""The year's allocation in one act (Art. 5: every community gets the same yearly amount).

The city administrator chooses a year, a date and one amount for every community — or uploads a table of
amounts by community code (`allocation_template_xlsx` / `amounts_from_xlsx`) — sees the plan
(`year_allocation_plan`: what each community would get, totals by subdistrict and for the city, and which
communities are already allocated that year), then confirms (`year_allocation_confirm`).

The confirmation is one transaction: the fund years are locked in one order, each community is judged again
under its lock, and those due get one ledger entry each (`ledger.fund_years_allocate`, with a `fund.allocate`
audit record on the community's chain), plus one `fund.year_allocate` record for the act on the city's
chain naming the year, the count, the total and the act's key. Idempotent: a community already allocated
for the year is skipped (the same amount: "already allocated"; another amount: shown, and never silently
changed — a wrong allocation is corrected by a reversing entry, `ledger.ledger_entry_reverse`, and the act
run again), so confirming twice, a double click, two administrators at once or a re-uploaded sheet adds
nothing. The fund-year row locks make it so under concurrency (tests/test_year_allocation_concurrency.py).
"""
import datetime
import hashlib
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from audit.services import audit_record

from .. import clock, rights
from ..amounts import format_yuan, parse_amount
from ..db import retry_on_conflict
from ..errors import DomainError, NotAllowed
from ..models import Community, FundYear, Role
from ..models.funds import ZERO
from ..tabular import xlsx_cell
from . import ledger

FIRST_YEAR = 2000

NEW, SAME, DIFFERENT, CLOSED, NOT_LISTED = "new", "same", "different", "closed", "not_listed"


def _city_admin_post(by):
    post = rights.current_posts(by).filter(role=Role.CITY_ADMIN).order_by("start_date", "pk").first() if by else None
    if post is None:
        raise NotAllowed(_("只有在任的市委组织部管理员可以下达年度经费。"))
    return post


def year_error(year):
    """Why `year` cannot be allocated now, or "": a whole year from 2000, not after this year (an allocation
    is dated inside its year and not after today)."""
    this_year = clock.today().year
    if not isinstance(year, int) or isinstance(year, bool) or not FIRST_YEAR <= year <= this_year:
        return (_("年度须在 %(first)s 至 %(last)s 之间：拨款记在其所属年度内，且不能晚于今天。")
                % {"first": FIRST_YEAR, "last": this_year})
    return ""


def entry_date_error(year, entry_date):
    if not isinstance(entry_date, datetime.date) or isinstance(entry_date, datetime.datetime):
        return _("请填写有效的记账日期。")
    if entry_date.year != year:
        return _("记账日期须在%(year)s年内。") % {"year": year}
    if entry_date > clock.today():
        return _("记账日期不能晚于今天。")
    return ""


def default_entry_date(year):
    today = clock.today()
    return today if year >= today.year else datetime.date(year, 12, 31)


@dataclass
class Row:
    community: Community
    amount: Decimal  # asked for
    allocated: Decimal  # already allocated this year (allocations less their reversals)
    status: str

    @property
    def due(self):
        return self.status == NEW


@dataclass
class Total:
    name: str
    communities: int = 0
    due: int = 0
    amount: Decimal = ZERO  # what the act would write now
    skipped: int = 0


@dataclass
class Plan:
    year: int
    entry_date: datetime.date
    key: str
    rows: list
    subdistricts: list = field(default_factory=list)
    city: Total = None

    def of(self, status):
        return [r for r in self.rows if r.status == status]

    @property
    def due(self):
        return self.of(NEW)

    @property
    def already(self):
        return self.of(SAME)

    @property
    def different(self):
        return self.of(DIFFERENT)

    @property
    def closed(self):
        return self.of(CLOSED)


def act_key(year, entry_date, amounts):
    """The act's key: the same year, date and amounts (by community code) give the same key."""
    text = f"{year}|{entry_date.isoformat()}|" + ";".join(f"{code}={amount}" for code, amount in sorted(amounts.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _amounts_by_code(communities, amount, amounts):
    """{code: Decimal} asked for: one amount for every community, or a table by code (only the codes listed)."""
    if amounts is not None:
        return {code: parse_amount(value) for code, value in amounts.items()}
    value = parse_amount(amount)
    return {c.code: value for c in communities}


def _judge(fund_year, amount):
    if fund_year is not None and not fund_year.takes_new_work:
        return CLOSED
    allocated = fund_year.allocated if fund_year is not None else ZERO
    if allocated == 0:
        return NEW
    return SAME if allocated == amount else DIFFERENT


def _plan(*, year, entry_date, amounts, communities, fund_years):
    rows, by_sd = [], {}
    city = Total(str(_("全市")))
    for community in communities:
        amount = amounts.get(community.code)
        if amount is None:
            continue
        fund_year = fund_years.get(community.pk)
        status = _judge(fund_year, amount)
        rows.append(Row(community, amount, fund_year.allocated if fund_year is not None else ZERO, status))
        sd = by_sd.setdefault(community.subdistrict_id, Total(community.subdistrict.name))
        for total in (sd, city):
            total.communities += 1
            if status == NEW:
                total.due += 1
                total.amount += amount
            else:
                total.skipped += 1
    return Plan(year=year, entry_date=entry_date, key=act_key(year, entry_date, amounts), rows=rows,
                subdistricts=sorted(by_sd.values(), key=lambda t: t.name), city=city)


def _communities():
    return list(Community.objects.select_related("subdistrict").order_by("subdistrict__name", "name"))


def _check_input(year, entry_date, amounts, communities):
    error = year_error(year) or entry_date_error(year, entry_date)
    if error:
        raise DomainError(error)
    if not amounts:
        raise DomainError(_("没有需要下达的社区。"))
    unknown = sorted(set(amounts) - {c.code for c in communities})
    if unknown:
        raise DomainError(_("未知的社区代码：%(codes)s") % {"codes": "、".join(unknown[:10])})


def year_allocation_plan(*, year, entry_date, by, amount=None, amounts=None):
    """What confirming would do, without writing: three queries whatever the city's size. `amount`: one
    amount for every community; or `amounts`: {community code: amount} (an uploaded table)."""
    _city_admin_post(by)
    communities = _communities()
    asked = _amounts_by_code(communities, amount, amounts)
    _check_input(year, entry_date, asked, communities)
    fund_years = {fy.community_id: fy for fy in FundYear.objects.filter(year=year).only(
        "pk", "community_id", "year", "status", "allocated")}
    return _plan(year=year, entry_date=entry_date, amounts=asked, communities=communities, fund_years=fund_years)


@retry_on_conflict
@transaction.atomic
def year_allocation_confirm(*, year, entry_date, by, amount=None, amounts=None, key=""):
    """The act: allocate the year to every community due, in one transaction (module docstring). `key`: the
    plan's key the person saw; if the input changed since (another amount, date or table), refused.
    Returns the plan as judged under the locks (its `due` rows are those written now)."""
    post = _city_admin_post(by)
    communities = _communities()
    asked = _amounts_by_code(communities, amount, amounts)
    _check_input(year, entry_date, asked, communities)
    if key and key != act_key(year, entry_date, asked):
        raise DomainError(_("确认的内容与预览不一致，请重新预览。"))
    ids = [c.pk for c in communities if c.code in asked]
    fund_years = ledger.fund_years_for_update(community_ids=ids, year=year)
    plan = _plan(year=year, entry_date=entry_date, amounts=asked, communities=communities, fund_years=fund_years)
    if not plan.due:
        return plan  # nothing new: a repeated confirmation writes nothing
    ledger.fund_years_allocate(fund_years=fund_years, amounts={r.community.pk: r.amount for r in plan.due},
                               year=year, entry_date=entry_date, by=by, post=post)
    audit_record(actor=by, post=post, action="fund.year_allocate", target=("fundapp.year_allocation", plan.key),
                 after={"year": year, "entry_date": entry_date, "count": len(plan.due),
                        "total": plan.city.amount, "key": plan.key, "already": len(plan.already),
                        "different": len(plan.different), "closed": len(plan.closed)},
                 effective_on=entry_date)
    return plan


# ---- the table of amounts ---------------------------------------------------------------------------------

EXAMPLE = gettext_noop("示例（请删除本行）")
HEADERS = ((gettext_lazy("社区代码"), "code"), (gettext_lazy("社区名称"), "name"), (gettext_lazy("金额（元）"), "amount"))


def allocation_template_xlsx():
    """The sheet to fill in: a header, an example row (to delete) and every community with an empty amount."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = str(_("年度经费"))
    for column, (label, _name) in enumerate(HEADERS, 1):
        xlsx_cell(ws, 1, column, str(label))
    xlsx_cell(ws, 2, 1, str(_(EXAMPLE)))
    xlsx_cell(ws, 2, 2, str(_("某某社区")))
    xlsx_cell(ws, 2, 3, Decimal("200000.00"))
    for row, community in enumerate(Community.objects.order_by("subdistrict__name", "name"), 3):
        xlsx_cell(ws, row, 1, community.code)
        xlsx_cell(ws, row, 2, community.name)
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width, ws.column_dimensions["C"].width = 18, 30, 16
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@dataclass
class SheetError:
    row: int
    column: str
    message: str

    def __str__(self):
        return _("第 %(row)s 行 %(column)s 列：%(message)s") % {"row": self.row, "column": self.column,
                                                            "message": self.message}


class SheetRefused(DomainError):
    def __init__(self, errors):
        self.errors = errors
        super().__init__(_("表格有 %(n)s 处错误，未作任何处理。") % {"n": len(errors)})


def amounts_from_xlsx(data):
    """{community code: Decimal} from an uploaded sheet (bytes): the columns of `allocation_template_xlsx`,
    the example row, empty rows and communities without an amount skipped. Formulas, bad amounts, unknown or repeated codes are refused
    with their row and column (SheetRefused carrying every error); nothing is half-read."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a file that is not a workbook
        raise DomainError(_("无法读取该文件，请上传由模板填写的 .xlsx 表格。")) from None
    ws = wb.worksheets[0]
    known = dict(Community.objects.values_list("code", "name"))
    amounts, errors, seen = {}, [], {}
    # The example row, downloaded in any of the site's languages.
    from django.conf import settings
    from django.utils import translation

    examples = {EXAMPLE}
    for code, _label in settings.LANGUAGES:
        with translation.override(code):
            examples.add(str(_(EXAMPLE)))
    for index, row in enumerate(ws.iter_rows(min_row=2, max_col=3, values_only=True), 2):
        code, _name, value = (list(row) + [None] * 3)[:3]
        if all(v is None or str(v).strip() == "" for v in (code, value)):
            continue
        for column, cell in ((1, code), (3, value)):
            if isinstance(cell, str) and cell.startswith("="):
                errors.append(SheetError(index, get_column_letter(column), _("不能使用公式，请填写数值。")))
        if isinstance(code, str) and code.startswith("=") or isinstance(value, str) and value.startswith("="):
            continue
        code = str(code).strip() if code is not None else ""
        if code in examples:
            continue
        if code not in known:
            errors.append(SheetError(index, "A", _("未知的社区代码“%(code)s”。") % {"code": code[:40]}
                                     if code else _("请填写社区代码。")))
            continue
        if code in seen:
            errors.append(SheetError(index, "A", _("社区代码“%(code)s”与第 %(row)s 行重复。")
                                     % {"code": code, "row": seen[code]}))
            continue
        seen[code] = index
        if value is None or str(value).strip() == "":
            continue  # a community without an amount is not allocated
        try:
            amounts[code] = parse_amount(repr(value) if isinstance(value, float) else value)
        except DomainError as exc:
            errors.append(SheetError(index, "C", str(exc)))
    wb.close()
    if errors:
        raise SheetRefused(errors)
    if not amounts:
        raise DomainError(_("表格中没有填写金额的社区。"))
    return amounts


def summary_text(plan):
    return (_("%(year)s年度：%(due)s 个社区拨款合计 %(total)s；已拨款 %(same)s 个，金额不同 %(different)s 个，已结转 %(closed)s 个。")
            % {"year": plan.year, "due": len(plan.due), "total": format_yuan(plan.city.amount),
               "same": len(plan.already), "different": len(plan.different), "closed": len(plan.closed)})
