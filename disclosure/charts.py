"""Charts as SVG markup, drawn on the server: the same chart on the public page and in the PDF poster,
with no script and nothing fetched.

Labels are never clipped: the drawing estimates each label's width (a CJK character is one em wide, other
characters at most ~0.62 em in the sans-serif faces used) and shortens a label that would not fit, with
"…"; the full label is then the text's <title> (read by screen readers, shown on hover) and stays in the
chart's description. Sizes on a phone: see `PHONE_CHART`.
"""
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe

from fundapp.amounts import format_yuan

FONT = "'Noto Sans CJK SC', 'Noto Serif CJK SC', sans-serif"
ELLIPSIS = "…"

# The residents' pages are read on phones by elderly people (issue 16): each label on a line of its own,
# the bar and its amount below it. The drawing is 320 units wide with 16-unit text; on a 375 px phone the
# card leaves it ≥ 290 px (the "large text" switch widens the page's margins), so the labels are drawn at
# ≥ 16 × 290 / 320 ≈ 14.5 px. The page caps the drawing's width at 22.5rem (public.css), so that on a
# desktop the text stays ≈ 18 px rather than growing with the screen.
PHONE_CHART = {"width": 320, "font_size": 16, "bar_height": 18, "gap": 12, "stacked": True}


def _char_em(char):
    """An upper bound on one character's advance, in em, for the fonts in FONT."""
    if unicodedata.east_asian_width(char) in "WF":
        return 1.0
    if char in " .,:;'!|il()[]":
        return 0.36
    if char.isupper() or char in "mw@%&—":
        return 0.84
    return 0.62


def text_width(text, font_size):
    """Estimated width of `text` set at `font_size` (in the drawing's units), erring on the wide side."""
    return sum(_char_em(c) for c in text) * font_size


def fit(text, width, font_size):
    """`text` shortened with "…" so that it fits in `width`; returns (shown, shortened?)."""
    if text_width(text, font_size) <= width:
        return text, False
    room = width - text_width(ELLIPSIS, font_size)
    shown = ""
    for char in text:
        if text_width(shown + char, font_size) > room:
            break
        shown += char
    return shown.rstrip() + ELLIPSIS, True


def wrap(text, width, font_size, max_lines=2):
    """`text` in lines that each fit in `width` (broken between words, or between CJK characters), at most
    `max_lines` of them, the last shortened with "…" if the text goes on; returns (lines, shortened?)."""
    tokens = re.findall(r"\S+\s*|\s+", text)
    pieces = []  # a CJK character is a piece of its own: a line may break after any of them
    for token in tokens:
        if any(unicodedata.east_asian_width(c) in "WF" for c in token):
            pieces.extend(token)
        else:
            pieces.append(token)
    lines, current = [], ""
    for i, piece in enumerate(pieces):
        if current and text_width((current + piece).rstrip(), font_size) > width:
            lines.append(current.rstrip())
            current = ""
            if len(lines) == max_lines - 1:
                last, shortened = fit("".join(pieces[i:]).strip(), width, font_size)
                return lines + [last], shortened
        current += piece.lstrip() if not current else piece
    if current.strip() or not lines:
        lines.append(current.rstrip())
    if len(lines) == 1 and text_width(lines[0], font_size) > width:  # one word longer than the line
        line, shortened = fit(lines[0], width, font_size)
        return [line], shortened
    return lines, False


def _wrapped_label(x, top, label, room, font_size, line):
    lines, shortened = wrap(label, room, font_size)
    title = f"<title>{escape(label)}</title>" if shortened else ""
    spans = "".join(f'<tspan x="{x:g}" y="{top + font_size + i * line:.1f}">{escape(text)}</tspan>'
                    for i, text in enumerate(lines))
    return f'<text class="chart-label" x="{x:g}" y="{top + font_size:.1f}" fill="#1f1f1f">{title}{spans}</text>', len(lines)


def _label(x, y, label, room, font_size, anchor):
    shown, shortened = fit(label, room, font_size)
    title = f"<title>{escape(label)}</title>" if shortened else ""
    anchor_attr = f' text-anchor="{anchor}"' if anchor != "start" else ""
    return (f'<text class="chart-label" x="{x:g}" y="{y:.1f}"{anchor_attr} fill="#1f1f1f">'
            f"{title}{escape(shown)}</text>")


def bar_chart(rows, *, title="", width=640, bar_height=20, gap=9, label_width=150, value_width=130,
              font_size=15, stacked=False, color="#b3261e", empty_color="#e4e4e4"):
    """Horizontal bars, one per (label, amount) row, lengths proportional to the amounts.

    Sized by its viewBox: it scales to whatever width the page or the poster gives it. Side by side (the
    poster): label, bar, amount on one line; the label column widens (up to 45 % of the width) for long
    labels. `stacked` (the phone): each label above its bar, on one line or two (then shortened).

    A row may be (label, amount, whole) — spending against an allocation (the staff's dashboards): the grey
    track is then as long as the whole, the bar as the amount, both on one scale, and the figure shown is
    the amount's share of the whole in percent (the amounts themselves are in the chart's description).
    """
    rows = [(str(row[0]), Decimal(row[1] or 0), Decimal(row[2] or 0) if len(row) > 2 else None) for row in rows]
    against = any(whole is not None for _, _, whole in rows)
    top = max([value for _, value, _ in rows] + [whole or 0 for _, _, whole in rows], default=Decimal(0))
    amounts = [_share(value, whole) if against else format_yuan(value) for _, value, whole in rows]
    described = [f"{format_yuan(value)} / {format_yuan(whole or 0)}" if against else amount
                 for (_, value, whole), amount in zip(rows, amounts)]
    line = round(font_size * 1.3)
    if stacked:
        value_width = max((text_width(a, font_size) for a in amounts), default=0) + 8
        label_x, label_room, bar_x = 0, width, 0
        bar_row = max(bar_height, line)
        heights = [len(wrap(label, width, font_size)[0]) * line + bar_row for label, _, _ in rows]
    else:
        longest = max((text_width(label, font_size) for label, _, _ in rows), default=0) + 10
        label_width = min(max(label_width, longest), width * 0.45)
        value_width = max(value_width, max((text_width(a, font_size) for a in amounts), default=0) + 10)
        label_x, label_room, bar_x = label_width - 10, label_width - 10, label_width
        heights = [max(bar_height, line)] * len(rows)
    track = width - bar_x - value_width
    height = gap + sum(h + gap for h in heights)
    description = "; ".join(f"{label} {amount}" for (label, _, _), amount in zip(rows, described))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
        f'font-family="{escape(FONT)}" font-size="{font_size}">',
    ]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    parts.append(f"<desc>{escape(description)}</desc>")
    top_y = gap
    for (label, value, whole), amount, row_height in zip(rows, amounts, heights):
        if stacked:
            text, lines = _wrapped_label(label_x, top_y, label, label_room, font_size, line)
            parts.append(text)
            y = top_y + lines * line + (bar_row - bar_height) / 2
        else:
            y = top_y + (row_height - bar_height) / 2
        baseline = y + bar_height / 2 + font_size * 0.36
        length = track * float(value / top) if top > 0 else 0.0
        if value > 0:
            length = max(length, 2.0)  # a tiny amount still shows
        room = track if whole is None else (track * float(whole / top) if top > 0 else 0.0)
        parts.append(f'<rect x="{bar_x}" y="{y:g}" width="{room:g}" height="{bar_height}" fill="{empty_color}" '
                     f'fill-opacity="0.45"/>')
        if length:
            parts.append(f'<rect x="{bar_x}" y="{y:g}" width="{length:.1f}" height="{bar_height}" '
                         f'fill="{color}"/>')
        if not stacked:
            parts.append(_label(label_x, baseline, label, label_room, font_size, "end"))
        parts.append(f'<text class="chart-value" x="{width:g}" y="{baseline:.1f}" text-anchor="end" fill="#1f1f1f">'
                     f"{escape(amount)}</text>")
        top_y += row_height + gap
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _share(value, whole):
    """The amount as a share of the whole, in percent with no decimals ("—" when there is no whole)."""
    if not whole:
        return "—"
    return f"{(value * 100 / whole).quantize(Decimal('1'), rounding=ROUND_HALF_UP)}%"
