import pytest
from django.urls import reverse

from workdays.models import ConfirmedYear, WorkdayOverride


@pytest.mark.django_db
def test_override_list_finds_by_reason_and_shows_the_weekday(admin_client):
    WorkdayOverride.objects.create(day="2027-02-06", is_workday=True, reason="2027年春节调休")
    WorkdayOverride.objects.create(day="2027-10-01", is_workday=False, reason="2027年国庆节")

    response = admin_client.get(reverse("admin:workdays_workdayoverride_changelist"), {"q": "春节"})

    assert response.status_code == 200
    assert [o.reason for o in response.context["cl"].result_list] == ["2027年春节调休"]
    assert "星期六" in response.content.decode()


@pytest.mark.django_db
def test_confirmed_year_list_finds_by_year(admin_client):
    ConfirmedYear.objects.create(year=2027, note="国办发明电")
    ConfirmedYear.objects.create(year=2028)

    response = admin_client.get(reverse("admin:workdays_confirmedyear_changelist"), {"q": "2027"})

    assert response.status_code == 200
    assert [c.year for c in response.context["cl"].result_list] == [2027]


@pytest.mark.django_db
def test_overrides_and_confirmed_years_are_read_only_in_the_admin(client, org):
    """They move statutory deadlines: they change only through the calendar page, audited."""
    override = WorkdayOverride.objects.create(day="2027-02-06", is_workday=True, reason="2027年春节调休")
    confirmed = ConfirmedYear.objects.create(year=2027, note="国办发明电")
    client.force_login(org.city_admin)  # the back office is the city administrator's

    for model, obj in (("workdayoverride", override), ("confirmedyear", confirmed)):
        changelist = client.get(reverse(f"admin:workdays_{model}_changelist"))
        assert changelist.status_code == 200
        assert reverse("workdays:calendar") in changelist.content.decode()
        assert client.get(reverse(f"admin:workdays_{model}_add")).status_code == 403
        assert client.get(reverse(f"admin:workdays_{model}_delete", args=[obj.pk])).status_code == 403
        assert client.post(reverse(f"admin:workdays_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
        change = client.get(reverse(f"admin:workdays_{model}_change", args=[obj.pk]))
        assert change.status_code == 200 and 'name="_save"' not in change.content.decode()  # view only
        client.post(reverse(f"admin:workdays_{model}_change", args=[obj.pk]), {"reason": "改", "note": "改", "year": 2028})
        actions = client.post(reverse(f"admin:workdays_{model}_changelist"),
                              {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"})
        assert actions.status_code in (200, 302)
    override.refresh_from_db()
    confirmed.refresh_from_db()
    assert (override.reason, confirmed.year, confirmed.note) == ("2027年春节调休", 2027, "国办发明电")
    assert WorkdayOverride.objects.count() == 1 and ConfirmedYear.objects.count() == 1
