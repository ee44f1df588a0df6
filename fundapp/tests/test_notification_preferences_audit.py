"""Saving how one wants to be told (/notifications/settings/) goes through
fundapp.services.notify.notification_preferences_save, which records a change in the audit trail — who,
which choices before and after — and writes nothing when nothing changed."""
import pytest
from django.urls import reverse

from audit.models import AuditRecord
from audit.services import verify_chain
from fundapp.models import NotificationPreference, Role
from fundapp.services import notify as notify_services

URL = "/notifications/settings/"


def records():
    return list(AuditRecord.objects.filter(action="notification.preferences_change").order_by("seq"))


@pytest.fixture
def person(org):
    user = org.person(Role.COMMUNITY_SECRETARY)
    user.email = "secretary@example.org"  # email reaches them (the page offers only channels that do)
    user.save(update_fields=["email"])
    return user


@pytest.mark.django_db
def test_a_change_on_the_page_is_audited_with_what_changed_only(person, client):
    assert reverse("notification-preferences") == URL
    client.force_login(person)
    response = client.post(URL, {"email": "on", "digest": "1"})
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=person)
    assert (preference.email, preference.webhook, preference.digest) == (True, False, True)
    [record] = records()
    assert record.actor == person and record.target_type == "fundapp.notificationpreference"
    assert record.target_id == str(preference.pk)
    assert record.before == {"digest": False} and record.after == {"digest": True}

    client.post(URL, {"digest": "0"})
    preference.refresh_from_db()
    assert (preference.email, preference.digest) == (False, False)
    assert [(r.before, r.after) for r in records()] == [
        ({"digest": False}, {"digest": True}), ({"email": True, "digest": True}, {"email": False, "digest": False})]
    assert verify_chain() == []


@pytest.mark.django_db
def test_saving_the_same_choices_again_writes_nothing(person, client):
    client.force_login(person)
    client.post(URL, {"digest": "1"})
    preference = NotificationPreference.objects.get(user=person)
    saved_at, count = preference.updated_at, AuditRecord.objects.count()
    response = client.post(URL, {"digest": "1"})
    assert response.status_code == 302
    preference.refresh_from_db()
    assert preference.updated_at == saved_at and AuditRecord.objects.count() == count
    assert len(records()) == 1


@pytest.mark.django_db
def test_confirming_the_defaults_never_chosen_writes_nothing(person, client):
    client.force_login(person)
    client.post(URL, {"email": "on", "digest": "0"})  # the defaults: email, at once
    assert not NotificationPreference.objects.filter(user=person).exists()
    assert records() == []


@pytest.mark.django_db
def test_the_service_records_whoever_calls_it(person):
    preference = notify_services.notification_preferences_save(user=person, email=False, webhook=True, digest=False)
    assert preference.pk and (preference.email, preference.webhook) == (False, True)
    [record] = records()
    assert record.actor == person and record.after == {"email": False, "webhook": True}
    again = notify_services.notification_preferences_save(user=person, email=False, webhook=True, digest=False)
    assert again.pk == preference.pk and len(records()) == 1
