"""Reads for the staff pages, each in a fixed number of queries."""
from dataclasses import dataclass, field

from django.db.models import Prefetch, prefetch_related_objects

from audit.models import AuditRecord
from fundapp import clock, rights
from workdays.calendar import WorkCalendar

from . import services as chain
from .actions import ACTIONS, might, offers
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


def get_proposal_or_404(user, pk, snapshot=None):
    """The proposal if the user may see its community; 404 for both missing and not yours. `snapshot`: the
    request's rights (approvals.services.rights_of), asked instead of the database."""
    from django.http import Http404

    proposal = (Proposal.objects.select_related("community", "community__subdistrict", "fund_year", "created_by")
                .filter(pk=pk).first())
    may_see = (snapshot.allowed if snapshot is not None else
               lambda codename, community: rights.check(user, codename, community))
    if proposal is None or not may_see("view_fund", proposal.community):
        raise Http404
    return proposal


def proposal_detail(proposal):
    """Everything the proposal page shows, fetched once."""
    p = Proposal.objects.prefetch_related(
        "lines", "needs", "consents__by", "meetings__by", "reviews__by", "changes__by", "follow_ups__by",
        "acceptances__by", "opinions__by", "documents", "filed_papers",
        Prefetch("notices", queryset=Notice.objects.prefetch_related("objections").order_by("posted_on", "pk")),
        Prefetch("invoices", queryset=Invoice.objects.prefetch_related("signatures__by", "refusals__by")),
        "payments",
    ).get(pk=proposal.pk)
    timeline = list(
        AuditRecord.objects.filter(target_type="approvals.proposal", target_id=str(p.pk)).in_effective_order()
    )
    return p, timeline


@dataclass
class QueueItem:
    proposal: Proposal
    actions: list  # names of the steps this person can take now
    deadline: object = None
    days_left: int | None = None
    warning: str = ""
    standing: object = None  # approvals.standing.Standing: with whom it is, what they must do, by when
    later: list = field(default_factory=list)  # blocked offers that open on a date (a notice still running)
    now: list = field(default_factory=list)  # the available offers (per object): each item links to its form

    @property
    def first(self):
        """The step to take first: the queue's item links straight to its form."""
        return self.now[0] if self.now else None

    @property
    def overdue(self):
        return self.days_left is not None and self.days_left < 0


def work_queue(user, limit=50):
    """Proposals with a step this person can take now, soonest deadline first."""
    return work_queue_and_later(user, limit)[0]


def work_queue_and_later(user, limit=50):
    """(now, later): the proposals with a step this person can take now — decided by the service's dry run,
    so nothing listed is refused on confirming — soonest deadline first; and those whose only steps of theirs
    open on a later date (`QueueItem.later`: the blocked offers, with the day each opens), soonest first."""
    today = clock.today()
    cal = WorkCalendar()
    items, later = [], []
    waiting = [a for a in ACTIONS.values() if a.waits]
    with chain.rights_of(user):
        # Only proposals on which some step is this person's (by state and rights, from memory) are looked at
        # further, with everything the dry run reads prefetched for them: a fixed number of queries, and no
        # related rows loaded for the many proposals waiting on somebody else.
        live = [p for p in proposals_for(user).exclude(state__in=TERMINAL)[:500]
                if any(might(a, user, p) for a in waiting)]
        prefetch_related_objects(live, "invoices__signatures", "changes", "payments", "notices__objections",
                                 "reviews", "lines", "needs")
        deadlines = [p.review_deadline for p in live if p.state == State.UNDER_REVIEW and p.review_deadline]
        if deadlines:
            cal.preload(min(*deadlines, today), max(*deadlines, today))
        for proposal in live:
            found = [o for o in offers(user, proposal, today=today) if o.action.waits_on(proposal)]
            names = list(dict.fromkeys(o.action.name for o in found if o.available))
            item = QueueItem(proposal=proposal, actions=names, now=[o for o in found if o.available],
                             later=[o for o in found if not o.available and o.opens_on])
            if names:
                if proposal.state == State.UNDER_REVIEW and proposal.review_deadline:
                    item.deadline = proposal.review_deadline
                    item.days_left = cal.working_days_between(today, proposal.review_deadline)
                    if not proposal.review_deadline_confirmed:
                        item.warning = "unconfirmed"
                items.append(item)
            elif item.later:
                later.append(item)
    items.sort(key=lambda i: (i.days_left is None, i.days_left if i.days_left is not None else 0,
                              -i.proposal.updated_at.timestamp()))
    later.sort(key=lambda i: (min(o.opens_on for o in i.later), i.proposal.pk))
    items, later = items[:limit], later[:limit]
    marks = standings([i.proposal for i in items + later], today)  # where each stands, for the row's one line
    for item in items + later:
        item.standing = marks[item.proposal.pk]
    return items, later


def overdue_reviews(user):
    """Reviews past their deadline in the communities this person oversees (subdistrict and city)."""
    return (proposals_for(user).filter(state=State.UNDER_REVIEW, review_deadline__lt=clock.today())
            .order_by("review_deadline"))


def recent_acts(user, limit=10):
    return AuditRecord.objects.filter(actor=user).order_by("-recorded_at")[:limit]
