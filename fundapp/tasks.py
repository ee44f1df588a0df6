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


def retry_countdown(retries):
    """Seconds before retry number `retries` + 1 of a delivery: exponential, capped below the broker's
    visibility timeout (settings.CELERY_BROKER_TRANSPORT_OPTIONS), so a waiting retry is never redelivered."""
    from django.conf import settings

    return min(settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** retries, settings.NOTIFY_RETRY_MAX_SECONDS)


@shared_task(bind=True, ignore_result=True, max_retries=None)
def deliver(self, delivery_id):
    """Send one delivery (a notification or a digest on one channel), once, outside any transaction; on a
    failure retry with backoff until settings.NOTIFY_MAX_ATTEMPTS, then it stays "failed" with its error
    (the service counts the attempts on the row, so a redelivered task does not get extra ones)."""
    from .services.channels import ChannelError
    from .services.notify import delivery_send

    try:
        return delivery_send(delivery_id=delivery_id)
    except ChannelError as exc:
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries)) from None


@shared_task(ignore_result=True)
def send_pending_deliveries():
    """Deliveries not sent yet whose task was lost (the broker was down when they were queued)."""
    from .services.notify import send_pending_deliveries as pending

    ids = pending()
    for pk in ids:
        deliver.delay(pk)
    return len(ids)


@shared_task(ignore_result=True)
def send_pending_notification_emails():
    """The former name of send_pending_deliveries (messages queued before an upgrade still run)."""
    return send_pending_deliveries()


@shared_task(ignore_result=True)
def send_notification_email(notification_id):
    """The former per-notification email task: sends the notification's pending email delivery."""
    from .models import Delivery

    for pk in Delivery.objects.filter(notification_id=notification_id, channel="email").values_list("pk", flat=True):
        deliver.delay(pk)


@shared_task(ignore_result=True)
def send_daily_digests():
    """Each morning: one message per person who chose the daily digest."""
    from .services.notify import digest_send

    return digest_send()


@shared_task
def remind_needs_collection():
    """At the start of each quarter: secretaries collect residents' needs (Art. 6)."""
    from .services.reminders import needs_collection_remind

    return needs_collection_remind()


@shared_task(ignore_result=True)
def heartbeat():
    """Every minute (beat → a worker): the time it ran, for /healthz (fundapp.health)."""
    from .health import beat_heartbeat_write

    return beat_heartbeat_write()
