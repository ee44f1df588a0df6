"""Celery tasks: thin callers of services, taking ids, safe to run twice."""
from celery import shared_task
from django.contrib.auth import get_user_model

from . import clock, rights


@shared_task
def sync_all_post_permissions():
    """Posts start and end on dates; re-derive every post holder's grants so list pages follow."""
    users = get_user_model().objects.filter(posts__isnull=False).distinct()
    for user in users.iterator():
        rights.sync_user_permissions(user)
    return users.count()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=8, ignore_result=True)
def send_notification_email(notification_id):
    """Email one notification, once, without holding a lock or a transaction while the mail server talks
    (see fundapp.services.notify.notification_email_send). Safe to run twice and to redeliver."""
    from .services.notify import notification_email_send

    return notification_email_send(notification_id=notification_id)


@shared_task(ignore_result=True)
def send_pending_notification_emails():
    """Emails not sent yet (the broker was down when they were queued, or the mail server failed)."""
    from .models import Notification

    pending = list(Notification.objects.filter(emailed_at__isnull=True, user__email__gt="")
                   .values_list("pk", flat=True)[:500])
    for pk in pending:
        send_notification_email.delay(pk)
    return len(pending)


@shared_task
def remind_needs_collection():
    """At the start of each quarter: secretaries collect residents' needs (Art. 6)."""
    from .services.reminders import needs_collection_remind

    return needs_collection_remind()
