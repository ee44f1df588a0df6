"""The printable papers (approvals.pdf): served only to people who may see the proposal (or the report),
404 for "missing" and "not yours" alike, and for a paper that does not exist yet. A posted notice, filed
minutes, a recorded acceptance and a submitted annual report are served from their archive
(approvals.paper_archive): the latest version as it was posted or filed, checksum verified, unchanged by
later edits; only what has nothing archived (a draft, a record from before the archive) is rendered."""
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404

from fundapp import rights

from . import paper_archive, pdf, selectors
from .models import AnnualReport, FiledPaper


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


def _filed_or(kind, record_id, render, *args):
    """The latest archived version of a filed paper; rendered from the record only when none is archived."""
    paper = paper_archive.latest_filed(kind, record_id)
    if paper is not None:
        return paper_archive.paper_bytes(paper)
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
    if not proposal.meetings.filter(pk=meeting_id).exists():
        raise Http404
    return _pdf(_filed_or(FiledPaper.Kind.MEETING_MINUTES, meeting_id, pdf.meeting_minutes, proposal, meeting_id),
                f"minutes-{meeting_id}.pdf")


@login_required
def acceptance_sheet(request, pk, acceptance_id):
    proposal = selectors.get_proposal_or_404(request.user, pk)
    if not proposal.acceptances.filter(pk=acceptance_id).exists():
        raise Http404
    return _pdf(_filed_or(FiledPaper.Kind.ACCEPTANCE_SHEET, acceptance_id, pdf.acceptance_sheet, proposal,
                          acceptance_id), f"acceptance-{acceptance_id}.pdf")


@login_required
def annual_report(request, pk):
    report = get_object_or_404(AnnualReport.objects.select_related("community"), pk=pk)
    if not rights.check(request.user, "view_fund", report.community):
        raise Http404
    return _pdf(_filed_or(FiledPaper.Kind.ANNUAL_REPORT, report.pk, pdf.annual_report_pdf, report),
                f"annual-report-{report.community.code}-{report.year}.pdf")


@login_required
def filed_application_form(request, pk, paper_id):
    """One archived version of the application form, as it was printed when the proposal was filed (for
    consent, for review). The form at approvals:proposal-pdf prints the record as it stands today."""
    proposal = selectors.get_proposal_or_404(request.user, pk)
    paper = get_object_or_404(FiledPaper, pk=paper_id, proposal=proposal, kind=FiledPaper.Kind.APPLICATION_FORM)
    return _pdf(paper_archive.paper_bytes(paper), f"application-{proposal.pk}-{paper.pk}.pdf")
