"""Where a proposal stands: with whom it is now (the person and their post), what they must do, by when,
and what comes after — and the steps of the chain as a person counts them (a stepper, not a log).

Read from the same records the guards read (the state, the running notice, the current review round, the
invoices and their signatures, the pending change), for the proposal page, the work queue and the
application form's header. `standings(proposals, today)` answers for a whole list in a fixed number of
queries (the posts of their communities and subdistricts once, related rows prefetched once).
"""
from dataclasses import dataclass, field

from django.db.models import Q, prefetch_related_objects
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from audit.models import AuditRecord
from fundapp.models import Post, Role

from .guards import next_signer_role
from .models import Change, Invoice, Meeting, Notice, ReviewDecision, State

LEADERS = (Role.SUBDISTRICT_SECRETARY, Role.CONSTRUCTION_DIRECTOR)


@dataclass(frozen=True)
class Person:
    """Someone who holds a post now: their name (never a username) and the post's title."""

    name: str
    post: str

    def __str__(self):
        return _("%(name)s（%(post)s）") % {"name": self.name, "post": self.post} if self.name else str(self.post)


@dataclass
class Task:
    """One thing the proposal waits for: the post expected to do it, who holds it now, by when."""

    role: str
    todo: str
    people: list = field(default_factory=list)
    due: object = None  # the last day (a review deadline, a notice's last day, the planned end)
    due_label: str = ""
    opens_on: object = None  # it can be done from this day (a notice still running)
    late: bool = False  # the due day has passed

    @property
    def role_label(self):
        return Role(self.role).label

    @property
    def who(self):
        """"王某（社区党委书记）", several holders joined; the post alone when nobody holds it now."""
        if not self.people:
            return _("%(post)s（暂无在任人员）") % {"post": self.role_label}
        return str(_("、")).join(str(p) for p in self.people)


@dataclass
class Standing:
    state: str
    tasks: list = field(default_factory=list)
    done: list = field(default_factory=list)  # what part of this step is already done ("王某 已同意")
    after: str = ""  # what happens once the tasks are done
    note: str = ""  # why it stands here (a return's reason, a hold)

    @property
    def state_label(self):
        return State(self.state).label

    @property
    def finished(self):
        return not self.tasks


# ---- the stepper ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    states: frozenset


STAGES = [
    Stage("needs", pgettext_lazy("stage", "征集需求"), frozenset()),
    Stage("draft", pgettext_lazy("stage", "起草方案"), frozenset({State.DRAFT})),
    Stage("consent", pgettext_lazy("stage", "初步同意"), frozenset({State.CONSENT_PENDING})),
    Stage("meeting", pgettext_lazy("stage", "联席会议"), frozenset({State.CONSENTED, State.ON_HOLD})),
    Stage("notice", pgettext_lazy("stage", "方案公示"), frozenset({State.MEETING_PASSED, State.NOTICE})),
    Stage("review", pgettext_lazy("stage", "党工委审批"), frozenset({State.UNDER_REVIEW, State.REJECTED})),
    Stage("delivery", pgettext_lazy("stage", "实施验收"), frozenset({State.APPROVED, State.IN_PROGRESS})),
    Stage("settlement", pgettext_lazy("stage", "发票结算"), frozenset({State.ACCEPTED})),
    Stage("completion_notice", pgettext_lazy("stage", "完成公示"),
          frozenset({State.SETTLED, State.COMPLETION_NOTICE})),
    Stage("completed", pgettext_lazy("stage", "完成"), frozenset({State.COMPLETED})),
]
assert {s for stage in STAGES for s in stage.states} == set(State) - {State.WITHDRAWN}, \
    "every state but withdrawn stands at one stage"


@dataclass(frozen=True)
class Step:
    number: int
    label: str
    status: str  # "done", "current", "stopped" (rejected or withdrawn there), "todo"

    @property
    def current(self):
        return self.status in ("current", "stopped")


def stepper(proposal):
    """The stages of the chain with this proposal's place among them. A withdrawn proposal stops at the
    stage it was withdrawn from (read from its audit record); a rejected one at the review."""
    state = proposal.state
    stopped = state in (State.REJECTED, State.WITHDRAWN)
    if state == State.WITHDRAWN:
        record = (AuditRecord.objects.filter(target_type="approvals.proposal", target_id=str(proposal.pk),
                                             action="proposal.withdraw").order_by("-seq").first())
        state = (record.before or {}).get("state", State.DRAFT) if record else State.DRAFT
    at = next(i for i, stage in enumerate(STAGES) if state in stage.states)
    steps = []
    for i, stage in enumerate(STAGES):
        if i < at or (state == State.COMPLETED and i == at):
            status = "done"
        elif i == at:
            status = "stopped" if stopped else "current"
        else:
            status = "todo"
        steps.append(Step(i + 1, stage.label, status))
    return steps


# ---- where it stands ------------------------------------------------------------------------------

# The related rows `_standing` reads, by the states that read them.
READS = [
    ({State.DRAFT, State.UNDER_REVIEW, State.REJECTED}, ("reviews__by",)),
    ({State.DRAFT}, ("consents__by", "consents__post", "meetings")),
    ({State.NOTICE, State.COMPLETION_NOTICE}, ("notices__objections",)),
    ({State.IN_PROGRESS}, ("changes",)),
    ({State.ACCEPTED}, ("invoices__signatures", "payments")),
]


def standing(proposal, today):
    return standings([proposal], today)[proposal.pk]


def standings(proposals, today):
    """{proposal pk: Standing} for `proposals`, in a fixed number of queries whatever their number."""
    proposals = list(proposals)
    if not proposals:
        return {}
    # Each state reads only its own rows: a queue of reviews does not load every proposal's invoices.
    for states, lookups in READS:
        some = [p for p in proposals if p.state in states]
        if some:
            prefetch_related_objects(some, *lookups)
    holders = _holders(proposals, today)
    return {p.pk: _standing(p, today, holders) for p in proposals}


def _holders(proposals, today):
    """{(role, community id or subdistrict id): [Person]} of the posts in force for these proposals."""
    community_ids = {p.community_id for p in proposals}
    subdistrict_ids = {p.community.subdistrict_id for p in proposals}
    posts = (Post.objects.current(today)
             .filter(Q(community_id__in=community_ids) | Q(subdistrict_id__in=subdistrict_ids))
             .select_related("user").order_by("start_date", "pk"))
    found = {}
    for post in posts:
        if not post.user.is_active:
            continue
        scope = post.community_id or post.subdistrict_id
        found.setdefault((post.role, scope), []).append(
            Person(name=post.user.get_full_name().strip(), post=post.get_role_display()))
    return found


def _standing(p, today, holders):
    def task(role, todo, **extra):
        scope = p.community.subdistrict_id if Role.scope_of(role) == "subdistrict" else p.community_id
        due = extra.get("due")
        late = due is not None and extra.get("opens_on") is None and due < today
        return Task(role=role, todo=todo, people=holders.get((role, scope), []), late=late, **extra)

    s = Standing(state=p.state)
    state = p.state
    if state == State.DRAFT:
        s.tasks = [task(Role.COMMUNITY_SECRETARY, _("完善方案并报请街道党工委初步同意"))]
        s.note = _returned_note(p)
        s.after = _("街道党工委书记初步同意后，召开联席会议。")
    elif state == State.CONSENT_PENDING:
        s.tasks = [task(Role.SUBDISTRICT_SECRETARY, _("初步同意或退回方案"))]
        s.after = _("同意后，社区召开“两委”成员和居民代表联席会议。")
    elif state in (State.CONSENTED, State.ON_HOLD):
        s.tasks = [task(Role.COMMUNITY_SECRETARY, _("召开联席会议并记录表决结果"))]
        if state == State.ON_HOLD:
            s.note = _("公示期间暂时搁置，重新上会后再公示。")
        s.after = _("会议通过后张贴公示，不少于3个工作日。")
    elif state == State.MEETING_PASSED:
        s.tasks = [task(Role.COMMUNITY_SECRETARY, _("张贴方案公示"))]
        s.after = _("公示期满且异议均已答复后，报街道党工委审批。")
    elif state == State.NOTICE:
        s.tasks = _notice_tasks(p, today, task, Notice.Kind.PLAN, _("报街道党工委审批"))
        s.after = _("街道党工委书记和建管委主任在5个工作日内审批。")
    elif state == State.UNDER_REVIEW:
        decided = {r.role: r for r in p.reviews.all() if r.round == p.review_round}
        s.done = [_("%(who)s：%(decision)s") % {"who": _person_of(r), "decision": r.get_decision_display()}
                  for r in decided.values()]
        s.tasks = [task(role, _("审批"), due=p.review_deadline, due_label=_("审批期限"))
                   for role in LEADERS if role not in decided]
        s.after = _("两位主要领导均同意后批准，预算转为预留；由社区启动项目。")
    elif state == State.APPROVED:
        s.tasks = [task(Role.COMMUNITY_SECRETARY, _("启动项目"))]
        s.after = _("街道党工委跟进实施，完成后组织综合验收。")
    elif state == State.IN_PROGRESS:
        if any(c.status == Change.Status.REQUESTED for c in p.changes.all()):
            s.tasks = [task(Role.SUBDISTRICT_SECRETARY, _("同意或不同意变更申请"))]
            s.after = _("变更决定后继续实施，完成后综合验收。")
        else:
            s.tasks = [task(Role.SUBDISTRICT_STAFF, _("跟进实施，完成后组织综合验收"), due=p.planned_end,
                            due_label=_("计划完成"))]
            s.after = _("验收合格后，社区登记发票，三人签字后由财务结算。")
    elif state == State.ACCEPTED:
        s.tasks = _settlement_tasks(p, task)
        s.after = _("结算完毕后，未用完的预留经费退回年度可用经费，再张贴完成公示。")
    elif state == State.SETTLED:
        s.tasks = [task(Role.COMMUNITY_SECRETARY, _("张贴完成公示"))]
        s.after = _("公示期满后确认项目完成。")
    elif state == State.COMPLETION_NOTICE:
        s.tasks = _notice_tasks(p, today, task, Notice.Kind.COMPLETION, _("确认项目完成"))
        s.after = _("项目完成，列入年度报告和年终公开。")
    elif state == State.REJECTED:
        s.note = _decision_note(p, ReviewDecision.Decision.REJECT)
    return s


def _person_of(act):
    """The person of an act and the post they acted in."""
    name = act.by.get_full_name().strip() if act.by_id else ""
    if getattr(act, "role", ""):
        post = Role(act.role).label
    else:
        post = act.post.get_role_display() if act.post_id else ""
    return str(Person(name=name, post=post)) if post else name


def day(value):
    """A date as the pages write it in the reader's language (2026年12月2日; the `long_date` filter's format)."""
    from django.utils.dateformat import format as format_date
    from django.utils.translation import pgettext

    return format_date(value, pgettext("date format", "Y年n月j日")) if value else ""


def _notice_tasks(p, today, task, kind, next_step):
    notice = max((n for n in p.notices.all() if n.kind == kind and n.status == Notice.Status.RUNNING),
                 key=lambda n: n.pk, default=None)
    tasks = []
    open_objections = [o for n in p.notices.all() for o in n.objections.all() if o.is_open]
    if open_objections:
        tasks.append(task(Role.COMMUNITY_SECRETARY,
                          _("答复居民异议（%(n)s 条）") % {"n": len(open_objections)}))
    if notice is not None and today < notice.next_step_day:
        tasks.append(task(Role.COMMUNITY_SECRETARY, next_step, due=notice.last_day, due_label=_("公示至"),
                          opens_on=notice.next_step_day))
    else:
        tasks.append(task(Role.COMMUNITY_SECRETARY, next_step))
    return tasks


def _settlement_tasks(p, task):
    tasks = []
    for invoice in p.invoices.all():
        if invoice.status == Invoice.Status.SIGNING:
            role = next_signer_role(invoice)
            tasks.append(task(role, _("在发票 %(number)s 上签字（第 %(n)s/3 人）")
                              % {"number": invoice.number, "n": len(invoice.signatures.all()) + 1}))
        elif invoice.status == Invoice.Status.SIGNED:
            tasks.append(task(Role.FINANCE_OFFICER, _("结算发票 %(number)s") % {"number": invoice.number}))
    for payment in p.payments.all():
        if payment.invoice_id is None and payment.after_notice_id is None:
            tasks.append(task(Role.COMMUNITY_SECRETARY, _("张贴无发票支付的事后公示")))
    if not tasks:
        if p.payments.all():
            tasks.append(task(Role.COMMUNITY_SECRETARY, _("确认结算完毕（或登记其余发票）")))
        else:
            tasks.append(task(Role.COMMUNITY_SECRETARY, _("登记承办方发票")))
    return tasks


def _returned_note(p):
    """Why a draft is a draft again: the latest return (consent, review) or failed meeting, if that is the
    last decision on it."""
    last = max([*p.consents.all(), *[r for r in p.reviews.all()], *p.meetings.all()],
               key=lambda act: act.at, default=None)
    if last is None:
        return ""
    if isinstance(last, Meeting):
        return "" if last.passed else _("联席会议未通过（%(date)s）。") % {"date": day(last.held_on)}
    if isinstance(last, ReviewDecision):
        if last.decision != ReviewDecision.Decision.RETURN:
            return ""
        return _("%(who)s 退回修改：%(reason)s") % {"who": _person_of(last), "reason": last.reason}
    if last.consented:
        return ""
    return _("%(who)s 退回：%(reason)s") % {"who": _person_of(last), "reason": last.comments}


def _decision_note(p, decision):
    last = max((r for r in p.reviews.all() if r.decision == decision), key=lambda r: r.at, default=None)
    if last is None:
        return ""
    return _("%(who)s 不予批准：%(reason)s") % {"who": _person_of(last), "reason": last.reason}
