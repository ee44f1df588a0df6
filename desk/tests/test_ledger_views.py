import pytest
from django.urls import reverse

from fundapp.models import FundYear


@pytest.mark.django_db
def test_ledger_page_shows_running_balance_and_refuses_other_communities(client, django_user_model, demo_city):
    fund_year = FundYear.objects.get(community__code="xingfu", year__gte=2026)
    client.force_login(django_user_model.objects.get(username="dongcheng-finance"))
    page = client.get(reverse("ledger", args=["xingfu", fund_year.year])).content.decode()
    from desk.templatetags.fund import yuan

    assert yuan(fund_year.available + fund_year.reserved) in page  # the running balance after the last entry
    assert "结算发票" in page
    assert client.get(reverse("ledger", args=["youyi", fund_year.year])).status_code == 404
    listing = client.get(reverse("ledgers")).content.decode()
    assert "幸福社区" in listing and "友谊社区" not in listing


@pytest.mark.django_db
def test_supervisor_reads_the_full_record_of_their_community_only(client, django_user_model, demo_city):
    client.force_login(django_user_model.objects.get(username="xingfu-supervisor"))
    page = client.get(reverse("community-record", args=["xingfu"])).content.decode()
    assert "报请初步同意" in page and "楼道照明改造" not in page or "查看项目" in page
    assert client.get(reverse("community-record", args=["heping"])).status_code == 404


@pytest.mark.django_db
def test_finance_sees_invoices_awaiting_settlement(client, django_user_model, demo_city):
    client.force_login(django_user_model.objects.get(username="xicheng-finance"))
    page = client.get(reverse("approvals:invoices")).content.decode()
    assert "社区志愿服务表彰" in page  # youyi, settled
    assert "楼道照明改造" not in page  # xingfu is dongcheng's
