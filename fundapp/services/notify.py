"""Notifications: a row per person (shown on their home page) and an email sent after the transaction
commits, by a task that retries when the mail server is away."""
import datetime
import secrets

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


# A claim older than this is taken to belong to a worker that died while sending: the email is sent again.
# Longer than any send can take (EMAIL_TIMEOUT, 30 s by default, per connection step).
EMAIL_CLAIM_LEASE = datetime.timedelta(minutes=15)


def notification_email_send(*, notification_id):
    """Email one notification once, even when the task runs twice at the same time or is redelivered.

    Three steps, so that no row lock and no transaction is held while the mail server talks:
    1. claim: in a short transaction, lock the row, and unless it is sent or claimed by another sender
       (a claim younger than EMAIL_CLAIM_LEASE), write a fresh token on it;
    2. send, outside any transaction;
    3. mark sent: set emailed_at where the token is still ours.
    A failed send gives the claim back (so the task's retry, or send_pending_notification_emails, sends it)
    and re-raises. Returns True when this call sent the email.
    """
    from django.conf import settings
    from django.core.mail import send_mail

    token = secrets.token_hex(16)
    now = _now()
    with transaction.atomic():
        notification = (Notification.objects.select_for_update(of=("self",)).select_related("user")
                        .filter(pk=notification_id).first())
        if notification is None or notification.emailed_at or not notification.user.email:
            return False
        if notification.email_claim and notification.email_claimed_at > now - EMAIL_CLAIM_LEASE:
            return False  # another task is sending it right now
        notification.email_claim, notification.email_claimed_at = token, now
        notification.save(update_fields=["email_claim", "email_claimed_at"])
    mine = Notification.objects.filter(pk=notification_id, email_claim=token)
    link = f"{settings.SITE_URL}{notification.link}" if notification.link else settings.SITE_URL
    try:
        send_mail(subject=notification.text[:70], message=f"{notification.text}\n\n{link}",
                  from_email=None, recipient_list=[notification.user.email])
    except Exception:
        mine.update(email_claim="", email_claimed_at=None)
        raise
    mine.update(emailed_at=_now(), email_claim="", email_claimed_at=None)
    return True


def notification_read(*, notification_id, user):
    Notification.objects.filter(pk=notification_id, user=user, read_at__isnull=True).update(read_at=_now())


def _now():
    from .. import clock

    return clock.now()
