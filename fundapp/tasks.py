"""Celery tasks: thin callers of services, taking ids, safe to run twice."""
from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import OperationalError

from . import clock, rights


@shared_task
def sync_all_post_permissions():
    """Posts start and end on dates; re-derive every post holder's grants so list pages follow."""
    users = get_user_model().objects.filter(posts__isnull=False).distinct()
    for user in users.iterator():
        rights.sync_user_permissions(user)
    return users.count()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def close_previous_year():
    """On 1 January: close last year for every community (idempotent, so a retry never carries twice)."""
    from .services.money import fund_years_close

    result = fund_years_close(year=clock.today().year - 1)
    return {"closed": result["closed"], "already": result["already"], "failed": result["failed"]}
