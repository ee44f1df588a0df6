"""The shared body of the management commands that start a batch (generate_disclosures,
generate_annual_reports)."""
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from fundapp import clock
from fundapp.models import Community

from .models import BatchRun
from .services import batch_run_inline, batch_start, celery_is_eager


class BatchCommand(BaseCommand):
    kind = None  # set by the subclass
    what = ""

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, default=None, help="default: this year")
        parser.add_argument("--community", action="append", default=None, metavar="CODE",
                            help="only this community (by code); may be repeated")
        parser.add_argument("--wait", action="store_true",
                            help="with a worker (REDIS_URL set): wait until every community is finished")
        parser.add_argument("--timeout", type=float, default=600.0, help="seconds --wait waits (default 600)")

    def handle(self, *args, year=None, community=None, wait=False, timeout=600.0, **options):
        self.verbosity = options.get("verbosity", 1)
        year = year or clock.today().year
        community_ids = None
        if community:
            found = dict(Community.objects.filter(code__in=community).values_list("code", "pk"))
            missing = sorted(set(community) - set(found))
            if missing:
                raise CommandError(f"unknown community code(s): {', '.join(missing)}")
            community_ids = list(found.values())
        if celery_is_eager():
            # No broker (REDIS_URL unset): run every item here, now, one after another.
            run = batch_run_inline(batch_start(self.kind, year, community_ids, dispatch=False))
        else:
            run = batch_start(self.kind, year, community_ids)
            self.stdout.write(f"{self.what} {year}: batch #{run.pk} queued, {run.total} communities "
                              f"— progress at {settings.SITE_URL}{reverse('batches:run', args=[run.pk])}")
            if not wait:
                return
            run = self._wait(run, timeout)
        self._report(run)

    def _wait(self, run, timeout):
        deadline = time.monotonic() + timeout
        shown = None
        while True:
            run = BatchRun.objects.get(pk=run.pk)
            progress = (run.done_count, run.failed_count)
            if progress != shown and self.verbosity >= 2:
                self.stdout.write(f"  {run.done_count} done, {run.failed_count} failed, "
                                  f"{run.pending_count} pending")
            shown = progress
            if run.is_finished:
                return run
            if time.monotonic() > deadline:
                raise CommandError(f"batch #{run.pk} not finished after {timeout:.0f} s: {run.done_count} done, "
                                   f"{run.failed_count} failed, {run.pending_count} pending (it goes on in the "
                                   f"workers; see /batches/{run.pk}/)")
            time.sleep(0.25)

    def _report(self, run):
        line = (f"{self.what} {run.year}: batch #{run.pk} — {run.done_count} of {run.total} communities done, "
                f"{run.failed_count} failed")
        if run.failed_count:
            for item in run.items.filter(status="failed").select_related("community"):
                self.stderr.write(f"  {item.community.code}: {item.error_summary}")
            raise CommandError(f"{line}. Re-run the failures from /batches/{run.pk}/ "
                               f"or: manage.py {self.kind_command} --year {run.year} --community CODE")
        self.stdout.write(self.style.SUCCESS(line))

    @property
    def kind_command(self):
        return self.__module__.rsplit(".", 1)[-1]
