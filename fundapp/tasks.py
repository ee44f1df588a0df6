"""Celery tasks: thin callers of services, taking ids, safe to run twice."""
from celery import shared_task
from django.contrib.auth import get_user_model

from . import rights


@shared_task
def sync_all_post_permissions():
    """Posts start and end on dates; re-derive every post holder's grants so list pages follow."""
    users = get_user_model().objects.filter(posts__isnull=False).distinct()
    for user in users.iterator():
        rights.sync_user_permissions(user)
    return users.count()
