"""The approval chain's stored dates that the working-day calendar derives (SPEC §9), for workdays.derived:
running notices' last days and next-step days, and review deadlines. Registered in ApprovalsConfig.ready().

A calendar change moves the open ones: notices still running (their last day not passed), reviews under
way. Ended notices and finished reviews keep the dates they ran with — they are history.
"""
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from audit.services import audit_record
from workdays.derived import Move

from . import paper_archive
from .models import Notice, Proposal, State
from .services import notice_dates, review_deadline


def _lock_proposals(ids):
    # The chain's lock order: the proposal before anything of it (approvals.services.perform).
    list(Proposal.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk").values_list("pk"))


class NoticeDates:
    kind = "notice"

    def moves(self, calendar, *, today, for_update=False):
        notices = (Notice.objects.filter(status=Notice.Status.RUNNING, last_day__gte=today)
                   .select_related("proposal__community").order_by("pk"))
        if for_update:
            _lock_proposals(notices.values_list("proposal_id", flat=True))
            notices = notices.select_for_update(of=("self",))
        found = []
        for notice in notices:
            last, nxt = notice_dates(notice.posted_on, notice.working_days, calendar)
            before = {"last_day": notice.last_day, "next_step_day": notice.next_step_day,
                      "calendar_confirmed": notice.calendar_confirmed}
            after = {"last_day": last.day, "next_step_day": nxt.day, "calendar_confirmed": last.confirmed}
            if before == after:
                continue
            proposal = notice.proposal
            found.append(Move(
                kind=self.kind, label=_("%(kind)s最后一天") % {"kind": notice.get_kind_display()},
                title=proposal.title, community_id=proposal.community_id, community_name=proposal.community.name,
                pk=notice.pk, day_before=notice.last_day, day_after=last.day,
                confirmed_before=notice.calendar_confirmed, confirmed_after=last.confirmed,
                before=before, after=after, url=reverse("approvals:proposal", args=[proposal.pk]),
            ))
        return found

    def apply(self, move, *, by, post, note):
        notice = Notice.objects.select_related("proposal").get(pk=move.pk)
        for name, value in move.after.items():
            setattr(notice, name, value)
        notice.save(update_fields=list(move.after))
        # On the proposal's timeline, where its notice is shown.
        audit_record(actor=by, post=post, action="notice.recalculated", target=notice.proposal,
                     community_id=move.community_id, before={"notice": notice.pk, **move.before},
                     after={"notice": notice.pk, **move.after}, note=note)
        # The paper on the board carries the old last day: a new archived version, after the change commits.
        transaction.on_commit(lambda: paper_archive.notice_paper_rearchive(notice.pk))


class ReviewDeadlines:
    kind = "review_deadline"

    def moves(self, calendar, *, today, for_update=False):
        proposals = (Proposal.objects.filter(state=State.UNDER_REVIEW, review_received_on__isnull=False)
                     .select_related("community").order_by("pk"))
        if for_update:
            proposals = proposals.select_for_update(of=("self",))
        found = []
        for proposal in proposals:
            deadline = review_deadline(proposal.review_received_on, calendar)
            before = {"review_deadline": proposal.review_deadline,
                      "review_deadline_confirmed": proposal.review_deadline_confirmed}
            after = {"review_deadline": deadline.day, "review_deadline_confirmed": deadline.confirmed}
            if before == after:
                continue
            found.append(Move(
                kind=self.kind, label=_("审批期限"), title=proposal.title, community_id=proposal.community_id,
                community_name=proposal.community.name, pk=proposal.pk,
                day_before=proposal.review_deadline, day_after=deadline.day,
                confirmed_before=proposal.review_deadline_confirmed, confirmed_after=deadline.confirmed,
                before=before, after=after, url=reverse("approvals:proposal", args=[proposal.pk]),
            ))
        return found

    def apply(self, move, *, by, post, note):
        proposal = Proposal.objects.get(pk=move.pk)
        for name, value in move.after.items():
            setattr(proposal, name, value)
        proposal.save(update_fields=[*move.after, "updated_at"])
        audit_record(actor=by, post=post, action="proposal.deadline_recalculated", target=proposal,
                     community_id=move.community_id, before={"round": proposal.review_round, **move.before},
                     after={"round": proposal.review_round, **move.after}, note=note)
