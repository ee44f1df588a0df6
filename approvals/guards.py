"""What must already be true before a transition (the `guards` named in approvals.workflow).

Each guard takes the transition's context and raises DomainError saying, in the user's language, what is
missing. Guards read the proposal and the fund year as locked by `approvals.services.perform`.

The same functions decide what the pages offer: `approvals.services.dry_run` calls the guards that read no
input (`Transition.standing_guards`) on a proposal as it stands, without a lock. So they read related rows
with `.all()` — one query under `perform`, none on a work queue that prefetched them — never a `filter()` that
would ask the database once per proposal. A guard refusing until a date raises `NotYet`, which says when.
"""
import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from fundapp.errors import DomainError
from fundapp.i18n import long_date, weekday_date
from fundapp.amounts import format_yuan

from .models import Change, Invoice, Notice, ReviewDecision, State
from .workflow import ARTICLES, DATE_RULES, STEPS


class NotYet(DomainError):
    """A refusal that time lifts: the step opens on `opens_on` (a notice still running)."""

    def __init__(self, message, *, opens_on):
        super().__init__(message)
        self.opens_on = opens_on

def complete(ctx):
    """The plan is complete: title, content, at least one budget line, budget > 0, beneficiaries ≥ 1 (Art. 9)."""
    p = ctx.proposal
    missing = []
    if not p.title.strip():
        missing.append(_("项目名称"))
    if not p.content.strip():
        missing.append(_("项目内容"))
    if not p.lines.all() or p.budget <= 0:
        missing.append(_("预算明细"))
    if p.beneficiary_count < 1:
        missing.append(_("受益人数"))
    if missing:
        raise DomainError(_("方案不完整，请补充：%(fields)s。") % {"fields": _("、").join(str(m) for m in missing)})


def art4(ctx):
    """The proposer declares the project is none of the spending Art. 4 forbids."""
    if not ctx.proposal.art4_declaration:
        raise DomainError(_("请确认本项目不属于第四条禁止的支出。"))


def needs(ctx):
    """The proposal names at least one resident need from the register it answers (Art. 6, 9)."""
    if not ctx.proposal.needs.all():
        raise DomainError(_("请关联本项目回应的居民需求（第九条）。"))


def budget_available(ctx):
    """The budget fits in the fund year's available money: total − settled − reserved (SPEC §2)."""
    fund_year = ctx.fund_year()
    if ctx.proposal.budget > fund_year.available:
        raise DomainError(
            _("预算 %(budget)s 超过本年度可用经费 %(available)s。")
            % {"budget": format_yuan(ctx.proposal.budget), "available": format_yuan(fund_year.available)}
        )


def small_group_cap(ctx):
    """Small-group projects of the fund year together stay within 20% of its total (Art. 7(2))."""
    p = ctx.proposal
    if not p.is_small_group:
        return
    fund_year = ctx.fund_year()
    if fund_year.small_group_committed + p.budget > fund_year.small_group_limit:
        raise DomainError(
            _("受益群体较小的项目合计不得超过年度经费总额的20%%（上限 %(limit)s，已占用 %(used)s，本项目 %(budget)s）。")
            % {"limit": format_yuan(fund_year.small_group_limit),
               "used": format_yuan(fund_year.small_group_committed), "budget": format_yuan(p.budget)}
        )


def reason(ctx):
    """A reason or comment is given (returns, rejections, holds, withdrawals, refusals)."""
    if not str(ctx.data.get("reason") or "").strip():
        raise DomainError(_("请填写理由。"))


NOTICE_WORKING_DAYS = range(3, 61)  # a notice runs 3 (Art. 10, 15) to 60 working days


def notice_working_days(value):
    """`value` as a notice's number of working days, within NOTICE_WORKING_DAYS — the one check of the
    range (the services call it on what they are given; the forms take their bounds from it)."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise DomainError(_("公示工作日数须为整数。")) from None
    if days < NOTICE_WORKING_DAYS.start:
        raise DomainError(_("公示期不得少于3个工作日。"))
    if days >= NOTICE_WORKING_DAYS.stop:
        raise DomainError(_("公示期最长 60 个工作日。"))
    return days


def notice_min_days(ctx):
    """The notice runs for 3 (Art. 10) to 60 working days."""
    notice_working_days(ctx.data["working_days"])


def _running_notice(ctx, kind):
    return max((n for n in ctx.proposal.notices.all() if n.kind == kind and n.status == Notice.Status.RUNNING),
               key=lambda n: n.pk, default=None)


def notice_period_over(ctx):
    """The running notice has run its full period: today is after its last working day (Art. 10, 15)."""
    kind = Notice.Kind.PLAN if ctx.proposal.state == State.NOTICE else Notice.Kind.COMPLETION
    notice = _running_notice(ctx, kind)
    if notice is None:
        raise DomainError(_("没有正在进行的公示。"))
    if ctx.today < notice.next_step_day:
        raise NotYet(
            _("公示期至 %(last)s 结束，%(next)s 起方可办理下一步。")
            % {"last": long_date(notice.last_day), "next": weekday_date(notice.next_step_day)},
            opens_on=notice.next_step_day,
        )


def no_open_objection(ctx):
    """Every objection to the notice has been answered (Art. 10)."""
    open_count = sum(1 for n in ctx.proposal.notices.all() for o in n.objections.all() if o.answered_at is None)
    if open_count:
        raise DomainError(_("还有 %(n)s 条异议未答复，答复后方可报审。") % {"n": open_count})


def _current_round(ctx):
    return ReviewDecision.objects.filter(proposal=ctx.proposal, round=ctx.proposal.review_round)


def leader_not_yet_decided(ctx):
    """This leader's post has not decided in this review round, and one person cannot act for both leaders (Art. 11)."""
    decided = [r for r in ctx.proposal.reviews.all() if r.round == ctx.proposal.review_round]
    if any(r.role == ctx.post.role for r in decided):
        raise DomainError(_("本轮审批中您的职务已作出决定。"))
    if any(r.by_id == ctx.by.pk for r in decided):
        raise DomainError(_("同一人不能代表两位主要领导审批。"))


def both_leaders_approved(ctx):
    """The 党工委 secretary and the 建管委 director, two different people, both approved this round (Art. 11)."""
    approvals = _current_round(ctx).filter(decision=ReviewDecision.Decision.APPROVE)
    if approvals.values("role").distinct().count() < 2 or approvals.values("by").distinct().count() < 2:
        raise DomainError(_("须经党工委书记和建管委主任两位主要领导均同意。"))


def _requested_changes(ctx):
    return [c for c in ctx.proposal.changes.all() if c.status == Change.Status.REQUESTED]


def no_pending_change(ctx):
    """No change request is waiting for the subdistrict's consent (Art. 11)."""
    if _requested_changes(ctx):
        raise DomainError(_("有待街道党工委同意的变更申请。"))


def pending_change(ctx):
    """A change request is waiting for a decision (Art. 11)."""
    if not _requested_changes(ctx):
        raise DomainError(_("没有待处理的变更申请。"))


def change_budget_covered(ctx):
    """A budget change stays ≥ what is settled; an increase fits in the available money and the 20% cap (Art. 7, 11)."""
    change = _requested_changes(ctx)[0]
    if change.new_budget is None:
        return
    p = ctx.proposal
    if change.new_budget < p.settled_amount:
        raise DomainError(_("变更后预算不能低于已结算金额 %(settled)s。") % {"settled": format_yuan(p.settled_amount)})
    increase = change.new_budget - p.approved_budget
    if increase <= 0:
        return
    fund_year = ctx.fund_year()
    if increase > fund_year.available:
        raise DomainError(_("追加预算 %(inc)s 超过本年度可用经费 %(available)s。")
                          % {"inc": format_yuan(increase), "available": format_yuan(fund_year.available)})
    if p.is_small_group and fund_year.small_group_committed + increase > fund_year.small_group_limit:
        raise DomainError(_("追加后受益群体较小的项目合计将超过年度经费总额的20%。"))


def within_budget(ctx):
    """Paid so far + invoices being signed or awaiting settlement + this amount (the invoice's when settling it)
    ≤ the approved budget (Art. 13). Asked before an amount is entered (a dry run): is any room left?"""
    p = ctx.proposal
    invoice = ctx.data.get("invoice")
    amount = ctx.data.get("amount", invoice.amount if invoice is not None else None)
    pending = sum((i.amount for i in p.invoices.all()
                   if i.status in (Invoice.Status.SIGNING, Invoice.Status.SIGNED) and i.pk != getattr(invoice, "pk", None)),
                  Decimal("0.00"))
    if amount is None:
        if p.settled_amount + pending >= p.approved_budget:
            raise DomainError(_("批准预算已全部用于已结算和待结算的款项（批准 %(approved)s）。")
                              % {"approved": format_yuan(p.approved_budget)})
        return
    if p.settled_amount + pending + amount > p.approved_budget:
        raise DomainError(
            _("金额超出批准预算：批准 %(approved)s，已结算 %(settled)s，待结算发票 %(pending)s，本次 %(amount)s。")
            % {"approved": format_yuan(p.approved_budget), "settled": format_yuan(p.settled_amount),
               "pending": format_yuan(pending), "amount": format_yuan(amount)}
        )


SIGNING_ORDER = {1: "community_secretary", 2: "construction_director", 3: "subdistrict_secretary"}


def next_signer_role(invoice):
    """The role whose signature `invoice` awaits next (Art. 13), or None once it carries three.

    The one place the next signer is computed: the guard below, the service choosing the post to act in,
    and the page offering "sign" (which prefetches the signatures, so this asks no query there)."""
    return SIGNING_ORDER.get(len(invoice.signatures.all()) + 1)


def signature_order(ctx):
    """The invoice is being signed and the signer holds the next post in the order: community secretary, construction director, 党工委 secretary (Art. 13)."""
    invoice = ctx.data["invoice"]
    if invoice.status != Invoice.Status.SIGNING:
        raise DomainError(_("该发票当前不需要签字（%(status)s）。") % {"status": invoice.get_status_display()})
    expected = next_signer_role(invoice)
    if ctx.post.role != expected:
        from fundapp.models import Role

        raise DomainError(_("现在应由%(role)s签字，签字须依次进行。") % {"role": Role(expected).label})


def signer_not_yet_signed(ctx):
    """Three different people: one who signed this invoice cannot sign it again (Art. 13)."""
    if any(s.by_id == ctx.by.pk for s in ctx.data["invoice"].signatures.all()):
        raise DomainError(_("同一人不能在同一张发票上签字两次。"))


def invoice_signed(ctx):
    """The invoice carries all three signatures and has not been settled (Art. 13)."""
    invoice = ctx.data["invoice"]
    if invoice.status == Invoice.Status.SETTLED:
        from fundapp.errors import Conflict

        raise Conflict(_("该发票已结算，不能重复结算。"))
    if invoice.status != Invoice.Status.SIGNED or len(invoice.signatures.all()) != 3:
        raise DomainError(_("发票须经三人依次签字后方可结算。"))


def prior_meeting(ctx):
    """A no-invoice payment links this proposal's passing collective meeting (Art. 13); its date bounds the payment's (`voucher_payment_date`)."""
    meeting = ctx.data.get("meeting")
    if meeting is None or meeting.proposal_id != ctx.proposal.pk or not meeting.passed:
        raise DomainError(_("无发票支付须关联本项目事前集体讨论通过的会议决定。"))


def receipt(ctx):
    """A no-invoice payment names the recipient and their signed receipt as the voucher (Art. 13)."""
    if not str(ctx.data.get("recipient_name") or "").strip() or not str(ctx.data.get("receipt_reference") or "").strip():
        raise DomainError(_("无发票支付须填写收款人并以收款人签字作为结算凭证。"))


def voucher_awaiting_notice(ctx):
    """The payment is a no-invoice payment whose after-the-fact notice is not yet posted (Art. 13)."""
    payment = ctx.data["payment"]
    if not payment.is_voucher or payment.after_notice_id:
        raise DomainError(_("该笔支付无需或已经张贴事后公示。"))


def has_payment(ctx):
    """At least one settlement or voucher payment was made (Art. 13)."""
    if not ctx.proposal.payments.all():
        raise DomainError(_("尚无结算或支付记录。"))


def no_invoice_pending(ctx):
    """No invoice is still being signed or waiting for settlement (Art. 13)."""
    if any(i.status in (Invoice.Status.SIGNING, Invoice.Status.SIGNED) for i in ctx.proposal.invoices.all()):
        raise DomainError(_("还有发票在签字或待结算。"))


def vouchers_noticed(ctx):
    """Every no-invoice payment has its after-the-fact notice (Art. 13)."""
    if any(p.invoice_id is None and p.after_notice_id is None for p in ctx.proposal.payments.all()):
        raise DomainError(_("无发票支付须先张贴事后公示。"))


# ---- dates (approvals.workflow.DATE_RULES) ---------------------------------------------------------

def _local(moment):
    return timezone.localdate(moment) if moment is not None else None


def _consent(ctx):
    """The time of the latest preliminary consent (a ConsentDecision that consents), as a local date."""
    return _local(ctx.proposal.consents.filter(consented=True).order_by("-at").values_list("at", flat=True).first())


def _last_plan_notice(ctx):
    """The `posted_on` of the proposal's latest plan notice, whatever became of it (ended, withdrawn by a hold or a replan)."""
    return (ctx.proposal.notices.filter(kind=Notice.Kind.PLAN).order_by("-posted_on")
            .values_list("posted_on", flat=True).first())


def _passing_meeting(ctx):
    """The `held_on` of the latest joint meeting that passed the plan."""
    return (ctx.proposal.meetings.filter(passed=True).order_by("-held_on", "-pk")
            .values_list("held_on", flat=True).first())


def _approval(ctx):
    """The date the proposal became approved: the time of the last approving ReviewDecision of the approving round, as a local date."""
    return _local(ReviewDecision.objects.filter(proposal=ctx.proposal, round=ctx.proposal.review_round,
                                                decision=ReviewDecision.Decision.APPROVE)
                  .order_by("-at").values_list("at", flat=True).first())


def _last_follow_up(ctx):
    """The latest follow-up's `visited_on`."""
    return ctx.proposal.follow_ups.order_by("-visited_on").values_list("visited_on", flat=True).first()


def _last_failed_inspection(ctx):
    """The latest failed inspection's `inspected_on`."""
    return (ctx.proposal.acceptances.filter(passed=False).order_by("-inspected_on")
            .values_list("inspected_on", flat=True).first())


def _acceptance(ctx):
    """The passing inspection's `inspected_on`."""
    return (ctx.proposal.acceptances.filter(passed=True).order_by("-inspected_on")
            .values_list("inspected_on", flat=True).first())


def _invoice_issued(ctx):
    """The invoice's `issued_on`."""
    return ctx.data["invoice"].issued_on


def _third_signature(ctx):
    """The time of the invoice's third signature (the 党工委 secretary's), as a local date."""
    return _local(ctx.data["invoice"].signatures.filter(order=3).values_list("at", flat=True).first())


def _linked_meeting(ctx):
    """The `held_on` of the meeting the no-invoice payment links as its prior collective decision."""
    meeting = ctx.data.get("meeting")
    return meeting.held_on if meeting is not None else None


def _payment(ctx):
    """The `paid_on` of the no-invoice payment the notice is for."""
    return ctx.data["payment"].paid_on


def _last_payment(ctx):
    """The latest `paid_on` of the proposal's payments (settlements and no-invoice payments)."""
    return ctx.proposal.payments.order_by("-paid_on").values_list("paid_on", flat=True).first()


def _planned_start(ctx):
    """The plan's `planned_start`."""
    return ctx.proposal.planned_start


# How the date of each step in approvals.workflow.STEPS is read: the date the step took effect.
STEP_DATES = {
    "consent": _consent, "last_plan_notice": _last_plan_notice, "passing_meeting": _passing_meeting,
    "approval": _approval, "last_follow_up": _last_follow_up, "last_failed_inspection": _last_failed_inspection,
    "acceptance": _acceptance, "invoice_issued": _invoice_issued, "third_signature": _third_signature,
    "linked_meeting": _linked_meeting, "payment": _payment, "last_payment": _last_payment,
    "planned_start": _planned_start,
}
assert STEP_DATES.keys() == STEPS.keys(), "every step of approvals.workflow.STEPS needs a way to read its date"


def entered_date(value, label, *, optional=False):
    """`value` if it is a date (a `datetime.date`, not a datetime nor a string); None if empty and optional."""
    if value is None or value == "":
        if optional:
            return None
        raise DomainError(_("请填写%(field)s。") % {"field": label})
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise DomainError(_("%(field)s须为日期（年-月-日）。") % {"field": label})
    return value


def check_date(ctx, rule):
    """Refuse the rule's date in `ctx.data` if it is not a date, precedes a step it follows, or lies in the future."""
    article = ARTICLES[rule.article]
    value = entered_date(ctx.data.get(rule.field), rule.label, optional=rule.optional)
    if value is None:
        return
    late = []
    for name in rule.not_before:
        step, day = STEPS[name], STEP_DATES[name](ctx)
        if day is None:
            if step.required:
                raise DomainError(_("%(field)s：找不到%(step)s（%(article)s）。")
                                  % {"field": rule.label, "step": step.label, "article": article})
        elif value < day:
            late.append((day, step))
    if late:
        # Name the latest of the steps it would precede: the first day the date may take.
        day, step = max(late, key=lambda bound: bound[0])
        raise DomainError(_("%(field)s不能早于%(step)s %(date)s（%(article)s）。")
                          % {"field": rule.label, "step": step.label, "date": long_date(day), "article": article})
    if rule.not_after_today and value > ctx.today:
        raise DomainError(_("%(field)s不能晚于今天 %(today)s（%(article)s）。")
                          % {"field": rule.label, "today": long_date(ctx.today), "article": article})


def _describe(rule):
    text = f"`{rule.model.__name__}.{rule.field}` is a date" + (" (or empty)" if rule.optional else "")
    if rule.not_before:
        text += f"; not before: {', '.join(rule.not_before)}"
    if rule.not_after_today:
        text += "; not after today"
    return text + f" (Art. {rule.article}; see Date rules)."


def _date_guard(rule):
    def guard(ctx):
        check_date(ctx, rule)

    guard.__name__ = guard.__qualname__ = rule.guard
    guard.__doc__ = _describe(rule)
    return guard


DATE_GUARDS = {rule.guard: _date_guard(rule) for rule in DATE_RULES if rule.guard}


GUARDS = {name: fn for name, fn in globals().items() if callable(fn) and getattr(fn, "__module__", "") == __name__
          and not name.startswith("_")
          and name not in ("check_date", "entered_date", "next_signer_role", "notice_working_days", "NotYet")} | DATE_GUARDS
