"""What people read: dates as their language writes them, names and posts (no logins, no checksums, no
"Meeting object (6)"), a back office in Chinese."""
import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

from approvals import services as chain
from approvals.models import Document
from fundapp.i18n import long_date, weekday_date
from fundapp.models import Role
from tests.chain import allocate, draft, meeting_passed, travel

ISO = re.compile(r"\b20\d\d-\d\d-\d\d\b")


def visible(html):
    """The page's text, without the inputs' values (typed dates stay ISO) and attributes."""
    html = re.sub(r"<(script|style|template)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_dates_are_written_as_each_language_writes_them():
    day = datetime.date(2026, 12, 5)
    assert long_date(day) == "2026年12月5日" and weekday_date(day) == "2026年12月5日（星期六）"
    assert weekday_date(day, year=False) == "12月5日（星期六）"
    with translation.override("en"):
        assert long_date(day) == "5 December 2026" and weekday_date(day) == "Saturday 5 December 2026"


@pytest.mark.django_db
def test_the_proposal_page_shows_dates_names_and_posts_not_iso_logins_or_hashes(org, client):
    allocate(org)
    proposal = meeting_passed(org, draft(org))
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    from django.core.files.uploadedfile import SimpleUploadedFile

    with travel(datetime.date(2026, 9, 30)):
        chain.notice_post(proposal=proposal, by=secretary, posted_on=datetime.date(2026, 9, 30), working_days=3,
                          documents=[(Document.Kind.NOTICE_PHOTO, SimpleUploadedFile(
                              "notice.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"))])
    client.force_login(secretary)
    url = reverse("approvals:proposal", args=[proposal.pk])
    page = client.get(url).content.decode()
    text = visible(page)
    assert "2026年10月15日" in text and "2026年9月30日" in text  # planned start, notice posted
    assert not ISO.search(text), ISO.findall(text)
    assert f"({secretary.username})" not in text and f"（{secretary.username}）" not in text
    assert secretary.get_full_name() in text
    document = Document.objects.get()
    assert document.sha256[:12] not in page  # the checksum stays in the audit trail and the back office
    client.cookies["django_language"] = "en"
    text = visible(client.get(url).content.decode())
    assert "15 October 2026" in text and not ISO.search(text)


@pytest.mark.django_db
def test_the_home_page_writes_deadlines_with_the_weekday(org, client):
    allocate(org)
    proposal = draft(org)
    from tests.chain import to_review

    to_review(org, proposal)
    proposal.refresh_from_db()
    client.force_login(org.person(Role.SUBDISTRICT_SECRETARY))
    with travel(datetime.date(2026, 10, 12)):
        text = visible(client.get(reverse("home")).content.decode())
    assert weekday_date(proposal.review_deadline) in text and not ISO.search(text)


@pytest.mark.django_db
def test_the_back_office_speaks_chinese(client):
    operator = get_user_model().objects.create_superuser("operator", "op@example.org", "x")
    client.force_login(operator)
    page = client.get(reverse("admin:index")).content.decode()
    assert page.count("<caption>") or "app-" in page
    for english in ("Axes", "Otp_Totp", "TOTP device", "Access attempts", "Access logs", "Guardian"):
        assert english not in page, english
    assert "登录保护" in page and "动态口令设备" in page
    client.cookies["django_language"] = "en"
    page = client.get(reverse("admin:index")).content.decode()
    assert "Login protection" in page and "One-time code devices" in page
