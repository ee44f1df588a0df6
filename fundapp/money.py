"""Parsing and showing amounts of money: exact yuan with fen, never floats."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from .errors import DomainError

FEN = Decimal("0.01")
# No single figure in a community fund comes near this; anything larger is a typing slip.
MAX_AMOUNT = Decimal("100000000.00")


def parse_amount(value, *, allow_zero=False):
    """A positive amount in yuan with at most two decimals, or DomainError saying what is wrong."""
    if isinstance(value, float):
        raise DomainError(_("金额不能用浮点数表示。"))
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("，", ""))
    except (InvalidOperation, ValueError):
        raise DomainError(_("“%(value)s”不是有效的金额。") % {"value": value}) from None
    if not amount.is_finite():
        raise DomainError(_("“%(value)s”不是有效的金额。") % {"value": value})
    try:
        to_the_fen = amount == amount.quantize(FEN)
    except InvalidOperation:  # more digits than decimal's context holds (e.g. 1e30): judged too large below
        to_the_fen = True
    if not to_the_fen:
        raise DomainError(_("金额最多保留两位小数（到分）。"))
    if amount < 0 or (amount == 0 and not allow_zero):
        raise DomainError(_("金额必须大于零。"))
    if amount > MAX_AMOUNT:
        raise DomainError(_("金额过大（上限 %(max)s），请核对。") % {"max": format_yuan(MAX_AMOUNT)})
    return amount.quantize(FEN)


def format_yuan(amount):
    """¥1,234.56"""
    value = Decimal(amount).quantize(FEN, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    return f"{sign}¥{abs(value):,.2f}"
