"""The server-drawn bar charts: labels never cut (wrapped, or shortened with "…" and the full label kept in <title>), sized
so that a phone draws them at ≥ 14 px (measured in Chromium in tests/browser/test_readable_by_everyone.py)."""
import re
from decimal import Decimal

from disclosure.charts import PHONE_CHART, bar_chart, fit, text_width, wrap

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


def test_a_long_label_wraps_between_words_or_characters_onto_two_lines_at_most():
    assert wrap("Services for people in extreme hardship", 320, 16) == (
        ["Services for people in extreme", "hardship"], False)
    lines, shortened = wrap("社区养老服务及困难群众帮扶与慰问活动支出经费补贴项目", 320, 16)
    assert lines == ["社区养老服务及困难群众帮扶与慰问活动支出", "经费补贴项目"] and not shortened
    lines, shortened = wrap(LONG_EN + " and every building", 320, 16)
    assert len(lines) == 2 and shortened and lines[1].endswith("…")
    assert all(text_width(line, 16) <= 320 for line in lines)


def test_the_phone_chart_puts_each_label_above_its_bar_and_keeps_a_shortened_label_whole_in_a_title():
    too_long = LONG_EN + " and every building"
    svg = str(bar_chart([(too_long, Decimal("10.00")), ("文体活动", Decimal("5.00"))], title="t", **PHONE_CHART))
    assert 'viewBox="0 0 320 ' in svg and 'font-size="16"' in svg
    first, second = _labels(svg)
    assert first.startswith(f"<title>{too_long}</title>") and first.count("<tspan") == 2 and "…" in first
    assert second == '<tspan x="0" y="103.0">文体活动</tspan>'  # 12 + two lines of 21 + a bar row of 21 + 12 + 16
    assert re.search(r'<text class="chart-label" x="0" ', svg)  # starts at the left edge, nothing to its left
    assert f"<desc>{too_long} ¥10.00; 文体活动 ¥5.00</desc>" in svg


def test_the_poster_chart_widens_its_label_column_for_long_labels_up_to_almost_half():
    svg = str(bar_chart([("Activities for the elderly", Decimal("1")), ("乙", Decimal("1"))]))
    column = float(re.search(r'<rect x="([\d.]+)"', svg).group(1))
    assert 150 < column <= 640 * 0.45
    assert all("…" not in label for label in _labels(svg))


def test_spending_against_a_whole_draws_the_track_as_long_as_the_whole_and_shows_the_share():
    # The staff's dashboards (desk.dashboard_views): settled against each fund's total, on one scale.
    rows = [("东城街道", Decimal("50000"), Decimal("400000")), ("西城街道", Decimal("0"), Decimal("200000")),
            ("新区", Decimal("0"), Decimal("0"))]
    svg = str(bar_chart(rows, title="进度", **PHONE_CHART))
    grey = r'<rect x="0" y="[\d.]+" width="([\d.]+)" height="18" fill="#e4e4e4"'
    tracks = [float(w) for w in re.findall(grey, svg)]
    assert tracks[0] == 2 * tracks[1] and tracks[2] == 0
    bars = [float(w) for w in re.findall(r'width="([\d.]+)" height="18" fill="#b3261e"', svg)]
    assert bars == [round(tracks[0] / 8, 1)]
    assert re.findall(r'class="chart-value"[^>]*>([^<]+)<', svg) == ["13%", "0%", "—"]
    assert "东城街道 ¥50,000.00 / ¥400,000.00" in svg
