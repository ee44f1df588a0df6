"""Annual reports (Art. 16): drafted by a task, submitted by the secretary, evaluated by the subdistrict."""
import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from approvals.models import AnnualReport
from approvals.reports import annual_report_evaluate, annual_report_submit, missing_or_late
from approvals.tasks import generate_annual_reports
from fundapp.errors import DomainError, NotAllowed
from fundapp.models import Role
from tests.chain import allocate, approve, draft, to_review, travel


@pytest.mark.django_db
def test_reports_are_drafted_from_the_ledger_and_generation_is_idempotent(org):
    allocate(org)
    approve(org, to_review(org, draft(org, budget="30000.00")))
    assert generate_annual_reports.delay(2026).get() == 4  # one per community
    assert generate_annual_reports.delay(2026).get() == 0
    report = AnnualReport.objects.get(community=org.community("a1"), year=2026)
    assert report.figures["money"]["reserved"] == "30000.00"
    assert Decimal(report.figures["money"]["available"]) == Decimal("170000.00")
    assert [p["title"] for p in report.figures["projects"]] == ["老旧小区路灯维修"]


@pytest.mark.django_db
def test_submit_then_evaluate_by_the_right_people(org):
    call_command("generate_annual_reports", "--year", "2026")
    report = AnnualReport.objects.get(community=org.community("a1"), year=2026)
    with pytest.raises(NotAllowed):
        annual_report_submit(report=report, by=org.person(Role.COMMUNITY_STAFF), narrative="x")
    with pytest.raises(DomainError):
        annual_report_submit(report=report, by=org.person(Role.COMMUNITY_SECRETARY), narrative=" ")
    with pytest.raises(DomainError):
        annual_report_evaluate(report=report, by=org.person(Role.SUBDISTRICT_STAFF), grade="good", comments="")
    with travel(datetime.date(2026, 11, 20)):
        annual_report_submit(report=report, by=org.person(Role.COMMUNITY_SECRETARY), narrative="全年完成项目 1 个")
    report.refresh_from_db()
    assert report.status == "submitted" and not report.is_late
    with pytest.raises(NotAllowed):
        annual_report_evaluate(report=report, by=org.person(Role.SUBDISTRICT_STAFF, "b1"), grade="good",
                               comments="好")
    annual_report_evaluate(report=report, by=org.person(Role.SUBDISTRICT_STAFF), grade="good", comments="按时完成")
    report.refresh_from_db()
    assert report.status == "evaluated" and report.grade == "good"


@pytest.mark.django_db
def test_missing_and_late_reports_are_flagged_after_the_due_date(org, client):
    call_command("generate_annual_reports", "--year", "2026")
    staff = org.person(Role.SUBDISTRICT_STAFF)
    a2 = AnnualReport.objects.get(community=org.community("a2"), year=2026)
    with travel(datetime.date(2026, 11, 30)):
        assert missing_or_late(staff, 2026) == []
    with travel(datetime.date(2026, 12, 2)):
        annual_report_submit(report=a2, by=org.person(Role.COMMUNITY_SECRETARY, "a2"), narrative="补报")
        flagged = {(c.code, why) for c, _, why in missing_or_late(staff, 2026)}
        assert flagged == {("a1", "missing"), ("a2", "late")}
        client.force_login(staff)
        page = client.get(reverse("approvals:reports") + "?year=2026").content.decode()
    assert "未按时报送" in page and "逾期报送" in page
