"""Notifications: a row per person (shown on their home page) and an email sent after the transaction
commits, by a task that retries when the mail server is away."""
from django.db import IntegrityError, transaction

from ..models import Notification


def notify(*, users, kind, key, text, link=""):
    """Notify each user once per `key`; returns the notifications created now."""
    from ..tasks import send_notification_email

    created = []
    for user in users:
        if not user.is_active:
            continue
        try:
            with transaction.atomic():
                notification = Notification.objects.create(user=user, kind=kind, key=key, text=str(text),
                                                           link=link)
        except IntegrityError:
            continue  # already reminded
        created.append(notification)
        # robust: with the broker down the act still completes (the failure is logged); the row keeps
        # emailed_at empty and send_pending_notification_emails sends it when the broker is back.
        transaction.on_commit(lambda pk=notification.pk: send_notification_email.delay(pk), robust=True)
    return created


def notification_read(*, notification_id, user):
    Notification.objects.filter(pk=notification_id, user=user, read_at__isnull=True).update(read_at=_now())


def _now():
    from .. import clock

    return clock.now()
