"""Writes to the working-day calendar: the one way to set or remove an override and to confirm a year.

The calendar moves statutory deadlines, so a change is an audited act of a city administrator in office:
`calendar_change` writes the overrides and confirmed years, one audit record listing every day before →
after, then moves every open derived date (workdays.derived) and records each move — all in one
transaction. `calendar_preview` computes the same without writing anything, for the page that asks the
administrator to confirm.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from fundapp import clock, rights
from fundapp.errors import DomainError, NotAllowed
from fundapp.i18n import record_language
from fundapp.models import Role

from . import derived
from .calendar import CalendarChanges, CalendarError, DayInfo, WorkCalendar
from .derived import Move
from .models import FIRST_DAY, LAST_DAY, ConfirmedYear, WorkdayOverride

REASON_MAX = WorkdayOverride._meta.get_field("reason").max_length
NOTE_MAX = ConfirmedYear._meta.get_field("note").max_length


@dataclass(frozen=True)
class DayChange:
    """One date as the calendar answers now and as it will answer after the change."""

    day: date
    before: DayInfo
    after: DayInfo
    override_before: bool | None  # the stored override (None: none)
    override_after: bool | None

    @property
    def workday_changed(self) -> bool:
        return self.before.is_workday != self.after.is_workday

    @property
    def override_changed(self) -> bool:
        return self.override_before != self.override_after

    def as_record(self, side: str) -> dict:
        info = self.before if side == "before" else self.after
        override = self.override_before if side == "before" else self.override_after
        return {"is_workday": info.is_workday, "source": info.source, "override": override}


@dataclass(frozen=True)
class YearChange:
    year: int
    status_before: str
    status_after: str


@dataclass(frozen=True)
class KeptOverride:
    """An override of a year being confirmed that the change does not mention: it stays as it is."""

    day: date
    is_workday: bool
    reason: str


@dataclass(frozen=True)
class Preview:
    changes: CalendarChanges
    days: tuple[DayChange, ...]
    years: tuple[YearChange, ...]  # years newly confirmed
    moves: tuple[Move, ...]
    kept: tuple[KeptOverride, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.days and not self.years

    @property
    def workday_changes(self) -> tuple[DayChange, ...]:
        return tuple(d for d in self.days if d.workday_changed)

    @property
    def fingerprint(self) -> str:
        """A digest of what the change would do, so that a confirmation can tell that the calendar or the
        open dates changed since the administrator looked at the preview."""
        parts = [repr((d.day.isoformat(), d.before.is_workday, d.after.is_workday, d.override_before,
                       d.override_after)) for d in self.days]
        parts += [repr((y.year, y.status_before, y.status_after)) for y in self.years]
        parts += [repr(m.key) for m in self.moves]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ChangeResult:
    record: object  # the audit record of the change
    preview: Preview  # what was written (the moves as applied)


def city_admin_post(user):
    """The city administrator's post in force that `user` acts in, or None."""
    if user is None:
        return None
    return rights.current_posts(user).filter(role=Role.CITY_ADMIN).order_by("start_date", "pk").first()


def _require_city_admin(by):
    post = city_admin_post(by)
    if post is None:
        raise NotAllowed(_("只有在任的市委组织部管理员可以调整工作日日历。"))
    return post


def _range_error():
    return DomainError(_("日期超出日历范围（%(first)s–%(last)s年）。") % {"first": FIRST_DAY.year, "last": LAST_DAY.year})


def make_changes(overrides=None, confirm_years=()) -> CalendarChanges:
    """`CalendarChanges` from a form's or a parsed notice's data; input it cannot hold is a DomainError."""
    try:
        return CalendarChanges(overrides=dict(overrides or {}), confirm_years=frozenset(confirm_years))
    except CalendarError as exc:
        raise DomainError(str(exc)) from None


def _checked(changes) -> CalendarChanges:
    if not isinstance(changes, CalendarChanges):
        raise DomainError(_("没有可记录的日历调整。"))
    for day, value in changes.overrides.items():
        if isinstance(day, datetime) or not isinstance(day, date):
            raise DomainError(_("调整日期必须是日期。"))
        if not FIRST_DAY <= day <= LAST_DAY:
            raise _range_error()
        if value is not None and not isinstance(value, bool):
            raise DomainError(_("每个调整日期须注明上班或休息。"))
    for year in changes.confirm_years:
        if isinstance(year, bool) or not isinstance(year, int):
            raise DomainError(_("年份必须是整数。"))
        if not FIRST_DAY.year <= year <= LAST_DAY.year:
            raise _range_error()
    if not changes.overrides and not changes.confirm_years:
        raise DomainError(_("没有可记录的日历调整：请至少调整一天或确认一个年份。"))
    return changes


def _preview(changes: CalendarChanges, *, today: date, for_update: bool = False) -> Preview:
    now_cal, next_cal = WorkCalendar(), WorkCalendar(changes=changes)
    overrides = changes.overrides
    stored = dict(WorkdayOverride.objects.filter(day__in=list(overrides)).values_list("day", "is_workday"))
    confirmed = set(ConfirmedYear.objects.filter(year__in=list(changes.confirm_years)).values_list("year", flat=True))
    new_years = sorted(set(changes.confirm_years) - confirmed)

    candidates: dict[date, tuple[DayInfo, DayInfo]] = {}
    for year in new_years:
        for cal in (now_cal, next_cal):
            cal.preload(date(year, 1, 1), date(year, 12, 31))
        for month in range(1, 13):
            for before, after in zip(now_cal.month_days(year, month), next_cal.month_days(year, month), strict=True):
                candidates[before.day] = (before, after)
    for day in overrides:
        if day not in candidates:
            candidates[day] = (now_cal.day_info(day), next_cal.day_info(day))
    # Overrides of the years being confirmed that the change leaves alone are shown, never dropped silently.
    kept_rows = (WorkdayOverride.objects.filter(day__year__in=new_years).exclude(day__in=list(overrides))
                 if new_years else WorkdayOverride.objects.none())
    stored.update({row.day: row.is_workday for row in kept_rows})

    days = []
    for day in sorted(candidates):
        before, after = candidates[day]
        override_before = stored.get(day)
        override_after = overrides[day] if day in overrides else override_before
        change = DayChange(day, before, after, override_before, override_after)
        if change.workday_changed or change.override_changed:
            days.append(change)
    years = tuple(YearChange(y, now_cal.year_status(y), next_cal.year_status(y)) for y in new_years)
    moves = tuple(derived.moves(next_cal, today=today, for_update=for_update))
    kept = tuple(KeptOverride(r.day, r.is_workday, r.reason) for r in kept_rows.order_by("day"))
    return Preview(changes, tuple(days), years, moves, kept)


def calendar_preview(changes: CalendarChanges) -> Preview:
    """What `calendar_change(changes=…)` would do, day by day and date by date; writes nothing."""
    return _preview(_checked(changes), today=clock.today())


def _check_reason(reason) -> str:
    reason = " ".join(str(reason or "").replace("\x00", " ").split())  # PostgreSQL text holds no NUL
    if not reason:
        raise DomainError(_("请填写调整原因（例如国务院办公厅通知的名称或文号）。"))
    if len(reason) > REASON_MAX:
        raise DomainError(_("调整原因最多 %(max)s 个字。") % {"max": REASON_MAX})
    return reason


def calendar_change(*, by, changes: CalendarChanges, reason: str, source_text: str = "",
                    expected: str | None = None) -> ChangeResult:
    """Write `changes` (override upserts and removals, years confirmed) and move every open derived date,
    in one transaction, with one audit record for the change and one per moved date.

    `expected` is the fingerprint of the preview the administrator confirmed; if the calendar or the open
    dates changed since, the change is refused so that nothing is recorded that they did not see.
    """
    post = _require_city_admin(by)
    reason = _check_reason(reason)
    changes = _checked(changes)
    today = clock.today()
    with transaction.atomic():
        # Locks the stored overrides being replaced, so two administrators changing the same day serialise.
        list(WorkdayOverride.objects.select_for_update().filter(day__in=list(changes.overrides)))
        preview = _preview(changes, today=today)
        if preview.empty:
            raise DomainError(_("此次调整与现有日历相同，没有需要记录的变化。"))
        if expected is not None and expected != preview.fingerprint:
            raise DomainError(_("日历或待办日期在预览之后有变化，请重新预览后再确认。"), code="conflict")

        for change in preview.days:
            if not change.override_changed:
                continue
            if change.override_after is None:
                WorkdayOverride.objects.filter(day=change.day).delete()
            else:
                WorkdayOverride.objects.update_or_create(
                    day=change.day, defaults={"is_workday": change.override_after, "reason": reason})
        for year in preview.years:
            ConfirmedYear.objects.get_or_create(year=year.year, defaults={"note": reason[:NOTE_MAX]})

        years = sorted({d.day.year for d in preview.days} | {y.year for y in preview.years})
        after = {
            "days": {d.day.isoformat(): d.as_record("after") for d in preview.days},
            "confirmed_years": [y.year for y in preview.years],
        }
        source_text = str(source_text or "").replace("\x00", "").strip()
        if source_text:
            after["source_text"] = source_text
        record = audit_record(
            actor=by, post=post, action="calendar.change", target=("workdays.calendar", ",".join(map(str, years))),
            before={"days": {d.day.isoformat(): d.as_record("before") for d in preview.days},
                    "year_status": {str(y.year): y.status_before for y in preview.years}},
            after=after, note=reason,
        )

        # The calendar as it now is, read afresh; every open date it moves is moved and recorded.
        moved = derived.moves(WorkCalendar(), today=today, for_update=True)
        with record_language():
            note = _("随工作日日历调整重新计算（%(reason)s；审计记录 %(id)s）") % {"reason": reason, "id": record.pk}
        for move in moved:
            derived.apply(move, by=by, post=post, note=note)
    return ChangeResult(record, Preview(changes, preview.days, preview.years, tuple(moved), preview.kept))
