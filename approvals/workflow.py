"""The approval chain as data (SPEC §4, Art. 9–13, 15): every state change a proposal can make.

Each transition names the states it leaves from, the state it reaches, who may perform it (the role of a
post in force covering the proposal's community, plus the guardian permission that role holds there), and
the guards that must hold. `approvals.services.perform` is the one function that applies a transition;
docs/workflow.md draws this table.
"""
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from fundapp.models import Role

from .models import State as S

R = Role


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


def t(name, label, sources, target, roles, permission, guards=(), rule=""):
    return Transition(name, label, frozenset(sources), target, frozenset(roles), permission, tuple(guards), rule)


PRE_APPROVAL = {S.DRAFT, S.CONSENT_PENDING, S.CONSENTED, S.MEETING_PASSED, S.NOTICE, S.ON_HOLD}

TRANSITIONS = {
    tr.name: tr
    for tr in [
        t("submit_for_consent", _("报请初步同意"), {S.DRAFT}, S.CONSENT_PENDING,
          {R.COMMUNITY_SECRETARY}, "file_proposal",
          ["complete", "art4", "needs", "budget_available", "small_group_cap"], "第九、十条"),
        t("consent", _("初步同意"), {S.CONSENT_PENDING}, S.CONSENTED,
          {R.SUBDISTRICT_SECRETARY}, "consent_proposal", [], "第十条"),
        t("return_consent", _("退回（初步意见）"), {S.CONSENT_PENDING}, S.DRAFT,
          {R.SUBDISTRICT_SECRETARY}, "consent_proposal", ["reason"], "第十条"),
        t("meeting_passed", _("联席会议通过"), {S.CONSENTED, S.ON_HOLD}, S.MEETING_PASSED,
          {R.COMMUNITY_SECRETARY}, "file_proposal", ["meeting_after_consent", "budget_available",
                                                      "small_group_cap"], "第十条"),
        t("meeting_failed", _("联席会议未通过"), {S.CONSENTED, S.ON_HOLD}, S.DRAFT,
          {R.COMMUNITY_SECRETARY}, "file_proposal", ["meeting_after_consent"], "第十条"),
        t("post_notice", _("张贴公示"), {S.MEETING_PASSED}, S.NOTICE,
          {R.COMMUNITY_SECRETARY}, "file_proposal", ["notice_after_meeting"], "第十条"),
        t("hold", _("暂时搁置"), {S.NOTICE}, S.ON_HOLD,
          {R.COMMUNITY_SECRETARY}, "file_proposal", ["reason"], "第十条"),
        t("replan", _("修改方案后重新上会"), {S.NOTICE}, S.CONSENTED,
          {R.COMMUNITY_SECRETARY}, "file_proposal", ["reason"], "第十条"),
        t("submit_for_review", _("报党工委审批"), {S.NOTICE}, S.UNDER_REVIEW,
          {R.COMMUNITY_SECRETARY}, "file_proposal",
          ["notice_period_over", "no_open_objection", "budget_available", "small_group_cap"], "第十条"),
        t("review_approve", _("审批同意"), {S.UNDER_REVIEW}, None,
          {R.SUBDISTRICT_SECRETARY, R.CONSTRUCTION_DIRECTOR}, "review_proposal",
          ["leader_not_yet_decided"], "第十一条"),
        t("approve", _("批准（两位主要领导均同意）"), {S.UNDER_REVIEW}, S.APPROVED,
          {R.SUBDISTRICT_SECRETARY, R.CONSTRUCTION_DIRECTOR}, "review_proposal",
          ["both_leaders_approved", "budget_available", "small_group_cap"], "第十一条"),
        t("reject", _("不予批准"), {S.UNDER_REVIEW}, S.REJECTED,
          {R.SUBDISTRICT_SECRETARY, R.CONSTRUCTION_DIRECTOR}, "review_proposal",
          ["reason", "leader_not_yet_decided"], "第十一条"),
        t("return_for_revision", _("退回修改"), {S.UNDER_REVIEW}, S.DRAFT,
          {R.SUBDISTRICT_SECRETARY, R.CONSTRUCTION_DIRECTOR}, "review_proposal",
          ["reason", "leader_not_yet_decided"], "第十一条"),
        t("start", _("启动项目"), {S.APPROVED}, S.IN_PROGRESS,
          {R.COMMUNITY_SECRETARY}, "file_proposal", [], "第十一条"),
        t("request_change", _("申请变更"), {S.APPROVED, S.IN_PROGRESS}, None,
          {R.COMMUNITY_SECRETARY}, "file_proposal", ["no_pending_change"], "第十一条"),
        t("consent_change", _("同意变更并备案"), {S.APPROVED, S.IN_PROGRESS}, None,
          {R.SUBDISTRICT_SECRETARY}, "consent_proposal", ["pending_change", "change_budget_covered"],
          "第十一条"),
        t("refuse_change", _("不同意变更"), {S.APPROVED, S.IN_PROGRESS}, None,
          {R.SUBDISTRICT_SECRETARY}, "consent_proposal", ["pending_change", "reason"], "第十一条"),
        t("follow_up", _("记录跟进"), {S.IN_PROGRESS}, None,
          {R.SUBDISTRICT_STAFF}, "manage_project", [], "第十二条"),
        t("accept", _("验收合格"), {S.IN_PROGRESS}, S.ACCEPTED,
          {R.SUBDISTRICT_STAFF}, "manage_project", ["no_pending_change"], "第十二条"),
        t("accept_failed", _("验收不合格，整改后复验"), {S.IN_PROGRESS}, None,
          {R.SUBDISTRICT_STAFF}, "manage_project", [], "第十二条"),
        t("register_invoice", _("登记发票"), {S.ACCEPTED}, None,
          {R.COMMUNITY_SECRETARY}, "file_proposal", ["within_budget"], "第十三条"),
        t("sign_invoice", _("发票签字"), {S.ACCEPTED}, None,
          {R.COMMUNITY_SECRETARY, R.CONSTRUCTION_DIRECTOR, R.SUBDISTRICT_SECRETARY}, "sign_invoice",
          ["signature_order", "signer_not_yet_signed"], "第十三条"),
        t("refuse_invoice", _("拒签退回发票"), {S.ACCEPTED}, None,
          {R.COMMUNITY_SECRETARY, R.CONSTRUCTION_DIRECTOR, R.SUBDISTRICT_SECRETARY}, "sign_invoice",
          ["signature_order", "reason"], "第十三条"),
        t("settle_invoice", _("结算发票"), {S.ACCEPTED}, None,
          {R.FINANCE_OFFICER}, "settle_invoice", ["invoice_signed", "within_budget"], "第十三条"),
        t("pay_voucher", _("无发票支付"), {S.ACCEPTED}, None,
          {R.FINANCE_OFFICER}, "settle_invoice", ["prior_meeting", "receipt", "within_budget"], "第十三条"),
        t("post_voucher_notice", _("无发票支付事后公示"), {S.ACCEPTED}, None,
          {R.COMMUNITY_SECRETARY}, "file_proposal", ["voucher_awaiting_notice"], "第十三条"),
        t("finish_settlement", _("结算完毕"), {S.ACCEPTED}, S.SETTLED,
          {R.COMMUNITY_SECRETARY}, "file_proposal",
          ["has_payment", "no_invoice_pending", "vouchers_noticed"], "第十三条"),
        t("post_completion_notice", _("张贴完成公示"), {S.SETTLED}, S.COMPLETION_NOTICE,
          {R.COMMUNITY_SECRETARY}, "file_proposal", [], "第十五条"),
        t("complete", _("公示期满，项目完成"), {S.COMPLETION_NOTICE}, S.COMPLETED,
          {R.COMMUNITY_SECRETARY}, "file_proposal", ["notice_period_over"], "第十五条"),
        t("withdraw", _("撤回"), PRE_APPROVAL | {S.APPROVED}, S.WITHDRAWN,
          {R.COMMUNITY_SECRETARY}, "file_proposal", ["reason"], ""),
    ]
}

TERMINAL = frozenset({S.COMPLETED, S.REJECTED, S.WITHDRAWN})
# States whose approved budget is reserved in the fund year until settled, released or withdrawn.
RESERVING = frozenset({S.APPROVED, S.IN_PROGRESS, S.ACCEPTED})
EDITABLE = frozenset({S.DRAFT, S.CONSENTED})


def available_transitions(state):
    return [tr for tr in TRANSITIONS.values() if state in tr.sources]
