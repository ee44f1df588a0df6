"""Reads for the batches pages: the year close's preview, grouped by subdistrict with subtotals.

The figures come from the year close's preview (`approvals.year_close.fund_year_close_preview`, registered
as the "year_close" kind's `preview` — this app imports no client app: the whole city in a fixed
number of queries); this module only groups and adds them up, and lists the year-close runs already
started for the year, so the page costs the same whether the city has ten communities or five hundred.
"""
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from fundapp import clock

from .models import BatchRun

ZERO = Decimal("0.00")
KIND = "year_close"


@dataclass
class Totals:
    communities: int = 0
    to_close: int = 0
    closed: int = 0
    available: Decimal = ZERO
    reserved: Decimal = ZERO
    carry: Decimal = ZERO
    proposals: int = 0

    def add(self, row):
        self.communities += 1
        if row.closed:
            self.closed += 1
            return
        self.to_close += 1
        self.available += row.available
        self.reserved += row.reserved
        self.carry += row.to_carry
        self.proposals += row.moving


@dataclass
class SubdistrictGroup:
    subdistrict: object
    rows: list = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)


@dataclass
class YearCloseOverview:
    year: int
    groups: list
    totals: Totals
    closable_from: datetime.date
    runs: list

    @property
    def can_close(self):
        """A year can be closed once it is over (the service refuses the current year, and any later one)."""
        return clock.today() >= self.closable_from

    @property
    def to_close_ids(self):
        return [row.community.pk for group in self.groups for row in group.rows if not row.closed]

    @property
    def finished(self):
        """Every community's year is closed already: nothing left to start."""
        return self.totals.communities > 0 and self.totals.to_close == 0


def closable_from(year):
    """The first day a year may be closed: 1 January of the next (the rule fund_year_close enforces)."""
    return datetime.date(year + 1, 1, 1)


def year_close_overview(year):
    """The preview of closing `year` for every community, by subdistrict, and the runs started for it.
    Rows are the close's `ClosePreview` (community, closed, available, reserved, to_carry, moving)."""
    from .registry import preview_for

    groups, totals = {}, Totals()
    for row in preview_for(KIND)(year=year):
        subdistrict = row.community.subdistrict
        group = groups.get(subdistrict.pk)
        if group is None:
            group = groups[subdistrict.pk] = SubdistrictGroup(subdistrict)
        group.rows.append(row)
        group.totals.add(row)
        totals.add(row)
    ordered = list(groups.values())  # the preview comes ordered by subdistrict and community
    runs = list(BatchRun.objects.filter(kind=KIND, year=year).select_related("requested_by")[:5])
    return YearCloseOverview(year=year, groups=ordered, totals=totals, closable_from=closable_from(year), runs=runs)


def year_close_years():
    """The years the page offers: every year some community has a fund year for, last year and this year."""
    from fundapp.models import FundYear

    today = clock.today()
    years = set(FundYear.objects.order_by().values_list("year", flat=True).distinct())
    return sorted(years | {today.year - 1, today.year}, reverse=True)
