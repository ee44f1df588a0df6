"""The application form (申请审批表) and its helpers; rendered by fundapp.pdf like every PDF."""
from fundapp.models import Role
from fundapp.money import amount_in_words
from fundapp.pdf import render_pdf

from .models import Invoice, Notice, Proposal, ReviewDecision


def application_form(proposal):
    """The 社区党组织服务群众专项经费使用申请审批表 with the approvals and signatures made so far."""
    p = Proposal.objects.select_related("community__subdistrict", "fund_year", "created_by").prefetch_related(
        "lines", "consents__by", "meetings", "reviews__by", "reviews__post", "notices__objections",
        "invoices__signatures__by", "acceptances",
    ).get(pk=proposal.pk)
    reviews = {r.role: r for r in p.reviews.all() if r.round == p.review_round}
    return render_pdf("approvals/pdf/application_form.html", {
        "p": p,
        "budget_words": amount_in_words(p.budget),
        "consent": next((c for c in reversed(p.consents.all()) if c.consented), None),
        "meeting": next((m for m in reversed(p.meetings.all()) if m.passed), None),
        "notice": next((n for n in reversed(p.notices.all()) if n.kind == Notice.Kind.PLAN), None),
        "secretary_review": reviews.get(Role.SUBDISTRICT_SECRETARY),
        "director_review": reviews.get(Role.CONSTRUCTION_DIRECTOR),
        "approve": ReviewDecision.Decision.APPROVE,
        "invoices": [i for i in p.invoices.all() if i.status != Invoice.Status.RETURNED],
        "acceptance": next(iter(reversed(p.acceptances.all())), None),
    })
