"""Charts as SVG markup, drawn on the server: the same chart on the public page and in the PDF poster,
with no script and nothing fetched."""
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe

from fundapp.amounts import format_yuan

FONT = "'Noto Sans CJK SC', 'Noto Serif CJK SC', sans-serif"


def bar_chart(rows, *, title="", width=640, bar_height=20, gap=9, label_width=150, value_width=130,
              color="#b3261e", empty_color="#e4e4e4"):
    """Horizontal bars, one per (label, amount) row, lengths proportional to the amounts.

    Sized by its viewBox: it scales to whatever width the page or the poster gives it.
    """
    rows = [(str(label), Decimal(value or 0)) for label, value in rows]
    top = max((value for _, value in rows), default=Decimal(0))
    track = width - label_width - value_width
    height = gap + len(rows) * (bar_height + gap)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" '
        f'font-family="{escape(FONT)}" font-size="15">',
    ]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar_height + gap)
        baseline = y + bar_height * 0.72
        length = float(track * value / top) if top > 0 else 0.0
        if value > 0:
            length = max(length, 2.0)  # a tiny amount still shows
        parts.append(f'<rect x="{label_width}" y="{y}" width="{track}" height="{bar_height}" fill="{empty_color}" '
                     f'fill-opacity="0.45"/>')
        if length:
            parts.append(f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
                         f'fill="{color}"/>')
        parts.append(f'<text x="{label_width - 10}" y="{baseline:.1f}" text-anchor="end" fill="#222">'
                     f"{escape(label)}</text>")
        parts.append(f'<text x="{label_width + track + 10}" y="{baseline:.1f}" fill="#222">'
                     f"{escape(format_yuan(value))}</text>")
    parts.append("</svg>")
    return mark_safe("".join(parts))
