"""The year-end disclosure's last day (Art. 15), derived from the working-day calendar, for
workdays.derived: a calendar change moves the last day of every disclosure still being posted, and the
poster printed with the old date is rendered again. Registered in DisclosureConfig.ready()."""
from functools import partial

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from audit.services import audit_record
from fundapp.publicurls import bare
from workdays.derived import Move

from .models import YearEndDisclosure
from .services import disclosure_last_day


class DisclosureDates:
    kind = "disclosure"

    def moves(self, calendar, *, today, for_update=False):
        disclosures = (YearEndDisclosure.objects.filter(last_day__gte=today)
                       .select_related("community").order_by("pk"))
        if for_update:
            disclosures = disclosures.select_for_update(of=("self",))
        found = []
        for d in disclosures:
            last = disclosure_last_day(d.posted_on, d.working_days, calendar)
            before = {"last_day": d.last_day, "calendar_confirmed": d.calendar_confirmed}
            after = {"last_day": last.day, "calendar_confirmed": last.confirmed}
            if before == after:
                continue
            found.append(Move(
                kind=self.kind, label=_("年终公示最后一天"),
                title=_("%(year)s年度经费使用情况公示") % {"year": d.year},
                community_id=d.community_id, community_name=d.community.name, pk=d.pk,
                day_before=d.last_day, day_after=last.day,
                confirmed_before=d.calendar_confirmed, confirmed_after=last.confirmed,
                before=before, after=after, url=bare(reverse("disclosure:summary", args=[d.community.code, d.year])),
            ))
        return found

    def apply(self, move, *, by, post, note):
        from .tasks import refresh_disclosure

        disclosure = YearEndDisclosure.objects.get(pk=move.pk)
        for name, value in move.after.items():
            setattr(disclosure, name, value)
        # The poster carries the last day: it is withdrawn ("being generated") until rendered again.
        disclosure.sha256 = ""
        disclosure.save(update_fields=[*move.after, "sha256"])
        audit_record(actor=by, post=post, action="disclosure.recalculated", target=disclosure,
                     community_id=move.community_id, before=move.before, after=move.after, note=note)
        transaction.on_commit(partial(refresh_disclosure.delay, disclosure.community_id, disclosure.year),
                              robust=True)
