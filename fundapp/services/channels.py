"""The channels a notification travels on besides the inbox: a registry of small senders.

A channel has a `name` (stored on each Delivery), a `label` (shown to people), `configured()` (may it be
offered at all), `reaches(user)` (can it reach this person) and `send(message)`, which raises
ChannelError when the message did not go out (the delivery is then retried with backoff).

Two channels come with the application: "email" (Django's mail settings) and "webhook", a generic signed
HTTP POST that a city points at its government messaging gateway (政务微信, 钉钉 or an SMS gateway),
configured with NOTIFY_WEBHOOK_URL and NOTIFY_WEBHOOK_SECRET. settings.NOTIFY_CHANNELS lists the channel
classes by dotted path, so a city may add its own without touching this module.

The webhook's request (documented in docs/operations.md):

    POST <NOTIFY_WEBHOOK_URL>
    Content-Type: application/json; charset=utf-8
    X-Fund-Timestamp: <unix seconds>
    X-Fund-Delivery: <the delivery's id: the same on every retry, for the receiver to drop duplicates>
    X-Fund-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with NOTIFY_WEBHOOK_SECRET>

    {"delivery": 17, "kind": "consent_needed", "subject": "…", "text": "…", "link": "https://…",
     "recipient": {"username": "…", "name": "…", "email": "…"}, "items": [...]}
"""
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _


class ChannelError(Exception):
    """The message did not go out on this channel (the mail server or the gateway refused or was away)."""


@dataclass
class Message:
    delivery_id: int
    user: object
    kind: str
    subject: str
    text: str
    link: str = ""  # absolute
    items: list = field(default_factory=list)  # a digest's notifications: [{"text", "link", "at"}]


class EmailChannel:
    name = "email"
    label = _("电子邮件")

    def configured(self):
        return True

    def reaches(self, user):
        return bool(user.email)

    def send(self, message):
        from django.core.mail import send_mail

        body = message.text + (f"\n\n{message.link}" if message.link else "")
        try:
            send_mail(subject=message.subject[:70], message=body, from_email=None,
                      recipient_list=[message.user.email])
        except OSError as exc:
            raise ChannelError(f"{type(exc).__name__}: {exc}") from exc


def webhook_signature(secret, timestamp, body):
    """The X-Fund-Signature value of `body` (bytes) sent at `timestamp` (unix seconds, int)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_verify(secret, timestamp, body, signature, *, tolerance=300, now=None):
    """For a receiver (and the tests): is `signature` right for `body` at `timestamp`, recent enough?"""
    try:
        age = abs((now or time.time()) - int(timestamp))
    except (TypeError, ValueError):
        return False
    return age <= tolerance and hmac.compare_digest(webhook_signature(secret, int(timestamp), body), signature)


class WebhookChannel:
    name = "webhook"
    label = _("政务消息平台")

    def configured(self):
        from django.conf import settings

        return bool(settings.NOTIFY_WEBHOOK_URL and settings.NOTIFY_WEBHOOK_SECRET)

    def reaches(self, user):
        return self.configured()

    def send(self, message):
        from django.conf import settings

        if not self.configured():
            raise ChannelError("NOTIFY_WEBHOOK_URL / NOTIFY_WEBHOOK_SECRET not set")
        user = message.user
        payload = {
            "delivery": message.delivery_id, "kind": message.kind, "subject": message.subject,
            "text": message.text, "link": message.link, "items": message.items,
            "recipient": {"username": user.get_username(), "name": user.get_full_name(), "email": user.email},
        }
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
        timestamp = int(time.time())
        request = urllib.request.Request(settings.NOTIFY_WEBHOOK_URL, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Fund-Timestamp": str(timestamp),
            "X-Fund-Delivery": str(message.delivery_id),
            "X-Fund-Signature": webhook_signature(settings.NOTIFY_WEBHOOK_SECRET, timestamp, body),
        })
        try:
            with urllib.request.urlopen(request, timeout=settings.NOTIFY_WEBHOOK_TIMEOUT) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise ChannelError(f"HTTP {exc.code} {exc.reason}") from exc
        except (OSError, ValueError) as exc:
            raise ChannelError(f"{type(exc).__name__}: {exc}") from exc
        if not 200 <= status < 300:
            raise ChannelError(f"HTTP {status}")


def registry():
    """{name: channel} of settings.NOTIFY_CHANNELS, in their order."""
    from django.conf import settings

    channels = [import_string(path)() for path in settings.NOTIFY_CHANNELS]
    return {channel.name: channel for channel in channels}


def get(name):
    channel = registry().get(name)
    if channel is None:
        raise ChannelError(f"unknown channel {name!r}")
    return channel


def label(name):
    channel = registry().get(name)
    return channel.label if channel else name
