"""Every write of the approval chain. `perform` is the one place a proposal's state changes:
lock the row, check the right, check the guards, write, audit — all in one transaction, so a refused
action writes nothing. Services are keyword-only, take the acting user, and raise DomainError."""
import contextvars
import datetime
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.functional import lazy
from django.utils.translation import gettext as _

from audit.services import audit_record
from fundapp import clock, rights
from fundapp.db import retry_on_conflict
from fundapp.errors import Conflict, DomainError, NotAllowed
from fundapp.i18n import record_language
from fundapp.models import FundYear
from fundapp.amounts import parse_amount
from fundapp.services import ledger as ledger_services
from fundapp.services import search as search_services
from workdays import calendar

from . import documents as document_store
from . import handoffs
from . import guards as guard_functions
from . import paper_archive
from .models import (
    Acceptance, BudgetLine, Category, Change, ConsentDecision, Document, Feedback, FiledPaper, FollowUp, Invoice,
    InvoiceRefusal, Meeting, Need, Notice, Objection, Payment, Proposal, ReviewDecision, Signature,
    SupervisionOpinion,
)
from .models import DELIVERING, EDITABLE, RESERVING, State
from .publishing import publisher_for, search_titles_refresh
from .workflow import TRANSITIONS, needed


@dataclass
class Context:
    proposal: Proposal
    by: object
    post: object
    data: dict
    today: datetime.date
    dry: bool = False  # a dry run (`dry_run`): nothing is locked or written
    _fund_year: FundYear | None = field(default=None, repr=False)

    def fund_year(self):
        """The proposal's fund year, locked (after the proposal: the one lock order everywhere); in a dry run
        the one loaded with the proposal, unlocked."""
        if self._fund_year is None:
            if self.dry:
                self._fund_year = self.proposal.fund_year
            else:
                self._fund_year = ledger_services.fund_year_for_update(
                    community=self.proposal.community, year=self.proposal.fund_year.year
                )
        return self._fund_year


# ---- rights: once per request -------------------------------------------------------------------
# A page that offers steps and the service that performs one ask the same question — may this person do
# this on this community? Inside `rights_of(user)` (a request) both answer it from one snapshot of the
# person's posts and grants (`fundapp.rights.RightsSnapshot`, the same rule as `rights.check`), so a click
# loads the rights once; outside it (tasks, commands, tests) each service asks `rights.check`.

_REQUEST_RIGHTS = contextvars.ContextVar("approvals_request_rights", default=None)


@contextmanager
def rights_of(user):
    """Within the block, the services answer `user`'s rights from one snapshot, which is yielded (the
    enclosing block's, when one is open for the same person)."""
    current = _REQUEST_RIGHTS.get()
    if current is not None and getattr(user, "pk", None) is not None and current.user.pk == user.pk:
        yield current
        return
    snapshot = rights.RightsSnapshot(user)
    token = _REQUEST_RIGHTS.set(snapshot)
    try:
        yield snapshot
    finally:
        _REQUEST_RIGHTS.reset(token)


@contextmanager
def rights_of_post(post):
    """Within the block, the holder of `post` (in force) is answered as holding that post alone: what is
    waiting for that post, whatever else its holder holds (a post handed over, approvals.handover)."""
    snapshot = rights.RightsSnapshot(post.user)
    snapshot.posts = [p for p in snapshot.posts if p.pk == post.pk]
    token = _REQUEST_RIGHTS.set(snapshot)
    try:
        yield snapshot
    finally:
        _REQUEST_RIGHTS.reset(token)


def decide(by, row, community, roles=None):
    """May `by` do the act of `row` (a Transition or an Operation of approvals.workflow) on `community`?
    A rights.Decision carrying the post to act in; `roles` narrows the row's roles (the next signer)."""
    snapshot = _REQUEST_RIGHTS.get()
    if snapshot is not None and getattr(by, "pk", None) is not None and snapshot.user.pk == by.pk:
        return snapshot.decide(row.permission, community, roles=roles or row.roles)
    return rights.check(by, row.permission, community, roles=roles or row.roles)


def _snapshot(p):
    return {"state": p.state, "budget": p.budget, "approved_budget": p.approved_budget,
            "settled_amount": p.settled_amount, "reserved_amount": p.reserved_amount}


# The date a step took effect (SPEC §9) is the date the person entered for it, named by this key of its
# data; a step without one (or `perform(effective_on=…)`) takes effect on the day it is recorded.
EFFECTIVE_DATE_KEYS = {
    "meeting_passed": "held_on", "meeting_failed": "held_on",
    "post_notice": "posted_on", "post_voucher_notice": "posted_on", "post_completion_notice": "posted_on",
    "settle_invoice": "paid_on", "pay_voucher": "paid_on",
    "accept": "inspected_on", "accept_failed": "inspected_on",
    "follow_up": "visited_on",
}


def effective_date(action, data):
    """The date step `action` took effect according to its `data`, or None (then: today)."""
    value = data.get(EFFECTIVE_DATE_KEYS.get(action, ""))
    if isinstance(value, datetime.datetime):
        return None  # a date is expected; never take a UTC date from a datetime
    return value if isinstance(value, datetime.date) else None


def perform(*, proposal, action, by, effect=None, roles=None, load=None, documents=(), effective_on=None,
            paper=None, **data):
    """Apply transition `action` to `proposal` as `by`; run `effect(ctx)` to write its records.

    `load(proposal)` returns more rows for the guards, read (and locked) after the proposal's lock —
    the one lock order everywhere: proposal, then its invoices, then the fund year.
    `documents` [(kind, uploaded file), …] are checked before anything is written and stored with the step.
    The audit record carries the step's effective date: `effective_on`, else its entered date
    (EFFECTIVE_DATE_KEYS), else today; and the real time it was recorded.
    `paper(proposal, result, post)` archives the paper the step files (approvals.paper_archive), inside the
    step's transaction after its audit record: if it fails, the step is not taken.
    A deadlock or serialization failure reported by PostgreSQL runs the whole act again (a few times,
    with a jittered backoff), unless `perform` is called inside a caller's transaction: then the caller's
    outermost service retries (fundapp.db.retry_on_conflict).
    """
    transition = TRANSITIONS[action]
    uploads = [(kind, f, document_store.inspect_upload(f)) for kind, f in documents]
    return _perform(proposal, action, transition, by, effect, roles, load, uploads, effective_on, paper, data)


@retry_on_conflict
def _perform(proposal, action, transition, by, effect, roles, load, uploads, effective_on, paper, data):
    """perform's transaction: the whole act, run again from the start if PostgreSQL reports a deadlock or
    serialization failure (fundapp.db.retry_on_conflict; only when it is the outermost transaction)."""
    with transaction.atomic():
        p = _lock_proposal(proposal.pk)
        if p.state not in transition.sources:
            raise DomainError(_wrong_state(p.state, transition))
        decision = decide(by, transition, p.community, roles)
        if not decision:
            raise NotAllowed(decision.reason)
        if load:
            data = {**data, **load(p)}
        ctx = Context(proposal=p, by=by, post=decision.post, data=data, today=clock.today())
        for name in transition.guards:
            guard_functions.GUARDS[name](ctx)
        before = _snapshot(p)
        result = effect(ctx) if effect else None
        stored = document_store.store(proposal=p, by=by, uploads=uploads, action=action)
        if transition.target:
            p.state = transition.target
        p.save()
        record = audit_record(
            actor=by, post=decision.post, action=f"proposal.{action}", target=p, community_id=p.community_id,
            before=before, note=str(data.get("reason") or ""),
            effective_on=effective_on or effective_date(action, data),
            after={**_snapshot(p), **_audit_details(data), **({"documents": [d.sha256 for d in stored]} if stored else {})},
        )
        if paper:
            paper(p, result, decision.post)
        handoffs.act_announce(action, record=record, community=p.community, by=by, proposal=p, result=result,
                              post=decision.post, _from=before["state"], **data)
    proposal.refresh_from_db()
    return result if result is not None else p


def _lock_proposal(pk):
    """Lock the proposal's row — that row only: no join, so neither its community nor its fund year is
    locked, and a row the year close moved meanwhile (a new fund_year_id) is found again rather than lost
    (a FOR UPDATE over a join re-checks the join against the old fund year and returns nothing) — then read
    it with its community and fund year, as they are now that it is ours."""
    try:
        Proposal.objects.select_for_update(of=("self",)).only("pk").get(pk=pk)
    except Proposal.DoesNotExist:
        raise Conflict(_("该项目已不存在，请返回列表刷新后再试。")) from None
    return Proposal.objects.select_related("community", "fund_year").get(pk=pk)


@dataclass(frozen=True)
class Verdict:
    """What a dry run says of a step for a person now.

    `allowed`: the service will accept it with valid input. Otherwise `refused_by` says why not: "state" or
    "rights" (not this person's step here and now: not offered at all), or "guard" (theirs, but something must
    happen first: offered as blocked, with `reason`, and `opens_on` where time alone lifts it)."""

    allowed: bool
    refused_by: str = ""
    reason: str = ""
    opens_on: datetime.date | None = None

    def __bool__(self):
        return self.allowed

    @property
    def blocked(self):
        return self.refused_by == "guard"


def signing_roles(action, invoice):
    """The roles that may take a signing step on `invoice`: only its next signer's (Art. 13), else the row's."""
    if action in ("sign_invoice", "refuse_invoice") and invoice is not None and invoice.status == Invoice.Status.SIGNING:
        return {guard_functions.next_signer_role(invoice)}
    return None


def _wrong_state(state, transition):
    return _("项目当前状态为“%(state)s”，不能办理“%(action)s”。") % {"state": State(state).label,
                                                              "action": transition.label}


def wrong_state(proposal, transition):
    """Why `transition` cannot be taken in the proposal's state: built only when read (a page's dry runs refuse
    most steps by state and never show why; `get_state_display` would translate every state's label)."""
    return _wrong_state_read_later(proposal.state, transition)


_wrong_state_read_later = lazy(_wrong_state, str)


def dry_run(*, action, proposal, by, guards=True, **data):
    """Would `perform(action=…)` accept this step now, whatever the person then enters? `perform`'s checks in
    its order — the state, the right, every guard that reads no input (`Transition.standing_guards`) — on the
    proposal as loaded, without a lock and without writing. `data` holds the step's object (`invoice=`,
    `payment=`) as `perform`'s `load` would. Reads only `.all()` of related rows, so a page that prefetched
    them asks no query. With `guards=False`, only the state and the right."""
    transition = TRANSITIONS[action]
    if proposal.state not in transition.sources:
        return Verdict(False, "state", wrong_state(proposal, transition))
    decision = decide(by, transition, proposal.community, signing_roles(action, data.get("invoice")))
    if not decision:
        return Verdict(False, "rights", decision.reason)
    ctx = Context(proposal=proposal, by=by, post=decision.post, data=data, today=clock.today(), dry=True)
    try:
        for name in transition.standing_guards if guards else ():
            guard_functions.GUARDS[name](ctx)
    except DomainError as exc:
        return Verdict(False, "guard", str(exc), getattr(exc, "opens_on", None))
    return Verdict(True)


def may_now(by, operation, community):
    """The dry run of an act that is not a transition (approvals.workflow.OPERATIONS): the right alone."""
    decision = decide(by, needed(operation), community)
    return Verdict(True) if decision else Verdict(False, "rights", decision.reason)


def _audit_details(data):
    simple = (str, int, Decimal, datetime.date, bool, type(None))
    return {k: v for k, v in data.items() if isinstance(v, simple)}


def _require(user, operation, community):
    """The post in which `user` may do `operation` on `community`, as approvals.workflow.OPERATIONS says."""
    decision = decide(user, needed(operation), community)
    if not decision:
        raise NotAllowed(decision.reason)
    return decision.post


def _clean(obj):
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise DomainError(" ".join(m for msgs in exc.message_dict.values() for m in msgs)) from exc


# ---- needs and drafting -------------------------------------------------------------------------

@retry_on_conflict
def need_record(*, community, by, channel, description, resident_name="", resident_contact="", on=None):
    """A need in the register; `by=None` for a resident's own online submission."""
    post = _require(by, "need_record", community) if by is not None else None
    on = on or clock.today()
    if not str(description).strip():
        raise DomainError(_("请填写需求内容。"))
    with transaction.atomic():
        need = Need(community=community, year=on.year, quarter=(on.month - 1) // 3 + 1, channel=channel,
                    description=description, resident_name=resident_name, resident_contact=resident_contact,
                    recorded_by=by)
        _clean(need)
        need.save()
        audit_record(actor=by, post=post, action="need.record", target=need, community_id=community.pk,
                     after={"channel": channel}, effective_on=on)
        if resident_name or resident_contact:
            search_titles_refresh(community)
    return need


def _validated_plan(fields, lines):
    try:
        category = int(fields["category"])
    except (TypeError, ValueError, KeyError):
        raise DomainError(_("请选择使用范围。")) from None
    if category not in Category.values:
        raise DomainError(_("未知的使用范围“%(value)s”。") % {"value": fields["category"]})
    try:
        count = int(fields["beneficiary_count"])
    except (TypeError, ValueError, KeyError):
        raise DomainError(_("受益人数须为整数。")) from None
    if count < 1:
        raise DomainError(_("受益人数至少为 1。"))
    if fields["beneficiaries"] not in Proposal.Beneficiaries.values:
        raise DomainError(_("请选择受益群体。"))
    for name in ("planned_start", "planned_end"):
        guard_functions.entered_date(fields[name], Proposal._meta.get_field(name).verbose_name)
    if fields["planned_end"] < fields["planned_start"]:
        raise DomainError(_("计划完成日期不能早于开始日期。"))
    if not lines:
        raise DomainError(_("请至少填写一项预算明细。"))
    clean_lines = []
    for item, amount, *rest in lines:
        if not str(item).strip():
            raise DomainError(_("预算明细须写明支出项目。"))
        # In the government procurement catalogue: asked on the form, never assumed (None: not answered).
        asked = rest[0] if rest else None
        clean_lines.append((str(item).strip(), parse_amount(amount), None if asked is None else bool(asked)))
    budget = sum((amount for _, amount, _ in clean_lines), Decimal("0.00"))
    parse_amount(budget)  # the total too must be a sane amount
    return {**fields, "category": category, "beneficiary_count": count}, clean_lines, budget


PLAN_FIELDS = ("title", "category", "content", "beneficiaries", "beneficiary_count", "planned_start",
               "planned_end", "contractor", "art4_declaration")


@retry_on_conflict
def proposal_create(*, community, by, lines, needs=(), year=None, **fields):
    """A new draft in the community's fund year `year` (default: this year's).

    The fund year must be open: once its close has begun (closing) or is done (closed), nothing new may
    be attached to it, and the draft is refused with the year to use instead. The fund year's row is
    share-locked while the draft is written (`fund_year_for_share`), and the close marks the year closing
    under an update lock of that row, in a transaction of its own, before it reads the year's proposals:
    so a draft either commits before the mark (and the close sees it and carries it to the next year with
    an audit record) or reads the mark (and is refused). No draft can land in a closed year."""
    post = _require(by, "proposal_create", community)
    year = year or clock.today().year
    fields, clean_lines, budget = _validated_plan({k: fields.get(k) for k in PLAN_FIELDS}, lines)
    with transaction.atomic():
        fund_year = ledger_services.fund_year_for_share(community=community, year=year)
        if fund_year is None:
            raise DomainError(_("%(year)s年度经费尚未下达或已结转。") % {"year": year})
        refusal = ledger_services.fund_year_new_work_error(fund_year, what="proposal")
        if refusal:
            raise DomainError(refusal)
        proposal = Proposal(community=community, fund_year=fund_year, created_by=by, budget=budget, **fields)
        _clean(proposal)
        proposal.save()
        BudgetLine.objects.bulk_create(
            [BudgetLine(proposal=proposal, item=i, amount=a, in_procurement_catalogue=c) for i, a, c in clean_lines]
        )
        proposal.needs.set([n for n in needs if n.community_id == community.pk])
        audit_record(actor=by, post=post, action="proposal.create", target=proposal, community_id=community.pk,
                     after={**_snapshot(proposal), "title": proposal.title})
    return proposal


@retry_on_conflict
def proposal_update(*, proposal, by, lines=None, needs=None, **fields):
    post = _require(by, "proposal_update", proposal.community)
    with transaction.atomic():
        p = Proposal.objects.select_for_update(of=("self",)).get(pk=proposal.pk)
        if p.state not in EDITABLE:
            raise DomainError(_("项目处于“%(state)s”状态，方案不能修改。") % {"state": State(p.state).label})
        current = {k: getattr(p, k) for k in PLAN_FIELDS}
        current_lines = [(ln.item, ln.amount, ln.in_procurement_catalogue) for ln in p.lines.all()]
        merged, clean_lines, budget = _validated_plan({**current, **fields},
                                                      current_lines if lines is None else lines)
        before = {**_snapshot(p), "title": p.title}
        contractor_before = p.contractor
        for key, value in merged.items():
            setattr(p, key, value)
        p.budget = budget
        _clean(p)
        p.save()
        if lines is not None:
            p.lines.all().delete()
            BudgetLine.objects.bulk_create(
                [BudgetLine(proposal=p, item=i, amount=a, in_procurement_catalogue=c) for i, a, c in clean_lines]
            )
        if needs is not None:
            p.needs.set([n for n in needs if n.community_id == p.community_id])
        audit_record(actor=by, post=post, action="proposal.update", target=p, community_id=p.community_id,
                     before=before, after={**_snapshot(p), "title": p.title})
        if before["title"] != p.title:
            search_services.project_retitled(proposal_id=p.pk, title=publisher_for(p.community_id).text(p.title),
                                             community=p.community)
        if contractor_before != p.contractor:
            search_titles_refresh(p.community_id)  # a contractor who is a person is a name the records know
    proposal.refresh_from_db()
    return proposal


# ---- proposal, consent, meeting, notice ---------------------------------------------------------

def _file_paper(kind, reason, by, of_result=False):
    """perform's `paper`: archive the paper this step files (approvals.paper_archive) — of the step's result
    (a meeting, an acceptance) when `of_result`, else of the proposal — in the step's post."""
    def archive(p, result, post):
        paper_archive.filed_paper_archive(kind=kind, reason=reason, proposal=p, by=by, post=post,
                                          record_id=result.pk if of_result else p.pk)

    return archive


def proposal_submit_for_consent(*, proposal, by):
    return perform(proposal=proposal, action="submit_for_consent", by=by,
                   paper=_file_paper(FiledPaper.Kind.APPLICATION_FORM, FiledPaper.Reason.SUBMITTED_FOR_CONSENT, by))


def consent_decide(*, proposal, by, consented, comments=""):
    def effect(ctx):
        return ConsentDecision.objects.create(proposal=ctx.proposal, by=by, post=ctx.post, consented=consented,
                                              comments=comments)

    action = "consent" if consented else "return_consent"
    return perform(proposal=proposal, action=action, by=by, effect=effect, reason=comments)


def meeting_record(*, proposal, by, held_on, place, attendance, votes_for, votes_against, votes_abstain,
                   minutes, attendees="", documents=()):
    numbers = {}
    for name, value in [("attendance", attendance), ("votes_for", votes_for), ("votes_against", votes_against),
                        ("votes_abstain", votes_abstain)]:
        try:
            numbers[name] = int(value)
        except (TypeError, ValueError):
            raise DomainError(_("人数和票数须为整数。")) from None
        if numbers[name] < 0:
            raise DomainError(_("人数和票数不能为负数。"))
    if numbers["attendance"] < 1:
        raise DomainError(_("到会人数至少为 1。"))
    if numbers["votes_for"] + numbers["votes_against"] + numbers["votes_abstain"] > numbers["attendance"]:
        raise DomainError(_("赞成、反对、弃权票数之和不能超过到会人数。"))
    if not str(minutes).strip():
        raise DomainError(_("请填写会议纪要。"))
    # Passed by a majority of those present.
    passed = numbers["votes_for"] * 2 > numbers["attendance"]

    def effect(ctx):
        return Meeting.objects.create(proposal=ctx.proposal, by=by, post=ctx.post, held_on=held_on, place=place,
                                      attendees=attendees, minutes=minutes, passed=passed, **numbers)

    return perform(proposal=proposal, action="meeting_passed" if passed else "meeting_failed", by=by,
                   effect=effect, documents=documents, held_on=held_on, **numbers,
                   paper=_file_paper(FiledPaper.Kind.MEETING_MINUTES, FiledPaper.Reason.MEETING_RECORDED, by,
                                     of_result=True))


def notice_dates(posted_on, working_days, cal=None):
    """A notice's last day and the first day of the next step (SPEC §5), as `cal` (default: the calendar as
    it is now) counts them. Also what workdays' calendar changes recompute (approvals.derived_dates)."""
    cal = cal or calendar.WorkCalendar()
    return cal.notice_last_day(posted_on, working_days), cal.notice_next_step_day(posted_on, working_days)


def _new_notice(ctx, kind, posted_on, working_days, text=""):
    last, nxt = notice_dates(posted_on, working_days)
    return Notice.objects.create(
        proposal=ctx.proposal, by=ctx.by, post=ctx.post, kind=kind, posted_on=posted_on,
        working_days=working_days, last_day=last.day, next_step_day=nxt.day, calendar_confirmed=last.confirmed,
        text=text,
    )


def notice_post(*, proposal, by, posted_on, working_days=3, text="", documents=()):
    working_days = guard_functions.notice_working_days(working_days)
    with transaction.atomic():  # posted with its archived paper, or not at all (approvals.paper_archive)
        notice = perform(proposal=proposal, action="post_notice", by=by, posted_on=posted_on, documents=documents,
                         working_days=working_days,
                         effect=lambda ctx: _new_notice(ctx, Notice.Kind.PLAN, posted_on, working_days, text))
        paper_archive.notice_paper_archive(notice=notice, by=by)
        # From now on the project is before residents: findable by its title on /public/.
        # By its title as the public reads it (the publishing step): a name in a title is neither shown nor found.
        search_services.project_indexed(proposal_id=notice.proposal_id,
                                        title=publisher_for(notice.proposal.community_id).text(notice.proposal.title),
                                        community=notice.proposal.community)
    return notice


# The step that posts each kind of notice: a photo attached later is filed under it, as the posting form's is.
NOTICE_POSTED_BY = {Notice.Kind.PLAN: "post_notice", Notice.Kind.VOUCHER: "post_voucher_notice",
                    Notice.Kind.COMPLETION: "post_completion_notice"}
PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})


@retry_on_conflict
def notice_photo_attach(*, notice, by, documents):
    """Attach the photo of a posted notice on the community board (Art. 10, 13, 15).

    Posting a notice produces its paper (approvals.paper_archive); the secretary prints it, posts it and
    photographs the board afterwards — this files that photo. Who may: OPERATIONS["notice_photo_attach"], the
    right to post notices, on the notice's community. Any notice of any kind (plan, no-invoice payment,
    completion), whatever its status or its proposal's state now: a notice that ran, ended or was withdrawn,
    of a project since completed or withdrawn, was posted, and its photo is the evidence that it was.

    `documents` [(kind, uploaded file), …]: at least one, each a notice photo, JPEG or PNG judged by content
    (approvals.documents.inspect_upload; a PDF is not a photo). Stored as the posting form stores its photo —
    a Document.Kind.NOTICE_PHOTO of the proposal, under the step that posted the notice — so the proposal
    page shows it, and the public page once the project is public. One audit record on the proposal names
    the notice and the files' checksums. Refused input writes nothing."""
    notice = Notice.objects.select_related("proposal__community").get(pk=notice.pk)
    proposal = notice.proposal
    post = _require(by, "notice_photo_attach", proposal.community)
    if not documents:
        raise DomainError(_("请选择公示栏照片。"))
    uploads = []
    for kind, uploaded in documents:
        if kind != Document.Kind.NOTICE_PHOTO:
            raise DomainError(_("这里只能上传公示栏照片。"))
        data, mime, ext = document_store.inspect_upload(uploaded)
        if mime not in PHOTO_TYPES:
            raise DomainError(_("文件“%(name)s”不是照片：公示栏照片须为 JPEG 或 PNG 图片。") % {"name": uploaded.name})
        uploads.append((kind, uploaded, (data, mime, ext)))
    with transaction.atomic():
        stored = document_store.store(proposal=proposal, by=by, uploads=uploads, action=NOTICE_POSTED_BY[notice.kind])
        audit_record(actor=by, post=post, action="notice.photo_attached", target=proposal,
                     community_id=proposal.community_id,
                     after={"notice": notice.pk, "kind": notice.kind, "documents": [d.sha256 for d in stored]})
    return stored


@retry_on_conflict
def objection_record(*, notice, channel, resident_name, text, resident_contact="", by=None):
    """An objection to a running notice: recorded by staff from paper (`by`), or online by a resident."""
    community = notice.proposal.community
    post = _require(by, "objection_record", community) if by is not None else None
    if not str(text).strip() or not str(resident_name).strip():
        raise DomainError(_("请填写姓名和异议内容。"))
    with transaction.atomic():
        notice = Notice.objects.select_for_update().get(pk=notice.pk)
        today = clock.today()
        if notice.kind != Notice.Kind.PLAN:
            raise DomainError(_("只能对项目方案公示提出异议（第十条）。"))
        if not notice.is_running(today):
            raise DomainError(_("该公示不在公示期内，不能提出异议。"))
        objection = Objection.objects.create(notice=notice, channel=channel, resident_name=resident_name,
                                             resident_contact=resident_contact, text=text, recorded_by=by)
        record = audit_record(actor=by, post=post, action="objection.record", target=objection,
                              community_id=community.pk, after={"channel": channel, "notice": notice.pk})
        handoffs.act_announce("objection.record", record=record, community=community, by=by,
                              proposal=notice.proposal, result=objection, post=post)
        search_titles_refresh(community)
    return objection


@retry_on_conflict
def objection_answer(*, objection, by, answer, channel=""):
    """The community's answer to an objection, and how it reached the resident (`channel`: phone, paper or
    in person; blank where the caller does not say)."""
    community = objection.notice.proposal.community
    post = _require(by, "objection_answer", community)
    if not str(answer).strip():
        raise DomainError(_("请填写答复内容。"))
    if channel and channel not in Objection.AnswerChannel.values:
        raise DomainError(_("请选择答复方式。"))
    with transaction.atomic():
        objection = Objection.objects.select_for_update().get(pk=objection.pk)
        if not objection.is_open:
            raise DomainError(_("该异议已经答复。"))
        objection.answer, objection.answered_at, objection.answer_channel = answer, clock.now(), channel
        objection.answered_by, objection.answered_post = by, post
        objection.save()
        record = audit_record(actor=by, post=post, action="objection.answer", target=objection,
                              community_id=community.pk,
                              after={"answered": True, **({"channel": channel} if channel else {})})
        handoffs.act_announce("objection.answer", record=record, community=community, by=by,
                              proposal=objection.notice.proposal, result=objection, post=post)
    return objection


def objection_contact_view(*, objection, by):
    """The objector's name and contact, for the secretary of the objection's community who answers them
    (OPERATIONS["objection_contact_view"]). Every look is an audit record, written before the contact is
    handed back: a page shows it only after this returned."""
    community = objection.notice.proposal.community
    post = _require(by, "objection_contact_view", community)
    with transaction.atomic():
        audit_record(actor=by, post=post, action="objection.contact_viewed", target=objection,
                     community_id=community.pk, after={"objection": objection.pk, "notice": objection.notice_id})
    return {"name": objection.resident_name, "contact": objection.resident_contact}


@retry_on_conflict
def resident_text_publish(*, item, by, text):
    """The secretary's reviewed version of a resident's text — an objection (`Objection`) or a need (`Need`)
    — as the public will read it (OPERATIONS["resident_text_publish"]). Until then the public reads the
    automatically redacted original (fundapp.privacy); the version set here passes through the same step
    when published, and may be set again. The original stays as written, for staff. One audit record with
    the published version before → after (never the original)."""
    if isinstance(item, Objection):
        community, kind = item.notice.proposal.community, "objection"
    elif isinstance(item, Need):
        community, kind = item.community, "need"
    else:
        raise DomainError(_("只能审核居民提交的异议或需求。"))
    post = _require(by, "resident_text_publish", community)
    text = str(text or "").strip()
    if not text:
        raise DomainError(_("请填写公开版本：可删去不宜公开的内容，但不能为空。"))
    with transaction.atomic():
        locked = type(item).objects.select_for_update().get(pk=item.pk)
        publisher = publisher_for(community)
        before = locked.published(publisher)
        locked.public_text, locked.public_text_at, locked.public_text_by = text, clock.now(), by
        locked.save(update_fields=["public_text", "public_text_at", "public_text_by"])
        after = locked.published(publisher)
        audit_record(actor=by, post=post, action=f"{kind}.public_text", target=locked, community_id=community.pk,
                     before={"public_text": before}, after={"public_text": after, "reviewed": True})
    return locked


def _close_notices(ctx, kind, status):
    ctx.proposal.notices.filter(kind=kind, status=Notice.Status.RUNNING).update(status=status)


def proposal_hold(*, proposal, by, reason):
    return perform(proposal=proposal, action="hold", by=by, reason=reason,
                   effect=lambda ctx: _close_notices(ctx, Notice.Kind.PLAN, Notice.Status.WITHDRAWN))


def proposal_replan(*, proposal, by, reason):
    return perform(proposal=proposal, action="replan", by=by, reason=reason,
                   effect=lambda ctx: _close_notices(ctx, Notice.Kind.PLAN, Notice.Status.WITHDRAWN))


# ---- review -------------------------------------------------------------------------------------

REVIEW_WORKING_DAYS = 5  # Art. 11: reviewed within 5 working days of receipt


def review_deadline(received_on, cal=None):
    """The review's deadline: the 5th working day after receipt (Art. 11), as `cal` (default: the calendar as
    it is now) counts. Also what workdays' calendar changes recompute (approvals.derived_dates)."""
    return (cal or calendar.WorkCalendar()).deadline_after(received_on, REVIEW_WORKING_DAYS)


def proposal_submit_for_review(*, proposal, by):
    def effect(ctx):
        _close_notices(ctx, Notice.Kind.PLAN, Notice.Status.ENDED)
        p = ctx.proposal
        deadline = review_deadline(ctx.today)
        p.review_round += 1
        p.review_received_on = ctx.today
        p.review_deadline = deadline.day
        p.review_deadline_confirmed = deadline.confirmed

    return perform(proposal=proposal, action="submit_for_review", by=by, effect=effect,
                   paper=_file_paper(FiledPaper.Kind.APPLICATION_FORM, FiledPaper.Reason.SUBMITTED_FOR_REVIEW, by))


@retry_on_conflict
def review_decide(*, proposal, by, decision, reason=""):
    """One leader's decision. The second approval of a round approves the project and reserves its budget."""
    action = {"approve": "review_approve", "reject": "reject", "return": "return_for_revision"}.get(decision)
    if action is None:
        raise DomainError(_("未知的审批决定。"))

    def effect(ctx):
        return ReviewDecision.objects.create(
            proposal=ctx.proposal, round=ctx.proposal.review_round, role=ctx.post.role, decision=decision,
            reason=reason, by=by, post=ctx.post,
            late=bool(ctx.proposal.review_deadline and ctx.today > ctx.proposal.review_deadline),
        )

    with transaction.atomic():
        result = perform(proposal=proposal, action=action, by=by, effect=effect, reason=reason)
        if decision == "approve":
            p = Proposal.objects.get(pk=proposal.pk)
            approvals = p.reviews.filter(round=p.review_round, decision="approve")
            if approvals.count() == 2:
                perform(proposal=p, action="approve", by=by, effect=_reserve)
    proposal.refresh_from_db()
    return result


def _reserve(ctx):
    p = ctx.proposal
    ledger_services.fund_year_reserve(ctx.fund_year(), p.budget, small_group=p.is_small_group)
    p.approved_budget = p.budget
    p.reserved_amount = p.budget


def _release(ctx, amount):
    """Give `amount` of the proposal's reservation back to its fund year; a small-group project carried in
    at a year close gives back its carried share first (fund_year_release)."""
    p = ctx.proposal
    p.small_group_carried -= ledger_services.fund_year_release(
        ctx.fund_year(), amount, small_group=p.is_small_group, carried_share=p.small_group_carried, by=ctx.by)


def _release_remaining(ctx):
    p = ctx.proposal
    if p.reserved_amount:
        _release(ctx, p.reserved_amount)
        p.reserved_amount = Decimal("0.00")


def proposal_start(*, proposal, by):
    return perform(proposal=proposal, action="start", by=by)


def proposal_withdraw(*, proposal, by, reason):
    def effect(ctx):
        if ctx.proposal.state in RESERVING:
            _release_remaining(ctx)
        ctx.proposal.notices.filter(status=Notice.Status.RUNNING).update(status=Notice.Status.WITHDRAWN)

    return perform(proposal=proposal, action="withdraw", by=by, reason=reason, effect=effect)


# ---- execution ----------------------------------------------------------------------------------

def change_request(*, proposal, by, description, new_budget=None, new_planned_end=None, new_contractor=""):
    if not str(description).strip():
        raise DomainError(_("请说明变更内容。"))
    new_budget = parse_amount(new_budget) if new_budget not in (None, "") else None
    new_planned_end = new_planned_end if new_planned_end != "" else None

    def effect(ctx):
        return Change.objects.create(proposal=ctx.proposal, by=by, post=ctx.post, description=description,
                                     new_budget=new_budget, new_planned_end=new_planned_end,
                                     new_contractor=new_contractor)

    return perform(proposal=proposal, action="request_change", by=by, effect=effect, description=description,
                   new_planned_end=new_planned_end)


def change_decide(*, proposal, by, consent, comments=""):
    def effect(ctx):
        change = ctx.proposal.changes.select_for_update().get(status=Change.Status.REQUESTED)
        change.status = Change.Status.CONSENTED if consent else Change.Status.REFUSED
        change.decided_by, change.decided_post, change.decided_at = by, ctx.post, clock.now()
        change.decision_comments = comments
        change.save()
        if not consent:
            return change
        p = ctx.proposal
        if change.new_budget is not None and change.new_budget != p.approved_budget:
            delta = change.new_budget - p.approved_budget
            if delta > 0:
                ledger_services.fund_year_reserve(ctx.fund_year(), delta, small_group=p.is_small_group)
            else:
                _release(ctx, -delta)
            p.approved_budget = p.budget = change.new_budget
            p.reserved_amount += delta
        if change.new_planned_end:
            p.planned_end = change.new_planned_end
        if change.new_contractor:
            p.contractor = change.new_contractor
        return change

    action = "consent_change" if consent else "refuse_change"
    return perform(proposal=proposal, action=action, by=by, effect=effect, reason=comments or ("ok" if consent else ""))


def follow_up_record(*, proposal, by, visited_on, notes, documents=()):
    if not str(notes).strip():
        raise DomainError(_("请填写跟进情况。"))
    def effect(ctx):
        return FollowUp.objects.create(proposal=ctx.proposal, by=by, post=ctx.post, visited_on=visited_on,
                                       notes=notes)

    return perform(proposal=proposal, action="follow_up", by=by, documents=documents, effect=effect,
                   visited_on=visited_on)


def acceptance_record(*, proposal, by, inspected_on, quality, satisfaction_method, asked_count, satisfied_count,
                      passed, documents=()):
    try:
        asked, satisfied = int(asked_count), int(satisfied_count)
    except (TypeError, ValueError):
        raise DomainError(_("调查人数和满意人数须为整数。")) from None
    if asked < 1 or satisfied < 0 or satisfied > asked:
        raise DomainError(_("满意人数须在 0 到调查人数之间，调查人数至少为 1。"))

    def effect(ctx):
        return Acceptance.objects.create(proposal=ctx.proposal, by=by, post=ctx.post, inspected_on=inspected_on,
                                         quality=quality, satisfaction_method=satisfaction_method,
                                         asked_count=asked, satisfied_count=satisfied, passed=passed)

    return perform(proposal=proposal, action="accept" if passed else "accept_failed", by=by, effect=effect,
                   documents=documents, inspected_on=inspected_on,
                   paper=_file_paper(FiledPaper.Kind.ACCEPTANCE_SHEET, FiledPaper.Reason.ACCEPTANCE_RECORDED, by,
                                     of_result=True))


# ---- invoices and payments ----------------------------------------------------------------------

def invoice_register(*, proposal, by, contractor, number, amount, issued_on, documents=()):
    amount = parse_amount(amount)
    if not str(number).strip() or not str(contractor).strip():
        raise DomainError(_("请填写开票单位和发票号码。"))

    def effect(ctx):
        try:
            with transaction.atomic():
                invoice = Invoice.objects.create(proposal=ctx.proposal, contractor=contractor, number=number,
                                                 amount=amount, issued_on=issued_on, registered_by=by)
        except IntegrityError:
            raise DomainError(_("该发票已经登记。")) from None
        search_titles_refresh(ctx.proposal.community_id)
        return invoice

    return perform(proposal=proposal, action="register_invoice", by=by, effect=effect, amount=amount,
                   documents=documents, issued_on=issued_on)


def invoice_sign(*, invoice, by):
    def effect(ctx):
        inv = ctx.data["invoice"]
        order = inv.signatures.count() + 1
        Signature.objects.create(invoice=inv, order=order, role=ctx.post.role, by=by, post=ctx.post)
        if order == 3:
            inv.status = Invoice.Status.SIGNED
            inv.save(update_fields=["status"])
        return inv

    return _invoice_action(invoice, "sign_invoice", by, effect)


def invoice_refuse(*, invoice, by, reason):
    def effect(ctx):
        inv = ctx.data["invoice"]
        InvoiceRefusal.objects.create(invoice=inv, by=by, post=ctx.post, reason=reason)
        inv.status = Invoice.Status.RETURNED
        inv.save(update_fields=["status"])
        return inv

    return _invoice_action(invoice, "refuse_invoice", by, effect, reason=reason)


def _lock_invoice(invoice_pk):
    return lambda proposal: {"invoice": Invoice.objects.select_for_update().get(pk=invoice_pk)}


def _invoice_action(invoice, action, by, effect, **data):
    inv = Invoice.objects.select_related("proposal").get(pk=invoice.pk)
    # Only the next signer's post counts; the signature_order guard re-checks it under the lock.
    return perform(proposal=inv.proposal, action=action, by=by, roles=signing_roles(action, inv), effect=effect,
                   load=_lock_invoice(inv.pk), **data)


def invoice_settle(*, invoice, by, paid_on, method, reference, idempotency_key=None):
    """Pay the contractor directly after the third signature; posts the expenditure. Pays once."""
    key = idempotency_key or f"invoice-{invoice.pk}"
    _require(by, "invoice_settle", invoice.proposal.community)
    existing = Payment.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if existing.invoice_id != invoice.pk:
            raise Conflict(_("该请求编号已用于另一笔支付。"))
        return existing
    if method not in Payment.Method.values:
        raise DomainError(_("请选择支付方式。"))
    if not str(reference).strip():
        raise DomainError(_("请填写支付凭证号。"))

    def effect(ctx):
        inv = ctx.data["invoice"]
        with record_language():
            description = _("结算发票 %(number)s（%(title)s）") % {"number": inv.number, "title": ctx.proposal.title}
        return _pay(ctx, amount=inv.amount, invoice=inv, paid_on=paid_on, method=method, reference=reference,
                    key=key, description=description)

    inv = Invoice.objects.select_related("proposal").get(pk=invoice.pk)
    try:
        return perform(proposal=inv.proposal, action="settle_invoice", by=by, effect=effect,
                       load=_lock_invoice(inv.pk), amount=inv.amount, paid_on=paid_on)
    except (Conflict, IntegrityError):
        # Requests carrying the same key wait on the row lock while the first one pays; when they get
        # the lock the invoice is settled — by their own request, so they answer with its payment.
        existing = Payment.objects.filter(idempotency_key=key).first()
        if existing is not None and existing.invoice_id == invoice.pk:
            return existing
        if Payment.objects.filter(invoice=invoice).exists():
            raise Conflict(_("该发票已结算，不能重复结算。")) from None
        raise


def _pay(ctx, *, amount, paid_on, method, reference, key, description, invoice=None, **voucher):
    p = ctx.proposal
    fund_year = ctx.fund_year()
    entry = ledger_services.fund_year_spend(fund_year, amount, by=ctx.by, entry_date=paid_on,
                                           description=description, source=f"approvals.proposal:{p.pk}")
    payment = Payment.objects.create(proposal=p, invoice=invoice, amount=amount, paid_on=paid_on, method=method,
                                     reference=reference, ledger_entry=entry, idempotency_key=key, by=ctx.by,
                                     post=ctx.post, **voucher)
    p.settled_amount += amount
    p.reserved_amount -= amount
    if invoice is not None:
        invoice.status = Invoice.Status.SETTLED
        invoice.save(update_fields=["status"])
    if voucher.get("recipient_name"):
        search_titles_refresh(p.community_id)
    return payment


def voucher_pay(*, proposal, by, meeting, recipient_name, receipt_reference, amount, paid_on, method, reference,
                idempotency_key=None, documents=()):
    """Pay without an invoice (individual contractors, aid): prior meeting decision + signed receipt."""
    amount = parse_amount(amount)
    key = idempotency_key or f"voucher-{uuid.uuid4()}"
    _require(by, "voucher_pay", proposal.community)
    existing = Payment.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if existing.proposal_id != proposal.pk or existing.invoice_id is not None:
            raise Conflict(_("该请求编号已用于另一笔支付。"))
        return existing
    if method not in Payment.Method.values:
        raise DomainError(_("请选择支付方式。"))

    def effect(ctx):
        with record_language():
            description = _("无发票支付（%(title)s）") % {"title": ctx.proposal.title}
        return _pay(ctx, amount=amount, paid_on=paid_on, method=method, reference=reference, key=key,
                    description=description, meeting=meeting,
                    recipient_name=recipient_name, receipt_reference=receipt_reference)

    return perform(proposal=proposal, action="pay_voucher", by=by, effect=effect, meeting=meeting, amount=amount,
                   documents=documents,
                   recipient_name=recipient_name, receipt_reference=receipt_reference, paid_on=paid_on)


def voucher_notice_post(*, payment, by, posted_on, working_days=3, text=""):
    working_days = guard_functions.notice_working_days(working_days)

    def effect(ctx):
        notice = _new_notice(ctx, Notice.Kind.VOUCHER, posted_on, working_days, text)
        Payment.objects.filter(pk=payment.pk).update(after_notice=notice)
        return notice

    with transaction.atomic():
        notice = perform(proposal=payment.proposal, action="post_voucher_notice", by=by, effect=effect,
                         load=lambda p: {"payment": Payment.objects.select_for_update().get(pk=payment.pk)},
                         posted_on=posted_on, working_days=working_days)
        paper_archive.notice_paper_archive(notice=notice, by=by)
    return notice


def settlement_finish(*, proposal, by):
    """All paid: what is left of the reservation goes back to the fund year's available money."""
    return perform(proposal=proposal, action="finish_settlement", by=by, effect=_release_remaining)


def completion_notice_post(*, proposal, by, posted_on, working_days=3, text=""):
    working_days = guard_functions.notice_working_days(working_days)
    with transaction.atomic():
        notice = perform(proposal=proposal, action="post_completion_notice", by=by, posted_on=posted_on,
                         working_days=working_days,
                         effect=lambda ctx: _new_notice(ctx, Notice.Kind.COMPLETION, posted_on, working_days, text))
        paper_archive.notice_paper_archive(notice=notice, by=by)
    return notice


def proposal_complete(*, proposal, by):
    return perform(proposal=proposal, action="complete", by=by,
                   effect=lambda ctx: _close_notices(ctx, Notice.Kind.COMPLETION, Notice.Status.ENDED))


@retry_on_conflict
def supervision_opinion_record(*, proposal, by, text):
    post = _require(by, "supervision_opinion", proposal.community)
    if not str(text).strip():
        raise DomainError(_("请填写监督意见。"))
    with transaction.atomic():
        opinion = SupervisionOpinion.objects.create(proposal=proposal, by=by, post=post, text=text)
        audit_record(actor=by, post=post, action="supervision.opinion", target=opinion,
                     community_id=proposal.community_id, after={"proposal": proposal.pk})
    return opinion


def overdue_reviews_escalate(*, today=None):
    """Flag every review past its 5-working-day deadline (Art. 11) once per round, in the audit trail, so it
    appears on the subdistrict's and the city's dashboards. Safe to run any number of times a day."""
    from fundapp.services.notify import notify
    from fundapp.services.reminders import subdistrict_secretaries_of

    today = today or clock.today()
    escalated = 0
    overdue = Proposal.objects.filter(state=State.UNDER_REVIEW, review_deadline__lt=today)
    for proposal in overdue.select_related("community").iterator():
        with transaction.atomic():
            p = Proposal.objects.select_for_update(of=("self",)).get(pk=proposal.pk)
            if p.state != State.UNDER_REVIEW or p.review_overdue_round == p.review_round:
                continue
            p.review_overdue_round = p.review_round
            p.save(update_fields=["review_overdue_round"])
            audit_record(actor=None, action="review.escalated", target=p, community_id=p.community_id,
                         after={"round": p.review_round, "deadline": p.review_deadline, "today": today},
                         effective_on=today)
            with record_language():
                text = _("“%(title)s”（%(community)s）审批已超过期限 %(deadline)s，请督办。") % {
                    "title": p.title, "community": p.community, "deadline": p.review_deadline.isoformat()}
            notify(users=subdistrict_secretaries_of(p.community, today), kind="review_overdue",
                   key=f"review-overdue:{p.pk}:{p.review_round}", text=text, link=f"/proposals/{p.pk}/")
            escalated += 1
    return escalated


def review_deadlines_remind(*, today=None):
    """One working day before a review falls due, remind the leaders who have not decided yet."""
    from fundapp.services.notify import notify
    from fundapp.services.reminders import leaders_of
    from workdays.calendar import WorkCalendar

    today = today or clock.today()
    cal = WorkCalendar()
    sent = 0
    for p in Proposal.objects.filter(state=State.UNDER_REVIEW, review_deadline__gte=today).select_related("community"):
        if cal.working_days_between(today, p.review_deadline) != 1:
            continue
        decided = set(p.reviews.filter(round=p.review_round).values_list("by_id", flat=True))
        with record_language():
            text = _("“%(title)s”（%(community)s）的审批期限为 %(deadline)s，请及时审批。") % {
                "title": p.title, "community": p.community, "deadline": p.review_deadline.isoformat()}
        sent += len(notify(users=[u for u in leaders_of(p.community, today) if u.pk not in decided],
                           kind="review_due", key=f"review-due:{p.pk}:{p.review_round}", text=text,
                           link=f"/proposals/{p.pk}/"))
    return sent


@retry_on_conflict
def feedback_record(*, proposal, satisfied, comment=""):
    """A resident's satisfaction feedback, online and anonymous, on a project being delivered or done."""
    if proposal.state not in DELIVERING:
        raise DomainError(_("该项目尚未实施，暂不能评价。"))
    with transaction.atomic():
        feedback = Feedback.objects.create(proposal=proposal, satisfied=bool(satisfied), comment=comment)
        audit_record(actor=None, action="feedback.record", target=feedback, community_id=proposal.community_id,
                     after={"proposal": proposal.pk, "satisfied": bool(satisfied)})
    return feedback


def feedback_tally(proposal):
    rows = list(proposal.feedback.values_list("satisfied", flat=True))
    return {"asked": len(rows), "satisfied": sum(rows)}
