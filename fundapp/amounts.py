"""Parsing and showing amounts of money: exact yuan with fen, never floats."""
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from .errors import DomainError

FEN = Decimal("0.01")
# No single figure in a community fund comes near this; anything larger is a typing slip.
MAX_AMOUNT = Decimal("100000000.00")

# What a person may type, after _normalise and strip(). Accepted, and nothing else:
# - an optional yuan sign "¥" (or the full-width "￥"), then optional spaces;
# - the whole yuan: plain digits ("1234567", leading zeros harmless), or digits with thousands separators in
#   correct groups of three ("1,234,567"; "12,34" and "1234,567" are refused: a misplaced comma is more
#   likely a typing slip — a decimal comma, a missing digit — than a separator, so it is not guessed);
#   "," or the full-width "，" of a Chinese input method;
# - at most one decimal point — ".", full-width "．", or "。" (U+3002, which a Chinese input method in Chinese
#   punctuation mode types for the "." key) — followed by one or two decimals ("5." and ".5" are refused);
# - an optional trailing "元", with optional spaces before it.
# Digits are ASCII only (re.ASCII): full-width digits ０–９ are made ASCII by _normalise first; other scripts'
# digits ("١", "٣") are refused.
AMOUNT_RE = re.compile(r"""
    (?:¥\s*)?
    (?P<whole>[0-9]+|[1-9][0-9]{0,2}(?:,[0-9]{3})+)
    (?:[.。](?P<fen>[0-9]{1,2}))?
    (?:\s*元)?
""", re.VERBOSE | re.ASCII)

# Only for choosing the message of a refusal (never for accepting).
_EXPONENT_RE = re.compile(r"[0-9.]\s*e\s*[-+]?\s*[0-9]", re.IGNORECASE | re.ASCII)
_TOO_MANY_DECIMALS_RE = re.compile(r"(?:¥\s*)?[0-9,]+[.。][0-9]{3,}(?:\s*元)?", re.ASCII)
_NOT_A_NUMBER = {"nan", "snan", "inf", "infinity"}
SIGNS = "+-\u2212\ufe62\ufe63"  # ASCII, the minus sign, small plus/minus (full-width ＋－ are normalised)


def _normalise(text):
    """Full-width forms to ASCII: NFKC, but only on the Halfwidth and Fullwidth Forms block (U+FF00–U+FFEF)
    and the ideographic space (U+3000) — what a Chinese input method types ("１２３４．５６", "，", "￥").
    NFKC on the whole text would also turn "①", "²", "𝟏" (mathematical bold), "⒈" (→ "1.") and "½" into
    digits, which nobody types as an amount: those stay as they are and are refused."""
    return "".join(
        unicodedata.normalize("NFKC", ch) if "\uff00" <= ch <= "\uffef" or ch == "\u3000" else ch for ch in text
    )


def _shown(value):
    text = str(value)
    return text if len(text) <= 24 else text[:24] + "…"


def _refusal(text, raw):
    """The message saying what is wrong with text (normalised and stripped), which AMOUNT_RE refused."""
    if not text:
        return _("请输入金额。")
    if text.lstrip(SIGNS).lower() in _NOT_A_NUMBER:
        return _("“%(value)s”不是有效的金额。") % {"value": _shown(raw)}
    if _EXPONENT_RE.search(text):
        return _("金额不能用科学记数法（如“1e5”）填写，请直接写出数字，例如 100000。")
    if any(sign in text for sign in SIGNS):
        return _("金额不能带正负号，请只填写数字，例如 1234.56。")
    if re.search(r"[0-9,.。]\s+[0-9,.。]", text):
        return _("金额中间不能有空格。")
    if len(re.findall(r"[.。]", text)) > 1:
        return _("金额只能有一个小数点。")
    if _TOO_MANY_DECIMALS_RE.fullmatch(text):
        return _("金额最多保留两位小数（到分）。")
    if "," in text:
        return _("千位分隔符须每三位一组，例如 1,234,567.89。")
    return _("“%(value)s”不是有效的金额。") % {"value": _shown(raw)}


def parse_amount(value, *, allow_zero=False):
    """A positive amount in yuan with at most two decimals, or DomainError saying what is wrong.

    value is the text a person typed (see AMOUNT_RE for exactly what is accepted: digits, thousands
    separators in groups of three, one decimal point, two decimals, full-width forms, "¥" before and "元"
    after), or an int or a finite Decimal from the code. Exponents, signs, NaN/Infinity, spaces or underscores
    inside the number, more than two decimals, an empty value and anything else are refused, and so is a float
    (never exact). Zero only with allow_zero; at most MAX_AMOUNT."""
    if isinstance(value, float):
        raise DomainError(_("金额不能用浮点数表示。"))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise DomainError(_("“%(value)s”不是有效的金额。") % {"value": _shown(value)})
        text = format(value.normalize(), "f") if value else format(value, "f")
    elif isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = _normalise(value).strip()
    else:
        raise DomainError(_("“%(value)s”不是有效的金额。") % {"value": _shown(value)})
    match = AMOUNT_RE.fullmatch(text)
    if not match:
        raise DomainError(_refusal(text, value))
    amount = Decimal(match["whole"].replace(",", "") + "." + (match["fen"] or "0"))
    if amount == 0 and not allow_zero:
        raise DomainError(_("金额必须大于零。"))
    if amount > MAX_AMOUNT:
        raise DomainError(_("金额过大（上限 %(max)s），请核对。") % {"max": format_yuan(MAX_AMOUNT)})
    return amount.quantize(FEN)


def format_yuan(amount):
    """¥1,234.56"""
    value = Decimal(amount).quantize(FEN, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    return f"{sign}¥{abs(value):,.2f}"


# ---- amounts in capitals (大写金额) -------------------------------------------------------------------

CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_WITHIN_SECTION = ((1000, "仟"), (100, "佰"), (10, "拾"), (1, ""))


def _section_in_words(n):
    """1–9999 in capitals: zeros between digits as one 零, trailing zeros dropped, leading zeros left to the
    caller; a ten is always 壹拾 (the 壹 may not be left out on a paper)."""
    words, zero_pending = "", False
    for size, unit in _WITHIN_SECTION:
        digit = n // size % 10
        if digit:
            words += ("零" if zero_pending else "") + CAPITAL_DIGITS[digit] + unit
            zero_pending = False
        elif words:
            zero_pending = True
    return words


def _yuan_in_words(n):
    """A whole number of yuan ≥ 1 in capitals, with 万 and 亿. A lower part that does not fill its highest
    place is preceded by one 零 (100,010 → 壹拾万零壹拾; 10,010,001 → 壹仟零壹万零壹); a lower part that
    does is not (107,000 → 壹拾万柒仟: the rules allow 壹拾万零柒仟 too, and give this form first)."""
    if n >= 10 ** 8:
        high, low = divmod(n, 10 ** 8)
        return _yuan_in_words(high) + "亿" + (("零" if low < 10 ** 7 else "") + _yuan_in_words(low) if low else "")
    if n >= 10 ** 4:
        high, low = divmod(n, 10 ** 4)
        return _section_in_words(high) + "万" + (("零" if low < 1000 else "") + _section_in_words(low) if low else "")
    return _section_in_words(n)


def amount_in_words(amount):
    """The amount in capitals as written on bills and vouchers, following the People's Bank of China's
    《正确填写票据和结算凭证的基本规定》: ¥1,409.50 → 壹仟肆佰零玖元伍角整.

    - Digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟万亿, 元角分; a leading ten is 壹拾 (¥10.05 → 壹拾元零伍分).
    - 整: written after 元 when there are no 角 and 分 (¥1.00 → 壹元整) and after 角 when 分 is zero
      (¥0.50 → 伍角整: the rules allow it and it closes the figure against additions); never after 分.
    - 零: one 零 for one or several zeros between non-zero digits (¥6,007.14 → 陆仟零柒元壹角肆分); after 元
      when the 元 place is 0 and 角 is not (¥1,680.32 → 壹仟陆佰捌拾元零叁角贰分, the rules' first form);
      after 元 when 角 is 0 and 分 is not (¥16,409.02 → 壹万陆仟肆佰零玖元零贰分).
    - Less than one yuan: no 元 and no leading 零 (¥0.05 → 伍分, ¥0.50 → 伍角整, the rules' own examples);
      零元 is written only for ¥0.00 → 零元整.
    The words carry no "人民币" prefix: the paper prints that beside them. amount: Decimal, int or text of a
    non-negative number with at most two decimals, below 10¹⁶; anything else is a ValueError (a bug)."""
    value = Decimal(amount) if not isinstance(amount, float) else None
    if value is None or not value.is_finite() or value < 0 or value >= 10 ** 16 or value != value.quantize(FEN):
        raise ValueError(f"not an amount of money in yuan and fen: {amount!r}")
    fen_total = int(value.quantize(FEN) * 100)
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    if not fen_total:
        return "零元整"
    words = _yuan_in_words(yuan) + "元" if yuan else ""
    if jiao:
        words += ("零" if yuan and yuan % 10 == 0 else "") + CAPITAL_DIGITS[jiao] + "角"
    elif fen and yuan:
        words += "零"
    if fen:
        return words + CAPITAL_DIGITS[fen] + "分"
    return words + "整"
