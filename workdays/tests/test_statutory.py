"""The statutory public holidays (《全国年节及纪念日放假办法》) and the calendar's use of them for the years the
chinese-calendar package does not cover. The lunar library and the package are the references."""
from datetime import date, timedelta

import chinese_calendar
import pytest
from lunar_python import Lunar

from workdays import calendar
from workdays.models import ConfirmedYear, WorkdayOverride
from workdays.statutory import statutory_holiday_name, statutory_holidays

ONE_DAY = timedelta(days=1)


def _solar(year, month, day):
    """The lunar library's own answer, independent of the code under test."""
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _package_covers(year):
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


# The first year the package does not know, found now rather than written down: the tests follow an
# upgrade of the package.
FIRST_UNCOVERED = next(year for year in range(2004, 2200) if not _package_covers(year))


def _names(year):
    return {day: str(name) for day, name in statutory_holidays(year).items()}


def _days_named(year, name):
    return sorted(day for day, festival in _names(year).items() if festival == name)


@pytest.mark.parametrize("year", [2027, 2028, 2029, 2030])
def test_festivals_from_2025_on_follow_the_lunar_calendar(year):
    new_year = _solar(year, 1, 1)
    dragon_boat = _solar(year, 5, 5)
    mid_autumn = _solar(year, 8, 15)
    national_day = [date(year, 10, d) for d in (1, 2, 3)]

    assert _days_named(year, "元旦") == [date(year, 1, 1)]
    # 除夕 (the last day of the 12th month, 29th or 30th) is the day before the first of the first month.
    assert _days_named(year, "春节") == [new_year - ONE_DAY, new_year, new_year + ONE_DAY, new_year + 2 * ONE_DAY]
    assert _days_named(year, "端午节") == [dragon_boat]
    assert _days_named(year, "劳动节") == [date(year, 5, 1), date(year, 5, 2)]
    if mid_autumn in national_day:  # 2028: Mid-Autumn on 3 October, one day, one holiday
        assert _days_named(year, "中秋节") == []
    else:
        assert _days_named(year, "中秋节") == [mid_autumn]
    assert _days_named(year, "国庆节") == national_day
    (qingming,) = _days_named(year, "清明节")
    assert date(year, 4, 4) <= qingming <= date(year, 4, 6)
    # 13 days a year (元旦1, 春节4, 清明1, 劳动节2, 端午1, 中秋1, 国庆3) less a day Mid-Autumn shares.
    assert len(statutory_holidays(year)) == 13 - (mid_autumn in national_day)
    assert list(statutory_holidays(year)) == sorted(statutory_holidays(year))


def test_mid_autumn_on_national_day_is_counted_once():
    assert _solar(2028, 8, 15) == date(2028, 10, 3)
    assert len(statutory_holidays(2028)) == 12


@pytest.mark.parametrize("year", [2014, 2019, 2024])
def test_a_year_before_2025_gets_the_2013_rules(year):
    new_year = _solar(year, 1, 1)

    assert _days_named(year, "春节") == [new_year, new_year + ONE_DAY, new_year + 2 * ONE_DAY]
    assert _days_named(year, "劳动节") == [date(year, 5, 1)]
    assert date(year, 5, 2) not in statutory_holidays(year)
    # 11 days a year (元旦1, 春节3, 清明1, 劳动节1, 端午1, 中秋1, 国庆3) less a day Mid-Autumn shares.
    mid_autumn = _solar(year, 8, 15)
    assert len(statutory_holidays(year)) == 11 - (date(year, 10, 1) <= mid_autumn <= date(year, 10, 3))


@pytest.mark.parametrize("year", range(2014, FIRST_UNCOVERED))
def test_every_statutory_holiday_is_a_holiday_in_the_package(year):
    # An independent check of the lunar dates and the Qingming term: the State Council's arrangements (which
    # the package holds) always give the statutory days off. From 2014 on the 2013 rules applied.
    for day, name in statutory_holidays(year).items():
        assert chinese_calendar.is_holiday(day), (day, str(name))
    assert (year >= 2025) == (statutory_holidays(year).keys() >= {date(year, 5, 2)})


@pytest.mark.parametrize("year", range(2008, FIRST_UNCOVERED))
def test_qingming_is_the_package_holiday_of_that_name(year):
    (qingming,) = _days_named(year, "清明节")
    assert chinese_calendar.get_holiday_detail(qingming) == (True, chinese_calendar.Holiday.tomb_sweeping_day.value)


def test_years_beyond_the_lunar_library_keep_the_fixed_festivals():
    assert _names(2150) == {
        date(2150, 1, 1): "元旦",
        date(2150, 5, 1): "劳动节",
        date(2150, 5, 2): "劳动节",
        date(2150, 10, 1): "国庆节",
        date(2150, 10, 2): "国庆节",
        date(2150, 10, 3): "国庆节",
    }


@pytest.mark.parametrize("year", ["2027", 2027.0, True, 0, None])
def test_a_year_must_be_a_whole_number(year):
    with pytest.raises(ValueError):
        statutory_holidays(year)


def test_the_result_is_a_copy():
    statutory_holidays(2027).clear()
    assert date(2027, 1, 1) in statutory_holidays(2027)
    assert statutory_holiday_name(date(2027, 1, 1)) == "元旦"
    assert statutory_holiday_name(date(2027, 1, 4)) == ""


def test_names_are_translated():
    from django.utils import translation

    with translation.override("en"):
        assert str(statutory_holidays(2027)[date(2027, 10, 1)]) == "National Day"


# --- the calendar on a year the package does not cover ------------------------------------------------------

Y = FIRST_UNCOVERED


def _spring_festival(year):
    return _days_named(year, "春节")


def _closed_days(year):
    return [date(year, 1, 1), *_spring_festival(year), *(date(year, 10, d) for d in (1, 2, 3))]


@pytest.mark.django_db
def test_statutory_holidays_are_rest_days_flagged_unconfirmed():
    cal = calendar.WorkCalendar()
    assert cal.year_status(Y) == "unconfirmed"
    for day in _closed_days(Y):
        info = cal.day_info(day)
        assert info.is_workday is False, day
        assert info.source == "fallback"
        assert not info.confirmed
        assert info.holiday_name in ("元旦", "春节", "国庆节")
    # A notice posted on New Year's Day starts on the first working day after it, and says it guessed.
    result = cal.notice_last_day(date(Y, 1, 1), 1)
    assert result.day == min(d for d in (date(Y, 1, 1) + i * ONE_DAY for i in range(1, 8))
                             if d.weekday() < 5 and d not in statutory_holidays(Y))
    assert not result.confirmed
    assert "法定节假日" in result.warning and f"{Y}年" in result.warning


@pytest.mark.django_db
def test_other_days_of_the_year_are_monday_to_friday():
    cal = calendar.WorkCalendar()
    holidays = statutory_holidays(Y)
    day = date(Y, 1, 1)
    while day.year == Y:
        assert cal.is_workday(day) == (day.weekday() < 5 and day not in holidays), day
        day += ONE_DAY


@pytest.mark.django_db
def test_a_confirmed_year_keeps_the_statutory_holidays():
    ConfirmedYear.objects.create(year=Y)
    cal = calendar.WorkCalendar()

    assert cal.year_status(Y) == "admin_confirmed"
    for day in _closed_days(Y):
        assert cal.day_info(day) == calendar.DayInfo(day, False, "admin_confirmed")
    assert cal.day_info(date(Y, 10, 1)).holiday_name == "国庆节"
    assert cal.notice_last_day(date(Y, 1, 1), 1).confirmed


@pytest.mark.django_db
def test_an_override_wins_over_the_statutory_holiday():
    WorkdayOverride.objects.create(day=date(Y, 10, 1), is_workday=True, reason="测试上班")
    WorkdayOverride.objects.create(day=date(Y, 3, 3), is_workday=False, reason="测试休息")
    cal = calendar.WorkCalendar()

    national_day = cal.day_info(date(Y, 10, 1))
    assert (national_day.is_workday, national_day.source, national_day.holiday_name) == (True, "override", "测试上班")
    assert cal.is_workday(date(Y, 3, 3)) is False
    assert cal.day_info(date(Y, 10, 2)).is_workday is False


@pytest.mark.django_db
def test_a_walk_through_the_spring_festival_stays_a_fixed_number_of_queries(django_assert_max_num_queries):
    eve = _spring_festival(Y)[0]
    with django_assert_max_num_queries(2):
        result = calendar.deadline_after(eve - ONE_DAY, 10)
    counted = [d for d in (eve + i * ONE_DAY for i in range(30)) if d.weekday() < 5 and d not in statutory_holidays(Y)]
    assert result.day == counted[9]
