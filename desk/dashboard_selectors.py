"""The dashboards' reads: the whole city (the city administrator) and one subdistrict (its secretary and staff).

Every list is one queryset (or, for the six categories, two aggregates) over the communities in view, filtered
in the database and paged by the view with Django's Paginator: a page costs the same number of queries at ten
communities as at ten thousand, and holds at most `PAGE_SIZE` rows. The city's figures are grouped by
subdistrict in the database, never by community.

The dates are the ones the rest of the house uses: this week as on the home (`desk.home.WEEK`), the review
deadline stored by the chain (kept current by `approvals.derived_dates`), the annual report's due date
(`approvals.reports.due_date`) and the year-end disclosure's (`disclosure.models.deadline`); reports and
disclosures are missing only in their seasons, as on the city administrator's home.
"""
import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from approvals.models import DROPPED, AnnualReport, Category, Notice, Objection, Payment, Proposal, State
from approvals.reports import due_date as report_due_date
from disclosure.models import YearEndDisclosure
from disclosure.models import deadline as disclosure_deadline
from fundapp.models import Community, FundYear
from fundapp.models.funds import ZERO
from fundapp.i18n import long_date
from fundapp.privacy import mask_name

from .home import WEEK

PAGE_SIZE = 50
CHART_ROWS = 20  # a subdistrict's spending chart: its first communities (all of them are in the list)
SMALL_GROUP_WATCH = Decimal("0.15")  # of a fund year's total: flagged before the rule's cap of 20% (Art. 7(2))
IDLE_FROM = (10, 1)  # less than half of the fund spent by 1 October
IDLE_SHARE = Decimal("0.5")
HUNDRED = Decimal(100)


def _total(prefix=""):
    return F(f"{prefix}allocated") + F(f"{prefix}carried_in")


def percent(part, whole):
    """`part` as a share of `whole` in percent, one decimal; None without a whole."""
    if not whole:
        return None
    return (Decimal(part or 0) * HUNDRED / Decimal(whole)).quantize(Decimal("0.1"))


def reports_in_season(year, today):
    """Missing annual reports are listed once they are overdue (after 30 November), as on the city's home."""
    return year < today.year or (year == today.year and today > report_due_date(year))


def disclosures_in_season(year, today):
    """Year-end disclosures are listed from 1 December (due 19 December), as on the city's home."""
    return year < today.year or (year == today.year and today.month == 12)


def idle_in_season(year, today):
    return year < today.year or (year == today.year and today >= datetime.date(year, *IDLE_FROM))


# ---- what is asked ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """What the person narrowed the lists to; the view parses it from the query string."""

    year: int
    subdistrict: object = None   # a Subdistrict (the city page's filter), or None
    community: str = ""          # a community's code, or part of its name
    category: int | None = None  # Category value
    kind: str = ""               # a list's own kinds (deadlines: review / notice)

    def query(self):
        """The filters as query-string pairs (for the pager and the export links)."""
        pairs = [("year", self.year)]
        if self.subdistrict is not None:
            pairs.append(("subdistrict", self.subdistrict.code))
        if self.community:
            pairs.append(("community", self.community))
        if self.category:
            pairs.append(("category", self.category))
        if self.kind:
            pairs.append(("kind", self.kind))
        return pairs


@dataclass(frozen=True)
class Scope:
    """Whose dashboard: the city's (subdistrict None) or one subdistrict's, as of `today`."""

    today: datetime.date
    subdistrict: object = None

    @property
    def week_end(self):
        return self.today + WEEK

    @property
    def is_city(self):
        return self.subdistrict is None


def _place(scope, f, prefix):
    """The communities in view, as a Q on the community reached through `prefix` ("" for Community itself)."""
    q = Q()
    subdistrict = scope.subdistrict or f.subdistrict
    if subdistrict is not None:
        q &= Q(**{f"{prefix}subdistrict_id": subdistrict.pk})
    if f.community:
        q &= Q(**{f"{prefix}code": f.community}) | Q(**{f"{prefix}name__icontains": f.community})
    return q


def _category(f, prefix=""):
    return Q(**{f"{prefix}category": f.category}) if f.category else Q()


# ---- a cell, a list --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """One value of a row: shown on the page (with its link) and written to the export as it is."""

    value: object
    url: str = ""
    format: str = "text"  # text, money, date, percent, number
    note: str = ""        # a second, smaller line on the page (not exported)
    late: bool = False


def _ledger(community, year):
    return reverse("ledger", args=[community.code, year])


def _community_cells(community, year):
    return [Cell(community.name, _ledger(community, year)), Cell(community.subdistrict.name)]


def _proposal_cell(proposal):
    return Cell(proposal.title, reverse("approvals:proposal", args=[proposal.pk]),
                note=str(Category(proposal.category).label))


@dataclass
class DashList:
    key: str
    title: str
    help: str = ""
    filters: tuple = ("subdistrict", "community", "year")
    kinds: tuple = ()      # (value, label) for the kind filter
    counted: bool = True   # has a card with its count on the overview
    exception: bool = False

    formats = ()  # per column: text, number, money, date or percent

    def column_formats(self, scope):
        return self.formats

    def columns(self, scope):
        raise NotImplementedError

    def rows(self, scope, f):
        """The rows, filtered and ordered: a queryset (or a short list) for the Paginator and the export."""
        raise NotImplementedError

    def cells(self, row, scope, f):
        raise NotImplementedError

    def in_season(self, scope, f):
        return True

    def season_note(self, scope, f):
        return ""


class Deadlines(DashList):
    """Reviews whose deadline falls this week and notices whose last day does (Art. 10, 11)."""

    formats = ("text", "text", "text", "text", "date")

    def columns(self, scope):
        return [_("项目"), _("社区"), _("街道"), _("事项"), _("日期")]

    def rows(self, scope, f):
        today, end = scope.today, scope.week_end
        ending = Notice.objects.running_on(today).filter(last_day__lte=end)
        first = ending.filter(proposal=OuterRef("pk")).order_by("last_day", "pk")
        review = Q(state=State.UNDER_REVIEW, review_deadline__gte=today, review_deadline__lte=end)
        notice = Q(pk__in=ending.values("proposal_id"))
        wanted = {"review": review, "notice": notice}.get(f.kind, review | notice)
        # The notice's day and kind are read for the rows found only (not for every proposal of the year).
        return (Proposal.objects.filter(_place(scope, f, "community__"), _category(f), wanted, fund_year__year=f.year)
                .annotate(notice_day=Subquery(first.values("last_day")[:1]),
                          notice_kind=Subquery(first.values("kind")[:1]))
                .annotate(day=Coalesce("notice_day", "review_deadline"))
                .select_related("community__subdistrict").order_by("day", "pk"))

    def cells(self, p, scope, f):
        if p.notice_day is not None:
            what, day = _("%(kind)s结束") % {"kind": Notice.Kind(p.notice_kind).label}, p.notice_day
        else:
            what, day = _("审批期限"), p.review_deadline
        return [_proposal_cell(p), *_community_cells(p.community, f.year), Cell(str(what)), Cell(day, format="date")]


class OverdueReviews(DashList):

    formats = ("text", "text", "text", "date", "number")
    def columns(self, scope):
        return [_("项目"), _("社区"), _("街道"), _("审批期限"), _("超期天数")]

    def rows(self, scope, f):
        return (Proposal.objects.filter(_place(scope, f, "community__"), _category(f), fund_year__year=f.year,
                                        state=State.UNDER_REVIEW, review_deadline__lt=scope.today)
                .select_related("community__subdistrict").order_by("review_deadline", "pk"))

    def cells(self, p, scope, f):
        return [_proposal_cell(p), *_community_cells(p.community, f.year),
                Cell(p.review_deadline, format="date", late=True),
                Cell((scope.today - p.review_deadline).days, format="number")]


class MissingReports(DashList):
    """Communities with a fund that year and no report submitted (Art. 16)."""

    formats = ("text", "text", "text", "date")

    def columns(self, scope):
        return [_("社区"), _("街道"), _("年度报告"), _("截止日期")]

    def in_season(self, scope, f):
        return reports_in_season(f.year, scope.today)

    def season_note(self, scope, f):
        return _("年度报告 %(day)s 截止，此后列出未报送的社区。") % {"day": long_date(report_due_date(f.year))}

    def rows(self, scope, f, *, season=True):
        if season and not self.in_season(scope, f):
            return Community.objects.none()
        reports = AnnualReport.objects.filter(community=OuterRef("pk"), year=f.year).order_by()
        return (Community.objects.filter(_place(scope, f, ""))
                .filter(Exists(FundYear.objects.filter(community=OuterRef("pk"), year=f.year)))
                .exclude(Exists(reports.exclude(status=AnnualReport.Status.DRAFT)))
                .annotate(report_id=Subquery(reports.values("pk")[:1]))
                .select_related("subdistrict").order_by("subdistrict__name", "name"))

    def cells(self, c, scope, f):
        due = report_due_date(f.year)
        status = _("草稿未报送") if c.report_id else _("未起草")
        url = reverse("approvals:report", args=[c.report_id]) if c.report_id else ""
        return [*_community_cells(c, f.year), Cell(str(status), url, late=scope.today > due),
                Cell(due, format="date")]


class MissingDisclosures(DashList):
    """Communities with a fund that year and no year-end disclosure posted (Art. 15)."""

    formats = ("text", "text", "text", "date")

    def columns(self, scope):
        return [_("社区"), _("街道"), _("年终公示"), _("截止日期")]

    def in_season(self, scope, f):
        return disclosures_in_season(f.year, scope.today)

    def season_note(self, scope, f):
        return _("年终公示 %(day)s 截止，12月起列出尚未张贴的社区。") % {"day": long_date(disclosure_deadline(f.year))}

    def rows(self, scope, f, *, season=True):
        if season and not self.in_season(scope, f):
            return Community.objects.none()
        return (Community.objects.filter(_place(scope, f, ""))
                .filter(Exists(FundYear.objects.filter(community=OuterRef("pk"), year=f.year)))
                .exclude(Exists(YearEndDisclosure.objects.filter(community=OuterRef("pk"), year=f.year)))
                .select_related("subdistrict").order_by("subdistrict__name", "name"))

    def cells(self, c, scope, f):
        due = disclosure_deadline(f.year)
        late = scope.today > due
        return [*_community_cells(c, f.year), Cell(str(_("逾期未张贴") if late else _("尚未张贴")), late=late),
                Cell(due, format="date")]


def _fund_years(scope, f):
    return (FundYear.objects.filter(_place(scope, f, "community__"), year=f.year)
            .annotate(fund_total=_total()).filter(fund_total__gt=0).select_related("community__subdistrict"))


class SmallGroup(DashList):
    """Fund years whose small-group projects hold more than 15% of the total (the cap is 20%, Art. 7(2))."""

    formats = ("text", "text", "money", "money", "percent", "money")

    def columns(self, scope):
        return [_("社区"), _("街道"), _("总额"), _("小群体项目占用"), _("占总额"), _("上限")]

    def rows(self, scope, f):
        return (_fund_years(scope, f).filter(small_group_committed__gt=F("fund_total") * SMALL_GROUP_WATCH)
                .order_by("community__subdistrict__name", "community__name"))

    def cells(self, fy, scope, f):
        return [*_community_cells(fy.community, f.year), Cell(fy.total, format="money"),
                Cell(fy.small_group_committed, format="money"),
                Cell(percent(fy.small_group_committed, fy.total), format="percent", late=True),
                Cell(fy.small_group_limit, format="money")]


class Idle(DashList):
    """Fund years less than half spent (settled) by 1 October."""

    formats = ("text", "text", "money", "money", "money", "percent")

    def columns(self, scope):
        return [_("社区"), _("街道"), _("总额"), _("已结算"), _("已预留"), _("结算进度")]

    def in_season(self, scope, f):
        return idle_in_season(f.year, scope.today)

    def season_note(self, scope, f):
        return _("10月1日起列出结算不足一半的社区。")

    def rows(self, scope, f):
        if not self.in_season(scope, f):
            return FundYear.objects.none()
        return (_fund_years(scope, f).filter(settled__lt=F("fund_total") * IDLE_SHARE)
                .order_by("community__subdistrict__name", "community__name"))

    def cells(self, fy, scope, f):
        return [*_community_cells(fy.community, f.year), Cell(fy.total, format="money"),
                Cell(fy.settled, format="money"), Cell(fy.reserved, format="money"),
                Cell(percent(fy.settled, fy.total), format="percent", late=True)]


class Objections(DashList):
    """Notices that drew residents' objections (Art. 10), with how many are still unanswered."""

    formats = ("text", "text", "text", "text", "date", "number", "number")

    def columns(self, scope):
        return [_("项目"), _("社区"), _("街道"), _("公示"), _("张贴日期"), _("异议"), _("未答复")]

    def rows(self, scope, f):
        return (Notice.objects.filter(_place(scope, f, "proposal__community__"), _category(f, "proposal__"),
                                      proposal__fund_year__year=f.year)
                .annotate(objection_count=Count("objections"),
                          open_count=Count("objections", filter=Q(objections__answered_at__isnull=True)))
                .filter(objection_count__gt=0)
                .select_related("proposal__community__subdistrict").order_by("-posted_on", "-pk"))

    def cells(self, n, scope, f):
        return [_proposal_cell(n.proposal), *_community_cells(n.proposal.community, f.year),
                Cell(n.get_kind_display()), Cell(n.posted_on, format="date"),
                Cell(n.objection_count, format="number"), Cell(n.open_count, format="number", late=n.open_count > 0)]


class Vouchers(DashList):
    """Payments without an invoice (Art. 13: a prior meeting decision and the recipient's signed receipt)."""

    formats = ("text", "text", "text", "date", "money", "text", "text")

    def columns(self, scope):
        return [_("项目"), _("社区"), _("街道"), _("支付日期"), _("金额"), _("收款人"), _("凭证号")]

    def rows(self, scope, f):
        return (Payment.objects.filter(_place(scope, f, "proposal__community__"), _category(f, "proposal__"),
                                       invoice__isnull=True, ledger_entry__fund_year__year=f.year)
                .select_related("proposal__community__subdistrict").order_by("-paid_on", "-pk"))

    def cells(self, p, scope, f):
        return [_proposal_cell(p.proposal), *_community_cells(p.proposal.community, f.year),
                Cell(p.paid_on, format="date"), Cell(p.amount, format="money"),
                Cell(mask_name(p.recipient_name)), Cell(p.reference)]


@dataclass
class SpendingRow:
    name: str
    url: str
    communities: int
    allocated: Decimal
    carried_in: Decimal
    settled: Decimal
    reserved: Decimal
    carried_out: Decimal

    @property
    def total(self):
        return self.allocated + self.carried_in

    @property
    def available(self):
        return self.total - self.settled - self.reserved - self.carried_out

    @property
    def spent(self):
        return percent(self.settled, self.total)


SUMS = {name: Coalesce(Sum(name), ZERO) for name in ("allocated", "carried_in", "settled", "reserved", "carried_out")}


class Spending(DashList):
    """Spending against allocation: by subdistrict on the city's page, by community on a subdistrict's."""

    MONEY = (_("年度拨款"), _("总额"), _("已结算"), _("已预留"), _("可用"), _("结算进度"))

    formats = ("text", "number", "money", "money", "money", "money", "money", "percent")

    def columns(self, scope):
        if scope.is_city:
            return [_("街道"), _("社区数"), *self.MONEY]
        return [_("社区"), *self.MONEY]

    def column_formats(self, scope):
        return self.formats if scope.is_city else self.formats[:1] + self.formats[2:]

    def rows(self, scope, f):
        fund_years = FundYear.objects.filter(_place(scope, f, "community__"), year=f.year)
        if scope.is_city:
            return (fund_years.values("community__subdistrict__code", "community__subdistrict__name")
                    .annotate(n=Count("pk"), **SUMS).order_by("community__subdistrict__name"))
        return fund_years.select_related("community__subdistrict").order_by("community__name")

    def row(self, item, scope, f):
        if isinstance(item, dict):
            url = reverse("dashboard:subdistrict", args=[item["community__subdistrict__code"]]) + f"?year={f.year}"
            return SpendingRow(item["community__subdistrict__name"], url, item["n"],
                               *(Decimal(item[k]) for k in SUMS))
        return SpendingRow(item.community.name, _ledger(item.community, f.year), 1,
                           *(getattr(item, k) for k in SUMS))

    def cells(self, item, scope, f):
        r = self.row(item, scope, f)
        count = [Cell(r.communities, format="number")] if scope.is_city else []
        return [Cell(r.name, r.url), *count, Cell(r.allocated, format="money"), Cell(r.total, format="money"),
                Cell(r.settled, format="money"), Cell(r.reserved, format="money"), Cell(r.available, format="money"),
                Cell(r.spent, format="percent")]


class Categories(DashList):
    """By category (Art. 8): projects and approved budgets (rejected and withdrawn left out), and paid."""

    formats = ("text", "number", "money", "money")

    def columns(self, scope):
        return [_("使用范围"), _("项目数"), _("批准预算"), _("已结算")]

    def rows(self, scope, f):
        projects = {row["category"]: row for row in (
            Proposal.objects.filter(_place(scope, f, "community__"), _category(f), fund_year__year=f.year)
            .exclude(state__in=DROPPED).order_by().values("category")
            .annotate(n=Count("pk"), approved=Coalesce(Sum("approved_budget"), ZERO)))}
        # Paid out of the year's funds (the ledger's fund year), as the finance summary counts it.
        paid = dict(Payment.objects.filter(_place(scope, f, "proposal__community__"), _category(f, "proposal__"),
                                           ledger_entry__fund_year__year=f.year)
                    .order_by().values_list("proposal__category").annotate(total=Sum("amount")))
        return [{"category": value, "label": Category(value).label,
                 "count": projects.get(value, {}).get("n", 0),
                 "approved": Decimal(projects.get(value, {}).get("approved") or 0).quantize(Decimal("0.01")),
                 "settled": Decimal(paid.get(value) or 0).quantize(Decimal("0.01"))}
                for value in Category.values if not f.category or value == f.category]

    def cells(self, row, scope, f):
        return [Cell(str(row["label"])), Cell(row["count"], format="number"),
                Cell(row["approved"], format="money"), Cell(row["settled"], format="money")]


LISTS = {
    item.key: item for item in (
        Deadlines("deadlines", _("本周到期"), _("本周内到审批期限的项目和公示期结束的项目。"),
                  filters=("subdistrict", "community", "category", "kind", "year"),
                  kinds=(("review", _("审批期限")), ("notice", _("公示结束")))),
        OverdueReviews("overdue", _("超期未审批"), _("已过审批期限（收到申请后 5 个工作日，第十一条）仍在审核中的项目。"),
                       filters=("subdistrict", "community", "category", "year")),
        MissingReports("reports", _("年度报告未报送"), _("有本年度经费、尚未报送年度报告的社区（第十六条）。")),
        MissingDisclosures("disclosures", _("年终公示未张贴"), _("有本年度经费、尚未张贴年终公示的社区（第十五条）。")),
        SmallGroup("small_group", _("小群体项目占用超过15%"),
                   _("小群体项目占用超过年度总额 15% 的社区（上限为 20%，第七条）。"), exception=True),
        Idle("idle", _("10月1日结算不足一半"), _("到10月1日已结算不足年度总额一半的社区。"), exception=True),
        Objections("objections", _("公示收到异议"), _("收到居民异议的公示，及其中尚未答复的异议。"),
                   filters=("subdistrict", "community", "category", "year"), exception=True),
        Vouchers("vouchers", _("无发票支付"), _("凭收款人签字凭证、无发票的支付（第十三条）。"),
                 filters=("subdistrict", "community", "category", "year"), exception=True),
        Spending("spending", _("经费使用进度"), _("已结算与年度经费总额（拨款加上年结转）相比。"), counted=False),
        Categories("categories", _("按使用范围"), _("不含不予批准和已撤回的项目；已结算按支付所在年度计。"),
                   filters=("subdistrict", "community", "category", "year"), counted=False),
    )
}


@dataclass
class Due:
    """A year's duty falling due this week: the annual report (30 November) or the disclosure (19 December)."""

    title: str
    day: datetime.date
    missing: int
    url: str


def due_this_week(scope, f, url):
    """The report or disclosure due date when it falls this week, with the communities still missing it."""
    found = []
    for key, day, title in (("reports", report_due_date(scope.today.year), _("年度报告截止")),
                            ("disclosures", disclosure_deadline(scope.today.year), _("年终公示截止"))):
        if scope.today <= day <= scope.week_end:
            this_year = Filters(year=scope.today.year, subdistrict=f.subdistrict, community=f.community)
            found.append(Due(title, day, LISTS[key].rows(scope, this_year, season=False).count(),
                             f"{url}?list={key}&year={scope.today.year}"))
    return found
