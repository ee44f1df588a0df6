"""Every paper of a proposal and of a year, rendered by fundapp.pdf from the same records the pages read.

- `application_form` — 申请审批表 (with the applicant's signature and seal block and the filing date);
- `plan_notice`, `completion_notice`, `voucher_notice` — the notices posted on the community board
  (Art. 10, 15, 13), each with a QR code to the public page and the ways to object;
- `meeting_minutes` — 联席会议纪要; `acceptance_sheet` — 验收单; `annual_report_pdf` — 年度报告 (Art. 16).

A posted notice is rendered once more than a draft: when it is posted, by approvals.paper_archive, which keeps
that PDF (Art. 17) and serves it ever after. So are the filed papers, when they are filed: the application
form (on submission for consent and for review; `application_form` itself prints the record as it stands
today), the minutes, the acceptance sheet and the annual report (approvals.models.FiledPaper).
Signers print with the post they acted in (`signer`, "（代）" after an acting post); a private person's name
is masked (`fundapp.privacy.mask_name`) on everything posted for the public. Papers render in the active
language; archived papers in Chinese.
"""
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from audit.models import AuditRecord
from fundapp import clock
from fundapp.models import Role
from fundapp.amounts import amount_in_words
from fundapp.i18n import long_date
from fundapp.publicurls import bare
from fundapp.qr import qr_svg
from fundapp.pdf import render_pdf as render_template
from fundapp.privacy import mask_name

from .models import Category, Invoice, Notice, Payment, Proposal, ReviewDecision, State
from .notice_content import needs_text, public_text, publisher_of
from .publishing import party
from .standing import standing


def render_pdf(template, context):
    """A paper in the active language; `zh` tells the template to add what only Chinese papers carry (the
    amounts in capitals)."""
    language = get_language() or settings.LANGUAGE_CODE
    return render_template(template, {"LANGUAGE_CODE": language, "zh": language.startswith("zh"), **context})


def person_name(user):
    if user is None:
        return ""
    return user.get_full_name() or user.username


def signer(act_or_user, post=None):
    """"王某 · 社区建设管理委员会主任": the person and the post they held when they acted (the act's `post`),
    "（代）" after the title when the post is held in an acting capacity (`Post.title`).
    Called with an act (anything with `by` and `post`) or with a user and a post."""
    if hasattr(act_or_user, "by"):
        user, post = act_or_user.by, getattr(act_or_user, "post", None)
    else:
        user = act_or_user
    name = person_name(user)
    if post is None:
        return name
    return f"{name} · {post.title}"


def load(proposal):
    """The proposal with everything a paper prints, in a fixed number of queries."""
    return Proposal.objects.select_related("community__subdistrict", "fund_year", "created_by").prefetch_related(
        "lines", "needs", "consents__by", "consents__post", "meetings__by", "meetings__post",
        "reviews__by", "reviews__post", "acceptances__by", "acceptances__post",
        Prefetch("notices", queryset=Notice.objects.select_related("by", "post").prefetch_related("objections")
                 .order_by("posted_on", "pk")),
        Prefetch("invoices", queryset=Invoice.objects.prefetch_related("signatures__by", "signatures__post")),
        Prefetch("payments", queryset=Payment.objects.select_related("invoice", "meeting", "after_notice", "by",
                                                                      "post").order_by("paid_on", "pk")),
    ).get(pk=proposal.pk)


def _last(items, test=lambda item: True):
    return next((item for item in reversed(list(items)) if test(item)), None)


def filed_on(proposal):
    """The day the community filed the proposal (its last submission for consent), Beijing date."""
    record = (AuditRecord.objects.filter(target_type="approvals.proposal", target_id=str(proposal.pk),
                                         action="proposal.submit_for_consent").order_by("-seq").first())
    return timezone.localdate(record.recorded_at) if record else None


def application_form(proposal):
    """The 社区党组织服务群众专项经费使用申请审批表 with the approvals and signatures made so far."""
    p = load(proposal)
    reviews = {r.role: r for r in p.reviews.all() if r.round == p.review_round}
    return render_pdf("approvals/pdf/application_form.html", {
        "p": p,
        "budget_words": amount_in_words(p.budget),
        "consent": _last(p.consents.all(), lambda c: c.consented),
        "meeting": _last(p.meetings.all(), lambda m: m.passed),
        "notice": _last(p.notices.all(), lambda n: n.kind == Notice.Kind.PLAN),
        "secretary_review": reviews.get(Role.SUBDISTRICT_SECRETARY),
        "director_review": reviews.get(Role.CONSTRUCTION_DIRECTOR),
        "approve": ReviewDecision.Decision.APPROVE,
        "invoices": [i for i in p.invoices.all() if i.status != Invoice.Status.RETURNED],
        "acceptance": _last(p.acceptances.all()),
        "filed_on": filed_on(p),
        # Where it stands on the day it is printed: with whom, what they must do, by when.
        "standing": standing(p, clock.today()), "printed_on": clock.today(),
    })


# --- notices ------------------------------------------------------------------------------------------

def public_url(proposal, notice=None):
    """The public page where residents read this notice (or, before it is posted, the project). Printed, so
    the bare address (fundapp.publicurls): it redirects each reader to their language."""
    page = settings.SITE_URL.rstrip("/") + bare(reverse("public:community-year",
                                                        args=[proposal.community.code, proposal.fund_year.year]))
    return page + (f"#notice-{notice.public_id}" if notice is not None else f"#project-{proposal.public_id}")


def objection_url(proposal, notice):
    return settings.SITE_URL.rstrip("/") + bare(reverse("public:object",
                                                        args=[proposal.community.code, notice.public_id]))


def _notice_context(p, notice):
    url = public_url(p, notice)
    return {
        "p": p, "community": p.community, "notice": notice, "draft": notice is None,
        "remark": public_text(p, notice.text) if notice is not None else "",
        # Every text typed by staff or residents, as it may be posted (the one publishing step,
        # fundapp.privacy): private persons' names masked, numbers and flats removed.
        "title": public_text(p, p.title), "content_text": public_text(p, p.content),
        "contractor": party(publisher_of(p), p.contractor), "needs_text": needs_text(p),
        "lines": [{"item": public_text(p, line.item), "amount": line.amount,
                   "in_procurement_catalogue": line.in_procurement_catalogue} for line in p.lines.all()],
        "public_url": url, "qr": qr_svg(url),
        # Online objections: plan notices only (Art. 10); other notices print the public page's address.
        "online_objection": notice is None or notice.kind == Notice.Kind.PLAN,
        "objection_url": objection_url(p, notice) if notice is not None and notice.kind == Notice.Kind.PLAN else url,
    }


def plan_notice_of(p):
    """The plan notice to print: None for a draft (the meeting passed, nothing posted yet for this round)."""
    if p.state == State.MEETING_PASSED:
        return None
    return _last(p.notices.all(), lambda n: n.kind == Notice.Kind.PLAN)


def plan_notice_available(p):
    return p.state == State.MEETING_PASSED or any(n.kind == Notice.Kind.PLAN for n in p.notices.all())


def plan_notice(proposal):
    """项目公示 (Art. 10): the plan residents are asked to object to."""
    p = load(proposal)
    notice = plan_notice_of(p)
    meeting = _last(p.meetings.all(), lambda m: m.passed)
    return render_pdf("approvals/pdf/plan_notice.html", {
        **_notice_context(p, notice),
        "budget_words": amount_in_words(p.budget),
        "meeting": meeting, "meeting_place": public_text(p, meeting.place) if meeting else "",
    })


def completion_notice_of(p):
    return _last(p.notices.all(), lambda n: n.kind == Notice.Kind.COMPLETION)


def payee(payment, publisher=None):
    """Who was paid, as the public may read it: the invoicing contractor (masked if a private person), or a
    private person's masked name."""
    if payment.invoice_id:
        return party(publisher, payment.invoice.contractor) if publisher else payment.invoice.contractor
    return mask_name(payment.recipient_name)


def completion_notice(proposal):
    """项目完成公示 (Art. 15): what was done, what it cost (each payment), the acceptance and satisfaction."""
    p = load(proposal)
    notice = completion_notice_of(p)
    if notice is None:
        raise LookupError("no completion notice")
    payments = [{"paid_on": pay.paid_on, "payee": payee(pay, publisher_of(p)), "amount": pay.amount,
                 "voucher": pay.is_voucher,
                 "reference": public_text(p, pay.invoice.number if pay.invoice_id else pay.reference)}
                for pay in p.payments.all()]
    total = sum((pay["amount"] for pay in payments), Decimal("0.00"))
    acceptance = _last(p.acceptances.all())
    return render_pdf("approvals/pdf/completion_notice.html", {
        **_notice_context(p, notice),
        "payments": payments, "total": total, "total_words": amount_in_words(total),
        "acceptance": acceptance, "quality_text": public_text(p, acceptance.quality) if acceptance else "",
        "satisfaction_method": public_text(p, acceptance.satisfaction_method) if acceptance else "",
        "satisfaction_rate": satisfaction_rate(acceptance),
    })


def satisfaction_rate(acceptance):
    if acceptance is None or not acceptance.asked_count:
        return None
    return round(Decimal(acceptance.satisfied_count) * 100 / acceptance.asked_count, 1)


def voucher_notices_of(p):
    return [n for n in p.notices.all() if n.kind == Notice.Kind.VOUCHER]


def voucher_notice(proposal, notice_id):
    """事后公示 (Art. 13) of a payment made without an invoice: purpose, masked recipient, amount, the meeting."""
    p = load(proposal)
    notice = next((n for n in voucher_notices_of(p) if n.pk == notice_id), None)
    payment = next((pay for pay in p.payments.all() if pay.after_notice_id == notice_id), None)
    if notice is None or payment is None:
        raise LookupError("no such voucher notice")
    return render_pdf("approvals/pdf/voucher_notice.html", {
        **_notice_context(p, notice),
        "payment": payment, "recipient": mask_name(payment.recipient_name),
        "reference": public_text(p, payment.reference),
        "amount_words": amount_in_words(payment.amount), "meeting": payment.meeting,
        "meeting_place": public_text(p, payment.meeting.place) if payment.meeting else "",
    })


# --- records ------------------------------------------------------------------------------------------

def attendee_names(meeting):
    """The attendees as entered, one name (and capacity) a line; commas and 、 separate them too."""
    import re

    return [name.strip() for name in re.split(r"[\n\r,，、;；]+", meeting.attendees or "") if name.strip()]


def meeting_minutes(proposal, meeting_id):
    """联席会议纪要: the meeting, the agenda (this proposal), the votes and the decision, with signature lines."""
    p = load(proposal)
    meeting = next((m for m in p.meetings.all() if m.pk == meeting_id), None)
    if meeting is None:
        raise LookupError("no such meeting")
    names = attendee_names(meeting)
    blank_rows = max(0, min(meeting.attendance, 40) - len(names))
    cells = names + [""] * blank_rows
    # Two people a row: name | signature | name | signature.
    rows = [cells[i:i + 2] + [""] * (2 - len(cells[i:i + 2])) for i in range(0, len(cells), 2)]
    return render_pdf("approvals/pdf/meeting_minutes.html", {
        "p": p, "community": p.community, "meeting": meeting, "signature_rows": rows,
        "budget_words": amount_in_words(p.budget),
    })


def acceptance_sheet(proposal, acceptance_id):
    """验收单 (Art. 12): inspection, quality, satisfaction survey, result, signature lines."""
    p = load(proposal)
    acceptance = next((a for a in p.acceptances.all() if a.pk == acceptance_id), None)
    if acceptance is None:
        raise LookupError("no such acceptance")
    return render_pdf("approvals/pdf/acceptance.html", {
        "p": p, "community": p.community, "a": acceptance, "satisfaction_rate": satisfaction_rate(acceptance),
        "settled_words": amount_in_words(p.settled_amount),
    })


def annual_report_pdf(report):
    """年度报告 (Art. 16) as the community files it, with the subdistrict's evaluation when made."""
    from .models import AnnualReport

    report = AnnualReport.objects.select_related("community__subdistrict", "submitted_by", "submitted_post",
                                                 "evaluated_by", "evaluated_post").get(pk=report.pk)
    figures = report.figures or {}
    money = {name: Decimal(value) for name, value in figures.get("money", {}).items()}
    categories = [{"label": _choice(Category, row["category"]), "count": row["count"],
                   "approved": Decimal(row["approved"]), "settled": Decimal(row["settled"])}
                  for row in figures.get("by_category", [])]
    projects = [{"title": row["title"], "category": _choice(Category, row["category"]),
                 "state": _choice(State, row["state"]), "approved": Decimal(row["approved"]),
                 "settled": Decimal(row["settled"])} for row in figures.get("projects", [])]
    settled = sum((c["settled"] for c in categories), Decimal("0.00"))
    return render_pdf("approvals/pdf/annual_report.html", {
        "report": report, "community": report.community, "money": money, "categories": categories,
        "projects": projects, "settled_total": settled,
        "settled_words": amount_in_words(money.get("settled", settled)),
        "submitted_by": signer(report.submitted_by, report.submitted_post) if report.submitted_by else "",
        "evaluated_by": signer(report.evaluated_by, report.evaluated_post) if report.evaluated_by else "",
    })


def _choice(choices, value):
    try:
        return choices(value).label
    except ValueError:
        return value


# --- what the proposal page offers ----------------------------------------------------------------------

def papers(proposal):
    """[(label, url)] of the papers that exist for this proposal (reads only what the page prefetched)."""
    pk = proposal.pk
    out = [(_("申请审批表"), reverse("approvals:proposal-pdf", args=[pk]))]
    # each version archived when the proposal was filed (approvals.paper_archive): the paper that was signed
    for paper in proposal.filed_papers.all():
        if paper.kind == paper.Kind.APPLICATION_FORM:
            label = (_("申请审批表（报送审核存档，%(date)s）") if paper.reason == paper.Reason.SUBMITTED_FOR_REVIEW
                     else _("申请审批表（报送同意存档，%(date)s）"))
            out.append((label % {"date": long_date(timezone.localdate(paper.generated_at))},
                        reverse("approvals:paper-application-form", args=[pk, paper.pk])))
    for meeting in proposal.meetings.all():
        out.append((_("联席会议纪要（%(date)s）") % {"date": long_date(meeting.held_on)},
                    reverse("approvals:paper-minutes", args=[pk, meeting.pk])))
    if plan_notice_available(proposal):
        label = _("项目公示（草稿）") if plan_notice_of(proposal) is None else _("项目公示")
        out.append((label, reverse("approvals:paper-plan-notice", args=[pk])))
    for notice in voucher_notices_of(proposal):
        out.append((_("事后公示（%(date)s）") % {"date": long_date(notice.posted_on)},
                    reverse("approvals:paper-voucher-notice", args=[pk, notice.pk])))
    for acceptance in proposal.acceptances.all():
        out.append((_("验收单（%(date)s）") % {"date": long_date(acceptance.inspected_on)},
                    reverse("approvals:paper-acceptance", args=[pk, acceptance.pk])))
    if completion_notice_of(proposal) is not None:
        out.append((_("完成公示"), reverse("approvals:paper-completion-notice", args=[pk])))
    return out
