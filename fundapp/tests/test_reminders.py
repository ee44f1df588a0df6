"""Reminders: in the app and by email, once per occasion."""
import datetime

import pytest
from django.core import mail
from django.urls import reverse

from approvals import services as chain
from approvals.tasks import escalate_overdue_reviews, remind_review_deadlines
from fundapp.models import Notification, Role
from fundapp.tasks import remind_needs_collection
from tests.chain import allocate, draft, to_review, travel


@pytest.fixture
def emails(org):
    for user in [org.city_admin, *org.people.values()]:
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    return org


@pytest.mark.django_db(transaction=True)
def test_quarterly_needs_reminder_reaches_community_secretaries_once(emails):
    org = emails
    with travel(datetime.date(2026, 10, 1)):
        sent = remind_needs_collection.delay().get()
        again = remind_needs_collection.delay().get()
    assert sent == 8 and again == 0  # secretary and staff of four communities
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    note = Notification.objects.get(user=secretary)
    assert "第4季度" in note.text and note.emailed_at is not None
    assert any(secretary.email in m.to and "居民需求" in m.body for m in mail.outbox)
    assert not Notification.objects.filter(user=org.person(Role.FINANCE_OFFICER)).exists()


@pytest.mark.django_db(transaction=True)
def test_leaders_are_reminded_the_working_day_before_and_overdue_escalates(emails, client):
    org = emails
    allocate(org)
    proposal = to_review(org, draft(org))  # received Sat 2026-10-10 (make-up day), due Fri 2026-10-16
    with travel(datetime.date(2026, 10, 14)):
        assert remind_review_deadlines.delay().get() == 0
    with travel(datetime.date(2026, 10, 15)):
        chain.review_decide(proposal=proposal, by=org.person(Role.CONSTRUCTION_DIRECTOR), decision="approve")
        assert remind_review_deadlines.delay().get() == 1  # only the leader who has not decided
        assert remind_review_deadlines.delay().get() == 0
    reminded = Notification.objects.get(kind="review_due")
    assert reminded.user == org.person(Role.SUBDISTRICT_SECRETARY)
    with travel(datetime.date(2026, 10, 19)):
        escalate_overdue_reviews.delay().get()
    overdue = Notification.objects.get(kind="review_overdue")
    assert overdue.user == org.person(Role.SUBDISTRICT_SECRETARY)
    client.force_login(overdue.user)
    page = client.get(reverse("home")).content.decode()
    assert proposal.title in page and "请督办" in page
    response = client.post(reverse("notification-open", args=[overdue.pk]))
    assert response.status_code == 302 and response["Location"] == f"/proposals/{proposal.pk}/"
    overdue.refresh_from_db()
    assert overdue.read_at is not None
    # someone else's notification is not theirs to open
    client.force_login(org.person(Role.CONSTRUCTION_DIRECTOR))
    assert client.post(reverse("notification-open", args=[overdue.pk])).status_code == 404


def test_the_shared_cache_answers_as_a_miss_when_redis_is_down():
    from fundapp.cache import ResilientRedisCache

    cache = ResilientRedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
    assert cache.get("k", "default") == "default"
    cache.set("k", 1)
    assert cache.get_or_set("v", 3) == 3
    assert cache.incr("v") == 0


@pytest.mark.django_db(transaction=True)
def test_emails_not_sent_are_sent_later(emails):
    from fundapp.tasks import send_pending_notification_emails

    from fundapp.models import Delivery

    org = emails
    person = org.person(Role.COMMUNITY_SECRETARY)
    # An email whose task was lost (the broker was away after the commit): its delivery row is pending.
    n = Notification.objects.create(user=person, kind="x", key="k", text="提醒")
    Delivery.objects.create(user=person, notification=n, channel="email", key="k", subject="提醒", body="提醒")
    assert send_pending_notification_emails.delay().get() == 1
    assert Notification.objects.get(key="k").emailed_at is not None
    assert send_pending_notification_emails.delay().get() == 0
