"""Finance reads across the ledger and the projects: reconciliation and summaries (SPEC §2, §6, §7).

The FundYear columns are running totals kept by the services; the append-only ledger and the projects are
the record they summarise. `reconcile` recomputes each total from that record and says exactly which one
disagrees. Everything here reads in a constant number of queries, however many communities it covers
(aggregates with GROUP BY, folded in Python) — the city-wide pages must cost the same per community.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from approvals.models import DROPPED, Category, Payment, Proposal, State

from fundapp.models import Community, FundYear, LedgerEntry
from fundapp.models.funds import ZERO, MoneySum

KIND = LedgerEntry.Kind


def _label(name):
    return FundYear._meta.get_field(name).verbose_name


# (FundYear column, what its recomputed figure is made of)
CHECKS = (
    ("allocated", _("拨款分录合计（扣除冲销）")),
    ("carried_in", _("上年结转分录合计")),
    ("settled", _("支出分录合计")),
    ("reserved", _("各项目预留金额合计")),
    ("carried_out", _("结转下年分录合计")),
)
CARRY_CHAIN = "carry_chain"


@dataclass(frozen=True)
class Check:
    """One figure: what the fund year's running total says and what the record says."""

    key: str
    name: str
    basis: str
    running: Decimal
    recomputed: Decimal

    @property
    def difference(self):
        return self.running - self.recomputed

    @property
    def ok(self):
        return self.difference == 0


@dataclass(frozen=True)
class Identity:
    """allocated + carried_in == settled + reserved + carried_out + available.

    Built from the recomputed figures and the available money the system shows (and gates approvals on),
    so it fails whenever a running total has drifted from the record — it cannot hold by construction.
    """

    allocated: Decimal
    carried_in: Decimal
    settled: Decimal
    reserved: Decimal
    carried_out: Decimal
    available: Decimal

    @property
    def left(self):
        return self.allocated + self.carried_in

    @property
    def right(self):
        return self.settled + self.reserved + self.carried_out + self.available

    @property
    def difference(self):
        return self.left - self.right

    @property
    def ok(self):
        return self.difference == 0


@dataclass(frozen=True)
class Reconciliation:
    fund_year: FundYear
    checks: tuple
    identity: Identity

    @property
    def community(self):
        return self.fund_year.community

    @property
    def failures(self):
        return [check for check in self.checks if not check.ok]

    @property
    def ok(self):
        return not self.failures and self.identity.ok


def _ids(communities):
    """Community ids: a subquery for a queryset (nothing is fetched), else a list from instances or ids."""
    if isinstance(communities, QuerySet):
        return communities.values("pk")
    return [getattr(c, "pk", c) for c in communities]


def _reconcile(fund_years, previous, scope):
    """Reconcile `fund_years` (communities loaded); `previous` maps community id → carried_out of the year
    before; `scope` selects the same fund years from the entries' and proposals' side (lookups through
    `fund_year__`). Two queries, whatever the number of fund years."""
    if not fund_years:
        return []
    ledger = defaultdict(lambda: ZERO)
    # Reversals count against the kind of the entry they reverse.
    for row in (LedgerEntry.objects.filter(**scope).order_by()
                .values("fund_year_id", "kind", "reverses__kind").annotate(total=Sum("amount"))):
        if row["kind"] == KIND.REVERSAL:
            ledger[row["fund_year_id"], row["reverses__kind"]] -= row["total"] or ZERO
        else:
            ledger[row["fund_year_id"], row["kind"]] += row["total"] or ZERO
    reserved = dict(Proposal.objects.filter(**scope).order_by().values("fund_year_id")
                    .annotate(total=Sum("reserved_amount")).values_list("fund_year_id", "total"))
    results = []
    for fy in fund_years:
        recomputed = {
            "allocated": ledger[fy.pk, KIND.ALLOCATION],
            "carried_in": ledger[fy.pk, KIND.CARRY_IN],
            "settled": ledger[fy.pk, KIND.EXPENDITURE],
            "reserved": reserved.get(fy.pk) or ZERO,
            "carried_out": ledger[fy.pk, KIND.CARRY_OUT],
        }
        checks = [Check(key, _label(key), basis, getattr(fy, key), recomputed[key]) for key, basis in CHECKS]
        checks.append(Check(CARRY_CHAIN, _("上年结转与上年度结转下年"), _("上年度经费账的结转下年"),
                            fy.carried_in, previous.get(fy.community_id, ZERO)))
        results.append(Reconciliation(fy, tuple(checks), Identity(available=fy.available, **recomputed)))
    return results


def reconcile(fund_year):
    """One fund year against its ledger and projects (four queries)."""
    fund_year = FundYear.objects.select_related("community__subdistrict").get(pk=fund_year.pk)
    previous = dict(FundYear.objects.filter(community_id=fund_year.community_id, year=fund_year.year - 1)
                    .values_list("community_id", "carried_out"))
    return _reconcile([fund_year], previous, {"fund_year_id": fund_year.pk})[0]


def reconcile_many(communities, year):
    """Every fund year of `year` of the given communities, in three queries whatever their number.

    Ordered by subdistrict and community name; communities without a fund year that year are left out.
    """
    this_year, previous = [], {}
    for fy in (FundYear.objects.filter(community_id__in=_ids(communities), year__in=[year, year - 1])
               .select_related("community__subdistrict")
               .order_by("community__subdistrict__name", "community__name")):
        if fy.year == year:
            this_year.append(fy)
        else:
            previous[fy.community_id] = fy.carried_out
    return _reconcile(this_year, previous, {"fund_year__community_id__in": _ids(communities),
                                            "fund_year__year": year})


# --- summary -----------------------------------------------------------------------------------------

@dataclass
class Figures(MoneySum):
    """Money and projects added up over one community, a subdistrict or everything in view."""

    projects: int = 0  # proposals of the year, rejected and withdrawn ones included
    approved: Decimal = ZERO  # approved budgets of live (not rejected or withdrawn) projects
    fund_years: int = 0

    @property
    def spent_percent(self):
        """Settled as a share of the total, in percent with one decimal (None when there is no money)."""
        if not self.total:
            return None
        return (self.settled * 100 / self.total).quantize(Decimal("0.1"))

    COUNTERS = ("projects", "approved", "fund_years")

    def add_fund_year(self, fy):
        super().add_fund_year(fy)
        self.fund_years += 1


@dataclass
class CommunityRow:
    community: Community
    fund_year: FundYear | None
    figures: Figures = field(default_factory=Figures)


@dataclass
class SubdistrictRow:
    subdistrict: object
    communities: int = 0
    figures: Figures = field(default_factory=Figures)


@dataclass
class Summary:
    year: int
    totals: Figures
    communities: list
    subdistricts: list
    by_category: list  # [{"category", "label", "count", "approved", "settled"}] in Art. 8 order
    by_state: list  # [{"state", "label", "count"}] in workflow order

    @property
    def category_max(self):
        """The largest approved or settled amount of a category: the full length of a chart's bar."""
        return max([row["approved"] for row in self.by_category] + [row["settled"] for row in self.by_category]
                   + [ZERO])

    @property
    def projects(self):
        return sum(row["count"] for row in self.by_state)


def summary(communities, year):
    """Totals across `communities` for `year`, by category, by proposal state and per community.

    Four queries whatever the number of communities: the communities, their fund years, the year's
    proposals grouped by community, category and state, and the year's payments grouped by category.
    """
    rows = {
        c.pk: CommunityRow(community=c, fund_year=None)
        for c in Community.objects.filter(pk__in=_ids(communities)).select_related("subdistrict")
        .order_by("subdistrict__name", "name")
    }
    for fy in FundYear.objects.filter(community_id__in=_ids(communities), year=year).order_by():
        row = rows.get(fy.community_id)
        if row is not None:
            fy.community = row.community
            row.fund_year = fy
            row.figures.add_fund_year(fy)
    live = ~Q(state__in=DROPPED)
    categories = {value: {"count": 0, "approved": ZERO, "settled": ZERO} for value in Category.values}
    states = dict.fromkeys(State.values, 0)
    for group in (Proposal.objects.filter(community_id__in=_ids(communities), fund_year__year=year)
                  .order_by().values("community_id", "category", "state")
                  .annotate(n=Count("pk"), approved=Sum("approved_budget", filter=live))):
        row = rows.get(group["community_id"])
        if row is None:
            continue
        approved = group["approved"] or ZERO
        states[group["state"]] += group["n"]
        row.figures.projects += group["n"]
        row.figures.approved += approved
        if group["state"] not in DROPPED:
            category = categories[group["category"]]
            category["count"] += group["n"]
            category["approved"] += approved
    # Paid out of the year's funds, by category: a project carried into the next year keeps its earlier
    # payments in the year that made them, so the categories add up to the ledger's settled total.
    for (community_id, category), paid in Payment.objects.paid_by_category(
            year=year, community_ids=_ids(communities)).items():
        if community_id in rows:
            categories[category]["settled"] += paid
    totals, subdistricts = Figures(), {}
    for row in rows.values():
        totals.add(row.figures)
        sd = subdistricts.setdefault(row.community.subdistrict_id, SubdistrictRow(row.community.subdistrict))
        sd.communities += 1
        sd.figures.add(row.figures)
    return Summary(
        year=year, totals=totals, communities=list(rows.values()), subdistricts=list(subdistricts.values()),
        by_category=[{"category": value, "label": Category(value).label, **categories[value]}
                     for value in Category.values],
        by_state=[{"state": value, "label": State(value).label, "count": states[value]} for value in State.values],
    )

