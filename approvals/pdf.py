"""The application form (申请审批表) and its helpers; rendered by fundapp.pdf like every PDF."""
from decimal import Decimal

from fundapp.models import Role
from fundapp.pdf import render_pdf

from .models import Invoice, Notice, Proposal, ReviewDecision

DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ["", "拾", "佰", "仟"]
SECTIONS = ["", "万", "亿"]


def yuan_in_words(amount):
    """Capitalised amount as written on Chinese financial forms: 30000.50 → 叁万元伍角整."""
    amount = Decimal(amount).quantize(Decimal("0.01"))
    yuan, fen_total = divmod(int(amount * 100), 100)
    jiao, fen = divmod(fen_total, 10)
    words, zero, section = "", False, 0
    if yuan == 0:
        words = "零"
    while yuan:
        yuan, chunk = divmod(yuan, 10000)
        part, pending_zero = "", False
        for i in range(4):
            chunk, digit = divmod(chunk, 10)
            if digit:
                part = DIGITS[digit] + UNITS[i] + ("零" if pending_zero else "") + part
                pending_zero = False
            elif part:
                pending_zero = True
        if part:
            words = part + SECTIONS[section] + ("零" if zero else "") + words
        zero = bool(words) and (not part or pending_zero or chunk < 1000)
        section += 1
    words = words.rstrip("零") + "元"
    if words == "零元" and fen_total:
        words = ""
    if jiao:
        words += DIGITS[jiao] + "角"
    if fen:
        words += DIGITS[fen] + "分"
    return words if fen else words + "整"


def application_form(proposal):
    """The 社区党组织服务群众专项经费使用申请审批表 with the approvals and signatures made so far."""
    p = Proposal.objects.select_related("community__subdistrict", "fund_year", "created_by").prefetch_related(
        "lines", "consents__by", "meetings", "reviews__by", "reviews__post", "notices__objections",
        "invoices__signatures__by", "acceptances",
    ).get(pk=proposal.pk)
    reviews = {r.role: r for r in p.reviews.all() if r.round == p.review_round}
    return render_pdf("approvals/pdf/application_form.html", {
        "p": p,
        "budget_words": yuan_in_words(p.budget),
        "consent": next((c for c in reversed(p.consents.all()) if c.consented), None),
        "meeting": next((m for m in reversed(p.meetings.all()) if m.passed), None),
        "notice": next((n for n in reversed(p.notices.all()) if n.kind == Notice.Kind.PLAN), None),
        "secretary_review": reviews.get(Role.SUBDISTRICT_SECRETARY),
        "director_review": reviews.get(Role.CONSTRUCTION_DIRECTOR),
        "approve": ReviewDecision.Decision.APPROVE,
        "invoices": [i for i in p.invoices.all() if i.status != Invoice.Status.RETURNED],
        "acceptance": next(iter(reversed(p.acceptances.all())), None),
    })
