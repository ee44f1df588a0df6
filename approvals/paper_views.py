"""The printable papers (approvals.pdf): served only to people who may see the proposal (or the report),
404 for "missing" and "not yours" alike, and for a paper that does not exist yet. A posted notice is served
from its archive (approvals.paper_archive): what was posted, unchanged by later edits."""
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404

from fundapp import rights

from . import paper_archive, pdf, selectors
from .models import AnnualReport


def _pdf(content, name):
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def _archived_or(notice, render, *args):
    """The archived copy of a posted notice; a draft, or a notice posted before papers were archived, is
    rendered from the record."""
    paper = paper_archive.archived_paper(notice) if notice is not None else None
    if paper is not None:
        return paper_archive.notice_paper_bytes(paper)
    return _render(render, *args)


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
    return _pdf(_archived_or(pdf.plan_notice_of(proposal), pdf.plan_notice, proposal),
                f"plan-notice-{proposal.pk}.pdf")


@login_required
def completion_notice(request, pk):
    proposal = selectors.get_proposal_or_404(request.user, pk)
    return _pdf(_archived_or(pdf.completion_notice_of(proposal), pdf.completion_notice, proposal),
                f"completion-notice-{proposal.pk}.pdf")


@login_required
def voucher_notice(request, pk, notice_id):
    proposal = selectors.get_proposal_or_404(request.user, pk)
    notice = next((n for n in pdf.voucher_notices_of(proposal) if n.pk == notice_id), None)
    if notice is None:
        raise Http404
    return _pdf(_archived_or(notice, pdf.voucher_notice, proposal, notice_id), f"voucher-notice-{notice_id}.pdf")


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
