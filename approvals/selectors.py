"""Reads for the staff pages, each in a fixed number of queries."""
from dataclasses import dataclass

from django.db.models import Prefetch, prefetch_related_objects

from audit.models import AuditRecord
from fundapp import clock, rights
from workdays.calendar import WorkCalendar

from .actions import ACTIONS, applicable, offered
from .models import Invoice, Notice, Proposal, State, TERMINAL
from .standing import standings


def proposals_for(user, *, state=None, community=None):
    qs = (Proposal.objects.filter(community__in=rights.communities_for(user, "view_fund"))
          .select_related("community", "community__subdistrict", "fund_year").order_by("-updated_at"))
    if state:
        qs = qs.filter(state=state)
    if community:
        qs = qs.filter(community=community)
    return qs


def get_proposal_or_404(user, pk):
    """The proposal if the user may see its community; 404 for both missing and not yours."""
    from django.http import Http404

    proposal = (Proposal.objects.select_related("community", "community__subdistrict", "fund_year", "created_by")
                .filter(pk=pk).first())
    if proposal is None or not rights.check(user, "view_fund", proposal.community):
        raise Http404
    return proposal


def proposal_detail(proposal):
    """Everything the proposal page shows, fetched once."""
    p = Proposal.objects.prefetch_related(
        "lines", "needs", "consents__by", "meetings__by", "reviews__by", "changes__by", "follow_ups__by",
        "acceptances__by", "opinions__by", "documents",
        Prefetch("notices", queryset=Notice.objects.prefetch_related("objections").order_by("posted_on", "pk")),
        Prefetch("invoices", queryset=Invoice.objects.prefetch_related("signatures__by", "refusals__by")),
        "payments",
    ).get(pk=proposal.pk)
    timeline = list(
        AuditRecord.objects.filter(target_type="approvals.proposal", target_id=str(p.pk)).in_effective_order()
    )
    return p, timeline


# Steps that open only once a notice has run its period (Art. 10, 15): waiting for the person from its
# next-step day (00:00 Asia/Shanghai), not before — at midnight they appear in the queue with no act.
AFTER_NOTICE = {"submit_for_review": Notice.Kind.PLAN, "complete": Notice.Kind.COMPLETION}


def _waiting(action, proposal, today):
    kind = AFTER_NOTICE.get(action)
    if kind is None:
        return ACTIONS[action].waits
    # The current notice of that kind (still open in the record: no act has closed it); .all() is prefetched.
    current = max((n for n in proposal.notices.all() if n.kind == kind and n.status == Notice.Status.RUNNING),
                  key=lambda n: n.pk, default=None)
    return current is None or current.next_step_day <= today


@dataclass
class QueueItem:
    proposal: Proposal
    actions: list
    deadline: object = None
    days_left: int | None = None
    warning: str = ""
    standing: object = None  # approvals.standing.Standing: with whom it is, what they must do, by when

    @property
    def overdue(self):
        return self.days_left is not None and self.days_left < 0


def work_queue(user, limit=50):
    """Proposals waiting for this person, soonest deadline first."""
    today = clock.today()
    cal = WorkCalendar()
    items, cache = [], {}
    # Only proposals on which some step is this person's (by state and rights, from memory) are looked at
    # further, with everything `applicable` reads prefetched for them: a fixed number of queries, and no
    # related rows loaded for the many proposals waiting on somebody else.
    live = [p for p in proposals_for(user).exclude(state__in=TERMINAL)[:500]
            if any(ACTIONS[a].waits for a in offered(user, p, cache))]
    prefetch_related_objects(live, "invoices__signatures", "changes", "payments", "notices__objections")
    deadlines = [p.review_deadline for p in live if p.state == State.UNDER_REVIEW and p.review_deadline]
    if deadlines:
        cal.preload(min(*deadlines, today), max(*deadlines, today))
    for proposal in live:
        actions = [a for a in applicable(user, proposal, cache) if _waiting(a, proposal, today)]
        if not actions:
            continue
        item = QueueItem(proposal=proposal, actions=actions)
        if proposal.state == State.UNDER_REVIEW and proposal.review_deadline:
            item.deadline = proposal.review_deadline
            item.days_left = cal.working_days_between(today, proposal.review_deadline)
            if not proposal.review_deadline_confirmed:
                item.warning = "unconfirmed"
        items.append(item)
    items.sort(key=lambda i: (i.days_left is None, i.days_left if i.days_left is not None else 0,
                              -i.proposal.updated_at.timestamp()))
    items = items[:limit]
    marks = standings([i.proposal for i in items], today)  # where each stands, for the row's one line
    for item in items:
        item.standing = marks[item.proposal.pk]
    return items


def overdue_reviews(user):
    """Reviews past their deadline in the communities this person oversees (subdistrict and city)."""
    return (proposals_for(user).filter(state=State.UNDER_REVIEW, review_deadline__lt=clock.today())
            .order_by("review_deadline"))


def recent_acts(user, limit=10):
    return AuditRecord.objects.filter(actor=user).order_by("-recorded_at")[:limit]
