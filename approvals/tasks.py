"""Celery tasks: thin, idempotent callers of the services."""
from celery import shared_task

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
def generate_annual_reports(year):
    """Draft every community's annual report for `year` (Art. 16); run on 1 November, idempotent."""
    from .reports import annual_reports_generate

    return annual_reports_generate(year=year)


@shared_task
def generate_this_years_annual_reports():
    from fundapp import clock

    return generate_annual_reports(clock.today().year)
