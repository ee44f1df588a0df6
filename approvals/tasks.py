"""Celery tasks: thin, idempotent callers of the services."""
from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task
def escalate_overdue_reviews():
    """Overdue reviews are recorded and escalated to the subdistrict secretary (Art. 11)."""
    return services.overdue_reviews_escalate()


@shared_task
def remind_review_deadlines():
    """Leaders are reminded one working day before a review falls due."""
    return services.review_deadlines_remind()


@shared_task
def announce_ended_notices():
    """Each morning: secretaries whose notice has run its course may take the next step from today."""
    from .handoffs import ended_notices_announce

    return ended_notices_announce()


@shared_task
def generate_annual_reports(year):
    """Draft every community's annual report for `year` (Art. 16) in one task, idempotent. The scheduled run
    and the management command go through the batches instead (one task per community, with progress)."""
    from .reports import annual_reports_generate

    return annual_reports_generate(year=year)


@shared_task
def generate_this_years_annual_reports():
    """Beat, 1 November: start the annual-report batch for every community; returns the run's id."""
    from batches.services import batch_start
    from fundapp import clock

    return batch_start("annual_reports", clock.today().year).pk


def annual_report_batch_item(community_id, year):
    """The batches' handler for kind "annual_reports": draft (or refresh) one community's report.

    Idempotent: `annual_report_draft` locks the (community, year) row and the unique constraint
    `annual_report_once_a_year` backs it, so a re-run or a redelivered task never makes a second report.
    """
    from fundapp.models import Community

    from .reports import annual_report_draft

    report, _created = annual_report_draft(community=Community.objects.get(pk=community_id), year=year)
    return report.pk


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def close_previous_year():
    """On 1 January: close last year for every community (idempotent, so a retry never carries twice)."""
    from fundapp import clock

    from .year_close import fund_years_close

    result = fund_years_close(year=clock.today().year - 1)
    return {"closed": result["closed"], "already": result["already"], "failed": result["failed"]}


def year_close_batch_item(community_id, year, by=None):
    """The batches' handler for kind "year_close": close one community's year (Art. 13), in the name of
    `by` (the city administrator who started the run). Idempotent: a closed year is left as it is."""
    from fundapp.models import Community

    from .year_close import fund_year_close

    return fund_year_close(community=Community.objects.get(pk=community_id), year=year, by=by)


@shared_task
def purge_pending_uploads():
    """Files kept after a refused form (approvals.uploads) are deleted after a day."""
    from .uploads import pending_purge

    return pending_purge()
