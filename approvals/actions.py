"""The steps a person can take on a proposal's page, each bound to its form and its service.

An `Action` names the form a person fills in and the service function it calls: the form's cleaned data are
the service's keyword arguments, matched by name against the service's signature (`Action.kwargs`), so
`/proposals/<pk>/do/<name>/` → `approvals.views.proposal_action` → `ACTIONS[name].service` is one step, and no
signature is spelled twice. The transitions behind an action (or its row of `approvals.workflow.OPERATIONS`)
say who may take it and in which states.

Whether a person can take it *now* is the service layer's dry run (`approvals.services.dry_run`): the
state, the right, and every guard that reads no input — the same functions `perform` then applies. An
`Offer` is a step of this person's: available (a button, an item of their work queue), or blocked, with the
guard's reason and, where only time stands in the way, the day it opens.
"""
import inspect
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from fundapp import clock

from . import forms as f
from . import services as chain
from .models import Change, Invoice, Notice, Objection, Payment

# A form field named otherwise than the service's keyword, the same in every form.
FORM_TO_SERVICE = {"request_key": "idempotency_key"}


@dataclass(frozen=True, eq=False)
class Action:
    name: str
    label: str
    form: type
    service: object  # the function of approvals.services this action calls
    transitions: tuple = ()  # offered when one of these is open from the current state, to this person
    operation: str = ""  # not a transition: the row of approvals.workflow.OPERATIONS saying who may
    target: type | None = None  # an invoice, objection, change, notice or payment the action is about
    # Which of the proposal's objects of `target` it may be about: objects(proposal, today) → a list; None:
    # the rule for its kind of object (`targets`).
    objects: object = None
    fixed: dict = field(default_factory=dict)  # keyword arguments this button always gives (consented=False)
    renamed: dict = field(default_factory=dict)  # form field → the service's keyword, where they differ
    danger: bool = False
    previewed: bool = False  # a notice: its computed last day is shown before the person confirms (SPEC §5)
    # Offered, it is something waiting for the person (False: always possible, not a task); or a function of the
    # proposal saying when it is (registering an invoice waits once the project is accepted and nothing is
    # invoiced or paid yet: else the secretary's queue would be empty on the day the invoice is due).
    waits: object = True
    # The step the same person usually takes next, at once (an invoice registered is signed first by the one who
    # registered it): when it is offered to them right after this one, they land on its form, not the page.
    then: str = ""

    def __post_init__(self):
        _check_binding(self)

    def waits_on(self, proposal):
        """Is this step, offered on `proposal`, an item of the person's work queue?"""
        return self.waits(proposal) if callable(self.waits) else bool(self.waits)

    @property
    def target_keyword(self):
        """The service's keyword for the action's object (`invoice=`, `notice=`, …)."""
        return self.target.__name__.lower() if self.target is not None else ""

    def kwargs(self, form, *, proposal, by, target=None):
        """The service's keyword arguments: the form's cleaned data by name, the person, the proposal or the
        object the action is about, the uploaded documents, and the action's fixed answers."""
        values = {"proposal": proposal, "by": by, "documents": documents_of(form)}
        if target is not None:
            values[self.target_keyword] = target
        for name, value in form.cleaned_data.items():
            values[self.renamed.get(name, FORM_TO_SERVICE.get(name, name))] = value
        values.update(self.fixed)
        accepted = inspect.signature(self.service).parameters
        return {k: v for k, v in values.items() if k in accepted}

    def run(self, form, *, proposal, by, target=None):
        return self.service(**self.kwargs(form, proposal=proposal, by=by, target=target))


def documents_of(form):
    """[(kind, uploaded file), …] of the form's upload fields (`documents_from`) that carry a file."""
    return [(kind, upload) for name, kind in getattr(form, "documents_from", {}).items()
            if (upload := form.cleaned_data.get(name))]


def _check_binding(action):
    """Every field of the form reaches the service, and the service gets every argument it requires."""
    params = inspect.signature(action.service).parameters
    uploads = set(getattr(action.form, "documents_from", {}))
    fields = {action.renamed.get(n, FORM_TO_SERVICE.get(n, n)) for n in action.form.base_fields if n not in uploads}
    lost = fields - set(params)
    assert not lost, f"{action.name}: the form's {sorted(lost)} are not arguments of {action.service.__name__}"
    given = fields | set(action.fixed) | {"proposal", "by", "documents", action.target_keyword}
    required = {n for n, p in params.items() if p.default is inspect.Parameter.empty
                and p.kind is inspect.Parameter.KEYWORD_ONLY}
    missing = required - given
    assert not missing, f"{action.name}: {action.service.__name__} also needs {sorted(missing)}"
    if uploads:
        assert "documents" in params, f"{action.name}: {action.service.__name__} takes no documents"


def nothing_invoiced(proposal):
    """No invoice (other than returned ones) and no payment yet: the accepted project waits for its invoice.
    `.all()` reads what a work queue prefetched."""
    return (not any(i.status != Invoice.Status.RETURNED for i in proposal.invoices.all())
            and not proposal.payments.all())


def posted_notices(proposal, today):
    """Every notice of the proposal, of any kind and status: each was posted, and may get its board's photo."""
    return list(proposal.notices.all())


A = Action
ACTIONS = {a.name: a for a in [
    A("submit_for_consent", _("报请街道党工委初步同意"), f.ConfirmForm, chain.proposal_submit_for_consent,
      ("submit_for_consent",)),
    A("consent", _("初步同意"), f.CommentsForm, chain.consent_decide, ("consent",), fixed={"consented": True}),
    A("return_consent", _("退回并提出意见"), f.ReasonForm, chain.consent_decide, ("return_consent",),
      fixed={"consented": False}, renamed={"reason": "comments"}, danger=True),
    A("meeting", _("记录联席会议"), f.MeetingForm, chain.meeting_record, ("meeting_passed", "meeting_failed")),
    A("post_notice", _("张贴公示"), f.NoticeForm, chain.notice_post, ("post_notice",), previewed=True),
    A("record_objection", _("登记书面异议"), f.ObjectionForm, chain.objection_record,
      operation="objection_record", target=Notice, fixed={"channel": Objection.Channel.PAPER}, waits=False),
    A("attach_notice_photo", _("上传公示栏照片"), f.NoticePhotoForm, chain.notice_photo_attach,
      operation="notice_photo_attach", target=Notice, objects=posted_notices, waits=False),
    A("answer_objection", _("答复异议"), f.ObjectionAnswerForm, chain.objection_answer, operation="objection_answer",
      target=Objection),
    A("hold", _("暂时搁置"), f.ReasonForm, chain.proposal_hold, ("hold",), danger=True, waits=False),
    A("replan", _("修改方案后重新上会"), f.ReasonForm, chain.proposal_replan, ("replan",), waits=False),
    A("submit_for_review", _("报街道党工委审批"), f.ConfirmForm, chain.proposal_submit_for_review,
      ("submit_for_review",)),
    A("review", _("审批"), f.ReviewForm, chain.review_decide, ("review_approve", "reject", "return_for_revision")),
    A("start", _("启动项目"), f.ConfirmForm, chain.proposal_start, ("start",)),
    A("request_change", _("申请变更"), f.ChangeRequestForm, chain.change_request, ("request_change",), waits=False),
    A("consent_change", _("同意变更并备案"), f.CommentsForm, chain.change_decide, ("consent_change",),
      target=Change, fixed={"consent": True}),
    A("refuse_change", _("不同意变更"), f.ReasonForm, chain.change_decide, ("refuse_change",), target=Change,
      fixed={"consent": False}, renamed={"reason": "comments"}, danger=True),
    A("follow_up", _("记录跟进"), f.FollowUpForm, chain.follow_up_record, ("follow_up",), waits=False),
    A("acceptance", _("综合验收"), f.AcceptanceForm, chain.acceptance_record, ("accept", "accept_failed")),
    A("register_invoice", _("登记发票"), f.InvoiceForm, chain.invoice_register, ("register_invoice",),
      waits=nothing_invoiced, then="sign_invoice"),
    A("sign_invoice", _("在发票上签字"), f.ConfirmForm, chain.invoice_sign, ("sign_invoice",), target=Invoice),
    A("refuse_invoice", _("拒签并退回发票"), f.ReasonForm, chain.invoice_refuse, ("refuse_invoice",),
      target=Invoice, danger=True),
    A("settle_invoice", _("结算发票"), f.SettleForm, chain.invoice_settle, ("settle_invoice",), target=Invoice),
    A("pay_voucher", _("无发票支付"), f.VoucherForm, chain.voucher_pay, ("pay_voucher",), waits=False),
    A("post_voucher_notice", _("张贴无发票支付公示"), f.CompletionNoticeForm, chain.voucher_notice_post,
      ("post_voucher_notice",), target=Payment, previewed=True),
    A("finish_settlement", _("结算完毕"), f.ConfirmForm, chain.settlement_finish, ("finish_settlement",),
      then="post_completion_notice"),
    A("post_completion_notice", _("张贴完成公示"), f.CompletionNoticeForm, chain.completion_notice_post,
      ("post_completion_notice",), previewed=True),
    A("complete", _("公示期满，确认完成"), f.ConfirmForm, chain.proposal_complete, ("complete",)),
    A("withdraw", _("撤回项目"), f.ReasonForm, chain.proposal_withdraw, ("withdraw",), danger=True, waits=False),
    A("opinion", _("记录监督意见"), f.OpinionForm, chain.supervision_opinion_record,
      operation="supervision_opinion", waits=False),
]}
del A


@dataclass(frozen=True, eq=False)
class Offer:
    """One step of this person's on a proposal (per object, for a targeted action), and what the dry run says."""

    action: Action
    target: object
    verdict: chain.Verdict

    @property
    def available(self):
        return self.verdict.allowed

    @property
    def reason(self):
        return self.verdict.reason

    @property
    def opens_on(self):
        return self.verdict.opens_on


def _data_for(target):
    """What `perform`'s `load` gives the guards for the action's object."""
    if isinstance(target, Invoice):
        return {"invoice": target}
    if isinstance(target, Payment):
        return {"payment": target}
    return {}


def verdict(action, user, proposal, target=None, *, guards=True):
    """The dry run of `action` on `proposal` (and `target`) for `user` now: the first transition that would
    accept it, else the most telling refusal (a guard's before a state's or a right's)."""
    if not action.transitions:
        # An act beside the chain (an objection, a supervision opinion): the right; its object says the rest.
        return chain.may_now(user, action.operation, proposal.community)
    refusals = []
    for name in action.transitions:
        answer = chain.dry_run(action=name, proposal=proposal, by=user, guards=guards, **_data_for(target))
        if answer:
            return answer
        refusals.append(answer)
    return next((r for r in refusals if r.blocked), refusals[0])


def might(action, user, proposal):
    """Is `action` this person's in the proposal's state at all (state and right, no guards, no objects)?"""
    return bool(verdict(action, user, proposal, guards=False)) if action.transitions else bool(
        verdict(action, user, proposal))


def targets(action, proposal, today=None):
    """The objects a targeted action may be about now ([None] for an untargeted one): the action's own rule
    (`Action.objects`: every posted notice, for its photo), else by kind — invoices being signed (to sign or
    refuse) or signed (to settle), unanswered objections, requested changes, running plan notices (for an
    objection), no-invoice payments awaiting their notice. `.all()` reads what a work queue prefetched."""
    model = action.target
    if model is None:
        return [None]
    if action.objects is not None:
        return action.objects(proposal, today or clock.today())
    if model is Invoice:
        status = Invoice.Status.SIGNED if action.name == "settle_invoice" else Invoice.Status.SIGNING
        return [i for i in proposal.invoices.all() if i.status == status]
    if model is Objection:
        return sorted((o for n in proposal.notices.all() for o in n.objections.all() if o.answered_at is None),
                      key=lambda o: (o.received_at, o.pk))
    if model is Change:
        return [c for c in proposal.changes.all() if c.status == Change.Status.REQUESTED]
    if model is Notice:
        today = today or clock.today()
        return [n for n in proposal.notices.all() if n.kind == Notice.Kind.PLAN and n.is_running(today)]
    return [p for p in proposal.payments.all() if p.invoice_id is None and p.after_notice_id is None]


def offers(user, proposal, *, today=None):
    """Every step of this person's on `proposal` now, in table order, per object: available or blocked.

    Rights come from one snapshot (`approvals.services.rights_of`), reused when the caller holds one."""
    found = []
    with chain.rights_of(user):
        for action in ACTIONS.values():
            if not might(action, user, proposal):
                continue
            for target in targets(action, proposal, today):
                answer = verdict(action, user, proposal, target)
                if answer.allowed or answer.blocked:
                    found.append(Offer(action, target, answer))
    return found


def offer(user, proposal, action, target_id=None, *, guards=True):
    """The person's offer of `action` (on the object `target_id`) on `proposal`, or None when it is not theirs
    here and now (another state, another's right, no such object). With `guards=False` (a POST, which the
    service checks in full) only the state, the right and the object are asked."""
    if not might(action, user, proposal):
        return None
    if action.target is None:
        target = None
    else:
        target = next((t for t in targets(action, proposal) if target_id is not None and t.pk == target_id), None)
        if target is None:
            return None
    answer = verdict(action, user, proposal, target, guards=guards)
    return Offer(action, target, answer) if answer.allowed or answer.blocked else None


def applicable(user, proposal, cache=None):
    """{action name: [objects]} this person can take now (available offers only); untargeted actions have
    [None]. `cache` is accepted for old callers and unused: rights come from one snapshot per call."""
    result = {}
    for o in offers(user, proposal):
        if o.available:
            result.setdefault(o.action.name, []).append(o.target)
    return result
