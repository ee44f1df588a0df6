"""The back office: every page of the city administrator's duties loads for them; the account apps'
(groups, second-factor devices, login lockouts) answer 403, and people are shown read-only."""
import datetime

import pytest
from django.contrib import admin
from django.urls import reverse

from fundapp.models import Community, LedgerEntry


@pytest.mark.django_db
def test_every_admin_page_loads_for_the_city_admin(client, django_user_model, demo_city):
    client.force_login(django_user_model.objects.get(username="city-admin"))
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        expected = 403 if opts.app_label in {"otp_totp", "axes"} or opts.label == "auth.Group" else 200
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(changelist).status_code == expected, changelist
        obj = model.objects.first()
        if obj is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert client.get(change).status_code == expected, change


@pytest.mark.django_db
def test_allocation_through_the_admin_goes_through_the_service(org, client):
    client.force_login(org.city_admin)
    community = Community.objects.get(code="a1")
    url = reverse("admin:fundapp_ledgerentry_add")
    response = client.post(url, {"community": community.pk, "year": 2026, "amount": "1.005",
                                 "entry_date": "2026-01-10"})
    assert response.status_code == 200 and "两位小数" in response.content.decode()
    assert not LedgerEntry.objects.exists()
    response = client.post(url, {"community": community.pk, "year": 2026, "amount": "150000.00",
                                 "entry_date": "2026-01-10"})
    assert response.status_code == 302
    entry = LedgerEntry.objects.get()
    assert entry.kind == "allocation" and entry.fund_year.allocated == entry.amount
    assert entry.created_by == org.city_admin
    assert entry.entry_date == datetime.date(2026, 1, 10)
