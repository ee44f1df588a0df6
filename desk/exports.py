"""Files for the finance office: the ledger as Excel and CSV, the summary as Excel and PDF.

Pure functions of what they are given (a fund year, a `finance_selectors.Summary`): no request, no rights.
Amounts stay Decimal throughout; Excel gets them as numbers with a two-decimal format, CSV as plain
decimals with exactly two places. Every cell goes out through the one table writer, fundapp.tabular, which
keeps text that a spreadsheet could take for a formula as text.
"""
import io
import re
from decimal import Decimal

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from fundapp import clock, selectors, tabular
from fundapp.models import FundYear, LedgerEntry
from fundapp.amounts import amount_in_words

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
PERCENT_FORMAT = "0.0%"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="F3F3F3")
TOTAL_FILL = PatternFill("solid", fgColor="FBF3F2")
BOLD = Font(bold=True)


# --- the ledger ------------------------------------------------------------------------------------

def ledger_headers():
    return [_("日期"), _("类型"), _("摘要"), _("收入"), _("支出"), _("余额"), _("来源")]


def _source(entry):
    """Where an entry comes from, in words: the payment voucher, or the entry a reversal cancels."""
    try:
        payment = entry.payment
    except LedgerEntry.payment.RelatedObjectDoesNotExist:
        payment = None
    if payment is not None:
        return _("项目 %(id)s · 支付凭证 %(reference)s") % {"id": payment.proposal_id, "reference": payment.reference}
    if entry.reverses_id:
        return _("冲销 %(date)s 的%(kind)s") % {"date": entry.reverses.entry_date.isoformat(),
                                                "kind": entry.reverses.get_kind_display()}
    return entry.source


def ledger_lines(fund_year):
    """(date, kind, description, credit, debit, balance, source) per entry, oldest first, in one query."""
    return [
        (row["entry"].entry_date, row["entry"].get_kind_display(), row["entry"].description, row["credit"],
         row["debit"], row["balance"], _source(row["entry"]))
        for row in selectors.ledger(fund_year)
    ]


def ledger_title(fund_year):
    return _("%(community)s %(year)s年度 党组织服务群众专项经费明细账") % {
        "community": fund_year.community.name, "year": fund_year.year}


def ledger_totals(fund_year):
    """The fund year's running totals, labelled as on the ledger page."""
    names = ("allocated", "carried_in", "settled", "reserved", "carried_out")
    return [(FundYear._meta.get_field(name).verbose_name, getattr(fund_year, name)) for name in names] + [
        (_("可用"), fund_year.available)]


def ledger_xlsx(fund_year):
    """The ledger as an Excel workbook: title, headers frozen, one row per entry, totals, running totals."""
    fund_year = FundYear.objects.select_related("community__subdistrict").get(pk=fund_year.pk)
    lines = ledger_lines(fund_year)
    wb = Workbook()
    ws = wb.active
    ws.title = _("明细账")
    title = ledger_title(fund_year)
    _properties(wb, title)
    headers = ledger_headers()
    _title(ws, title, _("所属街道：%(subdistrict)s　状态：%(status)s　导出时间：%(at)s") % {
        "subdistrict": fund_year.community.subdistrict.name, "status": fund_year.get_status_display(),
        "at": _exported_at()}, len(headers))
    _header_row(ws, 3, headers)
    row = 3
    for line in lines:
        row += 1
        _put_row(ws, row, line, money=(4, 5, 6), dates=(1,), wrap=(3,))
    last = row
    credit = sum((line[3] or 0 for line in lines), Decimal("0.00"))
    debit = sum((line[4] or 0 for line in lines), Decimal("0.00"))
    row += 1
    _put_row(ws, row, ("", "", _("合计"), credit, debit, lines[-1][5] if lines else Decimal("0.00"), ""),
             money=(4, 5, 6), fill=TOTAL_FILL, bold=True)
    if lines:
        ws.auto_filter.ref = f"A3:{get_column_letter(len(headers))}{last}"
    row += 2
    tabular.xlsx_cell(ws, row, 3, _("年度经费账面数")).font = BOLD
    for label, amount in ledger_totals(fund_year):
        row += 1
        _put_row(ws, row, ("", "", label, amount), money=(4,))
    _signature_block(ws, row + 2, len(headers))
    ws.freeze_panes = "A4"
    _widths(ws, [12, 10, 46, 15, 15, 15, 26])
    _print_setup(ws, "3:3", landscape=True)
    _footer(ws, title)
    return _save(wb)


def ledger_csv(fund_year):
    """The ledger as CSV text (write it as UTF-8): a BOM so that Excel reads the Chinese, the same seven
    columns as the workbook, amounts as plain decimals with two places. Data rows only, for machines."""
    rows = [ledger_headers()]
    for date, kind, description, credit, debit, balance, source in ledger_lines(fund_year):
        rows.append([date, kind, description, _plain(credit), _plain(debit), _plain(balance), source])
    return tabular.csv_text(rows)


def ledger_filenames(fund_year, extension):
    """(Chinese file name, ASCII fallback) for a download of the ledger."""
    name = _("%(community)s%(year)s年度专项经费明细账") % {"community": fund_year.community.name,
                                                        "year": fund_year.year}
    return f"{safe_filename(name)}.{extension}", f"ledger-{_ascii(fund_year.community.code)}-{fund_year.year}.{extension}"


# --- the summary -----------------------------------------------------------------------------------

def summary_title(scope, year):
    return _("%(scope)s %(year)s年度 党组织服务群众专项经费使用情况汇总") % {"scope": scope, "year": year}


def summary_filenames(scope, year, extension, code=""):
    name = _("%(scope)s%(year)s年度专项经费汇总") % {"scope": scope, "year": year}
    fallback = f"fund-summary-{_ascii(code) + '-' if code else ''}{year}.{extension}"
    return f"{safe_filename(name)}.{extension}", fallback


SUMMARY_MONEY = (3, 4, 5, 6, 7, 8, 9, 11)  # the money columns of the subdistrict and community sheets


def _money_headers():
    return [_("年度拨款"), _("上年结转"), _("总额"), _("已结算"), _("已预留"), _("结转下年"), _("可用")]


def _money(figures):
    return [figures.allocated, figures.carried_in, figures.total, figures.settled, figures.reserved,
            figures.carried_out, figures.available]


def _share(figures):
    return None if figures.spent_percent is None else figures.settled / figures.total


def summary_xlsx(summary, scope):
    """The summary as a workbook: totals and subdistricts, then communities, categories and states."""
    wb = Workbook()
    title = summary_title(scope, summary.year)
    _properties(wb, title)
    subtitle = _("导出时间：%(at)s") % {"at": _exported_at()}

    ws = wb.active
    ws.title = _("汇总")
    money = _money_headers()
    headers = [_("街道"), _("社区数"), *money, _("项目数"), _("批准预算"), _("结算进度")]
    _title(ws, title, subtitle, len(headers))
    _header_row(ws, 3, headers)
    row = 3
    for sd in summary.subdistricts:
        row += 1
        _put_row(ws, row, [sd.subdistrict.name, sd.communities, *_money(sd.figures), sd.figures.projects,
                           sd.figures.approved, _share(sd.figures)], money=SUMMARY_MONEY, percent=(12,))
    row += 1
    t = summary.totals
    _put_row(ws, row, [_("合计"), len(summary.communities), *_money(t), t.projects, t.approved, _share(t)],
             money=SUMMARY_MONEY, percent=(12,), fill=TOTAL_FILL, bold=True)
    row += 1
    _words_row(ws, row, [(_("经费总额（大写）"), t.total), (_("已结算（大写）"), t.settled)], len(headers))
    _signature_block(ws, row + 2, len(headers))
    ws.freeze_panes = "A4"
    _widths(ws, [16, 8] + [15] * 7 + [8, 15, 10])
    _print_setup(ws, "3:3", landscape=True)
    _footer(ws, title)

    ws = wb.create_sheet(_("按社区"))
    headers = [_("街道"), _("社区"), *money, _("项目数"), _("批准预算"), _("结算进度")]
    _title(ws, title, subtitle, len(headers))
    _header_row(ws, 3, headers)
    row = 3
    for c in summary.communities:
        row += 1
        _put_row(ws, row, [c.community.subdistrict.name, c.community.name, *_money(c.figures), c.figures.projects,
                           c.figures.approved, _share(c.figures)], money=SUMMARY_MONEY, percent=(12,))
    if summary.communities:
        ws.auto_filter.ref = f"A3:{get_column_letter(len(headers))}{row}"
    row += 1
    _put_row(ws, row, ["", _("合计"), *_money(t), t.projects, t.approved, _share(t)],
             money=SUMMARY_MONEY, percent=(12,), fill=TOTAL_FILL, bold=True)
    ws.freeze_panes = "C4"
    _widths(ws, [14, 20] + [15] * 7 + [8, 15, 10])
    _print_setup(ws, "3:3", landscape=True)
    _footer(ws, title)

    ws = wb.create_sheet(_("按类别"))
    headers = [_("使用范围"), _("项目数"), _("批准预算"), _("已结算")]
    _title(ws, title, _("不含不予批准和已撤回的项目。"), len(headers))
    _header_row(ws, 3, headers)
    row = 3
    for cat in summary.by_category:
        row += 1
        _put_row(ws, row, [cat["label"], cat["count"], cat["approved"], cat["settled"]], money=(3, 4))
    row += 1
    _put_row(ws, row, [_("合计"), sum(c["count"] for c in summary.by_category),
                       sum((c["approved"] for c in summary.by_category), Decimal("0.00")),
                       sum((c["settled"] for c in summary.by_category), Decimal("0.00"))],
             money=(3, 4), fill=TOTAL_FILL, bold=True)
    ws.freeze_panes = "A4"
    _widths(ws, [18, 10, 16, 16])
    _print_setup(ws, "3:3")
    _footer(ws, title)

    ws = wb.create_sheet(_("按状态"))
    headers = [_("状态"), _("项目数")]
    _title(ws, title, "", len(headers))
    _header_row(ws, 3, headers)
    row = 3
    for state in summary.by_state:
        row += 1
        _put_row(ws, row, [state["label"], state["count"]])
    row += 1
    _put_row(ws, row, [_("合计"), summary.projects], fill=TOTAL_FILL, bold=True)
    ws.freeze_panes = "A4"
    _widths(ws, [18, 10])
    _print_setup(ws, "3:3")
    _footer(ws, title)
    return _save(wb)


def table_xlsx(title, headers, rows, formats):
    """One list of a dashboard as a workbook: the title, the headers (frozen, with a filter), one row per item.

    `formats` names each column's kind — text, number, money, date or percent (a percentage such as 42.5,
    written as the fraction Excel shows as 42.5%)."""
    wb = Workbook()
    ws = wb.active
    ws.title = safe_filename(title)[:31]
    _properties(wb, title)
    rows = list(rows)
    _title(ws, title, _("导出时间：%(at)s　共 %(n)s 行") % {"at": _exported_at(), "n": len(rows)}, len(headers))
    _header_row(ws, 3, headers)
    columns = {kind: tuple(i for i, f in enumerate(formats, 1) if f == kind) for kind in ("money", "date", "percent")}
    row = 3
    for values in rows:
        row += 1
        values = [v / 100 if f == "percent" and v is not None else v for v, f in zip(values, formats)]
        _put_row(ws, row, values, money=columns["money"], dates=columns["date"], percent=columns["percent"])
    if row > 3:
        ws.auto_filter.ref = f"A3:{get_column_letter(len(headers))}{row}"
    ws.freeze_panes = "A4"
    _widths(ws, [{"text": 24, "money": 15, "date": 12, "percent": 10}.get(f, 10) for f in formats])
    _print_setup(ws, "3:3", landscape=True)
    _footer(ws, title)
    return _save(wb)


def table_csv(headers, rows, formats):
    """The same list as CSV text (write it as UTF-8): amounts with two places, percentages as numbers."""
    return tabular.csv_text([headers, *([_plain(v) if f == "money" else v for v, f in zip(values, formats)]
                                        for values in rows)])


def summary_pdf(summary, scope):
    """The summary as an A4 PDF (WeasyPrint, CJK font embedded, nothing fetched from the network)."""
    from fundapp.pdf import render_pdf

    return render_pdf("fundapp/finance/summary_pdf.html", {
        "s": summary, "scope": scope, "title": summary_title(scope, summary.year), "generated": _exported_at(),
        "total_words": amount_in_words(summary.totals.total),
    })


# --- helpers ---------------------------------------------------------------------------------------

def safe_filename(name):
    """A file name without path separators or characters Windows refuses."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", str(name)).strip(" .") or "export"


def _ascii(text):
    return re.sub(r"[^A-Za-z0-9_-]+", "_", str(text)) or "x"


def _exported_at():
    return timezone.localtime(clock.now()).strftime("%Y-%m-%d %H:%M")


def _plain(amount):
    """An amount with exactly two places, still a number (None for none)."""
    return None if amount is None else Decimal(amount).quantize(Decimal("0.01"))


def _csv_text(value):
    """Text as text: a leading = + - @ would make a spreadsheet evaluate it (CSV injection)."""
    return tabular.safe_text(value)


def _properties(wb, title):
    wb.properties.title = title
    wb.properties.creator = _("社区党组织服务群众专项经费管理系统")


def _title(ws, title, subtitle, width):
    tabular.xlsx_cell(ws, 1, 1, title).font = Font(bold=True, size=14)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center", vertical="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.row_dimensions[1].height = 26
    if subtitle:
        cell = tabular.xlsx_cell(ws, 2, 1, subtitle)
        cell.font = Font(size=9, color="555555")
        cell.alignment = Alignment(horizontal="center")
        ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)


def _header_row(ws, row, headers):
    for column, header in enumerate(headers, 1):
        cell = tabular.xlsx_cell(ws, row, column, header)
        cell.font = BOLD
        cell.fill = HEAD_FILL
        cell.border = BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _put_row(ws, row, values, *, money=(), dates=(), percent=(), wrap=(), fill=None, bold=False):
    for column, value in enumerate(values, 1):
        if isinstance(value, Promise):
            value = str(value)  # lazily translated labels
        cell = tabular.xlsx_cell(ws, row, column, value)
        cell.border = BOX
        if column in money:
            cell.number_format = MONEY_FORMAT
        elif column in dates:
            cell.number_format = DATE_FORMAT
            cell.alignment = Alignment(horizontal="center")
        elif column in percent:
            cell.number_format = PERCENT_FORMAT
        if column in wrap:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        if fill is not None:
            cell.fill = fill
        if bold:
            cell.font = BOLD


def _made_on():
    """制表日期 as a Chinese form writes it: 2026年12月2日."""
    from django.utils.dateformat import format as format_date
    from django.utils.translation import pgettext

    return format_date(timezone.localdate(clock.now()), pgettext("date format", "Y年n月j日"))


def _words_row(ws, row, items, width):
    """Totals in capitals (fundapp.amounts.amount_in_words), one merged line under the totals."""
    text = "　　".join(f"{label}：{amount_in_words(amount)}" for label, amount in items)
    cell = tabular.xlsx_cell(ws, row, 1, text)
    cell.font = BOLD
    cell.alignment = Alignment(vertical="center")
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)


def _signature_block(ws, row, width):
    """The lines a finance office signs a printed table on: 制表人 / 审核人 / 负责人, and 制表日期."""
    names = [_("制表人"), _("审核人"), _("负责人")]
    span = max(1, width // 3)
    for i, label in enumerate(names):
        column = 1 + i * span
        tabular.xlsx_cell(ws, row, column, f"{label}：＿＿＿＿＿＿＿＿").font = BOLD
    tabular.xlsx_cell(ws, row + 2, 1, _("制表日期：%(date)s") % {"date": _made_on()})
    return row + 2


def _footer(ws, title):
    """Every printed page: the table's name, page n of m, and when it was made (and by what)."""
    ws.oddFooter.left.text = _("制表日期：%(date)s") % {"date": _made_on()}
    ws.oddFooter.left.size = 8
    ws.oddFooter.center.text = _("第 &P 页，共 &N 页")
    ws.oddFooter.center.size = 8
    ws.oddFooter.right.text = _("本表由社区党组织服务群众专项经费管理系统打印")
    ws.oddFooter.right.size = 8
    ws.oddHeader.center.text = str(title).replace("&", "&&")
    ws.oddHeader.center.size = 8


def _widths(ws, widths):
    for column, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(column)].width = width


def _print_setup(ws, title_rows, landscape=False):
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows


def _save(wb):
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
