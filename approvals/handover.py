"""What is waiting for the holder of a post: the items a handover moves to the successor (SPEC §1, §7).

`pending_for_post(post, today)` answers, for a post in force, every step of the approval chain offered to
its holder *in that post* (the service layer's dry run, as the work queue asks it: an invoice to sign, a
consent, a review, an objection to answer, a notice whose next step is due or opens on a date, an invoice to
pay, a change to decide, an acceptance…) — available now, or theirs but not yet possible (with the reason or
the day it opens) — and the annual reports to submit or evaluate. Each item names the
notification kinds that asked for it (handoffs.SETTLED_BY), so that the old holder's unread ones can follow
it. Registered with fundapp.services.org from ApprovalsConfig.ready(): the ground floor's handover service
asks it without importing the chain.
"""
from dataclasses import dataclass

from django.db.models import prefetch_related_objects
from django.urls import reverse
from django.utils.translation import gettext as _

from fundapp.i18n import record_language, long_date
from fundapp.models import Community, Role

from . import services as chain
from .actions import ACTIONS, might, offers
from .handoffs import SETTLED_BY
from .models import AnnualReport, Invoice, Objection, Proposal, TERMINAL
from .workflow import needed

# The kind of item each action is, as the handover page groups them.
KINDS = {
    "sign_invoice": "signature", "refuse_invoice": "signature", "consent": "consent", "return_consent": "consent",
    "review": "review", "answer_objection": "objection", "settle_invoice": "payment",
    "submit_for_review": "notice", "complete": "notice", "consent_change": "change", "refuse_change": "change",
}
# Acts beside the chain's transitions, by the audit action that settles their notifications.
OPERATION_ACTS = {"answer_objection": "objection.answer"}
LIMIT = 500


@dataclass
class PendingItem:
    key: str
    kind: str  # signature, consent, review, objection, payment, notice, change, step, report_submit, report_evaluate
    label: str  # what is to be done
    title: str  # on what
    community: str
    link: str
    opens_on: object = None  # only time stands in the way: from this day
    blocked: str = ""  # not yet possible: why (a guard's reason), e.g. an objection still to answer first
    settles: tuple = ()  # the notification kinds that asked for it
    text: str = ""  # the successor's notification when nobody had been told of it

    def __post_init__(self):
        self.text = self.text or _("交接待办：%(label)s（%(title)s，%(community)s）") % {
            "label": self.label, "title": self.title, "community": self.community}


def _settles(action):
    acts = [*action.transitions, OPERATION_ACTS.get(action.name, "")]
    return tuple(dict.fromkeys(kind for act in acts for kind in SETTLED_BY.get(act, ())))


def _communities(post):
    if post.role == Role.CITY_ADMIN:
        return Community.objects.all()
    if post.subdistrict_id:
        return Community.objects.filter(subdistrict_id=post.subdistrict_id)
    return Community.objects.filter(pk=post.community_id)


def _target_label(target):
    if isinstance(target, Invoice):
        return _("发票 %(number)s") % {"number": target.number}
    if isinstance(target, Objection):
        return _("异议（%(day)s收到）") % {"day": long_date(target.received_at)}
    return ""


def _chain_items(post, today):
    user = post.user
    items = []
    waiting = [a for a in ACTIONS.values() if a.waits]
    with chain.rights_of_post(post):
        proposals = (Proposal.objects.filter(community__in=_communities(post)).exclude(state__in=TERMINAL)
                     .select_related("community", "community__subdistrict", "fund_year").order_by("pk")[:LIMIT])
        live = [p for p in proposals if any(might(a, user, p) for a in waiting)]
        prefetch_related_objects(live, "invoices__signatures", "changes", "payments", "notices__objections",
                                 "reviews", "lines", "needs")
        for proposal in live:
            seen = set()
            for o in offers(user, proposal, today=today):
                if not o.action.waits_on(proposal):
                    continue
                kind = KINDS.get(o.action.name, "step")
                key = (kind, getattr(o.target, "pk", None))
                if key in seen:
                    continue
                seen.add(key)
                label = str(o.action.label) if kind != "signature" else _("在发票上签字")
                target = _target_label(o.target)
                items.append(PendingItem(
                    key=f"p{proposal.pk}:{kind}:{key[1] or ''}:{o.action.name}", kind=kind,
                    label=f"{label} · {target}" if target else label, title=proposal.title,
                    community=proposal.community.name, link=reverse("approvals:proposal", args=[proposal.pk]),
                    opens_on=None if o.available else o.opens_on, settles=_settles(o.action),
                    blocked="" if o.available else str(o.reason)))
    return items


def _report_items(post):
    items = []
    for operation, status, kind, settles in (
            ("annual_report_submit", AnnualReport.Status.DRAFT, "report_submit", SETTLED_BY["annual_report.submit"]),
            ("annual_report_evaluate", AnnualReport.Status.SUBMITTED, "report_evaluate",
             SETTLED_BY["annual_report.evaluate"])):
        if post.role not in needed(operation).roles:
            continue
        reports = (AnnualReport.objects.filter(community__in=_communities(post), status=status)
                   .select_related("community").order_by("year", "community__name")[:LIMIT])
        for report in reports:
            items.append(PendingItem(
                key=f"r{report.pk}:{kind}", kind=kind, label=str(needed(operation).label),
                title=_("%(year)s年度经费使用情况报告") % {"year": report.year}, community=report.community.name,
                link=reverse("approvals:report", args=[report.pk]), settles=tuple(settles)))
    return items


def pending_for_post(post, today, *, stored=True):
    """What is waiting for the holder of `post` (in force on `today`): in the site's language (`stored`: the
    texts go into notifications), else in the reader's (the handover page)."""
    if not post.is_current(today):
        return []
    if not stored:
        return _chain_items(post, today) + _report_items(post)
    with record_language():
        return _chain_items(post, today) + _report_items(post)
