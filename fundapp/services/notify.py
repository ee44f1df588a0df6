"""Notifications: a row in the person's inbox, and a delivery on each channel they chose (email, the city's
messaging gateway…), sent after the transaction commits by a task that retries with backoff.

Once per (person, key): a notification's key is unique per person (a hand-off's key is its act's audit
record), and a delivery is unique per (person, key, channel), so a re-run task, a retried act or a
redelivered message never tells anyone twice. People who chose the daily digest get their notifications
in one message each morning (`digest_send`) instead of one by one.
"""
import datetime
import secrets

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record

from ..i18n import record_language
from ..models import Delivery, Notification, NotificationPreference
from . import channels


def preferences_of(user):
    """The person's choices (unsaved defaults when they never chose: email, at once)."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


PREFERENCE_FIELDS = ("email", "webhook", "digest")


def notification_preferences_save(*, user, email, webhook, digest):
    """Save how the person wants to be told. A change is recorded in the audit trail (what was chosen before
    and after, the person as actor); saving the same choices again — or the defaults, never chosen — writes
    nothing. One save at a time per person (their account row is locked)."""
    from .. import clock

    chosen = {"email": bool(email), "webhook": bool(webhook), "digest": bool(digest)}
    with transaction.atomic():
        get_user_model().objects.select_for_update().get(pk=user.pk)
        preference = preferences_of(user)
        before = {name: getattr(preference, name) for name in PREFERENCE_FIELDS}
        changed = [name for name in PREFERENCE_FIELDS if before[name] != chosen[name]]
        if not changed:
            return preference
        for name in changed:
            setattr(preference, name, chosen[name])
        preference.updated_at = clock.now()
        preference.save()
        audit_record(actor=user, action="notification.preferences_change", target=preference,
                     before={name: before[name] for name in changed},
                     after={name: chosen[name] for name in changed})
    return preference


def notify(*, users, kind, key, text, link=""):
    """Notify each user once per `key`; returns the notifications created now.

    The inbox row is written in the caller's transaction (it is part of the act); each channel's delivery
    row too, and its task is queued after the commit (robust: with the broker down the act still
    completes; send_pending_deliveries sends the row when the broker is back)."""
    created = []
    for user in users:
        if not user.is_active:
            continue
        try:
            with transaction.atomic():
                notification = Notification.objects.create(user=user, kind=kind, key=key, text=str(text),
                                                           link=link)
        except IntegrityError:
            continue  # already told
        created.append(notification)
        preference = preferences_of(user)
        if preference.digest:
            continue  # in tomorrow morning's digest
        for name in preference.channels():
            _delivery_add(user=user, notification=notification, channel=name, key=key,
                          subject=notification.text, body=notification.text, link=link)
    return created


def _delivery_add(*, user, channel, key, subject, body, link, notification=None, items=()):
    """A pending delivery on `channel` (if it is configured and reaches the person), queued after commit."""
    registered = channels.registry().get(channel)
    if registered is None or not registered.configured() or not registered.reaches(user):
        return None
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(user=user, notification=notification, channel=channel, key=key,
                                               subject=subject[:300], body=body, link=link,
                                               items=list(items))
    except IntegrityError:
        return None  # this message already went, or is going, on this channel
    _queue(delivery.pk)
    return delivery


def _queue(delivery_id):
    from ..tasks import deliver

    transaction.on_commit(lambda: deliver.delay(delivery_id), robust=True)


# A claim older than this is taken to belong to a worker that died while sending: the message is sent
# again. Longer than any send can take (EMAIL_TIMEOUT / NOTIFY_WEBHOOK_TIMEOUT per connection step).
CLAIM_LEASE = datetime.timedelta(minutes=15)


def delivery_send(*, delivery_id):
    """Send one delivery once, even when the task runs twice at the same time or is redelivered.

    1. claim: in a short transaction, lock the row; unless it is sent, failed for good, or claimed by
       another sender (a claim younger than CLAIM_LEASE), count the attempt and write a fresh token;
    2. send on its channel, outside any transaction (no row lock while a server talks);
    3. record: sent — or the error, and `failed` once settings.NOTIFY_MAX_ATTEMPTS are spent — where the
       token is still ours.
    Returns True when this call sent it, False when there was nothing to do (or it has now failed for
    good); raises ChannelError when the send failed and a retry may succeed.
    """
    from django.conf import settings

    from .. import clock

    token = secrets.token_hex(16)
    now = clock.now()
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update(of=("self",)).select_related("user", "notification")
                    .filter(pk=delivery_id).first())
        if delivery is None or delivery.status != Delivery.Status.PENDING:
            return False
        if delivery.claim and delivery.claimed_at > now - CLAIM_LEASE:
            return False  # another task is sending it right now
        delivery.claim, delivery.claimed_at = token, now
        delivery.attempts += 1
        delivery.save(update_fields=["claim", "claimed_at", "attempts"])
    mine = Delivery.objects.filter(pk=delivery_id, claim=token)
    try:
        channels.get(delivery.channel).send(_message(delivery, settings.SITE_URL))
    except Exception as exc:  # noqa: BLE001 - any failure of a sender is recorded, then retried or failed
        error = str(exc) if isinstance(exc, channels.ChannelError) else f"{type(exc).__name__}: {exc}"
        final = delivery.attempts >= settings.NOTIFY_MAX_ATTEMPTS
        mine.update(claim="", claimed_at=None, last_error=error[:2000],
                    status=Delivery.Status.FAILED if final else Delivery.Status.PENDING)
        if final:
            return False
        raise channels.ChannelError(error) from exc
    sent_at = clock.now()
    if mine.update(status=Delivery.Status.SENT, sent_at=sent_at, claim="", claimed_at=None, last_error=""):
        if delivery.notification_id and delivery.channel == "email":
            Notification.objects.filter(pk=delivery.notification_id).update(emailed_at=sent_at)
    return True


def _message(delivery, site_url):
    absolute = (lambda link: f"{site_url}{link}" if link else "")
    items = [{**item, "link": absolute(item.get("link", ""))} for item in delivery.items]
    kind = delivery.notification.kind if delivery.notification_id else "digest"
    return channels.Message(delivery_id=delivery.pk, user=delivery.user, kind=kind, subject=delivery.subject,
                            text=delivery.body, link=absolute(delivery.link) or site_url, items=items)


def send_pending_deliveries(limit=500):
    """The ids of deliveries still to send whose task may have been lost (the broker was down when they
    were queued), oldest first; the caller queues them again (a claim in force makes a duplicate a no-op)."""
    return list(Delivery.objects.filter(status=Delivery.Status.PENDING).order_by("created_at")
                .values_list("pk", flat=True)[:limit])


def digest_send(*, now=None):
    """One message per person who chose the daily digest, on each channel they chose, listing what they
    were told since their last digest. Safe to run twice a day: the digest's key is the date."""
    from django.contrib.auth import get_user_model

    from .. import clock

    now = now or clock.now()
    day = timezone.localdate(now)
    sent = 0
    users = get_user_model().objects.filter(is_active=True, notification_preference__digest=True)
    for user in users.select_related("notification_preference"):
        preference = user.notification_preference
        with transaction.atomic():
            # What they were told and not yet sent anywhere (not what went out at once before they chose the
            # digest).
            pending = list(Notification.objects.select_for_update().filter(
                user=user, digested_at__isnull=True, created_at__lte=now)
                .filter(~Exists(Delivery.objects.filter(notification=OuterRef("pk")))).order_by("created_at"))
            if not pending or Delivery.objects.filter(user=user, key=f"digest:{day.isoformat()}").exists():
                continue
            with record_language():
                subject = _("每日提醒汇总：%(count)s 条（%(day)s）") % {"count": len(pending), "day": day.isoformat()}
            body = "\n".join(f"· {n.text}" for n in pending)
            items = [{"text": n.text, "link": n.link, "at": timezone.localtime(n.created_at).isoformat()}
                     for n in pending]
            made = [_delivery_add(user=user, channel=name, key=f"digest:{day.isoformat()}", subject=subject,
                                  body=body, link="/notifications/", items=items)
                    for name in preference.channels()]
            Notification.objects.filter(pk__in=[n.pk for n in pending]).update(digested_at=now)
            sent += any(made)
    return sent


def notification_read(*, notification_id, user):
    Notification.objects.filter(pk=notification_id, user=user, read_at__isnull=True).update(read_at=_now())


def notifications_settle(*, user, kinds, link):
    """`user` has done what the inbox asked of them (approvals.handoffs.SETTLED_BY): their unread
    notifications of `kinds` pointing at `link` are marked read. Returns how many."""
    if not kinds or not link:
        return 0
    return Notification.objects.filter(user=user, kind__in=kinds, link=link, read_at__isnull=True).update(
        read_at=_now())


def notifications_hand_over(*, from_user, to_user, items, key):
    """A post handed over (fundapp.services.org.post_hand_over): for each pending item (`key`, `text`, `link`,
    `settles`: the kinds of notification that asked for it), the old holder's unread notifications asking for
    it are sent to the successor with the same text and link, and marked read for the old holder; an item
    nobody had been told of gets one notification of its own. Keyed by `key` (the new post) and the
    notification or item: a repeated call tells nobody twice. Returns how many the successor got."""
    from django.db.models import Q

    told = 0
    wanted = Q(pk__in=[])
    for item in items:
        wanted |= Q(link=item.link, kind__in=list(item.settles))
    unread = list(Notification.objects.filter(user=from_user, read_at__isnull=True).filter(wanted)
                  .order_by("created_at", "pk")) if items else []
    covered = set()
    for notification in unread:
        told += len(notify(users=[to_user], kind=notification.kind, key=f"{key}:n{notification.pk}",
                           text=notification.text, link=notification.link))
        covered.add((notification.link, notification.kind))
    for item in items:
        if any((item.link, kind) in covered for kind in item.settles):
            continue
        told += len(notify(users=[to_user], kind="handover", key=f"{key}:{item.key}", text=item.text[:300],
                           link=item.link))
    Notification.objects.filter(pk__in=[n.pk for n in unread]).update(read_at=_now())
    return told


def notifications_read_all(*, user):
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=_now())


def _now():
    from .. import clock

    return clock.now()
