"""The State Council's notice parser, on the published notices; the chinese-calendar package is the reference."""
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workdays.notice_parser import ParsedNotice, parse_notice

# Copies of ../shared/reference/holiday-notices/ (see the README there), so the tests run from any clone.
NOTICES = Path(__file__).resolve().parent / "holiday_notices"
REPO = Path(__file__).resolve().parents[2]
SHARED = [path for path in (REPO.parent / "shared", REPO.parent.parent / "shared")
          if (path / "reference" / "holiday-notices").is_dir()]
YEARS = [2017, 2024, 2025, 2026]
ONE_DAY = timedelta(days=1)
TITLE = "国务院办公厅关于2027年部分节假日安排的通知\n"


def notice(year):
    return (NOTICES / f"{year}.txt").read_text(encoding="utf-8")


@pytest.mark.skipif(not SHARED, reason="no shared/ beside this clone")
@pytest.mark.parametrize("year", [2017, 2024, 2025, 2026])
def test_the_copies_equal_the_shared_reference(year):
    shared = SHARED[0] / "reference" / "holiday-notices" / f"{year}.txt"
    assert (NOTICES / f"{year}.txt").read_bytes() == shared.read_bytes()


def days_of(year):
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += ONE_DAY


@pytest.mark.parametrize("year", YEARS)
def test_published_notice_gives_the_packages_working_days_for_every_day_of_the_year(year):
    parsed = parse_notice(notice(year))

    assert parsed.year == year
    assert parsed.unparsed == ()
    assert parsed.ok
    overrides = parsed.overrides
    wrong = [day for day in days_of(year)
             if overrides.get(day, day.weekday() < 5) != chinese_calendar.is_workday(day)]
    assert wrong == []
    assert list(parsed.holidays) == sorted(set(parsed.holidays))
    assert list(parsed.workdays) == sorted(set(parsed.workdays))
    assert set(parsed.holidays) == {d for item in parsed.items for d in item.holidays}


def test_items_keep_number_festival_and_text():
    items = parse_notice(notice(2017)).items

    assert [item.number for item in items] == ["一", "二", "三", "四", "五", "六"]
    assert items[5].festival == "中秋节、国庆节"
    assert items[5].text == "10月1日至8日放假调休，共8天。9月30日（星期六）上班。"
    assert items[5].holidays == tuple(date(2017, 10, d) for d in range(1, 9))
    assert items[5].workdays == (date(2017, 9, 30),)
    # "1月1日放假，1月2日（星期一）补休": both holidays.
    assert items[0].holidays == (date(2017, 1, 1), date(2017, 1, 2))


def test_cross_month_range_and_lunar_notes():
    parsed = parse_notice(notice(2025))

    assert parsed.items[4].holidays == (date(2025, 5, 31), date(2025, 6, 1), date(2025, 6, 2))
    assert parsed.items[1].holidays == tuple(date(2025, 1, 28) + i * ONE_DAY for i in range(8))
    assert parse_notice(notice(2026)).items[1].holidays[0] == date(2026, 2, 15)  # （农历腊月二十八、周日）


def test_the_2024_encouragement_to_rest_on_new_years_eve_is_not_a_holiday():
    parsed = parse_notice(notice(2024))
    spring = parsed.items[1]

    assert "除夕（2月9日）休息" in spring.text
    assert date(2024, 2, 9) not in parsed.holidays
    assert date(2024, 2, 9) not in parsed.workdays
    assert date(2024, 2, 9) not in parsed.overrides
    assert chinese_calendar.is_workday(date(2024, 2, 9))


def test_the_2025_preamble_is_not_read():
    text = notice(2025)
    parsed = parse_notice(text)

    assert parsed.holidays.count(date(2025, 1, 1)) == 1
    assert [item.number for item in parsed.items if date(2025, 1, 1) in item.holidays] == ["一"]
    preamble = text[: text.index("一、元旦")]
    assert "2025年1月1日" in preamble
    only_preamble = parse_notice(preamble)
    assert (only_preamble.year, only_preamble.items, only_preamble.holidays) == (2025, (), ())
    assert not only_preamble.ok


@pytest.mark.parametrize("garbage", ["", "   \n\n", "你好，世界", "1月1日放假。", "一、", "x" * 10_000, "一、元旦："])
def test_garbage_gives_no_year_and_no_items(garbage):
    parsed = parse_notice(garbage)

    assert parsed.year is None
    assert parsed.holidays == parsed.workdays == ()
    assert not parsed.ok


@pytest.mark.parametrize("not_text", [None, b"\xe4\xb8\x80", 2027, ["一、元旦：1月1日放假。"]])
def test_not_text_gives_an_empty_notice(not_text):
    assert parse_notice(not_text) == ParsedNotice(None, (), (), (), ())


def test_full_width_digits_spaces_and_one_paragraph_read_the_same():
    text = notice(2026)
    wide = text.translate({ord(str(i)): chr(0xFF10 + i) for i in range(10)})
    spaced = wide.replace("月", " 月 ").replace("：", "：\u3000").replace("（", "(").replace("）", ")")
    body, signature = text.split("\n\n国务院办公厅")
    one_paragraph = body.replace("\n", "") + "\n\n国务院办公厅" + signature  # the signature is a line of its own

    for variant in (spaced, one_paragraph):
        parsed = parse_notice(variant)
        assert parsed.year == 2026
        assert parsed.unparsed == ()
        assert parsed.overrides == parse_notice(text).overrides


@pytest.mark.parametrize(
    "item",
    [
        # a date whose sentence says neither 放假/补休 nor 上班
        "一、元旦：1月1日（周五）至3日（周日）放假调休，共3天。1月9日（周六）照常工作。",
        # a weekday that is not the date's (9 January 2027 is a Saturday)
        "一、元旦：1月1日（周五）至3日（周日）放假调休，共3天。1月9日（周日）上班。",
        # a total that is not the number of days read
        "一、元旦：1月1日（周五）至3日（周日）放假调休，共4天。",
        # no such date
        "一、元旦：2月30日放假。",
        # a day with no month before it
        "一、元旦：3日放假。",
        # a date in words
        "一、元旦：一月一日放假。",
        # a range that runs backwards or over a month
        "一、元旦：1月3日至1日放假。",
        "一、元旦：1月1日至2月15日放假。",
        # a sentence with both kinds whose clause cannot be told
        "一、元旦：1月1日放假，1月9日照常。1月2日补休上班。",
    ],
)
def test_a_sentence_that_cannot_be_read_is_shown_not_guessed(item):
    parsed = parse_notice(TITLE + item)

    assert parsed.year == 2027
    assert parsed.unparsed
    assert all(part in item for part in parsed.unparsed)
    assert not parsed.ok


def test_an_unreadable_sentence_leaves_the_rest_of_the_item_read():
    parsed = parse_notice(TITLE + "一、元旦：1月1日（周五）至3日（周日）放假调休，共3天。1月9日（周日）上班。")

    assert parsed.unparsed == ("1月9日（周日）上班。",)
    assert parsed.holidays == (date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3))
    assert parsed.workdays == ()


def test_an_item_line_of_another_shape_is_unparsed():
    parsed = parse_notice(TITLE + "一、元旦：1月1日放假。\n二、春节2月5日至11日放假。")

    assert [item.number for item in parsed.items] == ["一"]
    assert parsed.unparsed == ("二、春节2月5日至11日放假。",)


def test_an_item_broken_over_two_lines_is_unparsed():
    parsed = parse_notice(TITLE + "一、元旦：1月1日放假。\n1月9日（周六）上班。\n国务院办公厅\n2026年11月4日")

    assert parsed.unparsed == ("1月9日（周六）上班。",)


def test_one_sentence_with_holidays_and_a_make_up_day():
    parsed = parse_notice(TITLE + "一、元旦：1月1日（周五）放假，1月9日（周六）上班。")

    assert parsed.overrides == {date(2027, 1, 1): False, date(2027, 1, 9): True}
    assert parsed.ok


def test_a_date_both_holiday_and_working_day_is_unparsed():
    parsed = parse_notice(TITLE + "一、元旦：1月1日放假。\n二、春节：1月1日上班。2月5日放假。")

    assert parsed.unparsed
    assert not parsed.ok


def test_a_date_with_its_own_year():
    # The 2012 notice's New Year item: a make-up working day in the year before.
    parsed = parse_notice("国务院办公厅关于2012年部分节假日安排的通知\n"
                          "一、元旦：2012年1月1日至3日放假调休，共3天。2011年12月31日（星期六）上班。")

    assert parsed.holidays == (date(2012, 1, 1), date(2012, 1, 2), date(2012, 1, 3))
    assert parsed.workdays == (date(2011, 12, 31),)
    assert all(chinese_calendar.is_workday(d) == is_workday for d, is_workday in parsed.overrides.items())


def test_a_range_across_the_year_end():
    # The 2023 notice's New Year item.
    parsed = parse_notice("\ufeff国务院办公厅关于2023年部分节假日安排的通知\u200b\n"
                          "一、元旦：2022年12月31日至2023年1月2日放假调休，共3天。")

    assert parsed.ok
    assert parsed.holidays == (date(2022, 12, 31), date(2023, 1, 1), date(2023, 1, 2))
    assert all(chinese_calendar.is_workday(d) == is_workday for d, is_workday in parsed.overrides.items())


def test_without_a_year_dates_are_not_guessed():
    parsed = parse_notice("一、元旦：1月1日放假。")

    assert parsed.year is None
    assert parsed.holidays == ()
    assert parsed.unparsed


FRAGMENTS = ["一、", "二、", "十、", "元旦", "：", "。", "，", "至", "月", "日", "（", "）", "周六", "星期日", "放假",
             "补休", "上班", "共", "天", "年", "2027", "1", "12", "31", "\n", "鼓励", " ", "０", "、", "(", "农历"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join) | st.text(max_size=200))
def test_never_raises(text):
    parsed = parse_notice(TITLE + text)
    assert parsed.year == 2027
    assert set(parsed.overrides) == set(parsed.holidays) | set(parsed.workdays)
