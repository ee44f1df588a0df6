"""The approval chain as data (SPEC §4, Art. 9–13, 15): every state change a proposal can make.

Each transition names the states it leaves from, the state it reaches, who may perform it (the role of a
post in force covering the proposal's community, plus the guardian permission that role holds there), and
the guards that must hold. `approvals.services.perform` is the one function that applies a transition;
docs/workflow.md draws this table.
"""
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from fundapp import rights
from fundapp.models import Role

from .models import EDITABLE, PRE_APPROVAL, RESERVING, TERMINAL  # noqa: F401  (named beside the states)
from .models import Acceptance, Change, FollowUp, Invoice, Meeting, Notice, Payment, Proposal, State



@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset
    target: str | None  # None: the state does not change (a step recorded within a state)
    roles: frozenset
    permission: str
    guards: tuple = field(default=())
    rule: str = ""  # the article it implements
    # The guards that read what the person enters (a reason, a date, an amount…). A dry run
    # (`approvals.services.dry_run`, which decides what the pages offer) skips them and checks all the
    # others: what stands before any input, so an offered step is one the service will accept with valid input.
    reads_input: frozenset = frozenset()

    def __post_init__(self):
        assert self.reads_input <= set(self.guards), (self.name, self.reads_input - set(self.guards))

    @property
    def standing_guards(self):
        """The guards that do not read the person's input, in order: what a dry run checks."""
        return tuple(g for g in self.guards if g not in self.reads_input)


def t(name, label, sources, target, roles, permission, guards=(), rule="", reads_input=()):
    return Transition(name, label, frozenset(sources), target, frozenset(roles), permission, tuple(guards), rule,
                      frozenset(reads_input))


TRANSITIONS = {
    tr.name: tr
    for tr in [
        t("submit_for_consent", _("报请初步同意"), {State.DRAFT}, State.CONSENT_PENDING,
          {Role.COMMUNITY_SECRETARY}, "file_proposal",
          ["complete", "art4", "needs", "budget_available", "small_group_cap"], "第九、十条"),
        t("consent", _("初步同意"), {State.CONSENT_PENDING}, State.CONSENTED,
          {Role.SUBDISTRICT_SECRETARY}, "consent_proposal", [], "第十条"),
        t("return_consent", _("退回（初步意见）"), {State.CONSENT_PENDING}, State.DRAFT,
          {Role.SUBDISTRICT_SECRETARY}, "consent_proposal", ["reason"], "第十条", reads_input=["reason"]),
        t("meeting_passed", _("联席会议通过"), {State.CONSENTED, State.ON_HOLD}, State.MEETING_PASSED,
          {Role.COMMUNITY_SECRETARY}, "file_proposal", ["meeting_date", "budget_available",
                                                      "small_group_cap"], "第十条", reads_input=["meeting_date"]),
        t("meeting_failed", _("联席会议未通过"), {State.CONSENTED, State.ON_HOLD}, State.DRAFT,
          {Role.COMMUNITY_SECRETARY}, "file_proposal", ["meeting_date"], "第十条", reads_input=["meeting_date"]),
        t("post_notice", _("张贴公示"), {State.MEETING_PASSED}, State.NOTICE,
          {Role.COMMUNITY_SECRETARY}, "file_proposal", ["notice_date", "notice_min_days"], "第十条", reads_input=["notice_date", "notice_min_days"]),
        t("hold", _("暂时搁置"), {State.NOTICE}, State.ON_HOLD,
          {Role.COMMUNITY_SECRETARY}, "file_proposal", ["reason"], "第十条", reads_input=["reason"]),
        t("replan", _("修改方案后重新上会"), {State.NOTICE}, State.CONSENTED,
          {Role.COMMUNITY_SECRETARY}, "file_proposal", ["reason"], "第十条", reads_input=["reason"]),
        t("submit_for_review", _("报党工委审批"), {State.NOTICE}, State.UNDER_REVIEW,
          {Role.COMMUNITY_SECRETARY}, "file_proposal",
          ["notice_period_over", "no_open_objection", "budget_available", "small_group_cap"], "第十条"),
        t("review_approve", _("审批同意"), {State.UNDER_REVIEW}, None,
          {Role.SUBDISTRICT_SECRETARY, Role.CONSTRUCTION_DIRECTOR}, "review_proposal",
          ["leader_not_yet_decided"], "第十一条"),
        t("approve", _("批准（两位主要领导均同意）"), {State.UNDER_REVIEW}, State.APPROVED,
          {Role.SUBDISTRICT_SECRETARY, Role.CONSTRUCTION_DIRECTOR}, "review_proposal",
          ["both_leaders_approved", "budget_available", "small_group_cap"], "第十一条"),
        t("reject", _("不予批准"), {State.UNDER_REVIEW}, State.REJECTED,
          {Role.SUBDISTRICT_SECRETARY, Role.CONSTRUCTION_DIRECTOR}, "review_proposal",
          ["reason", "leader_not_yet_decided"], "第十一条", reads_input=["reason"]),
        t("return_for_revision", _("退回修改"), {State.UNDER_REVIEW}, State.DRAFT,
          {Role.SUBDISTRICT_SECRETARY, Role.CONSTRUCTION_DIRECTOR}, "review_proposal",
          ["reason", "leader_not_yet_decided"], "第十一条", reads_input=["reason"]),
        t("start", _("启动项目"), {State.APPROVED}, State.IN_PROGRESS,
          {Role.COMMUNITY_SECRETARY}, "file_proposal", [], "第十一条"),
        t("request_change", _("申请变更"), {State.APPROVED, State.IN_PROGRESS}, None,
          {Role.COMMUNITY_SECRETARY}, "file_proposal", ["no_pending_change", "change_end_date"], "第十一条", reads_input=["change_end_date"]),
        t("consent_change", _("同意变更并备案"), {State.APPROVED, State.IN_PROGRESS}, None,
          {Role.SUBDISTRICT_SECRETARY}, "consent_proposal", ["pending_change", "change_budget_covered"],
          "第十一条"),
        t("refuse_change", _("不同意变更"), {State.APPROVED, State.IN_PROGRESS}, None,
          {Role.SUBDISTRICT_SECRETARY}, "consent_proposal", ["pending_change", "reason"], "第十一条", reads_input=["reason"]),
        t("follow_up", _("记录跟进"), {State.IN_PROGRESS}, None,
          {Role.SUBDISTRICT_STAFF}, "manage_project", ["follow_up_date"], "第十二条", reads_input=["follow_up_date"]),
        t("accept", _("验收合格"), {State.IN_PROGRESS}, State.ACCEPTED,
          {Role.SUBDISTRICT_STAFF}, "manage_project", ["no_pending_change", "acceptance_date"], "第十二条", reads_input=["acceptance_date"]),
        t("accept_failed", _("验收不合格，整改后复验"), {State.IN_PROGRESS}, None,
          {Role.SUBDISTRICT_STAFF}, "manage_project", ["failed_acceptance_date"], "第十二条", reads_input=["failed_acceptance_date"]),
        t("register_invoice", _("登记发票"), {State.ACCEPTED}, None,
          {Role.COMMUNITY_SECRETARY}, "file_proposal", ["invoice_date", "within_budget"], "第十三条", reads_input=["invoice_date"]),
        t("sign_invoice", _("发票签字"), {State.ACCEPTED}, None,
          {Role.COMMUNITY_SECRETARY, Role.CONSTRUCTION_DIRECTOR, Role.SUBDISTRICT_SECRETARY}, "sign_invoice",
          ["signature_order", "signer_not_yet_signed"], "第十三条"),
        t("refuse_invoice", _("拒签退回发票"), {State.ACCEPTED}, None,
          {Role.COMMUNITY_SECRETARY, Role.CONSTRUCTION_DIRECTOR, Role.SUBDISTRICT_SECRETARY}, "sign_invoice",
          ["signature_order", "reason"], "第十三条", reads_input=["reason"]),
        t("settle_invoice", _("结算发票"), {State.ACCEPTED}, None,
          {Role.FINANCE_OFFICER}, "settle_invoice", ["invoice_signed", "settlement_date", "within_budget"],
          "第十三条", reads_input=["settlement_date"]),
        t("pay_voucher", _("无发票支付"), {State.ACCEPTED}, None,
          {Role.FINANCE_OFFICER}, "settle_invoice", ["prior_meeting", "voucher_payment_date", "receipt", "within_budget"],
          "第十三条", reads_input=["prior_meeting", "voucher_payment_date", "receipt"]),
        t("post_voucher_notice", _("无发票支付事后公示"), {State.ACCEPTED}, None,
          {Role.COMMUNITY_SECRETARY}, "file_proposal", ["voucher_awaiting_notice", "voucher_notice_date"],
          "第十三条", reads_input=["voucher_notice_date"]),
        t("finish_settlement", _("结算完毕"), {State.ACCEPTED}, State.SETTLED,
          {Role.COMMUNITY_SECRETARY}, "file_proposal",
          ["has_payment", "no_invoice_pending", "vouchers_noticed"], "第十三条"),
        t("post_completion_notice", _("张贴完成公示"), {State.SETTLED}, State.COMPLETION_NOTICE,
          {Role.COMMUNITY_SECRETARY}, "file_proposal", ["completion_notice_date"], "第十五条", reads_input=["completion_notice_date"]),
        t("complete", _("公示期满，项目完成"), {State.COMPLETION_NOTICE}, State.COMPLETED,
          {Role.COMMUNITY_SECRETARY}, "file_proposal", ["notice_period_over"], "第十五条"),
        t("withdraw", _("撤回"), PRE_APPROVAL | {State.APPROVED}, State.WITHDRAWN,
          {Role.COMMUNITY_SECRETARY}, "file_proposal", ["reason"], "", reads_input=["reason"]),
    ]
}

# ---- acts that are not transitions ------------------------------------------------------------------
# What a person may do on a community without changing a proposal's state: the role(s) and the guardian
# permission each act needs, read by the service that performs it (`approvals.services.require`), by the
# pages that offer it (`approvals.actions`) and by the tests. With TRANSITIONS, the one table of who may do
# what; docs/workflow.md prints both.


@dataclass(frozen=True)
class Operation:
    name: str
    label: str
    roles: frozenset
    permission: str
    rule: str = ""


def op(name, label, roles, permission, rule=""):
    return Operation(name, label, frozenset(roles), permission, rule)


OPERATIONS = {o.name: o for o in [
    op("need_record", _("登记需求"), {Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF}, "draft_proposal", "第六条"),
    op("proposal_create", _("起草项目"), {Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF}, "draft_proposal", "第九条"),
    op("proposal_update", _("修改方案"), {Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF}, "draft_proposal", "第九条"),
    op("objection_record", _("登记书面异议"), {Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF}, "draft_proposal", "第十条"),
    op("objection_answer", _("答复异议"), {Role.COMMUNITY_SECRETARY}, "file_proposal", "第十条"),
    # The objector's name and phone: only the secretary of that community, who answers them; each look recorded.
    op("objection_contact_view", _("查看异议人联系方式"), {Role.COMMUNITY_SECRETARY}, "file_proposal", "第十条"),
    # What the public reads of a resident's objection or need: the secretary reviews and redacts it, audited.
    op("resident_text_publish", _("审核公开内容"), {Role.COMMUNITY_SECRETARY}, "file_proposal", "第十条"),
    # The photo of a posted notice on the board, attached after the app produced the paper to post: whoever
    # may post a notice (the same roles and permission as "post_notice"), on any notice of any kind.
    op("notice_photo_attach", _("上传公示栏照片"), TRANSITIONS["post_notice"].roles,
       TRANSITIONS["post_notice"].permission, "第十、十三、十五条"),
    op("supervision_opinion", _("记录监督意见"), {Role.SUPERVISOR}, "supervise", "第十四条"),
    op("annual_report_submit", _("报送年度报告"), {Role.COMMUNITY_SECRETARY}, "file_proposal", "第十六条"),
    op("annual_report_evaluate", _("评议年度报告"), {Role.SUBDISTRICT_STAFF}, "manage_project", "第十六条"),
]}
# A payment is also a transition (settle_invoice, pay_voucher); its right is checked once more before the
# idempotency look-up, so that a replayed request answers only to someone who may pay.
OPERATIONS["invoice_settle"] = TRANSITIONS["settle_invoice"]
OPERATIONS["voucher_pay"] = TRANSITIONS["pay_voucher"]


def needed(operation):
    """The row (a Transition or an Operation) that says who may do `operation`."""
    return TRANSITIONS.get(operation) or OPERATIONS[operation]


def may(user, operation, community):
    """May `user` do `operation` on `community` today? A rights.Decision carrying the post acted in."""
    row = needed(operation)
    return rights.check(user, row.permission, community, roles=row.roles)


def communities_for(user, operation):
    """The communities on which `user` may do `operation` today (for pages offering it)."""
    return rights.communities_for(user, needed(operation).permission)


# ---- dates ------------------------------------------------------------------------------------------
# Every date a person enters is an assertion about the chain (SPEC §9): it cannot precede the step it
# follows, and cannot lie in the future for an act that has happened. One row per entered date; the guard
# it names is generated from the row by approvals.guards and named in the transitions above, and
# docs/workflow.md prints the table. A money entry's fund year (open, dates inside it, running balance)
# is the ledger's rule: fundapp.services.ledger.

ARTICLES = {9: _("第九条"), 10: _("第十条"), 11: _("第十一条"), 12: _("第十二条"), 13: _("第十三条"), 15: _("第十五条")}


@dataclass(frozen=True)
class Step:
    """A step whose date a later date may not precede; approvals.guards.STEP_DATES reads its date."""

    label: str
    required: bool = True  # False: the step may not have happened (the bound then does not apply)


STEPS = {
    "consent": Step(_("初步同意日期")),
    "last_plan_notice": Step(_("上一次方案公示张贴日期"), required=False),
    "passing_meeting": Step(_("联席会议通过日期")),
    "approval": Step(_("批准日期")),
    "last_follow_up": Step(_("最近一次跟进日期"), required=False),
    "last_failed_inspection": Step(_("上一次验收（不合格）日期"), required=False),
    "acceptance": Step(_("验收合格日期")),
    "invoice_issued": Step(_("发票开具日期")),
    "third_signature": Step(_("发票第三人签字日期")),
    "linked_meeting": Step(_("事前集体讨论决定日期")),
    "payment": Step(_("该笔支付日期")),
    "last_payment": Step(_("最后一笔支付日期")),
    "planned_start": Step(_("项目计划开始日期")),
}


@dataclass(frozen=True)
class DateRule:
    guard: str  # the guard enforcing it ("" where a service checks it outside a transition)
    transitions: tuple  # where the date is entered
    model: type
    field: str  # the model field, and the key of the transition's data
    not_before: tuple = ()  # keys of STEPS
    not_after_today: bool = True  # the act has happened
    article: int = 10
    optional: bool = False  # the date may be left empty
    why: str = ""  # the reading of the articles behind the rule

    @property
    def label(self):
        return self.model._meta.get_field(self.field).verbose_name


DATE_RULES = [
    DateRule("meeting_date", ("meeting_passed", "meeting_failed"), Meeting, "held_on",
             ("consent", "last_plan_notice"), article=10,
             why="The joint meeting follows preliminary consent (Art. 10). A new meeting after a hold or a replan "
                 "follows the notice it resumes or changes (and so the meeting before it)."),
    DateRule("notice_date", ("post_notice",), Notice, "posted_on", ("passing_meeting",), article=10,
             why="The result of the meeting is posted after the meeting passed it (Art. 10)."),
    DateRule("follow_up_date", ("follow_up",), FollowUp, "visited_on", ("approval",), article=12,
             why="Follow-ups begin once the project has started (Art. 12), and it starts only after approval "
                 "(Art. 11). The start itself records no date of its own (only the audit time), so approval "
                 "is the bound."),
    DateRule("acceptance_date", ("accept",), Acceptance, "inspected_on",
             ("approval", "last_follow_up", "last_failed_inspection"), article=12,
             why="The passing inspection is made when the project is complete (Art. 12): after every follow-up "
                 "of its execution and after any failed inspection it re-inspects."),
    DateRule("failed_acceptance_date", ("accept_failed",), Acceptance, "inspected_on",
             ("approval", "last_failed_inspection"), article=12,
             why="A failed inspection leaves the project in progress; follow-ups of the rectification may come "
                 "after it, so only the previous inspection bounds it."),
    DateRule("invoice_date", ("register_invoice",), Invoice, "issued_on", ("approval", "acceptance"), article=13,
             why="Art. 13: after the acceptance the community asks the contractor to issue the invoice, so an "
                 "invoice is dated on or after the passing inspection (the same day is allowed). An invoice "
                 "dated earlier — e.g. on the day work ended — is not the one Art. 13 asks for: the contractor "
                 "reissues it."),
    DateRule("settlement_date", ("settle_invoice",), Payment, "paid_on",
             ("approval", "acceptance", "invoice_issued", "third_signature"), article=13,
             why="The finance officer pays after the three signatures (Art. 13), hence after the invoice, "
                 "the acceptance and the approval. Recorded in order, the third signature is the latest of "
                 "these; the others still hold for invoices registered before these rules."),
    DateRule("voucher_payment_date", ("pay_voucher",), Payment, "paid_on",
             ("linked_meeting", "approval", "acceptance"), article=13,
             why="A payment without an invoice follows the prior collective decision (事前会议集体讨论决定) and, "
                 "like every settlement, the acceptance (Art. 13)."),
    DateRule("voucher_notice_date", ("post_voucher_notice",), Notice, "posted_on", ("payment",), article=13,
             why="The notice of a no-invoice payment is posted after it (事后及时公示, Art. 13)."),
    DateRule("completion_notice_date", ("post_completion_notice",), Notice, "posted_on", ("last_payment",),
             article=15,
             why="The completion notice reports the project and its spending (Art. 15), so it is posted after "
                 "the last payment."),
    DateRule("change_end_date", ("request_change",), Change, "new_planned_end", ("planned_start",),
             not_after_today=False, article=11, optional=True,
             why="A planned date, not an act: it may lie in the future, but a plan never ends before it starts."),
    DateRule("", (), Proposal, "planned_end", ("planned_start",), not_after_today=False, article=9,
             why="Planned dates of the plan (checked by approvals.services when the plan is saved); "
                 "planned_start itself is a plan and has no bound."),
]
