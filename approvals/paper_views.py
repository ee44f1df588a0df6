"""The printable papers (approvals.pdf): served only to people who may see the proposal (or the report),
404 for "missing" and "not yours" alike, and for a paper that does not exist yet."""
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404

from fundapp import rights

from . import pdf, selectors
from .models import AnnualReport


def _pdf(content, name):
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def _render(render, *args):
    try:
        return render(*args)
    except LookupError:
        raise Http404 from None


@login_required
def plan_notice(request, pk):
    proposal = selectors.get_proposal_or_404(request.user, pk)
    if not pdf.plan_notice_available(proposal):
        raise Http404
    return _pdf(pdf.plan_notice(proposal), f"plan-notice-{proposal.pk}.pdf")


@login_required
def completion_notice(request, pk):
    proposal = selectors.get_proposal_or_404(request.user, pk)
    return _pdf(_render(pdf.completion_notice, proposal), f"completion-notice-{proposal.pk}.pdf")


@login_required
def voucher_notice(request, pk, notice_id):
    proposal = selectors.get_proposal_or_404(request.user, pk)
    return _pdf(_render(pdf.voucher_notice, proposal, notice_id), f"voucher-notice-{notice_id}.pdf")


@login_required
def meeting_minutes(request, pk, meeting_id):
    proposal = selectors.get_proposal_or_404(request.user, pk)
    return _pdf(_render(pdf.meeting_minutes, proposal, meeting_id), f"minutes-{meeting_id}.pdf")


@login_required
def acceptance_sheet(request, pk, acceptance_id):
    proposal = selectors.get_proposal_or_404(request.user, pk)
    return _pdf(_render(pdf.acceptance_sheet, proposal, acceptance_id), f"acceptance-{acceptance_id}.pdf")


@login_required
def annual_report(request, pk):
    report = get_object_or_404(AnnualReport.objects.select_related("community"), pk=pk)
    if not rights.check(request.user, "view_fund", report.community):
        raise Http404
    return _pdf(pdf.annual_report_pdf(report), f"annual-report-{report.community.code}-{report.year}.pdf")
