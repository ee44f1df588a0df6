"""The home page by role: what each person must see first, led by what is due this week.

`home_sections(user)` reads every post the person holds today and answers one section per duty and scope —
a community's week (its secretary and staff), a community's supervision (its supervisors), a subdistrict's
oversight (its secretary, construction director and staff), the invoices a subdistrict's finance officer may
pay, and the city's year-end picture (the city administrator). A person with several posts sees each section
once. Every read is a query over all the person's communities at once: the page costs the same number of
queries however many proposals, reports or invoices there are.

The work queue (approvals.selectors.work_queue) stays the list of proposal steps; these sections carry what the
queue does not: the year's duties (annual report, Art. 16; year-end disclosure, Art. 15), the notices and
objections of a community, overdue items across communities, invoices ready to pay.
"""
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from approvals import workflow
from approvals.models import AnnualReport, Invoice, Notice, Objection, Payment, Proposal, State
from approvals.reports import due_date as report_due_date
from disclosure.models import YearEndDisclosure
from disclosure.models import deadline as disclosure_deadline
from fundapp import clock, rights
from fundapp.models import Community, Role
from fundapp.privacy import mask_name

# How far ahead "this week" looks: today and the six days after it.
WEEK = datetime.timedelta(days=6)
# The year-end duties show from 1 November (the annual report is due 30 November, the disclosure 19 December).
YEAR_END_FROM_MONTH = 11
RECENT_PAYMENTS = 5
LIST_LIMIT = 20

COMMUNITY_DUTY_ROLES = frozenset({Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF})
OVERSIGHT_ROLES = frozenset({Role.SUBDISTRICT_SECRETARY, Role.CONSTRUCTION_DIRECTOR, Role.SUBDISTRICT_STAFF})


@dataclass
class Item:
    """One line of a section: what, where it leads, its date and whether it is late or already done."""

    text: str
    url: str = ""
    date: datetime.date | None = None
    date_label: str = ""       # "截止", "公示至", "期限"…: what the date is
    note: str = ""             # a second line: who, which community, what next
    overdue: bool = False
    done: bool = False
    amount: Decimal | None = None
    kind: str = ""             # report, disclosure, notice, objection, review, invoice, payment
    status: str = ""           # a report's or a disclosure's state in a word (the subdistrict's table)


@dataclass
class Group:
    """A titled list inside a section (the supervisor's notices, objections, overdue items, payments)."""

    key: str
    title: str
    items: list = field(default_factory=list)
    empty: str = ""

    @property
    def open_count(self):
        return sum(1 for item in self.items if not item.done)


@dataclass
class Section:
    key: str               # unique per duty and scope: a person with several posts sees it once
    role: str
    title: str
    scope: str
    items: list = field(default_factory=list)   # the leading list: due this week, overdue first
    groups: list = field(default_factory=list)  # further titled lists
    table: list = field(default_factory=list)   # the subdistrict's communities with something missing
    links: list = field(default_factory=list)   # (label, url)
    total: Decimal | None = None                # finance: the sum of the invoices ready to pay
    counts: list = field(default_factory=list)  # the city's (label, number, url)
    week_end: datetime.date | None = None
    count: int | None = None                    # when the items shown are fewer than all there are

    @property
    def open_count(self):
        if self.count is not None:
            return self.count
        return (sum(1 for item in self.items if not item.done) + sum(g.open_count for g in self.groups)
                + sum(1 for row in self.table if row["open"]) + sum(n for _label, n, _url in self.counts))


@dataclass
class Home:
    today: datetime.date
    week_end: datetime.date
    sections: list

    @property
    def open_count(self):
        return sum(s.open_count for s in self.sections)


def _sorted(items):
    """Overdue first, then by date (undated last), done at the end."""
    return sorted(items, key=lambda i: (i.done, not i.overdue, i.date is None, i.date or datetime.date.max))


# ---- the year's duties of one community -----------------------------------------------------------------

def _report_item(community, report, today):
    year, due = today.year, report_due_date(today.year)
    url = reverse("approvals:report", args=[report.pk]) if report else reverse("approvals:reports")
    if report is not None and report.status != AnnualReport.Status.DRAFT:
        status = report.get_status_display()
        return Item(_("%(year)s年度经费使用情况报告 · %(status)s") % {"year": year, "status": status}, url,
                    date=due, date_label=_("截止"), done=True, kind="report", status=status,
                    note=_("逾期报送") if report.is_late else "")
    if today > due:
        return Item(_("%(year)s年度经费使用情况报告 · 逾期未报送") % {"year": year}, url, date=due,
                    date_label=_("应于此日前报送"), overdue=True, kind="report", status=_("逾期未报送"),
                    note=_("请尽快完成并报送街道党工委（第十六条）。"))
    return Item(_("%(year)s年度经费使用情况报告 · 待报送") % {"year": year}, url, date=due,
                date_label=_("截止"), kind="report", status=_("待报送"), note=_("系统已起草，补充使用情况和服务效果后报送。")
                if report else _("草稿尚未生成，可先查看年度报告页面。"))


def _disclosure_item(community, disclosure, today):
    year, deadline = today.year, disclosure_deadline(today.year)
    if disclosure is None:
        late = today > deadline
        status = _("逾期未张贴") if late else _("待张贴")
        return Item(_("%(year)s年度年终公示 · %(status)s") % {"year": year, "status": status},
                    date=deadline, date_label=_("应于此日前张贴"), overdue=late, kind="disclosure", status=status,
                    note=_("张贴 5 个工作日（第十五条）；公示海报由全市统一生成。"))
    url = reverse("disclosure:summary", args=[community.code, year])
    if today > disclosure.last_day:
        return Item(_("%(year)s年度年终公示 · 已结束") % {"year": year}, url, date=disclosure.last_day,
                    date_label=_("公示至"), done=True, kind="disclosure", status=_("已结束"),
                    note=_("%(posted)s张贴") % {"posted": _day(disclosure.posted_on)})
    return Item(_("%(year)s年度年终公示 · 公示中") % {"year": year}, url, date=disclosure.last_day,
                date_label=_("公示至"), kind="disclosure", status=_("公示中"),
                note=_("%(posted)s张贴，请在公告栏张贴海报（可打印 PDF）。") % {"posted": _day(disclosure.posted_on)})


def _day(value):
    from .templatetags.fund import long_date

    return long_date(value)


def _notice_item(notice, today):
    proposal = notice.proposal
    return Item(_("%(kind)s：%(title)s") % {"kind": notice.get_kind_display(), "title": proposal.title},
                reverse("approvals:proposal", args=[proposal.pk]), date=notice.last_day, date_label=_("公示至"),
                kind="notice", note=_("%(day)s起可办理下一步") % {"day": _day(notice.next_step_day)})


def _objection_item(objection):
    # The resident's name masked: seeing it in full is an audited act of the community secretary, on the
    # proposal's page, not a line on a home page.
    proposal = objection.notice.proposal
    who = mask_name(objection.resident_name)
    return Item(_("异议待答复：%(title)s") % {"title": proposal.title},
                reverse("approvals:proposal", args=[proposal.pk]),
                date=_local(objection.received_at), date_label=_("收到"), kind="objection",
                note=_("%(who)s（%(channel)s）") % {"who": who, "channel": objection.get_channel_display()})


def _local(moment):
    from django.utils import timezone

    return timezone.localdate(moment)


def _review_item(proposal, today, with_community=True):
    late = proposal.review_deadline < today
    return Item(proposal.title, reverse("approvals:proposal", args=[proposal.pk]), date=proposal.review_deadline,
                date_label=_("审批期限"), overdue=late, kind="review",
                note=(proposal.community.name + " · " if with_community else "")
                + str(_("超期未审批") if late else _("待审批")))


# ---- the reads: one query each, over all of the person's communities ------------------------------------

class _Reads:
    """The home's reads over a set of communities, each one query (or none when the set is empty)."""

    def __init__(self, today, community_ids):
        self.today, self.ids = today, list(community_ids)
        self.year_end = today.month >= YEAR_END_FROM_MONTH

    def reports(self):
        if not self.year_end or not self.ids:
            return {}
        return {r.community_id: r for r in AnnualReport.objects.filter(
            community_id__in=self.ids, year=self.today.year).only(
            "pk", "community_id", "year", "status", "submitted_at")}

    def disclosures(self):
        if not self.year_end or not self.ids:
            return {}
        return {d.community_id: d for d in YearEndDisclosure.objects.filter(
            community_id__in=self.ids, year=self.today.year).only(
            "pk", "community_id", "year", "posted_on", "last_day", "late")}

    def running_notices(self):
        if not self.ids:
            return []
        qs = Notice.objects.running_on(self.today).filter(proposal__community_id__in=self.ids)
        return list(qs.select_related("proposal", "proposal__community").order_by("last_day", "pk")[:LIST_LIMIT])

    def open_objections(self):
        if not self.ids:
            return []
        return list(Objection.objects.filter(answered_at__isnull=True, notice__proposal__community_id__in=self.ids)
                    .select_related("notice__proposal__community").order_by("received_at", "pk")[:LIST_LIMIT])

    def reviews(self, until):
        """Reviews whose deadline is past or falls before `until`, soonest first."""
        if not self.ids:
            return []
        return list(Proposal.objects.filter(community_id__in=self.ids, state=State.UNDER_REVIEW,
                                            review_deadline__lte=until)
                    .select_related("community").order_by("review_deadline", "pk")[:LIST_LIMIT])

    def overdue_review_counts(self):
        if not self.ids:
            return {}
        return dict(Proposal.objects.filter(community_id__in=self.ids, state=State.UNDER_REVIEW,
                                            review_deadline__lt=self.today)
                    .order_by().values_list("community_id").annotate(n=Count("pk")))

    def recent_payments(self):
        if not self.ids:
            return []
        return list(Payment.objects.filter(proposal__community_id__in=self.ids).select_related("proposal")
                    .order_by("-paid_on", "-pk")[:RECENT_PAYMENTS])


# ---- the sections -----------------------------------------------------------------------------------------

def _community_week(community, reads, data):
    """The community secretary's (and staff's) week: the year's duties, notices ending, objections to answer."""
    today, week_end = reads.today, reads.today + WEEK
    items = []
    if reads.year_end:
        items.append(_report_item(community, data["reports"].get(community.pk), today))
        items.append(_disclosure_item(community, data["disclosures"].get(community.pk), today))
    items += [_notice_item(n, today) for n in data["notices"]
              if n.proposal.community_id == community.pk and n.last_day <= week_end]
    items += [_objection_item(o) for o in data["objections"]
              if o.notice.proposal.community_id == community.pk]
    return Section(
        key=f"week:{community.pk}", role="community", title=_("本周要办"), scope=community.name,
        items=_sorted(items), week_end=week_end,
        links=[(_("年度报告"), reverse("approvals:reports")), (_("项目列表"), reverse("approvals:proposals"))],
    )


def _supervision(community, reads, data):
    today = reads.today
    mine = community.pk
    notices = [_notice_item(n, today) for n in data["notices"] if n.proposal.community_id == mine]
    disclosure = data["disclosures"].get(mine)
    if disclosure is not None and disclosure.posted_on <= today <= disclosure.last_day:
        notices.append(_disclosure_item(community, disclosure, today))
    objections = [_objection_item(o) for o in data["objections"] if o.notice.proposal.community_id == mine]
    overdue = [_review_item(p, today, with_community=False) for p in data["reviews"]
               if p.community_id == mine and p.review_deadline < today]
    if reads.year_end:
        for item in (_report_item(community, data["reports"].get(mine), today),
                     _disclosure_item(community, disclosure, today)):
            if item.overdue:
                item.note = ""  # the advice is the secretary's; the supervisor sees the fact and the date
                overdue.append(item)
    payments = [Item(p.proposal.title, reverse("approvals:proposal", args=[p.proposal_id]), date=p.paid_on,
                     date_label=_("支付日期"), amount=p.amount, done=True, kind="payment",
                     note=_("无发票（凭证）支付") if p.is_voucher else _("发票结算"))
                for p in data["payments"] if p.proposal.community_id == mine]
    return Section(
        key=f"supervision:{mine}", role="supervisor", title=_("监督要点"), scope=community.name,
        groups=[
            Group("notices", _("正在公示"), _sorted(notices), _("目前没有正在公示的事项。")),
            Group("objections", _("未答复的异议"), objections, _("没有未答复的异议。")),
            Group("overdue", _("超期事项"), _sorted(overdue), _("没有超期事项。")),
            Group("payments", _("最近支付"), payments, _("本社区还没有支付记录。")),
        ],
        links=[(_("全程记录"), reverse("community-record", args=[community.code])),
               (_("项目列表"), reverse("approvals:proposals"))],
    )


def _oversight(subdistrict, communities, reads, data, *, reviews, evaluates, dashboard=False):
    """A subdistrict's week: reviews due (to the leaders who review) or overdue (to all), reports to evaluate (to
    whoever evaluates them), and the communities missing a report or a disclosure or with a review overdue."""
    today, week_end = reads.today, reads.today + WEEK
    ids = {c.pk for c in communities}
    items = [_review_item(p, today) for p in data["reviews"]
             if p.community_id in ids and (reviews or p.review_deadline < today)]
    waiting = [r for r in data["reports"].values()
               if r.community_id in ids and r.status == AnnualReport.Status.SUBMITTED]
    if waiting and evaluates:
        items.append(Item(_("年度报告待评议：%(n)s 份") % {"n": len(waiting)}, reverse("approvals:reports"),
                          kind="report", note=_("考核评议（第十六条）")))
    table = []
    counts = data["overdue_counts"]
    for community in communities:
        report = _report_item(community, data["reports"].get(community.pk), today) if reads.year_end else None
        disclosure = (_disclosure_item(community, data["disclosures"].get(community.pk), today)
                      if reads.year_end else None)
        overdue_reviews = counts.get(community.pk, 0)
        missing = [x for x in (report, disclosure) if x is not None and x.overdue]
        if not (missing or overdue_reviews):
            continue
        table.append({"community": community, "report": report, "disclosure": disclosure,
                      "overdue_reviews": overdue_reviews, "open": True})
    links = [(_("年度报告"), reverse("approvals:reports")), (_("项目列表"), reverse("approvals:proposals"))]
    if dashboard:  # its secretary and staff (fundapp.rights.DASHBOARD_ROLES)
        links.append((_("街道概览"), reverse("dashboard:subdistrict", args=[subdistrict.code])))
    return Section(
        key=f"oversight:{subdistrict.pk}", role="subdistrict", title=_("本周要办"), scope=subdistrict.name,
        items=_sorted(items), table=table, week_end=week_end,
        links=links,
    )


def _finance(subdistrict, ids):
    ready = Invoice.objects.filter(status=Invoice.Status.SIGNED, proposal__community_id__in=ids)
    totals = ready.order_by().aggregate(n=Count("pk"), total=Sum("amount"))
    items = [Item(_("%(contractor)s · 发票 %(number)s") % {"contractor": i.contractor, "number": i.number},
                  reverse("approvals:proposal-action", args=[i.proposal_id, "settle_invoice"]) + f"?target={i.pk}",
                  date=i.issued_on, date_label=_("开票日期"), amount=i.amount, kind="invoice",
                  note=f"{i.proposal.community.name} · {i.proposal.title}")
             for i in ready.select_related("proposal__community").order_by("registered_at", "pk")[:LIST_LIMIT]]
    return Section(
        key=f"finance:{subdistrict.pk}", role="finance", title=_("待支付发票"), scope=subdistrict.name, items=items,
        total=Decimal(totals["total"] or 0).quantize(Decimal("0.01")), count=totals["n"],
        links=[(_("全部待结算发票"), reverse("approvals:invoices") + "?status=" + Invoice.Status.SIGNED),
               (_("对账"), reverse("finance:reconcile"))],
    )


def _city(today):
    year = today.year
    communities = Community.objects.count()
    late = Proposal.objects.filter(state=State.UNDER_REVIEW, review_deadline__lt=today)
    counts = [(_("超期未审批"), late.count(), reverse("approvals:proposals") + "?state=" + State.UNDER_REVIEW)]
    items = [_review_item(p, today) for p in late.select_related("community").order_by("review_deadline", "pk")[:LIST_LIMIT]]
    if today > report_due_date(year):
        reported = AnnualReport.objects.filter(year=year).exclude(status=AnnualReport.Status.DRAFT).count()
        counts.append((_("年度报告未报送的社区"), communities - reported,
                       reverse("approvals:reports") + f"?year={year}"))
    if today.month == 12:
        posted = YearEndDisclosure.objects.filter(year=year).count()
        counts.append((_("年终公示逾期未张贴的社区") if today > disclosure_deadline(year) else _("年终公示尚未张贴的社区"),
                       communities - posted, reverse("batches:runs")))
    return Section(key="city", role="city", title=_("全市待办"), scope=str(_("全市")), items=items, counts=counts,
                   count=sum(n for _label, n, _url in counts),
                   links=[(_("全市概览：期限、缺报、经费进度和异常"), reverse("dashboard:city")),
                          (_("下达年度经费"), reverse("city-allocations:allocate")),
                          (_("交接职务"), reverse("city-posts:posts"))])


def home_sections(user, on=None):
    """Every section of this person's home, in the order of their posts' weight: a community's week first."""
    today = on or clock.today()
    posts = list(rights.current_posts(user, today))
    roles = {p.role for p in posts}
    by_community = {p.community_id: p.community for p in posts if p.community_id}
    subdistricts = {p.subdistrict_id: p.subdistrict for p in posts if p.subdistrict_id}
    oversight_sds = {p.subdistrict_id for p in posts if p.role in OVERSIGHT_ROLES}
    finance_sds = {p.subdistrict_id for p in posts if p.role == Role.FINANCE_OFFICER}
    sd_communities = {}
    if oversight_sds or finance_sds:
        for community in Community.objects.filter(subdistrict_id__in=oversight_sds | finance_sds).order_by("name"):
            sd_communities.setdefault(community.subdistrict_id, []).append(community)
    week_ids = {p.community_id for p in posts if p.role in COMMUNITY_DUTY_ROLES}
    watch_ids = {p.community_id for p in posts if p.role == Role.SUPERVISOR}
    oversight_ids = {c.pk for sd in oversight_sds for c in sd_communities.get(sd, [])}

    reads = _Reads(today, week_ids | watch_ids | oversight_ids)
    data = {"reports": reads.reports(), "disclosures": reads.disclosures()}
    notice_reads = _Reads(today, week_ids | watch_ids)
    data["notices"] = notice_reads.running_notices()
    data["objections"] = notice_reads.open_objections()
    review_reads = _Reads(today, watch_ids | oversight_ids)
    data["reviews"] = review_reads.reviews(until=today + WEEK if oversight_ids else today - datetime.timedelta(1))
    data["overdue_counts"] = _Reads(today, oversight_ids).overdue_review_counts()
    data["payments"] = _Reads(today, watch_ids).recent_payments()

    sections = []
    for community_id in sorted(week_ids):
        sections.append(_community_week(by_community[community_id], reads, data))
    for community_id in sorted(watch_ids):
        sections.append(_supervision(by_community[community_id], reads, data))
    reviewers = {p.subdistrict_id for p in posts if p.role in workflow.needed("review_approve").roles}
    evaluators = {p.subdistrict_id for p in posts if p.role in workflow.needed("annual_report_evaluate").roles}
    dashboards = {p.subdistrict_id for p in posts if p.role in rights.DASHBOARD_ROLES}
    for sd_id in sorted(oversight_sds):
        sections.append(_oversight(subdistricts[sd_id], sd_communities.get(sd_id, []), reads, data,
                                   reviews=sd_id in reviewers, evaluates=sd_id in evaluators,
                                   dashboard=sd_id in dashboards))
    for sd_id in sorted(finance_sds):
        sections.append(_finance(subdistricts[sd_id], [c.pk for c in sd_communities.get(sd_id, [])]))
    if Role.CITY_ADMIN in roles:
        sections.append(_city(today))
    return Home(today=today, week_end=today + WEEK, sections=sections)
