"""Working days (SPEC §5): whether a date is a working day, and every count of working days.

A date's status comes from, in order: the administrator's override, the chinese-calendar package for the
years it covers, and for any other year the statutory public holidays of 《全国年节及纪念日放假办法》
(`workdays.statutory`) with Monday–Friday for the remaining dates. Such a year is "admin_confirmed" once the
administrator confirmed it (every holiday and make-up working day entered as an override); until then its
dates are a "fallback", which is never silent: every result says which dates rest on it, since the State
Council's make-up working days and bridging days cannot be known in advance.

`WorkCalendar(changes=CalendarChanges(...))` answers as if pending overrides and confirmations were
already stored, without writing anything: the preview of which deadlines an edit would move.
"""
from __future__ import annotations

import calendar as _gregorian
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache
from types import MappingProxyType
from typing import Literal

import chinese_calendar
from django.utils.translation import gettext as _

from . import statutory
from .models import FIRST_DAY, LAST_DAY, ConfirmedYear, WorkdayOverride
from .statutory import statutory_holiday_name

MAX_COUNT = 400
ONE_DAY = timedelta(days=1)
# A lone lookup loads the weeks after it too, so that walking on from it stays one query.
_READ_AHEAD = timedelta(days=62)

Source = Literal["override", "package", "admin_confirmed", "fallback"]
YearStatus = Literal["package", "admin_confirmed", "unconfirmed"]


class CalendarError(ValueError):
    """Input the calendar cannot answer for; the message is meant for a person."""


@dataclass(frozen=True)
class DayInfo:
    day: date
    is_workday: bool
    source: Source
    # What the day is: a stored override's reason, else the festival (the package's for its years, which
    # also names a festival's make-up working days; the statutory one for the others), else "". A pending
    # override (CalendarChanges) has no reason: it shows the festival. Descriptive only: two DayInfo that
    # differ only in it are equal; not a sign of a rest day (read is_workday).
    holiday_name: str = field(default="", compare=False)

    @property
    def confirmed(self) -> bool:
        return self.source != "fallback"


@dataclass(frozen=True)
class WorkdayResult:
    day: date
    unconfirmed_dates: tuple[date, ...] = ()

    @property
    def confirmed(self) -> bool:
        return not self.unconfirmed_dates

    @property
    def warning(self) -> str:
        if self.confirmed:
            return ""
        years = "、".join(str(year) for year in sorted({d.year for d in self.unconfirmed_dates}))
        return _("该日期按法定节假日和周一至周五推算，%(years)s年的节假日安排尚未确认") % {"years": years}


@dataclass(frozen=True)
class CalendarChanges:
    """Edits not yet stored, for a preview: `overrides[d]` True/False sets d as a working day / rest day as if
    that override were stored, None removes d's stored override; `confirm_years` count as confirmed."""

    overrides: Mapping[date, bool | None] = field(default_factory=dict)
    confirm_years: frozenset[int] = frozenset()

    def __post_init__(self):
        if not isinstance(self.overrides, Mapping):
            raise CalendarError(_("日历调整必须是从日期到上班/休息的对应"))
        overrides = {}
        for day, value in self.overrides.items():
            if value is not None and not isinstance(value, bool):
                raise CalendarError(_("日历调整的值必须是上班、休息或撤销"))
            overrides[_check_date(day)] = value
        if isinstance(self.confirm_years, (str, bytes)) or not isinstance(self.confirm_years, Iterable):
            raise CalendarError(_("年份必须是整数"))
        years = frozenset(_check_year(year) for year in self.confirm_years)
        # Frozen means frozen: a copy the caller cannot change afterwards.
        object.__setattr__(self, "overrides", MappingProxyType(overrides))
        object.__setattr__(self, "confirm_years", years)


def _range_error() -> CalendarError:
    return CalendarError(
        _("日期超出日历范围（%(first)s–%(last)s年）") % {"first": FIRST_DAY.year, "last": LAST_DAY.year}
    )


def _check_date(value) -> date:
    # datetime is a date subclass, but its time and zone would make "which day" ambiguous.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise CalendarError(_("日期必须是日期（不含时间），收到的是 %(type)s") % {"type": type(value).__name__})
    if not FIRST_DAY <= value <= LAST_DAY:
        raise _range_error()
    return value


def _check_count(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise CalendarError(_("工作日数必须是整数"))
    if not 1 <= n <= MAX_COUNT:
        raise CalendarError(_("工作日数必须在 1 到 %(max)s 之间") % {"max": MAX_COUNT})
    return n


def _check_year(year) -> int:
    if isinstance(year, bool) or not isinstance(year, int):
        raise CalendarError(_("年份必须是整数"))
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise _range_error()
    return year


@lru_cache(maxsize=None)
def _package_covers(year: int) -> bool:
    # The package's data is fixed for the life of the process, so the answer per year can be kept.
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _package_holiday_name(day: date) -> str:
    """The festival the package names for a day of a year it covers (holiday or its make-up day), or ""."""
    _, holiday = chinese_calendar.get_holiday_detail(day)
    return _PACKAGE_NAMES.get(holiday, "")


# The package names festivals in English; the statutory module has the same names as translatable source.
_PACKAGE_NAMES = {
    chinese_calendar.Holiday.new_years_day.value: statutory.NEW_YEARS_DAY,
    chinese_calendar.Holiday.spring_festival.value: statutory.SPRING_FESTIVAL,
    chinese_calendar.Holiday.tomb_sweeping_day.value: statutory.TOMB_SWEEPING_DAY,
    chinese_calendar.Holiday.labour_day.value: statutory.LABOUR_DAY,
    chinese_calendar.Holiday.dragon_boat_festival.value: statutory.DRAGON_BOAT_FESTIVAL,
    chinese_calendar.Holiday.national_day.value: statutory.NATIONAL_DAY,
    chinese_calendar.Holiday.mid_autumn_festival.value: statutory.MID_AUTUMN_FESTIVAL,
}


class WorkCalendar:
    """Answers many questions about dates with a fixed handful of queries.

    A count walks day by day; asking the database about each day would cost a query per day (hundreds
    for a long notice). Instead the overrides for a whole stretch of dates come in one query, widened in
    one more if a walk runs past it, and the confirmed years in one query when first needed. What it
    loaded is kept, so make one per request or task (the module-level functions make a fresh one per
    call) and reuse it to answer for a whole work queue.

    With `changes`, every answer is the one the calendar would give once those changes were stored; the
    database is only read.
    """

    def __init__(self, changes: CalendarChanges | None = None) -> None:
        if changes is not None and not isinstance(changes, CalendarChanges):
            raise CalendarError(_("日历调整必须是从日期到上班/休息的对应"))
        self.changes = changes or CalendarChanges()
        self._overrides: dict[date, tuple[bool, str]] = {}
        self._loaded: tuple[date, date] | None = None

    def _load(self, start: date, end: date) -> None:
        if self._loaded:
            start, end = min(start, self._loaded[0]), max(end, self._loaded[1])
        end = min(end, LAST_DAY)
        # Reloading the whole span keeps it one contiguous range; overrides are a few dozen rows a year.
        rows = WorkdayOverride.objects.filter(day__range=(start, end)).values_list("day", "is_workday", "reason")
        self._overrides = {day: (is_workday, reason) for day, is_workday, reason in rows}
        self._loaded = (start, end)

    def preload(self, start: date, end: date) -> None:
        """Load the overrides from `start` to `end` in one query now (a work queue's whole span of
        deadlines), so the questions that follow need no more."""
        start, end = _check_date(start), _check_date(end)
        if not (self._loaded and self._loaded[0] <= start and end <= self._loaded[1]):
            self._load(start, end)

    @cached_property
    def _confirmed_years(self) -> frozenset[int]:
        stored = frozenset(ConfirmedYear.objects.values_list("year", flat=True))
        return stored | self.changes.confirm_years

    def _info(self, day: date) -> DayInfo:
        if not FIRST_DAY <= day <= LAST_DAY:
            raise _range_error()
        if not (self._loaded and self._loaded[0] <= day <= self._loaded[1]):
            self._load(day, day + _READ_AHEAD)
        pending = self.changes.overrides
        if day in pending and pending[day] is not None:
            return DayInfo(day, pending[day], "override", str(self._festival(day)))
        if day in self._overrides and day not in pending:
            is_workday, reason = self._overrides[day]
            return DayInfo(day, is_workday, "override", reason)
        if _package_covers(day.year):
            return DayInfo(day, chinese_calendar.is_workday(day), "package", str(_package_holiday_name(day)))
        festival = statutory_holiday_name(day)
        is_workday = day.weekday() < 5 and not festival
        source = "admin_confirmed" if day.year in self._confirmed_years else "fallback"
        return DayInfo(day, is_workday, source, str(festival))

    @staticmethod
    def _festival(day: date) -> str:
        return _package_holiday_name(day) if _package_covers(day.year) else statutory_holiday_name(day)

    def _nth_workday(self, first: date, n: int) -> WorkdayResult:
        # About 1.4 calendar days per working day plus the longest holiday run; a walk that still gets
        # past this (an administrator closing weeks by override) widens the loaded range in _info. What is
        # already loaded is not read again, so one calendar answers a whole list of dates in one query.
        self.preload(first, min(first + timedelta(days=2 * n + 30), LAST_DAY))
        unconfirmed = []
        day, counted = first, 0
        while True:
            info = self._info(day)
            if not info.confirmed:
                unconfirmed.append(day)
            if info.is_workday:
                counted += 1
                if counted == n:
                    return WorkdayResult(day, tuple(unconfirmed))
            day += ONE_DAY

    def day_info(self, day: date) -> DayInfo:
        return self._info(_check_date(day))

    def is_workday(self, day: date) -> bool:
        return self.day_info(day).is_workday

    def year_status(self, year: int) -> YearStatus:
        if _package_covers(_check_year(year)):
            return "package"
        return "admin_confirmed" if year in self._confirmed_years else "unconfirmed"

    def month_days(self, year: int, month: int) -> list[DayInfo]:
        """Every day of the month, in order (one query at most: a calendar grid)."""
        _check_year(year)
        if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
            raise CalendarError(_("月份必须是 1 到 12 之间的整数"))
        first = date(year, month, 1)
        last = date(year, month, _gregorian.monthrange(year, month)[1])
        self.preload(first, last)
        return [self._info(first + timedelta(days=i)) for i in range((last - first).days + 1)]

    def notice_last_day(self, posted: date, n: int) -> WorkdayResult:
        return self._nth_workday(_check_date(posted), _check_count(n))

    def notice_next_step_day(self, posted: date, n: int) -> WorkdayResult:
        last = self.notice_last_day(posted, n)
        return WorkdayResult(last.day + ONE_DAY, last.unconfirmed_dates)

    def deadline_after(self, receipt: date, n: int) -> WorkdayResult:
        return self._nth_workday(_check_date(receipt) + ONE_DAY, _check_count(n))

    def working_days_between(self, start: date, end: date) -> int:
        start, end = _check_date(start), _check_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        if end == start:
            return 0
        self.preload(start + ONE_DAY, end)  # once for a whole work queue, not once per question
        days = (start + timedelta(days=i) for i in range(1, (end - start).days + 1))
        return sum(self._info(day).is_workday for day in days)


def day_info(day: date) -> DayInfo:
    return WorkCalendar().day_info(day)


def is_workday(day: date) -> bool:
    return WorkCalendar().is_workday(day)


def year_status(year: int) -> YearStatus:
    return WorkCalendar().year_status(year)


def notice_last_day(posted: date, n: int) -> WorkdayResult:
    """The n-th working day of a notice; the posting date is day 1 if it is a working day."""
    return WorkCalendar().notice_last_day(posted, n)


def notice_next_step_day(posted: date, n: int) -> WorkdayResult:
    """The first day the next step is allowed: the calendar day after the notice's last day."""
    return WorkCalendar().notice_next_step_day(posted, n)


def deadline_after(receipt: date, n: int) -> WorkdayResult:
    """The n-th working day after receipt; the receipt date itself does not count."""
    return WorkCalendar().deadline_after(receipt, n)


def working_days_between(start: date, end: date) -> int:
    """Working days d with start < d <= end, negated when end is before start (overdue)."""
    return WorkCalendar().working_days_between(start, end)
