"""What a person deciding needs in front of them, and what their confirmation will change.

- `decision_basis(proposal, user=…, today=…)`: for the consent, review and change decisions — the plan and
  its budget lines, the fund year's money before and after this proposal takes its budget, the small-group
  cap (Art. 7(2)) before and after, the meeting (date, attendance, votes), the notice (dates, photo) with
  every objection and its answer, the documents, and the decisions already made in this round.
- `effect_summary(proposal, action, target=…)`: for every confirmation page — the state each outcome leads
  to (read from approvals.workflow.TRANSITIONS) and the money it reserves, releases or pays, with the fund
  year's figures before and after computed by the model's own formulas (fundapp.models.funds).
"""
import copy
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import prefetch_related_objects
from django.utils.translation import gettext_lazy as _

from fundapp.models import FundYear
from fundapp.models.funds import ZERO

from .models import (
    PRE_APPROVAL, RESERVING, Change, Document, Invoice, Meeting, Notice, ReviewDecision, State,
)
from .standing import LEADERS, _person_of
from .workflow import TRANSITIONS

# The decisions that show their basis (the consent, the review, the change decision).
DECISIONS = frozenset({"consent", "return_consent", "review", "consent_change", "refuse_change"})


@dataclass(frozen=True)
class Figures:
    """A fund year's money at one moment, as fundapp.models.funds computes it."""

    total: Decimal
    settled: Decimal
    reserved: Decimal
    available: Decimal
    small_group_committed: Decimal
    small_group_limit: Decimal

    @classmethod
    def of(cls, fund_year):
        return cls(total=fund_year.total, settled=fund_year.settled, reserved=fund_year.reserved,
                   available=fund_year.available, small_group_committed=fund_year.small_group_committed,
                   small_group_limit=fund_year.small_group_limit)

    @property
    def small_group_room(self):
        return self.small_group_limit - self.small_group_committed


def _after(fund_year, *, reserve=ZERO, release=ZERO, pay=ZERO, small_group=False, carried_share=ZERO):
    """The fund year's figures after the chain's money services would move this money: a copy changed as
    fund_year_reserve / fund_year_release / fund_year_spend change the row, read with the model's formulas."""
    fy = copy.copy(fund_year)
    fy.reserved += reserve - release - pay
    fy.settled += pay
    if small_group:
        fy.small_group_committed += reserve - release
        fy.small_group_carried -= min(release, carried_share, fy.small_group_carried)
    return Figures.of(fy)


@dataclass
class Money:
    """Money an act moves: `kind` is "reserve", "release" or "pay"."""

    kind: str
    amount: Decimal
    before: Figures
    after: Figures
    small_group: bool = False

    @property
    def label(self):
        return {"reserve": _("预留"), "release": _("退回可用经费"), "pay": _("结算（从已预留经费中支付）")}[self.kind]


@dataclass
class Outcome:
    """One way an act can end: its case ("同意", "会议通过"…), the state after, the money, and notes."""

    case: str
    state: str | None  # None: the state does not change
    money: Money | None = None
    notes: list = field(default_factory=list)

    @property
    def state_label(self):
        return State(self.state).label if self.state else ""


@dataclass
class Effect:
    state: str
    outcomes: list

    @property
    def state_label(self):
        return State(self.state).label


def _fund_year(proposal):
    # Fresh: the figures move with every approval and payment of the community.
    return FundYear.objects.get(pk=proposal.fund_year_id)


def effect_summary(proposal, action, *, target=None, today=None):
    """What confirming UI action `action` (approvals.actions.ACTIONS) on `proposal` will change."""
    from fundapp import clock

    p = proposal
    today = today or clock.today()
    target_state = lambda name: TRANSITIONS[name].target  # noqa: E731
    fy = None

    def money(kind, amount, **extra):
        nonlocal fy
        fy = fy or _fund_year(p)
        flags = {"small_group": p.is_small_group}
        if kind == "release":
            flags["carried_share"] = p.small_group_carried
        return Money(kind=kind, amount=amount, before=Figures.of(fy), after=_after(fy, **{kind: amount}, **flags),
                     small_group=p.is_small_group)

    one = lambda name, *notes, **kw: [Outcome(TRANSITIONS[name].label, target_state(name), notes=list(notes), **kw)]  # noqa: E731
    if action == "submit_for_consent":
        outcomes = one("submit_for_consent", _("方案送街道党工委书记初步同意；此时不预留经费，批准时才预留。"))
    elif action in ("consent", "return_consent"):
        outcomes = one(action, _("同意后由社区召开联席会议。") if action == "consent"
                       else _("方案退回社区修改，意见记入办理记录。"))
    elif action == "meeting":
        outcomes = [Outcome(_("过半数到会人员赞成：会议通过"), target_state("meeting_passed"),
                            notes=[_("通过后张贴公示。")]),
                    Outcome(_("未过半数：会议未通过"), target_state("meeting_failed"),
                            notes=[_("方案退回起草，修改后重新报请初步同意。")])]
    elif action in ("post_notice", "post_completion_notice", "post_voucher_notice"):
        outcomes = one(action, _("公示期满前不能办理下一步；公示最后一天在下一步核对后显示。"))
    elif action == "record_objection":
        outcomes = [Outcome(_("登记异议"), None, notes=[_("未答复的异议会阻止报审，直至答复。")])]
    elif action == "answer_objection":
        outcomes = [Outcome(_("答复异议"), None, notes=[_("答复后，该异议不再阻止报审。")])]
    elif action == "attach_notice_photo":
        outcomes = [Outcome(_("上传公示栏照片"), None,
                            notes=[_("照片作为张贴凭证存档，并在公开页面随该公示显示；项目状态和经费不变。")])]
    elif action in ("hold", "replan"):
        outcomes = one(action, _("正在进行的方案公示撤下。"))
    elif action == "submit_for_review":
        from .services import review_deadline

        deadline = review_deadline(today)
        outcomes = one("submit_for_review", _("方案公示结束，送两位主要领导审批。"),
                       _("审批期限：%(date)s（5个工作日）") % {"date": _day(deadline.day)})
    elif action == "review":
        outcomes = _review_outcomes(p, money)
    elif action == "start":
        outcomes = one("start", _("街道党工委工作人员开始跟进实施。"))
    elif action == "request_change":
        outcomes = [Outcome(_("申请变更"), None, notes=[_("变更经街道党工委书记同意并备案后生效；预算变化在同意时预留或退回。")])]
    elif action in ("consent_change", "refuse_change"):
        outcomes = _change_outcomes(p, action, money)
    elif action in ("follow_up",):
        outcomes = [Outcome(TRANSITIONS["follow_up"].label, None)]
    elif action == "acceptance":
        outcomes = [Outcome(_("验收合格"), target_state("accept"), notes=[_("合格后社区登记发票并结算。")]),
                    Outcome(_("验收不合格"), None, notes=[_("整改后复验，项目仍在实施中。")])]
    elif action == "register_invoice":
        outcomes = [Outcome(TRANSITIONS["register_invoice"].label, None,
                            notes=[_("发票须依次经社区党委书记、建管委主任、党工委书记签字后结算；不超出批准预算。")])]
    elif action == "sign_invoice":
        notes = [_("第三人签字后，发票交财务结算。")] if isinstance(target, Invoice) and \
            len(target.signatures.all()) == 2 else [_("签字后，发票交下一位签字人。")]
        outcomes = [Outcome(TRANSITIONS["sign_invoice"].label, None, notes=notes)]
    elif action == "refuse_invoice":
        outcomes = [Outcome(TRANSITIONS["refuse_invoice"].label, None,
                            notes=[_("发票退回，不占用预算；承办方可重新开具后再登记。")])]
    elif action == "settle_invoice":
        amount = target.amount if isinstance(target, Invoice) else ZERO
        outcomes = [Outcome(TRANSITIONS["settle_invoice"].label, None, money=money("pay", amount))]
    elif action == "pay_voucher":
        outcomes = [Outcome(TRANSITIONS["pay_voucher"].label, None,
                            notes=[_("支付金额从本项目预留经费中支出（记入台账），此后须张贴事后公示。")])]
    elif action == "finish_settlement":
        outcomes = one("finish_settlement",
                       money=money("release", p.reserved_amount) if p.reserved_amount > 0 else None)
        if not p.reserved_amount:
            outcomes[0].notes.append(_("预留经费已全部支出，无需退回。"))
    elif action == "complete":
        outcomes = one("complete", _("项目完成，不再办理。"))
    elif action == "withdraw":
        reserved = p.state in RESERVING and p.reserved_amount > 0
        outcomes = one("withdraw", _("撤回后不能恢复；正在进行的公示撤下。"),
                       money=money("release", p.reserved_amount) if reserved else None)
    elif action == "opinion":
        outcomes = [Outcome(_("记录监督意见"), None, notes=[_("意见记入办理记录，相关人员可见。")])]
    else:
        outcomes = []
    return Effect(state=p.state, outcomes=outcomes)


def _review_outcomes(p, money):
    decided = {r.role: r for r in p.reviews.all() if r.round == p.review_round}
    approve = Outcome(_("同意"), None)
    if sum(1 for r in decided.values() if r.decision == ReviewDecision.Decision.APPROVE) == 1:
        approve.state = TRANSITIONS["approve"].target
        approve.money = money("reserve", p.budget)
        approve.notes.append(_("另一位主要领导已同意：您同意后项目即获批准，预算转为预留。"))
    else:
        approve.notes.append(_("两位主要领导均同意后，项目才获批准并预留预算。"))
    return [approve,
            Outcome(_("退回修改"), TRANSITIONS["return_for_revision"].target,
                    notes=[_("方案退回社区修改，本轮审批结束。")]),
            Outcome(_("不予批准"), TRANSITIONS["reject"].target, notes=[_("项目终止，不预留经费。")])]


def _change_outcomes(p, action, money):
    change = next((c for c in p.changes.all() if c.status == Change.Status.REQUESTED), None)
    if action == "refuse_change":
        return [Outcome(_("不同意变更"), None, notes=[_("按原批准方案继续实施。")])]
    outcome = Outcome(_("同意变更并备案"), None)
    if change is not None and change.new_budget is not None and change.new_budget != p.approved_budget:
        delta = change.new_budget - p.approved_budget
        outcome.money = money("reserve", delta) if delta > 0 else money("release", -delta)
        outcome.notes.append(_("批准预算：%(old)s → %(new)s") % {"old": _yuan(p.approved_budget),
                                                           "new": _yuan(change.new_budget)})
    if change is not None and change.new_planned_end:
        outcome.notes.append(_("计划完成日期：%(old)s → %(new)s") % {"old": _day(p.planned_end),
                                                            "new": _day(change.new_planned_end)})
    if change is not None and change.new_contractor:
        outcome.notes.append(_("承办方：%(old)s → %(new)s") % {"old": p.contractor or "—", "new": change.new_contractor})
    return [outcome]


def _yuan(amount):
    from fundapp.amounts import format_yuan

    return format_yuan(amount)


def _day(value):
    from .standing import day

    return day(value)


# ---- the basis of a decision ----------------------------------------------------------------------

@dataclass
class Basis:
    proposal: object
    before: Figures
    after: Figures | None  # None: this decision moves no money (the budget is already reserved, no change)
    takes: Decimal  # what this proposal takes from the available money when approved (or the change's delta)
    meeting: Meeting | None
    notice: Notice | None
    photos: list
    objections: list
    documents: list
    decisions: list  # [(who, decision label, reason, at, is the viewer's own post)]
    consents: list  # [(who, consented, comments, at)]
    change: Change | None

    @property
    def objections_open(self):
        return sum(1 for o in self.objections if o.is_open)


def decision_basis(proposal, *, user=None, today=None):
    """Everything a leader needs to decide on `proposal` (see the module's docstring)."""
    from fundapp import rights

    p = proposal
    prefetch_related_objects([p], "lines", "needs", "reviews__by", "consents__by", "consents__post", "meetings",
                             "notices__objections", "documents", "changes")
    fy = _fund_year(p)
    before = Figures.of(fy)
    change = next((c for c in p.changes.all() if c.status == Change.Status.REQUESTED), None)
    takes, after = ZERO, None
    if p.state in PRE_APPROVAL or p.state == State.UNDER_REVIEW:
        takes = p.budget
        after = _after(fy, reserve=takes, small_group=p.is_small_group)
    elif change is not None and change.new_budget is not None and change.new_budget != p.approved_budget:
        takes = change.new_budget - p.approved_budget
        after = (_after(fy, reserve=takes, small_group=p.is_small_group) if takes > 0 else
                 _after(fy, release=-takes, small_group=p.is_small_group, carried_share=p.small_group_carried))
    meeting = max((m for m in p.meetings.all()), key=lambda m: (m.held_on, m.pk), default=None)
    notice = max((n for n in p.notices.all() if n.kind == Notice.Kind.PLAN), key=lambda n: (n.posted_on, n.pk),
                 default=None)
    documents = list(p.documents.all())
    mine = set()
    if user is not None:
        mine = {post.role for post in rights.current_posts(user) if post.covers(p.community) and post.role in LEADERS}
    decisions = [(_person_of(r), r.get_decision_display(), r.reason, r.at, r.role in mine)
                 for r in sorted(p.reviews.all(), key=lambda r: r.at) if r.round == p.review_round]
    consents = [(_person_of(c), c.consented, c.comments, c.at) for c in sorted(p.consents.all(), key=lambda c: c.at)]
    return Basis(
        proposal=p, before=before, after=after, takes=takes, meeting=meeting, notice=notice,
        photos=[d for d in documents if d.kind == Document.Kind.NOTICE_PHOTO],
        objections=[o for n in p.notices.all() if n.kind == Notice.Kind.PLAN for o in n.objections.all()],
        documents=documents, decisions=decisions, consents=consents, change=change,
    )

