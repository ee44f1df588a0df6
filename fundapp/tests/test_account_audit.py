"""Account administration in the back office (the operator's duty: accounts, passwords, second-factor devices)
is recorded in the audit trail: who did what to which account, with the fields changed and never a secret."""
import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditRecord
from audit.services import verify_chain


@pytest.mark.django_db
def test_the_operators_account_acts_are_audited_without_secrets(make_user, client, settings):
    settings.TWO_FACTOR_REQUIRED = False
    operator = make_user("operator", is_superuser=True, is_staff=True)
    client.force_login(operator)

    response = client.post(reverse("admin:auth_user_add"), {
        "username": "wangwu", "usable_password": "true", "password1": "Secret-pass-2026!", "password2": "Secret-pass-2026!"})
    assert response.status_code == 302, response.content.decode()[:3000]
    person = get_user_model().objects.get(username="wangwu")

    response = client.post(reverse("admin:auth_user_password_change", args=[person.pk]), {
        "password1": "Another-pass-2026!", "password2": "Another-pass-2026!", "usable_password": "true"})
    assert response.status_code == 302, response.content.decode()[:3000]

    device = TOTPDevice.objects.create(user=person, name="phone", confirmed=True)
    response = client.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})
    assert response.status_code == 302 and not TOTPDevice.objects.filter(pk=device.pk).exists()

    records = list(AuditRecord.objects.filter(action__startswith="account.").order_by("seq"))
    assert [r.action for r in records] == ["account.user.add", "account.user.change", "account.totpdevice.delete"]
    assert all(r.actor == operator for r in records)
    assert records[0].target_id == records[1].target_id == str(person.pk)
    assert records[2].target_id == str(device.pk)
    written = json.dumps([r.after for r in records], ensure_ascii=False)
    assert "Secret-pass" not in written and "Another-pass" not in written and person.password not in written
    assert device.key not in written
    assert verify_chain() == []


@pytest.mark.django_db
def test_the_lockout_pages_offer_only_the_audited_deletion(make_user, client, settings):
    """axes' own "clean up expired attempts" deleted without an audit record (and answered 500 outside a login
    request): the back office offers only Django's deletion, which is recorded."""
    from axes.models import AccessAttempt

    settings.TWO_FACTOR_REQUIRED = False
    operator = make_user("operator", is_superuser=True, is_staff=True)
    client.force_login(operator)
    attempt = AccessAttempt.objects.create(username="wangwu", ip_address="10.0.0.9", user_agent="test",
                                           failures_since_start=3, get_data="", post_data="")
    page = client.get(reverse("admin:axes_accessattempt_changelist"))
    actions = page.context["action_form"].fields["action"].choices
    assert [name for name, _label in actions if name] == ["delete_selected"]
    response = client.post(reverse("admin:axes_accessattempt_changelist"),
                           {"action": "cleanup_expired_attempts", "_selected_action": [attempt.pk]})
    assert response.status_code in (200, 302) and AccessAttempt.objects.filter(pk=attempt.pk).exists()
    response = client.post(reverse("admin:axes_accessattempt_changelist"),
                           {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"})
    assert response.status_code == 302 and not AccessAttempt.objects.filter(pk=attempt.pk).exists()
    assert AuditRecord.objects.filter(action="account.accessattempt.delete", actor=operator).count() == 1
