"""Who is told what after each act: the hand-off table, beside the transition table (approvals.workflow).

Each row names an act — a transition of TRANSITIONS, or another recorded act ("objection.record",
"annual_report.submit", …, and "notice.ended", which no one performs: the morning task finds it) — and
the messages it sends: the kind, who receives it (roles of the posts in force for the act's community, or
a function of the act, such as the invoice's next signer), a condition, and the text. `announce` is
called after the act, inside its transaction: by `approvals.services.perform` for every transition, and
by the other services after theirs. The inbox rows commit with the act and the deliveries (email, the
city's gateway) go after the commit (fundapp.services.notify). The actor is never told of their own act;
each message's key is the act's audit record, so an act tells each person once, whatever is retried or
redelivered. docs/guide lists the table in words.
"""
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from fundapp import clock
from fundapp.amounts import format_yuan
from fundapp.i18n import record_language
from fundapp.models import Role
from fundapp.publicurls import bare
from fundapp.services.notify import notifications_settle, notify
from fundapp.services.reminders import post_holders

from . import guards
from .models import Invoice, Notice, ReviewDecision, State

LEADERS = (Role.SUBDISTRICT_SECRETARY, Role.CONSTRUCTION_DIRECTOR)


@dataclass
class Act:
    """What the table's rows read: the act, where it happened, who did it, and what it wrote."""

    action: str
    community: object
    by: object = None
    proposal: object = None
    result: object = None  # what the act's service returned (a decision, an invoice, a notice, a report…)
    data: dict = field(default_factory=dict)
    key: str = ""  # "act:<audit record id>", or the key of an act no one performed


@dataclass(frozen=True)
class Handoff:
    kind: str
    recipients: tuple  # roles, or a function (act) -> roles
    text: object  # lazy text, "%(name)s" filled from `params`
    when: object = None  # (act) -> bool; None: always
    link: object = None  # (act) -> path; None: the proposal's page

    def roles(self, act):
        return tuple(self.recipients(act) if callable(self.recipients) else self.recipients)


def _invoice(act):
    return act.result if isinstance(act.result, Invoice) else act.data.get("invoice")


def _next_signer(act):
    role = guards.next_signer_role(_invoice(act))
    return (role,) if role else ()


def _signing(act):
    return _invoice(act).status == Invoice.Status.SIGNING


def _signed(act):
    return _invoice(act).status == Invoice.Status.SIGNED


def _first_of_two_approvals(act):
    """A leader's approval announces itself only when the other leader has not approved yet: the second
    approval approves the project, and "approved" says so."""
    p = act.proposal
    return ReviewDecision.objects.filter(proposal=p, round=p.review_round,
                                         decision=ReviewDecision.Decision.APPROVE).count() < 2


def _report_link(act):
    return reverse("approvals:report", args=[act.result.pk])


def _disclosure_link(act):
    return bare(reverse("disclosure:summary", args=[act.community.code, act.result.year]))


HANDOFFS = {
    "submit_for_consent": (Handoff("consent_needed", (Role.SUBDISTRICT_SECRETARY,),
                                   _("“%(title)s”（%(community)s）报请初步同意，待您审核。")),),
    "consent": (Handoff("consent_given", (Role.COMMUNITY_SECRETARY,),
                        _("“%(title)s”已获%(actor)s初步同意，请召开联席会议并录入会议结果。")),),
    "return_consent": (Handoff("consent_returned", (Role.COMMUNITY_SECRETARY,),
                               _("“%(title)s”被%(actor)s退回（初步意见）：%(reason)s")),),
    "post_notice": (Handoff("notice_posted", (Role.SUPERVISOR,),
                            _("“%(title)s”开始公示，至 %(last_day)s 止。")),),
    "notice.ended": (
        Handoff("notice_ended", (Role.COMMUNITY_SECRETARY,),
                _("“%(title)s”公示期已满（%(last_day)s），今日起可报党工委审批。"),
                when=lambda act: act.result.kind == Notice.Kind.PLAN),
        Handoff("notice_ended", (Role.COMMUNITY_SECRETARY,),
                _("“%(title)s”完成公示期已满（%(last_day)s），今日起可办理项目完成。"),
                when=lambda act: act.result.kind == Notice.Kind.COMPLETION),
    ),
    "objection.record": (Handoff("objection_received", (Role.COMMUNITY_SECRETARY,),
                                 _("“%(title)s”的公示收到一条异议，请及时答复。")),),
    "submit_for_review": (Handoff("review_needed", LEADERS,
                                  _("“%(title)s”（%(community)s）报请审批，请于 %(deadline)s 前审批。")),),
    "review_approve": (Handoff("leader_decided", (*LEADERS, Role.COMMUNITY_SECRETARY),
                               _("“%(title)s”：%(actor)s（%(post)s）已审批同意，待另一位主要领导审批。"),
                               when=_first_of_two_approvals),),
    "approve": (Handoff("approved", (Role.COMMUNITY_SECRETARY,),
                        _("“%(title)s”已获批准，预算 %(approved)s 已预留，可启动项目。")),),
    "reject": (Handoff("rejected", (*LEADERS, Role.COMMUNITY_SECRETARY),
                       _("“%(title)s”不予批准（%(actor)s）：%(reason)s")),),
    "return_for_revision": (Handoff("returned", (*LEADERS, Role.COMMUNITY_SECRETARY),
                                    _("“%(title)s”被%(actor)s退回修改：%(reason)s")),),
    "start": (Handoff("follow_up_due", (Role.SUBDISTRICT_STAFF,),
                      _("“%(title)s”（%(community)s）已启动，请跟进实施，完成后组织验收。")),),
    "request_change": (Handoff("change_requested", (Role.SUBDISTRICT_SECRETARY,),
                               _("“%(title)s”（%(community)s）申请变更，待您同意。")),),
    "consent_change": (Handoff("change_decided", (Role.COMMUNITY_SECRETARY,),
                               _("“%(title)s”的变更申请已获%(actor)s同意。")),),
    "refuse_change": (Handoff("change_decided", (Role.COMMUNITY_SECRETARY,),
                              _("“%(title)s”的变更申请未获同意：%(reason)s")),),
    "accept": (Handoff("acceptance_result", (Role.COMMUNITY_SECRETARY,),
                       _("“%(title)s”验收合格，请施工单位开具发票后登记。")),),
    "accept_failed": (Handoff("acceptance_result", (Role.COMMUNITY_SECRETARY,),
                              _("“%(title)s”验收不合格，请督促整改后申请复验。")),),
    "register_invoice": (Handoff("invoice_to_sign", _next_signer,
                                 _("发票 %(invoice)s（%(amount)s，“%(title)s”）待您签字。"), when=_signing),),
    "sign_invoice": (
        Handoff("invoice_to_sign", _next_signer, _("发票 %(invoice)s（%(amount)s，“%(title)s”）待您签字。"),
                when=_signing),
        Handoff("invoice_to_pay", (Role.FINANCE_OFFICER,),
                _("发票 %(invoice)s（%(amount)s，“%(title)s”）已完成三人签字，待结算。"), when=_signed),
    ),
    "refuse_invoice": (Handoff("invoice_refused", (Role.COMMUNITY_SECRETARY,),
                               _("发票 %(invoice)s（“%(title)s”）被%(actor)s拒签退回：%(reason)s")),),
    "settle_invoice": (Handoff("paid", (Role.COMMUNITY_SECRETARY,),
                               _("“%(title)s”已支付 %(amount)s（发票 %(invoice)s）。")),),
    "pay_voucher": (Handoff("paid", (Role.COMMUNITY_SECRETARY,),
                            _("“%(title)s”已无发票支付 %(amount)s，请及时事后公示。")),),
    "post_completion_notice": (Handoff("notice_posted", (Role.SUPERVISOR,),
                                       _("“%(title)s”完成公示开始，至 %(last_day)s 止。")),),
    "withdraw": (Handoff("withdrawn", (Role.SUBDISTRICT_SECRETARY,),
                         _("“%(title)s”（%(community)s）已撤回：%(reason)s"),
                         when=lambda act: act.data.get("_from") != State.DRAFT),),
    "annual_report.draft": (Handoff("report_due", (Role.COMMUNITY_SECRETARY,),
                                    _("%(year)s年度报告已生成，请于 %(due)s 前补充并报送。"), link=_report_link),),
    "annual_report.submit": (Handoff("report_submitted", (Role.SUBDISTRICT_STAFF,),
                                     _("%(community)s%(year)s年度报告已报送，待您评议。"), link=_report_link),),
    "annual_report.evaluate": (Handoff("report_evaluated", (Role.COMMUNITY_SECRETARY,),
                                       _("%(year)s年度报告已评议：%(grade)s。"), link=_report_link),),
    "disclosure.post": (Handoff("disclosure_due", (Role.COMMUNITY_SECRETARY,),
                                _("%(year)s年度年终公示已生成，请打印海报张贴，公示至 %(last_day)s。"),
                                link=_disclosure_link),),
}


def _day(value):
    return date_format(value, "DATE_FORMAT") if value else ""


def params(act):
    """The values the texts may name, read from the act (in the site's language)."""
    p, result = act.proposal, act.result
    invoice = _invoice(act) if isinstance(result, Invoice) or "invoice" in act.data else None
    values = {
        "community": act.community.name,
        "actor": (act.by.get_full_name() or act.by.get_username()) if act.by else "",
        "post": "", "reason": str(act.data.get("reason") or ""),
        "title": p.title if p else "", "deadline": _day(getattr(p, "review_deadline", None)),
        "approved": format_yuan(p.approved_budget) if p else "",
        "invoice": invoice.number if invoice else "",
        "amount": format_yuan(act.data.get("amount") or (invoice.amount if invoice else 0)),
        "last_day": _day(getattr(result, "last_day", None)),
        "year": getattr(result, "year", ""), "due": "", "grade": "",
    }
    post = act.data.get("_post")
    if post is not None:
        values["post"] = Role(post.role).label
    if hasattr(result, "get_grade_display"):
        values["grade"] = result.get_grade_display() if result.grade else ""
    if act.action.startswith("annual_report."):
        from .reports import due_date

        values["due"] = _day(due_date(result.year))
    return values


def recipients(handoff, act, today=None):
    """The people `handoff` tells of `act`: the holders of its roles for the act's community, never the actor."""
    roles = handoff.roles(act)
    if not roles:
        return []
    people = post_holders(act.community, roles, today or clock.today())
    return [u for u in people if act.by is None or u.pk != act.by.pk]


def announce(act):
    """Tell the people the table names for `act`; returns the notifications created."""
    created = []
    for handoff in HANDOFFS.get(act.action, ()):
        if handoff.when is not None and not handoff.when(act):
            continue
        users = recipients(handoff, act)
        if not users:
            continue
        with record_language():
            text = str(handoff.text) % params(act)
            link = handoff.link(act) if handoff.link else (
                reverse("approvals:proposal", args=[act.proposal.pk]) if act.proposal else "")
        created += notify(users=users, kind=handoff.kind, key=f"{act.key}:{handoff.kind}", text=text[:300],
                          link=link)
    return created


# The inbox asked the person for something; their act did it: what they were told, now done, is marked read
# (a leader who approved has no "报请审批" left unread; the work queue shows what is still to do).
SETTLED_BY = {
    "consent": ("consent_needed",), "return_consent": ("consent_needed",),
    "meeting_passed": ("consent_given",), "meeting_failed": ("consent_given",),
    "submit_for_consent": ("consent_returned",),
    "review_approve": ("review_needed", "leader_decided"), "approve": ("review_needed", "leader_decided"),
    "reject": ("review_needed", "leader_decided"), "return_for_revision": ("review_needed", "leader_decided"),
    "submit_for_review": ("notice_ended",), "complete": ("notice_ended",), "start": ("approved",),
    "accept": ("follow_up_due",), "accept_failed": ("follow_up_due",),
    "consent_change": ("change_requested",), "refuse_change": ("change_requested",),
    "register_invoice": ("acceptance_result",),
    "sign_invoice": ("invoice_to_sign",), "refuse_invoice": ("invoice_to_sign",),
    "settle_invoice": ("invoice_to_pay",),
    "objection.answer": ("objection_received",),
    "annual_report.submit": ("report_due", "report_evaluated"), "annual_report.evaluate": ("report_submitted",),
}


def act_announce(action, *, record, community, by=None, proposal=None, result=None, post=None, **data):
    """The services' one call after an act recorded by `record` (an audit record): tells the people the table
    names, and marks read what the actor had been told to do and has now done (SETTLED_BY)."""
    act = Act(action=action, community=community, by=by, proposal=proposal, result=result,
              data={**data, "_post": post}, key=f"act:{record.pk}")
    settle(act)
    return announce(act)


def settle(act):
    """Mark read what the actor was told to do and has now done by `act` (SETTLED_BY)."""
    kinds = SETTLED_BY.get(act.action)
    if not kinds or act.by is None:
        return 0
    if act.action.startswith("annual_report."):
        link = _report_link(act)
    elif act.proposal is not None:
        link = reverse("approvals:proposal", args=[act.proposal.pk])
    else:
        return 0
    return notifications_settle(user=act.by, kinds=kinds, link=link)


def ended_notices_announce(today=None):
    """Each morning: the secretary of every proposal whose notice has run its course is told that from today
    the next step may be taken (the first working day after the last day: the notice's next_step_day).
    Once per notice, whenever the task runs."""
    today = today or clock.today()
    ended = (Notice.objects.filter(status=Notice.Status.RUNNING, next_step_day__lte=today, last_day__lt=today,
                                   kind__in=[Notice.Kind.PLAN, Notice.Kind.COMPLETION],
                                   proposal__state__in=[State.NOTICE, State.COMPLETION_NOTICE])
             .select_related("proposal", "proposal__community"))
    told = 0
    for notice in ended:
        p = notice.proposal
        expected = State.NOTICE if notice.kind == Notice.Kind.PLAN else State.COMPLETION_NOTICE
        if p.state != expected:
            continue
        told += len(announce(Act(action="notice.ended", community=p.community, proposal=p, result=notice,
                                 key=f"notice-ended:{notice.pk}")))
    return told
