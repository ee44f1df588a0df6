"""Notifications on their channels: once per (person, key, channel) under re-runs and redelivery, the
person's choices, retries that end in "failed" with the error, the daily digest, the inbox and its badge."""
import datetime

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from fundapp import clock
from fundapp.models import Delivery, Notification, NotificationPreference, Role
from fundapp.services import notify as notify_services
from fundapp.services.channels import ChannelError


class FailingBackend(EmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server away")


@pytest.fixture
def person(org):
    user = org.person(Role.COMMUNITY_SECRETARY)
    user.email = "secretary@example.org"
    user.save(update_fields=["email"])
    return user


def tell(person, key="k1", text="“路灯维修”待您审核。"):
    return notify_services.notify(users=[person], kind="consent_needed", key=key, text=text, link="/proposals/1/")


@pytest.mark.django_db(transaction=True)
def test_one_message_per_key_and_channel_however_often_it_is_told_or_sent(person):
    from fundapp.tasks import deliver, send_notification_email, send_pending_deliveries

    assert len(tell(person)) == 1
    assert tell(person) == []  # the same act told again (a retry): nothing new
    assert Notification.objects.count() == 1
    delivery = Delivery.objects.get()
    # Committed: its task ran at once (eager in tests) and sent it.
    assert (delivery.channel, delivery.status, delivery.attempts) == ("email", "sent", 1)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["secretary@example.org"]
    # Redelivered, re-queued by the sweeper, and by the former task name: still one email, one attempt.
    deliver.apply(args=[delivery.pk]).get()
    send_pending_deliveries.apply().get()
    send_notification_email.apply(args=[delivery.notification_id]).get()
    assert notify_services.delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert len(mail.outbox) == 1 and delivery.attempts == 1
    assert Notification.objects.get().emailed_at == delivery.sent_at


@pytest.mark.django_db(transaction=True)
def test_a_sender_that_died_is_replaced_only_after_its_claim_lapses(person, settings):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    tell(person)  # eager: attempts run on commit and fail (logged: the act itself is done)
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts >= 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Delivery.objects.filter(pk=delivery.pk).update(claim="other", claimed_at=clock.now())
    assert notify_services.delivery_send(delivery_id=delivery.pk) is False and mail.outbox == []
    stale = clock.now() - notify_services.CLAIM_LEASE - datetime.timedelta(seconds=1)
    Delivery.objects.filter(pk=delivery.pk).update(claimed_at=stale)
    assert notify_services.delivery_send(delivery_id=delivery.pk) is True and len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_channel_that_keeps_failing_ends_failed_with_its_error_after_the_bounded_attempts(person, settings):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    settings.NOTIFY_MAX_ATTEMPTS = 3
    tell(person)  # the first attempt, on commit, fails (logged: the act itself is done)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    with pytest.raises(ChannelError):
        notify_services.delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.claim) == ("pending", 2, "")
    assert "mail server away" in delivery.last_error
    assert notify_services.delivery_send(delivery_id=delivery.pk) is False  # the third and last attempt
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert "ConnectionRefusedError" in delivery.last_error
    assert notify_services.delivery_send(delivery_id=delivery.pk) is False  # never again
    assert Delivery.objects.get().attempts == 3 and mail.outbox == []


def test_the_retry_countdown_grows_and_is_capped_below_the_visibility_timeout(settings):
    from fundapp.tasks import retry_countdown

    settings.NOTIFY_RETRY_BASE_SECONDS = 30
    assert [retry_countdown(n) for n in range(6)] == [30, 60, 120, 240, 480, 600]
    assert settings.NOTIFY_RETRY_MAX_SECONDS < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]


@pytest.mark.django_db
def test_each_person_chooses_the_channels_and_the_inbox_is_always_on(org, person, settings, django_capture_on_commit_callbacks):
    settings.NOTIFY_WEBHOOK_URL, settings.NOTIFY_WEBHOOK_SECRET = "http://127.0.0.1:9/hook", "s3cret"
    other = org.person(Role.COMMUNITY_STAFF)
    notify_services.notification_preferences_save(user=person, email=False, webhook=True, digest=False)
    notify_services.notification_preferences_save(user=other, email=False, webhook=False, digest=False)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        notify_services.notify(users=[person, other], kind="x", key="k", text="提醒")
    assert Notification.objects.count() == 2  # both inboxes
    assert list(Delivery.objects.values_list("user", "channel")) == [(person.pk, "webhook")]
    assert len(queued) == 1
    # Without the gateway configured the webhook is not offered, and nothing is queued for it.
    settings.NOTIFY_WEBHOOK_URL = ""
    with django_capture_on_commit_callbacks(execute=False) as queued:
        notify_services.notify(users=[person], kind="x", key="k2", text="提醒")
    assert queued == [] and Delivery.objects.count() == 1


@pytest.mark.django_db
def test_the_daily_digest_sends_one_message_per_person_with_everything_since_the_last(
        org, person, django_capture_on_commit_callbacks):
    immediate = org.person(Role.COMMUNITY_STAFF)
    immediate.email = "staff@example.org"
    immediate.save(update_fields=["email"])
    notify_services.notification_preferences_save(user=person, email=True, webhook=False, digest=True)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            notify_services.notify(users=[person, immediate], kind="x", key=f"k{n}", text=f"第{n}条")
    # The one who chose the digest got nothing yet; the other, three emails at once.
    assert Delivery.objects.filter(user=person).count() == 0
    assert Delivery.objects.filter(user=immediate, status="sent").count() == 3 and len(mail.outbox) == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_services.digest_send() == 1
        assert notify_services.digest_send() == 0  # run twice the same morning: one digest
    digest = Delivery.objects.get(user=person)
    assert digest.key == f"digest:{clock.today().isoformat()}" and digest.status == "sent"
    assert [item["text"] for item in digest.items] == ["第0条", "第1条", "第2条"]
    assert len(mail.outbox) == 4 and mail.outbox[-1].to == ["secretary@example.org"]
    assert "第0条" in mail.outbox[-1].body and "第2条" in mail.outbox[-1].body and "3" in mail.outbox[-1].subject
    assert not Notification.objects.filter(user=person, digested_at__isnull=True).exists()
    # What the others were sent at once never goes into a digest.
    assert not Notification.objects.filter(user=immediate, digested_at__isnull=False).exists()


@pytest.mark.django_db
def test_the_unread_count_is_on_every_page_and_the_inbox_marks_read(org, person, client):
    other = org.person(Role.COMMUNITY_STAFF)
    for n in range(3):
        tell(person, key=f"k{n}", text=f"消息{n}")
    tell(other, key="x", text="别人的消息")
    client.force_login(person)
    for url in ("/", "/ledgers/", "/notifications/"):
        page = client.get(url).content.decode()
        assert '<span class="count"' in page and ">3</span>" in page, url
    inbox = client.get("/notifications/").content.decode()
    assert "消息0" in inbox and "消息2" in inbox and "别人的消息" not in inbox
    first = Notification.objects.get(user=person, key="k0")
    assert client.post(f"/notifications/{first.pk}/read/").status_code == 302
    assert ">2</span>" in client.get("/ledgers/").content.decode()
    mine_only = Notification.objects.get(user=other)
    assert client.post(f"/notifications/{mine_only.pk}/read/").status_code == 404
    client.post("/notifications/read-all/")
    assert '<span class="count"' not in client.get("/ledgers/").content.decode()
    assert Notification.objects.get(user=other).read_at is None


@pytest.mark.django_db
def test_the_badge_costs_one_query_and_none_where_not_shown(org, person, client, django_assert_num_queries):
    from django.template import Context, Template
    from django.test import RequestFactory

    from desk.context_processors import unread_notifications

    tell(person)
    request = RequestFactory().get("/")
    request.user = person
    context = unread_notifications(request)
    with django_assert_num_queries(0):
        Template("nothing").render(Context(context))
    with django_assert_num_queries(1):
        assert Template("{% if unread_count %}{{ unread_count }}{% endif %}").render(Context(context)) == "1"


@pytest.mark.django_db
def test_the_preferences_page_saves_the_choices(org, person, client, settings):
    client.force_login(person)
    assert "政务消息平台" in client.get("/notifications/settings/").content.decode()
    client.post("/notifications/settings/", {"email": "on", "webhook": "on", "digest": "1"})
    pref = NotificationPreference.objects.get(user=person)
    # The gateway is not configured here: it cannot be chosen.
    assert (pref.email, pref.webhook, pref.digest) == (True, False, True)
    settings.NOTIFY_WEBHOOK_URL, settings.NOTIFY_WEBHOOK_SECRET = "http://127.0.0.1:9/hook", "s3cret"
    client.post("/notifications/settings/", {"webhook": "on", "digest": "0"})
    pref.refresh_from_db()
    assert (pref.email, pref.webhook, pref.digest) == (False, True, False)


@pytest.mark.django_db
def test_the_administrator_sees_deliveries_and_their_errors_read_only_in_chinese(org, person, client):
    Delivery.objects.create(user=person, channel="webhook", key="k", subject="“路灯维修”待您审核。", body="b",
                            status="failed", attempts=6, last_error="HTTP 500 Internal Server Error")
    client.force_login(org.city_admin)
    page = client.get("/admin/fundapp/delivery/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "发送失败" in html and "HTTP 500" in html and "政务消息平台" in html and "发送记录" in html
    assert client.get("/admin/fundapp/delivery/add/").status_code == 403
