"""The server-drawn bar charts: labels never cut (shortened with "…", the full label kept in <title>), sized
so that a phone draws them at ≥ 14 px (measured in Chromium in tests/browser/test_readable_by_everyone.py)."""
import re
from decimal import Decimal

from disclosure.charts import PHONE_CHART, bar_chart, fit, text_width

LONG_EN = "Cultural, sports and community activities for residents of every age"


def _labels(svg):
    return re.findall(r'<text class="chart-label"[^>]*>(.*?)</text>', svg)


def test_a_label_that_fits_is_drawn_whole_and_a_long_one_is_shortened_within_its_room():
    assert fit("助老服务", 100, 16) == ("助老服务", False)
    shown, shortened = fit(LONG_EN, 300, 16)
    assert shortened and shown.endswith("…") and LONG_EN.startswith(shown[:-1])
    assert text_width(shown, 16) <= 300 < text_width(LONG_EN, 16)
    # A CJK character counts a full em: twenty fit in 320 units at 16, not twenty-one.
    assert fit("社" * 20, 320, 16)[1] is False and fit("社" * 21, 320, 16)[1] is True


def test_the_phone_chart_puts_each_label_on_its_own_line_and_keeps_the_full_label_in_a_title():
    svg = str(bar_chart([(LONG_EN, Decimal("10.00")), ("文体活动", Decimal("5.00"))], title="t", **PHONE_CHART))
    assert 'viewBox="0 0 320 ' in svg and 'font-size="16"' in svg
    first, second = _labels(svg)
    assert first.startswith(f"<title>{LONG_EN}</title>") and first.endswith("…")
    assert second == "文体活动"
    assert re.search(r'<text class="chart-label" x="0" ', svg)  # starts at the left edge, nothing to its left
    assert f"<desc>{LONG_EN} ¥10.00; 文体活动 ¥5.00</desc>" in svg


def test_the_poster_chart_widens_its_label_column_for_long_labels_up_to_almost_half():
    svg = str(bar_chart([("Activities for the elderly", Decimal("1")), ("乙", Decimal("1"))]))
    column = float(re.search(r'<rect x="([\d.]+)"', svg).group(1))
    assert 150 < column <= 640 * 0.45
    assert all("…" not in label for label in _labels(svg))
