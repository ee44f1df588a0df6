"""Every write of the back office goes through a service and leaves an audit record; a community's code is
fixed once created; a city administrator is staff with their duties' permissions, not a superuser; account
activation and second-factor resets are audited; notification e-mail is sent outside any transaction."""
import datetime

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditRecord
from fundapp import clock
from fundapp.errors import DomainError, NotAllowed
from fundapp.models import Community, Delivery, Notification, Post, Role, Subdistrict
from fundapp.services import accounts as account_services
from fundapp.services import notify as notify_services
from fundapp.services import org as org_services


# ---- subdistricts and communities ----------------------------------------------------------------------

@pytest.mark.django_db
def test_a_subdistrict_edited_in_the_admin_is_changed_by_the_service_with_before_and_after(org, client):
    client.force_login(org.city_admin)
    url = reverse("admin:fundapp_subdistrict_change", args=[org.a.pk])
    response = client.post(url, {"name": "东城新街道", "code": "changed", "party_committee_name": "东城新街道党工委",
                                 "construction_committee_name": org.a.construction_committee_name})
    assert response.status_code == 302, response.content.decode()[:2000]
    subdistrict = Subdistrict.objects.get(pk=org.a.pk)
    assert (subdistrict.name, subdistrict.code) == ("东城新街道", "a")  # the code is read-only on change
    record = AuditRecord.objects.filter(action="subdistrict.change").get()
    assert record.actor == org.city_admin and record.target_id == str(org.a.pk)
    assert record.before == {"name": "东城街道", "party_committee_name": "东城街道党工委"}
    assert record.after == {"name": "东城新街道", "party_committee_name": "东城新街道党工委"}


@pytest.mark.django_db
def test_a_community_renamed_in_the_admin_keeps_its_code_and_is_audited(org, client):
    community = org.community("a1")
    client.force_login(org.city_admin)
    response = client.post(reverse("admin:fundapp_community_change", args=[community.pk]),
                           {"name": "幸福社区", "code": "xingfu", "subdistrict": org.b.pk})
    assert response.status_code == 302
    community.refresh_from_db()
    assert (community.name, community.code, community.subdistrict_id) == ("幸福社区", "a1", org.a.pk)
    record = AuditRecord.objects.filter(action="community.change").get()
    assert record.before == {"name": "东城街道1号社区"} and record.after == {"name": "幸福社区"}
    assert record.community_id == community.pk and record.actor == org.city_admin
    # The published URLs still answer.
    assert client.get(f"/public/zh/{community.code}/2026/").status_code == 200


@pytest.mark.django_db
def test_a_community_code_or_subdistrict_change_is_refused_and_changes_nothing(org):
    community = org.community("a1")
    records = AuditRecord.objects.count()
    with pytest.raises(DomainError, match="社区代码一经设立不能修改"):
        org_services.community_update(community=community, code="xingfu", name="幸福社区", by=org.city_admin)
    with pytest.raises(DomainError, match="不能改属其他街道"):
        org_services.community_update(community=community, subdistrict=org.b, by=org.city_admin)
    with pytest.raises(DomainError, match="街道代码一经设立不能修改"):
        org_services.subdistrict_update(subdistrict=org.a, code="east", by=org.city_admin)
    community.refresh_from_db()
    assert (community.name, community.code, community.subdistrict_id) == ("东城街道1号社区", "a1", org.a.pk)
    assert AuditRecord.objects.count() == records
    # Giving the same code back is not a change.
    org_services.community_update(community=community, code="a1", name="幸福社区", by=org.city_admin)
    assert Community.objects.get(pk=community.pk).name == "幸福社区"


@pytest.mark.django_db
def test_only_a_city_admin_in_office_may_change_the_organisation(org):
    secretary = org.person(Role.SUBDISTRICT_SECRETARY, "a1")
    with pytest.raises(NotAllowed):
        org_services.subdistrict_update(subdistrict=org.a, name="x", by=secretary)
    with pytest.raises(NotAllowed):
        org_services.community_update(community=org.community("a1"), name="x", by=secretary)
    org_services.post_end(post=org.city_admin.posts.get(), end_date=clock.today(), by=None)
    with pytest.raises(NotAllowed):
        org_services.community_update(community=org.community("a1"), name="x", by=org.city_admin)
    assert Community.objects.get(code="a1").name == "东城街道1号社区"


@pytest.mark.django_db
def test_a_community_with_a_taken_name_is_refused_with_a_form_message(org, client):
    client.force_login(org.city_admin)
    response = client.post(reverse("admin:fundapp_community_change", args=[org.community("a1").pk]),
                           {"name": "东城街道2号社区"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not AuditRecord.objects.filter(action="community.change").exists()


# ---- the city administrator in the back office ---------------------------------------------------------

@pytest.mark.django_db
def test_the_city_admin_is_not_a_superuser_and_may_not_edit_accounts_groups_or_devices(org, client):
    admin = org.city_admin
    admin.refresh_from_db()
    assert admin.is_staff and not admin.is_superuser
    TOTPDevice.objects.create(user=org.person(Role.FINANCE_OFFICER, "a1"), name="phone")
    client.force_login(admin)
    other = org.person(Role.FINANCE_OFFICER, "a1")
    for url in [reverse("admin:auth_group_changelist"), reverse("admin:auth_group_add"),
                reverse("admin:otp_totp_totpdevice_changelist"), reverse("admin:otp_totp_totpdevice_add"),
                reverse("admin:auth_user_add"), reverse("admin:auth_user_password_change", args=[other.pk])]:
        assert client.get(url).status_code == 403, url
    # People are shown (to choose a post's holder), never edited here.
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 200
    change = reverse("admin:auth_user_change", args=[other.pk])
    page = client.get(change)
    assert page.status_code == 200 and "is_superuser" not in page.content.decode()
    response = client.post(change, {"username": other.username, "is_superuser": "on", "is_staff": "on",
                                    "is_active": "on", "first_name": "x"})
    assert response.status_code == 403
    other.refresh_from_db()
    assert not other.is_superuser and not other.is_staff and other.first_name != "x"
    # Nor may they make themselves a superuser through a post.
    assert not admin.has_perm("auth.change_user") and not admin.has_perm("fundapp.view_fund")


@pytest.mark.django_db
def test_the_city_admin_still_does_their_job_in_the_back_office(org, client, make_user):
    client.force_login(org.city_admin)
    assert client.get(reverse("admin:index")).status_code == 200
    newcomer = make_user("newcomer")
    autocomplete = client.get(reverse("admin:autocomplete"), {
        "term": "newcomer", "app_label": "fundapp", "model_name": "post", "field_name": "user"})
    assert autocomplete.status_code == 200 and "newcomer" in autocomplete.content.decode()
    response = client.post(reverse("admin:fundapp_post_add"), {
        "user": newcomer.pk, "role": Role.COMMUNITY_STAFF, "community": org.community("b2").pk,
        "start_date": "2026-01-05"})
    assert response.status_code == 302
    assert Post.objects.filter(user=newcomer, community__code="b2").exists()
    assert AuditRecord.objects.filter(action="post.create", target_id=str(Post.objects.get(user=newcomer).pk))
    response = client.post(reverse("admin:fundapp_community_add"), {
        "subdistrict": org.b.pk, "name": "西城街道3号社区", "code": "b3"})
    assert response.status_code == 302
    assert AuditRecord.objects.filter(action="community.create", actor=org.city_admin).exists()


# ---- accounts ------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_deactivation_and_activation_through_the_admin_are_audited(org, client):
    person = org.person(Role.FINANCE_OFFICER, "a1")
    client.force_login(org.city_admin)
    url = reverse("admin:auth_user_changelist")
    response = client.post(url, {"action": "deactivate", "_selected_action": [person.pk]})
    assert response.status_code == 302
    person.refresh_from_db()
    assert not person.is_active
    record = AuditRecord.objects.get(action="user.deactivate")
    assert record.actor == org.city_admin and record.target_id == str(person.pk)
    assert record.before["is_active"] is True and record.after["is_active"] is False
    client.post(url, {"action": "activate", "_selected_action": [person.pk]})
    person.refresh_from_db()
    assert person.is_active and AuditRecord.objects.filter(action="user.activate").count() == 1


@pytest.mark.django_db
def test_second_factor_reset_is_audited_and_removes_the_devices(org, client):
    person = org.person(Role.FINANCE_OFFICER, "a1")
    TOTPDevice.objects.create(user=person, name="old phone", confirmed=True)
    client.force_login(org.city_admin)
    response = client.post(reverse("admin:auth_user_changelist"),
                           {"action": "reset_second_factor", "_selected_action": [person.pk]})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=person).exists()
    record = AuditRecord.objects.get(action="user.second_factor_reset")
    assert record.actor == org.city_admin and record.before["devices"] == 1 and record.after["devices"] == 0


@pytest.mark.django_db
def test_account_duties_are_refused_to_others_to_oneself_and_on_the_operator(org, make_user):
    person = org.person(Role.FINANCE_OFFICER, "a1")
    with pytest.raises(NotAllowed):
        account_services.user_set_active(user=person, active=False, by=org.person(Role.SUBDISTRICT_SECRETARY))
    with pytest.raises(NotAllowed):
        account_services.user_reset_second_factor(user=person, by=None)
    with pytest.raises(DomainError, match="另一位管理员"):
        account_services.user_set_active(user=org.city_admin, active=False, by=org.city_admin)
    operator = make_user("operator", is_superuser=True, is_staff=True)
    with pytest.raises(DomainError, match="运维人员"):
        account_services.user_reset_second_factor(user=operator, by=org.city_admin)
    person.refresh_from_db()
    assert person.is_active and not AuditRecord.objects.filter(action__startswith="user.").exists()


@pytest.mark.django_db
def test_a_deactivated_city_admin_loses_the_back_office(org, make_user, client):
    second = make_user("city2")
    org_services.post_create(user=second, role=Role.CITY_ADMIN, start_date=datetime.date(2020, 1, 1))
    account_services.user_set_active(user=org.city_admin, active=False, by=second)
    org.city_admin.refresh_from_db()
    assert not org.city_admin.is_staff and not org.city_admin.is_superuser


# ---- notification e-mail outside the lock --------------------------------------------------------------

SEEN = []


class TransactionCheckingBackend(EmailBackend):
    """Records, at the moment of sending, whether a transaction is open on the default connection."""

    def send_messages(self, messages):
        SEEN.append(connection.in_atomic_block)
        return super().send_messages(messages)


class FailingBackend(EmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server away")


@pytest.fixture
def notification(org):
    """An email delivery of a notification, pending (its task not run: created directly)."""
    person = org.person(Role.COMMUNITY_SECRETARY)
    person.email = "secretary@example.org"
    person.save(update_fields=["email"])
    n = Notification.objects.create(user=person, kind="x", key="k", text="提醒")
    return Delivery.objects.create(user=person, notification=n, channel="email", key="k", subject="提醒", body="提醒")


@pytest.mark.django_db(transaction=True)
def test_notification_email_is_sent_outside_any_transaction_and_once(notification, settings):
    from fundapp.tasks import deliver

    settings.EMAIL_BACKEND = f"{__name__}.TransactionCheckingBackend"
    SEEN.clear()
    assert deliver.apply(args=[notification.pk]).get() is True
    assert deliver.apply(args=[notification.pk]).get() is False  # redelivered
    assert SEEN == [False] and len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.status == "sent" and notification.claim == "" and notification.attempts == 1
    assert Notification.objects.get().emailed_at == notification.sent_at


@pytest.mark.django_db(transaction=True)
def test_a_claimed_notification_is_left_to_its_sender_until_the_claim_is_stale(notification):
    Delivery.objects.filter(pk=notification.pk).update(claim="other", claimed_at=clock.now())
    assert notify_services.delivery_send(delivery_id=notification.pk) is False
    assert mail.outbox == []
    stale = clock.now() - notify_services.CLAIM_LEASE - datetime.timedelta(seconds=1)
    Delivery.objects.filter(pk=notification.pk).update(claimed_at=stale)
    assert notify_services.delivery_send(delivery_id=notification.pk) is True
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_failed_send_gives_the_claim_back(notification, settings):
    from fundapp.services.channels import ChannelError

    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    with pytest.raises(ChannelError):
        notify_services.delivery_send(delivery_id=notification.pk)
    notification.refresh_from_db()
    assert notification.sent_at is None and notification.claim == "" and notification.status == "pending"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notify_services.delivery_send(delivery_id=notification.pk) is True
    assert len(mail.outbox) == 1


LOCKABLE = []


class LockProbingBackend(EmailBackend):
    """While the e-mail is being sent, another connection tries to lock the notification row at once."""

    def send_messages(self, messages):
        import threading

        from django.db import connections, transaction

        def probe():
            try:
                with transaction.atomic():
                    Delivery.objects.select_for_update(nowait=True).get(user__email=messages[0].to[0])
                LOCKABLE.append(True)
            except Exception as exc:  # noqa: BLE001 — the DatabaseError of a held lock is the finding
                LOCKABLE.append(exc)
            finally:
                connections.close_all()

        thread = threading.Thread(target=probe)
        thread.start()
        thread.join(10)
        return super().send_messages(messages)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_no_row_lock_is_held_while_the_email_is_sent(notification, settings):
    settings.EMAIL_BACKEND = f"{__name__}.LockProbingBackend"
    LOCKABLE.clear()
    assert notify_services.delivery_send(delivery_id=notification.pk) is True
    assert LOCKABLE == [True] and len(mail.outbox) == 1
