"""The public holidays for all citizens that the law fixes (《全国年节及纪念日放假办法》), year by year.

This is the calendar's fallback for the years the chinese-calendar package does not cover: the festivals
are certain years ahead, only the State Council's yearly arrangement around them (调休, make-up working
days, bridging days) is not, so it is not modelled here; such a year stays "not confirmed" until the city
administrator confirms it.

Two versions of the law are applied, each for the years it was in force:

- from 2025 (the revision of November 2024): 元旦 1 Jan; 春节 the lunar New Year's Eve (除夕) and the 1st–3rd
  of the first lunar month; 清明节 the day of the Qingming solar term; 劳动节 1–2 May; 端午节 the 5th of the
  fifth lunar month; 中秋节 the 15th of the eighth lunar month; 国庆节 1–3 October (13 days);
- before 2025 (the 2013 version, also used for the earlier years, which the package covers from 2004 on
  anyway): the same without 除夕 and without 2 May (11 days).

Lunar dates come from the `lunar-python` library (MIT) and the Qingming solar term from the chinese-calendar
package, never from a table written here. Both answer for 1900–2099; for a later year only the festivals
on fixed Gregorian dates (元旦, 劳动节, 国庆节) are known.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

import chinese_calendar
from django.utils.translation import gettext_lazy as _
from lunar_python import Lunar

NEW_YEARS_DAY = _("元旦")
SPRING_FESTIVAL = _("春节")
TOMB_SWEEPING_DAY = _("清明节")
LABOUR_DAY = _("劳动节")
DRAGON_BOAT_FESTIVAL = _("端午节")
MID_AUTUMN_FESTIVAL = _("中秋节")
NATIONAL_DAY = _("国庆节")

# The first year of the November 2024 revision (在 2025年1月1日 起施行).
REVISION_2024_FROM = 2025
# The years both libraries answer for (lunar-python: well beyond; chinese_calendar's solar terms: 1900–2100).
LUNAR_YEARS = range(1900, 2100)

ONE_DAY = timedelta(days=1)


def _lunar(year: int, month: int, day: int) -> date:
    """The solar date of a day of the Chinese lunar calendar (month 1 day 1 = the Spring Festival)."""
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _qingming(year: int) -> date:
    terms = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30))
    (day,) = [day for day, name in terms if name == "清明"]
    return day


@lru_cache(maxsize=None)
def _table(year: int) -> Mapping[date, str]:
    new_law = year >= REVISION_2024_FROM
    days: dict[date, str] = {date(year, 1, 1): NEW_YEARS_DAY}
    if year in LUNAR_YEARS:
        new_year = _lunar(year, 1, 1)
        first = -1 if new_law else 0  # 除夕 is the day before the first of the first month
        for offset in range(first, 3):
            days[new_year + offset * ONE_DAY] = SPRING_FESTIVAL
        days[_qingming(year)] = TOMB_SWEEPING_DAY
    days[date(year, 5, 1)] = LABOUR_DAY
    if new_law:
        days[date(year, 5, 2)] = LABOUR_DAY
    if year in LUNAR_YEARS:
        days[_lunar(year, 5, 5)] = DRAGON_BOAT_FESTIVAL
        days[_lunar(year, 8, 15)] = MID_AUTUMN_FESTIVAL
    for day in (1, 2, 3):
        days[date(year, 10, day)] = NATIONAL_DAY
    # Mid-Autumn can fall on 1–3 October (2020, 2028…): one day is one holiday, the law does not add one.
    return MappingProxyType(dict(sorted(days.items())))


def statutory_holidays(year: int) -> dict[date, str]:
    """The statutory public holidays of `year`, date → festival name (lazy translation), in date order.

    A date on which two festivals meet (Mid-Autumn on 1–3 October) appears once. Years before 1900 or after
    2099 carry only 元旦, 劳动节 and 国庆节 (the lunar library does not reach them).
    """
    if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
        raise ValueError(f"year must be an int in 1..9999, got {year!r}")
    return dict(_table(year))


def statutory_holiday_name(day: date) -> str:
    """The festival whose statutory holiday `day` is, "" if none (cached per year)."""
    return _table(day.year).get(day, "")
