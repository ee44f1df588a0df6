"""Annual reports (Art. 16): drafted by the system from the ledger and the projects, completed and
submitted by the community secretary before 1 December, evaluated (考核评议) by the subdistrict."""
import datetime

from django.db import transaction
from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from audit.services import audit_record
from fundapp import clock, rights
from fundapp.errors import DomainError, NotAllowed
from fundapp.models import Community, FundYear

from . import handoffs, paper_archive
from .models import AnnualReport, Category, FiledPaper, Payment, Proposal
from .models import DROPPED
from .workflow import may


def due_date(year):
    """Reports are due before 1 December: 30 November is the last day."""
    return datetime.date(year, 11, 30)


def figures(community, year):
    """What the year's record says, as plain JSON for the report (recomputed while it is a draft)."""
    fund_year = FundYear.objects.filter(community=community, year=year).order_by().first()
    proposals = Proposal.objects.filter(community=community, fund_year__year=year)
    by_category = {
        row["category"]: row for row in proposals.exclude(state__in=DROPPED)
        .values("category").annotate(count=Count("pk"), approved=Sum("approved_budget"))
    }
    paid = Payment.objects.paid_by_category(year=year, community_ids=[community.pk])
    by_state = dict(proposals.values_list("state").annotate(n=Count("pk")))
    money = {}
    if fund_year is not None:
        money = {k: str(getattr(fund_year, k)) for k in ("allocated", "carried_in", "settled", "reserved",
                                                         "carried_out", "small_group_committed")}
        money.update(total=str(fund_year.total), available=str(fund_year.available))
    return {
        "money": money,
        "by_category": [
            {"category": value, "count": by_category.get(value, {}).get("count", 0),
             "approved": str(by_category.get(value, {}).get("approved") or "0.00"),
             "settled": str(paid.get((community.pk, value)) or "0.00")}
            for value in Category.values
        ],
        "by_state": by_state,
        "projects": [
            {"id": p.pk, "title": p.title, "category": p.category, "state": p.state, "budget": str(p.budget),
             "approved": str(p.approved_budget), "settled": str(p.settled_amount)}
            for p in proposals.order_by("created_at")
        ],
    }


def annual_reports_generate(*, year, community_ids=None):
    """Draft (or refresh the figures of still-draft) reports for every community; idempotent."""
    communities = Community.objects.all() if community_ids is None else Community.objects.filter(pk__in=community_ids)
    created = 0
    for community in communities.iterator():
        created += annual_report_draft(community=community, year=year)[1]
    return created


@transaction.atomic
def annual_report_draft(*, community, year):
    report, created = AnnualReport.objects.select_for_update().get_or_create(
        community=community, year=year, defaults={"figures": {}})
    if report.status == AnnualReport.Status.DRAFT:
        report.figures = figures(community, year)
        report.save(update_fields=["figures", "updated_at"])
        if created:
            record = audit_record(actor=None, action="annual_report.draft", target=report,
                                  community_id=community.pk, after={"year": year})
            handoffs.act_announce("annual_report.draft", record=record, community=community, result=report)
    return report, created


@transaction.atomic
def annual_report_submit(*, report, by, narrative):
    decision = may(by, "annual_report_submit", report.community)
    if not decision:
        raise NotAllowed(decision.reason)
    if not str(narrative).strip():
        raise DomainError(_("请填写年度经费使用情况和服务效果。"))
    report = AnnualReport.objects.select_for_update().get(pk=report.pk)
    if report.status != AnnualReport.Status.DRAFT:
        raise DomainError(_("该年度报告已经报送。"))
    report.figures = figures(report.community, report.year)
    report.narrative = narrative
    report.status = AnnualReport.Status.SUBMITTED
    report.submitted_at, report.submitted_by, report.submitted_post = clock.now(), by, decision.post
    report.save()
    record = audit_record(actor=by, post=decision.post, action="annual_report.submit", target=report,
                          community_id=report.community_id, after={"year": report.year, "late": report.is_late})
    # the report as filed, archived in this transaction (approvals.paper_archive): no paper, no submission
    paper_archive.filed_paper_archive(kind=FiledPaper.Kind.ANNUAL_REPORT, reason=FiledPaper.Reason.REPORT_SUBMITTED,
                                      report=report, record_id=report.pk, by=by, post=decision.post)
    handoffs.act_announce("annual_report.submit", record=record, community=report.community, by=by,
                          result=report, post=decision.post)
    return report


@transaction.atomic
def annual_report_evaluate(*, report, by, grade, comments):
    decision = may(by, "annual_report_evaluate", report.community)
    if not decision:
        raise NotAllowed(decision.reason)
    if grade not in AnnualReport.Grade.values:
        raise DomainError(_("请选择考核评议结果。"))
    report = AnnualReport.objects.select_for_update().get(pk=report.pk)
    if report.status != AnnualReport.Status.SUBMITTED:
        raise DomainError(_("只有已报送、尚未评议的年度报告可以评议。"))
    report.status = AnnualReport.Status.EVALUATED
    report.grade, report.evaluation = grade, comments
    report.evaluated_at, report.evaluated_by, report.evaluated_post = clock.now(), by, decision.post
    report.save()
    record = audit_record(actor=by, post=decision.post, action="annual_report.evaluate", target=report,
                          community_id=report.community_id, after={"year": report.year, "grade": grade})
    paper_archive.filed_paper_archive(kind=FiledPaper.Kind.ANNUAL_REPORT, reason=FiledPaper.Reason.REPORT_EVALUATED,
                                      report=report, record_id=report.pk, by=by, post=decision.post)
    handoffs.act_announce("annual_report.evaluate", record=record, community=report.community, by=by,
                          result=report, post=decision.post)
    return report


def reports_for(user, year):
    communities = rights.communities_for(user, "view_fund")
    return (AnnualReport.objects.filter(community__in=communities, year=year)
            .select_related("community", "community__subdistrict").order_by("community__subdistrict__name",
                                                                              "community__name"))


def missing_or_late(user, year):
    """Communities of this person's scope whose report is not submitted by the due date, or was late."""
    today = clock.today()
    reports = {r.community_id: r for r in reports_for(user, year)}
    flagged = []
    for community in rights.communities_for(user, "view_fund").order_by("name"):
        report = reports.get(community.pk)
        if report is None or report.status == AnnualReport.Status.DRAFT:
            if today > due_date(year):
                flagged.append((community, report, "missing"))
        elif report.is_late:
            flagged.append((community, report, "late"))
    return flagged
