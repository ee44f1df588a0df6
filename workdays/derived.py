"""Stored dates derived from the calendar, kept fresh when the calendar changes (SPEC §9).

Notice last days, review deadlines and year-end disclosure last days are computed from the calendar when
the act happens and stored, because every page, PDF, JSON and CSV reads them. A change to the calendar
must move every open one, and say so in the audit trail. The apps that own such dates register a provider
here from their `AppConfig.ready()`; workdays, the ground floor, never imports them.

A provider is an object with

- `kind`: a short name ("notice", "review_deadline", "disclosure"), unique among providers;
- `moves(calendar, *, today, for_update=False) -> list[Move]`: its open dates whose stored values differ
  from what `calendar` (the calendar as it will be) gives; with `for_update` the rows are locked for the
  rest of the transaction;
- `apply(move, *, by, post, note)`: write the move's new values and one audit record for it.

`workdays.services.calendar_preview` asks every provider with the calendar as it would be after a change;
`workdays.services.calendar_change` asks again, with the change written, and applies each move.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from .calendar import WorkCalendar
from .models import FIRST_DAY, LAST_DAY

_AROUND = timedelta(days=366)


@dataclass(frozen=True)
class Move:
    """One stored date (and its "calendar confirmed" flag) that the calendar as it will be moves."""

    kind: str
    label: str  # what the date is, for a person: "项目方案公示最后一天"
    title: str  # whose date: the proposal's title, or the disclosure's
    community_id: int
    community_name: str
    pk: int  # the row that stores it
    day_before: date
    day_after: date
    confirmed_before: bool
    confirmed_after: bool
    # Every stored field that changes, as it is and as it will be (the audit record's before/after).
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    url: str = ""  # the staff page that shows it, if any

    @property
    def day_moved(self) -> bool:
        return self.day_before != self.day_after

    @property
    def key(self) -> tuple:
        """What identifies the move and its result (for comparing a preview with what is applied)."""
        return (self.kind, self.pk, tuple(sorted(self.after.items())))


class Provider(Protocol):
    kind: str

    def moves(self, calendar: WorkCalendar, *, today: date, for_update: bool = False) -> list[Move]: ...

    def apply(self, move: Move, *, by, post, note: str) -> None: ...


_providers: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    """Add a provider (from an AppConfig.ready(); registering the same kind again replaces it)."""
    _providers[provider.kind] = provider
    return provider


def providers() -> list[Provider]:
    return list(_providers.values())


def moves(calendar: WorkCalendar, *, today: date, for_update: bool = False) -> list[Move]:
    """Every registered provider's open dates that `calendar` moves, soonest new date first."""
    # One query for the overrides of the stretch nearly every open date lies in (a notice runs at most 60
    # working days; a review is received days ago), rather than one per date counted; the rare date
    # outside it is still answered, the calendar loading more as it walks.
    calendar.preload(max(FIRST_DAY, today - _AROUND), min(LAST_DAY, today + _AROUND))
    found = []
    for provider in providers():
        found.extend(provider.moves(calendar, today=today, for_update=for_update))
    return sorted(found, key=lambda m: (m.day_after, m.kind, m.community_name, m.pk))


def apply(move: Move, *, by, post, note: str) -> None:
    _providers[move.kind].apply(move, by=by, post=post, note=note)
