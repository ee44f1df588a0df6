"""What a person can do on a proposal page: each UI action names the transitions behind it, its form and
the service it calls. Offering follows the same table and rights as performing, so an action offered to
the wrong person is not offered at all (and would be refused anyway)."""
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from fundapp import clock, rights

from . import forms as f
from . import services as chain
from .guards import next_signer_role
from .models import TERMINAL, Change, Invoice, Notice, Objection, Payment
from .workflow import OPERATIONS, TRANSITIONS


@dataclass(frozen=True)
class UIAction:
    name: str
    label: str
    form: type
    transitions: tuple  # offered when one of these is allowed from the current state, to this person
    run: object  # run(proposal=, by=, data=, target=, documents=) -> result
    target: type | None = None  # an invoice, objection or payment the action is about
    danger: bool = False
    operation: str = ""  # not a transition: the row of approvals.workflow.OPERATIONS saying who may
    previewed: bool = False  # a notice: its computed last day is shown before the person confirms (SPEC §5)
    waits: bool = True  # offered, it is something waiting for the person (False: always possible, not a task)


def _docs(form):
    return [(kind, upload) for field, kind in getattr(form, "documents_from", {}).items()
            if (upload := form.cleaned_data.get(field))]


ACTIONS = {a.name: a for a in [
    UIAction("submit_for_consent", _("报请街道党工委初步同意"), f.ConfirmForm, ("submit_for_consent",),
             lambda proposal, by, data, **kw: chain.proposal_submit_for_consent(proposal=proposal, by=by)),
    UIAction("consent", _("初步同意"), f.CommentsForm, ("consent",),
             lambda proposal, by, data, **kw: chain.consent_decide(proposal=proposal, by=by, consented=True,
                                                                  comments=data["comments"])),
    UIAction("return_consent", _("退回并提出意见"), f.ReasonForm, ("return_consent",),
             lambda proposal, by, data, **kw: chain.consent_decide(proposal=proposal, by=by, consented=False,
                                                                  comments=data["reason"]), danger=True),
    UIAction("meeting", _("记录联席会议"), f.MeetingForm, ("meeting_passed", "meeting_failed"),
             lambda proposal, by, data, documents, **kw: chain.meeting_record(
                 proposal=proposal, by=by, documents=documents,
                 **{k: data[k] for k in ("held_on", "place", "attendance", "attendees", "votes_for",
                                         "votes_against", "votes_abstain", "minutes")})),
    UIAction("post_notice", _("张贴公示"), f.NoticeForm, ("post_notice",),
             lambda proposal, by, data, documents, **kw: chain.notice_post(
                 proposal=proposal, by=by, posted_on=data["posted_on"], working_days=data["working_days"],
                 text=data["text"], documents=documents), previewed=True),
    UIAction("record_objection", _("登记书面异议"), f.ObjectionForm, (),
             lambda proposal, by, data, target, **kw: chain.objection_record(
                 notice=target, by=by, channel=Objection.Channel.PAPER, resident_name=data["resident_name"],
                 resident_contact=data["resident_contact"], text=data["text"]), target=Notice,
             operation="objection_record", waits=False),
    UIAction("answer_objection", _("答复异议"), f.AnswerForm, (),
             lambda proposal, by, data, target, **kw: chain.objection_answer(objection=target, by=by,
                                                                            answer=data["answer"]),
             target=Objection, operation="objection_answer"),
    UIAction("hold", _("暂时搁置"), f.ReasonForm, ("hold",),
             lambda proposal, by, data, **kw: chain.proposal_hold(proposal=proposal, by=by, reason=data["reason"]),
             danger=True, waits=False),
    UIAction("replan", _("修改方案后重新上会"), f.ReasonForm, ("replan",),
             lambda proposal, by, data, **kw: chain.proposal_replan(proposal=proposal, by=by,
                                                                   reason=data["reason"]), waits=False),
    UIAction("submit_for_review", _("报街道党工委审批"), f.ConfirmForm, ("submit_for_review",),
             lambda proposal, by, data, **kw: chain.proposal_submit_for_review(proposal=proposal, by=by)),
    UIAction("review", _("审批"), f.ReviewForm, ("review_approve", "reject", "return_for_revision"),
             lambda proposal, by, data, **kw: chain.review_decide(proposal=proposal, by=by,
                                                                 decision=data["decision"], reason=data["reason"])),
    UIAction("start", _("启动项目"), f.ConfirmForm, ("start",),
             lambda proposal, by, data, **kw: chain.proposal_start(proposal=proposal, by=by)),
    UIAction("request_change", _("申请变更"), f.ChangeRequestForm, ("request_change",),
             lambda proposal, by, data, **kw: chain.change_request(proposal=proposal, by=by, **data), waits=False),
    UIAction("consent_change", _("同意变更并备案"), f.CommentsForm, ("consent_change",),
             lambda proposal, by, data, **kw: chain.change_decide(proposal=proposal, by=by, consent=True,
                                                                 comments=data["comments"]), target=Change),
    UIAction("refuse_change", _("不同意变更"), f.ReasonForm, ("refuse_change",),
             lambda proposal, by, data, **kw: chain.change_decide(proposal=proposal, by=by, consent=False,
                                                                 comments=data["reason"]), target=Change,
             danger=True),
    UIAction("follow_up", _("记录跟进"), f.FollowUpForm, ("follow_up",),
             lambda proposal, by, data, documents, **kw: chain.follow_up_record(
                 proposal=proposal, by=by, visited_on=data["visited_on"], notes=data["notes"],
                 documents=documents), waits=False),
    UIAction("acceptance", _("综合验收"), f.AcceptanceForm, ("accept", "accept_failed"),
             lambda proposal, by, data, documents, **kw: chain.acceptance_record(
                 proposal=proposal, by=by, documents=documents,
                 **{k: data[k] for k in ("inspected_on", "quality", "satisfaction_method", "asked_count",
                                         "satisfied_count", "passed")})),
    UIAction("register_invoice", _("登记发票"), f.InvoiceForm, ("register_invoice",),
             lambda proposal, by, data, documents, **kw: chain.invoice_register(
                 proposal=proposal, by=by, documents=documents,
                 **{k: data[k] for k in ("contractor", "number", "amount", "issued_on")}), waits=False),
    UIAction("sign_invoice", _("在发票上签字"), f.ConfirmForm, ("sign_invoice",),
             lambda proposal, by, data, target, **kw: chain.invoice_sign(invoice=target, by=by), target=Invoice),
    UIAction("refuse_invoice", _("拒签并退回发票"), f.ReasonForm, ("refuse_invoice",),
             lambda proposal, by, data, target, **kw: chain.invoice_refuse(invoice=target, by=by,
                                                                          reason=data["reason"]),
             target=Invoice, danger=True),
    UIAction("settle_invoice", _("结算发票"), f.SettleForm, ("settle_invoice",),
             lambda proposal, by, data, target, **kw: chain.invoice_settle(
                 invoice=target, by=by, paid_on=data["paid_on"], method=data["method"],
                 reference=data["reference"], idempotency_key=data["request_key"]), target=Invoice),
    UIAction("pay_voucher", _("无发票支付"), f.VoucherForm, ("pay_voucher",),
             lambda proposal, by, data, documents, **kw: chain.voucher_pay(
                 proposal=proposal, by=by, meeting=data["meeting"], recipient_name=data["recipient_name"],
                 receipt_reference=data["receipt_reference"], amount=data["amount"], paid_on=data["paid_on"],
                 method=data["method"], reference=data["reference"], idempotency_key=data["request_key"],
                 documents=documents), waits=False),
    UIAction("post_voucher_notice", _("张贴无发票支付公示"), f.CompletionNoticeForm, ("post_voucher_notice",),
             lambda proposal, by, data, target, **kw: chain.voucher_notice_post(
                 payment=target, by=by, posted_on=data["posted_on"], working_days=data["working_days"],
                 text=data["text"]),
             target=Payment, previewed=True),
    UIAction("finish_settlement", _("结算完毕"), f.ConfirmForm, ("finish_settlement",),
             lambda proposal, by, data, **kw: chain.settlement_finish(proposal=proposal, by=by)),
    UIAction("post_completion_notice", _("张贴完成公示"), f.CompletionNoticeForm, ("post_completion_notice",),
             lambda proposal, by, data, **kw: chain.completion_notice_post(
                 proposal=proposal, by=by, posted_on=data["posted_on"], working_days=data["working_days"],
                 text=data["text"]), previewed=True),
    UIAction("complete", _("公示期满，确认完成"), f.ConfirmForm, ("complete",),
             lambda proposal, by, data, **kw: chain.proposal_complete(proposal=proposal, by=by)),
    UIAction("withdraw", _("撤回项目"), f.ReasonForm, ("withdraw",),
             lambda proposal, by, data, **kw: chain.proposal_withdraw(proposal=proposal, by=by,
                                                                     reason=data["reason"]), danger=True, waits=False),
    UIAction("opinion", _("记录监督意见"), f.OpinionForm, (),
             lambda proposal, by, data, **kw: chain.supervision_opinion_record(proposal=proposal, by=by,
                                                                              text=data["text"]),
             operation="supervision_opinion", waits=False),
]}

def offered(user, proposal, cache=None):
    """The UI actions this person may take on this proposal now, in table order.

    `cache` (a dict shared over one page) remembers rights answers per community, so a work queue of many
    proposals of the same communities asks once per community and permission.
    """
    cache = {} if cache is None else cache

    def may(permission, roles=None):
        key = (proposal.community_id, permission, roles)
        if key not in cache:
            # The person's posts and grants once per page, not a query per community and permission.
            if "rights" not in cache:
                cache["rights"] = rights.RightsSnapshot(user)
            cache[key] = cache["rights"].allowed(permission, proposal.community, roles=roles)
        return cache[key]

    names = []
    for action in ACTIONS.values():
        if action.transitions:
            if any(proposal.state in TRANSITIONS[t].sources
                   and may(TRANSITIONS[t].permission, TRANSITIONS[t].roles) for t in action.transitions):
                names.append(action.name)
        elif (may(OPERATIONS[action.operation].permission, OPERATIONS[action.operation].roles)
              and (action.target is None or proposal.state not in TERMINAL)):
            names.append(action.name)
    return names


def applicable(user, proposal, cache=None):
    """{action name: [targets]} this person can take now; untargeted actions have [None].

    Targeted actions are offered per object: an invoice to its next signer only (or to finance once
    signed), an objection while unanswered, a notice while running, a voucher until its notice is posted.
    """
    result = {}
    roles = None
    cache = {} if cache is None else cache
    for name in offered(user, proposal, cache):
        action = ACTIONS[name]
        if action.target is None:
            result[name] = [None]
            continue
        if action.target is Invoice:
            invoices = list(proposal.invoices.all())
            if name == "settle_invoice":
                found = [i for i in invoices if i.status == Invoice.Status.SIGNED]
            else:
                if roles is None:
                    snapshot = cache.get("rights")
                    roles = {p.role for p in (snapshot.posts if snapshot else rights.current_posts(user))}
                found = [i for i in invoices if i.status == Invoice.Status.SIGNING
                         and next_signer_role(i) in roles and all(s.by_id != user.pk for s in i.signatures.all())]
        elif action.target is Objection:
            if _prefetched(proposal, "notices") and all(_prefetched(n, "objections") for n in proposal.notices.all()):
                found = sorted((o for n in proposal.notices.all() for o in n.objections.all() if o.answered_at is None),
                               key=lambda o: (o.received_at, o.pk))
            else:
                found = list(Objection.objects.filter(notice__proposal=proposal, answered_at__isnull=True))
        # .all() is prefetched on a work queue and one query on a proposal's page, as a filter() would be.
        elif action.target is Change:
            found = [c for c in proposal.changes.all() if c.status == Change.Status.REQUESTED]
        elif action.target is Notice:
            today = clock.today()
            found = [n for n in proposal.notices.all() if n.is_running(today) and n.kind == Notice.Kind.PLAN]
        else:
            found = [p for p in proposal.payments.all() if p.invoice_id is None and p.after_notice_id is None]
        if found:
            result[name] = found
    return result


def _prefetched(obj, name):
    """Was `name` prefetched on `obj` (a work queue prefetches; a single proposal's page asks the database)?"""
    return name in getattr(obj, "_prefetched_objects_cache", {})


def target_for(action, proposal, target_id):
    """The object a targeted action is about, looked up within this proposal only."""
    model = action.target
    lookup = {"notice__proposal": proposal} if model is Objection else {"proposal": proposal}
    return model.objects.filter(pk=target_id, **lookup).first()


def documents_of(form):
    return _docs(form)
