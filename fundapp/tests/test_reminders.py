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
