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
