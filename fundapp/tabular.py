"""The one writer of tables people open in a spreadsheet: every CSV and XLSX export, staff and public.

A text cell that starts with = + - @, a tab or a carriage return would be taken by Excel or LibreOffice for
a formula (CSV injection: `=HYPERLINK("http://x","y")` in a project title becomes a link in the finance
office's spreadsheet), so it goes out prefixed with an apostrophe — the OWASP advice — in CSV and XLSX
alike. Numbers stay numbers: a Decimal, int or float is written as a number (a negative amount is not
text), a date as ISO 8601 in CSV and as a date in XLSX. Only `str` values (and lazily translated labels)
are text.
"""
import csv
import datetime
import io
from decimal import Decimal

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER_TYPES = (Decimal, int, float)


def is_number(value):
    return isinstance(value, NUMBER_TYPES) and not isinstance(value, bool)


def safe_text(value):
    """Text that no spreadsheet evaluates: a leading = + - @, tab or carriage return gets an apostrophe."""
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(FORMULA_START) else value


def csv_value(value):
    """One CSV cell: numbers as plain numbers (a Decimal keeps its places), dates as ISO 8601, empty for
    None, everything else as safe text."""
    if value is None:
        return ""
    if is_number(value):
        return f"{value:f}" if isinstance(value, Decimal) else str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return safe_text(value)


def csv_text(rows, *, bom=True):
    """Rows as CSV text (to be sent as UTF-8): with a BOM so that Excel reads the Chinese."""
    out = io.StringIO()
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([csv_value(value) for value in row])
    return out.getvalue()


class _Echo:
    """A file that hands back what is written to it: csv.writer then returns each line as text."""

    def write(self, text):
        return text


def csv_lines(rows, *, bom=True):
    """The same CSV as csv_text, one line at a time (for a StreamingHttpResponse: a city-wide file is never
    held whole in memory)."""
    if bom:
        yield "\ufeff"
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([csv_value(value) for value in row])


def xlsx_value(value):
    """What goes into an openpyxl cell: numbers and dates as they are, text made safe."""
    if value is None or is_number(value) or isinstance(value, (datetime.date, datetime.datetime)):
        return value
    return safe_text(value)


def xlsx_cell(ws, row, column, value):
    """Put `value` into the worksheet's cell, made safe; text is stored as text, never as a formula."""
    value = xlsx_value(value)
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would write anything starting with "=" as a formula
    return cell
