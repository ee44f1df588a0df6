"""Celery tasks: thin, idempotent callers of the services."""
from celery import shared_task

from . import services


@shared_task
def escalate_overdue_reviews():
    return services.overdue_reviews_escalate()
