"""The archive of posted notices (Art. 17): what was printed and posted is kept, with its checksum, the time it
was made and who made it, and is what is served afterwards.

Decided: the PDF is rendered and stored **in the transaction that posts the notice**, after the notice's step
has been performed (so it prints the notice as posted, with its dates). A notice is never posted without its
archived paper: if rendering or storing fails, the whole posting rolls back and the error reaches the person
who posted (nothing half-posted, nothing swallowed). The price is that the proposal's row stays locked for
the second the rendering takes, which is nothing for a step taken a few times per project. A file written
by a transaction that later rolls back stays on disk unreferenced (storage is not transactional); it is
never served, since only a committed `NoticePaper` names a file.

Papers are rendered in the site's language (Chinese), whoever posts: the paper on the board is Chinese.
"""
import hashlib
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from audit.services import audit_record
from fundapp.errors import DomainError

from . import pdf
from .models import FiledPaper, Notice, NoticePaper
from .notice_content import notice_content

logger = logging.getLogger(__name__)

RENDERERS = {
    Notice.Kind.PLAN: lambda notice: pdf.plan_notice(notice.proposal),
    Notice.Kind.COMPLETION: lambda notice: pdf.completion_notice(notice.proposal),
    Notice.Kind.VOUCHER: lambda notice: pdf.voucher_notice(notice.proposal, notice.pk),
}
FILE_NAMES = {Notice.Kind.PLAN: "plan-notice", Notice.Kind.COMPLETION: "completion-notice",
              Notice.Kind.VOUCHER: "voucher-notice"}


def notice_paper_render(notice):
    """(PDF, content) of the notice as it stands now, in the site's language: the paper and the same text as
    plain data (approvals.notice_content) for the public page."""
    with translation.override(settings.LANGUAGE_CODE):
        return RENDERERS[notice.kind](notice), notice_content(pdf.load(notice.proposal), notice)


def notice_paper_archive(*, notice, by=None, reason=NoticePaper.Reason.POSTED):
    """Render `notice` and archive it. On posting (reason "posted") it is called inside the posting's
    transaction, with the proposal locked: a failure raises and rolls the posting back; a notice is archived
    as posted once. A calendar change that moves its last day archives a new version ("recalculated")."""
    notice = Notice.objects.select_related("proposal__community", "post").get(pk=notice.pk)
    if reason == NoticePaper.Reason.POSTED and notice.papers.filter(reason=reason).exists():
        raise DomainError(_("该公示已存档，存档件不能替换。"))
    data, content = notice_paper_render(notice)
    digest = hashlib.sha256(data).hexdigest()
    paper = NoticePaper(notice=notice, reason=reason, sha256=digest, size=len(data), content=content,
                        generated_by=by, generated_post=notice.post if reason == NoticePaper.Reason.POSTED else None)
    paper.file.save(f"{FILE_NAMES[notice.kind]}-{notice.pk}-{digest[:12]}.pdf", ContentFile(data), save=False)
    paper.save()
    audit_record(actor=by, post=paper.generated_post, action="notice.paper_archived", target=paper,
                 community_id=notice.proposal.community_id,
                 effective_on=notice.posted_on if reason == NoticePaper.Reason.POSTED else None,
                 after={"notice": notice.pk, "kind": notice.kind, "reason": reason, "sha256": digest,
                        "size": len(data)})
    return paper


def notice_paper_rearchive(notice_id):
    """After a calendar change moved a running notice's dates (approvals.derived_dates): a new version, in
    its own transaction after the change committed. A failure is logged and leaves the earlier version
    served (the notice's dates on the page and its audit record are already right)."""
    try:
        with transaction.atomic():
            notice = Notice.objects.select_for_update().get(pk=notice_id)
            return notice_paper_archive(notice=notice, reason=NoticePaper.Reason.RECALCULATED)
    except Exception:
        logger.exception("notice %s: the paper could not be archived again after a calendar change", notice_id)
        return None


class ArchiveDamaged(Exception):
    """The stored file no longer matches the checksum taken when it was archived."""


def paper_bytes(paper):
    """The archived PDF (a NoticePaper or a FiledPaper), checked against its checksum: a damaged archive is
    an error, never served as if it were what was posted or filed (nor silently rendered again)."""
    with paper.file.open("rb") as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != paper.sha256:
        logger.error("%s %s: the archived file does not match its checksum", type(paper).__name__, paper.pk)
        raise ArchiveDamaged(f"{type(paper).__name__} {paper.pk}: checksum mismatch")
    return data


notice_paper_bytes = paper_bytes


def archived_paper(notice):
    """The notice's latest archived paper, or None (a notice posted before papers were archived). Reads
    `notice.papers.all()`, so a prefetch serves it."""
    papers = list(notice.papers.all())
    return max(papers, key=lambda paper: (paper.generated_at, paper.pk)) if papers else None


# --- the papers a community files and signs ---------------------------------------------------------------
# The application form, the meeting minutes, the acceptance sheet and the annual report, archived by the act
# that files them, in that act's transaction (approvals.services.perform's `paper`, approvals.reports): no
# paper, no act. Each act adds a version; the paper views serve the latest.

FILED_RENDERERS = {
    FiledPaper.Kind.APPLICATION_FORM: lambda proposal, record_id: pdf.application_form(proposal),
    FiledPaper.Kind.MEETING_MINUTES: pdf.meeting_minutes,
    FiledPaper.Kind.ACCEPTANCE_SHEET: pdf.acceptance_sheet,
    FiledPaper.Kind.ANNUAL_REPORT: lambda report, record_id: pdf.annual_report_pdf(report),
}
FILED_NAMES = {FiledPaper.Kind.APPLICATION_FORM: "application-form", FiledPaper.Kind.MEETING_MINUTES: "minutes",
               FiledPaper.Kind.ACCEPTANCE_SHEET: "acceptance", FiledPaper.Kind.ANNUAL_REPORT: "annual-report"}


def filed_paper_archive(*, kind, reason, record_id, by, post, proposal=None, report=None):
    """Render the paper of kind `kind` for the record `record_id` (of `proposal`, or the annual `report`) as
    the record stands now, in Chinese, and archive it with its checksum, time, who and in which post. Called
    inside the filing act's transaction: a failure raises and rolls the act back."""
    source = report if kind == FiledPaper.Kind.ANNUAL_REPORT else proposal
    with translation.override(settings.LANGUAGE_CODE):
        data = FILED_RENDERERS[kind](source, record_id)
    digest = hashlib.sha256(data).hexdigest()
    paper = FiledPaper(kind=kind, reason=reason, record_id=record_id, proposal=proposal, report=report,
                       community_id=source.community_id, sha256=digest, size=len(data), generated_by=by,
                       generated_post=post)
    paper.file.save(f"{FILED_NAMES[kind]}-{record_id}-{digest[:12]}.pdf", ContentFile(data), save=False)
    paper.save()
    audit_record(actor=by, post=post, action="paper.filed", target=paper, community_id=source.community_id,
                 after={"kind": kind, "reason": reason, "record": record_id, "sha256": digest, "size": len(data)})
    return paper


def latest_filed(kind, record_id):
    """The latest archived version of the paper of kind `kind` for record `record_id`, or None (a draft, a
    record filed before papers were archived)."""
    return FiledPaper.objects.filter(kind=kind, record_id=record_id).order_by("generated_at", "pk").last()
