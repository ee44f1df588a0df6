"""Celery tasks: thin callers of services, taking ids, safe to run twice."""
from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import transaction

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
    """Email one notification, once. A retry after a mail-server failure, a redelivered message, or the
    same notification queued twice (by notify() and again by send_pending_notification_emails after the
    broker was away) sends it once: the row stays locked while its email goes out and is marked sent in
    the same transaction, so a second task waits for the first and then finds it sent."""
    from django.conf import settings
    from django.core.mail import send_mail

    from .models import Notification

    with transaction.atomic():
        notification = (Notification.objects.select_for_update(of=("self",)).select_related("user")
                        .filter(pk=notification_id).first())
        if notification is None or notification.emailed_at or not notification.user.email:
            return False
        link = f"{settings.SITE_URL}{notification.link}" if notification.link else settings.SITE_URL
        send_mail(subject=notification.text[:70], message=f"{notification.text}\n\n{link}",
                  from_email=None, recipient_list=[notification.user.email])
        notification.emailed_at = clock.now()
        notification.save(update_fields=["emailed_at"])
    return True


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
