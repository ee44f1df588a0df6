"""The staff pages: thin views over the services, fetched through rights checks."""
import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from approvals.models import Document, Meeting, Proposal, State
from audit.models import AuditRecord
from fundapp.models import Role
from tests.chain import allocate, draft, to_review, travel

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def funded(org):
    allocate(org)
    allocate(org, "b1")
    return org


def login(client, user):
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_another_communitys_proposal_answers_404_on_every_url(funded, client):
    org = funded
    proposal = draft(org, "b1")
    login(client, org.person(Role.COMMUNITY_SECRETARY, "a1"))
    for url in [
        reverse("approvals:proposal", args=[proposal.pk]),
        reverse("approvals:proposal-edit", args=[proposal.pk]),
        reverse("approvals:proposal-pdf", args=[proposal.pk]),
        reverse("approvals:proposal-action", args=[proposal.pk, "submit_for_consent"]),
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("approvals:proposal-action", args=[proposal.pk, "submit_for_consent"])).status_code == 404
    assert Proposal.objects.get(pk=proposal.pk).state == State.DRAFT
    listing = client.get(reverse("approvals:proposals")).content.decode()
    assert proposal.title not in listing or "b1" not in listing


@pytest.mark.django_db
def test_actions_are_offered_only_to_the_person_whose_job_it_is(funded, client):
    org = funded
    proposal = draft(org)
    url = reverse("approvals:proposal", args=[proposal.pk])
    page = login(client, org.person(Role.COMMUNITY_SECRETARY)).get(url).content.decode()
    assert 'data-action="submit_for_consent"' in page
    for role in (Role.COMMUNITY_STAFF, Role.SUPERVISOR, Role.SUBDISTRICT_SECRETARY, Role.FINANCE_OFFICER):
        client.force_login(org.person(role))
        page = client.get(url).content.decode()
        assert 'data-action="submit_for_consent"' not in page, role
        action = reverse("approvals:proposal-action", args=[proposal.pk, "submit_for_consent"])
        assert client.post(action).status_code == 404, role
    assert Proposal.objects.get(pk=proposal.pk).state == State.DRAFT


@pytest.mark.django_db
def test_drafting_in_the_browser_keeps_input_on_error(funded, client):
    org = funded
    login(client, org.person(Role.COMMUNITY_STAFF))
    url = reverse("approvals:proposal-new")
    data = {"community": "a1", "title": "健身步道", "category": "5", "content": "修建健身步道",
            "beneficiaries": "broad", "beneficiary_count": "300", "planned_start": "2026-10-01",
            "planned_end": "2026-09-01", "contractor": "", "art4_declaration": "on",
            "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "50", "lines-0-item": "材料", "lines-0-amount": "12.345",
            "lines-0-in_procurement_catalogue": "0"}
    form = client.get(url + "?community=a1").content.decode()
    # No default where none is true: the use of the money is chosen, not pre-selected.
    assert '<option value="" selected>请选择</option>' in form
    page = client.post(url, {**data, "category": ""}).content.decode()
    assert "请选择使用范围。" in page and not Proposal.objects.exists()
    page = client.post(url, data).content.decode()
    assert "计划完成日期不能早于开始日期" in page
    assert 'value="健身步道"' in page and "12.345" in page
    assert not Proposal.objects.exists()
    data["planned_end"] = "2026-11-01"
    page = client.post(url, data).content.decode()
    assert "两位小数" in page and not Proposal.objects.exists()
    data["lines-0-amount"] = "12,000.50"
    response = client.post(url, data)
    proposal = Proposal.objects.get()
    assert response.status_code == 302 and proposal.budget == 12000.50


@pytest.mark.django_db
def test_meeting_with_minutes_upload_checked_by_content(funded, client):
    org = funded
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = draft(org)
    from approvals import services as chain

    with travel(datetime.date(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=proposal, by=secretary)
        chain.consent_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)
        login(client, secretary)
        url = reverse("approvals:proposal-action", args=[proposal.pk, "meeting"])
        data = {"held_on": "2026-09-28", "place": "会议室", "attendance": "10", "votes_for": "8",
                "votes_against": "1", "votes_abstain": "1", "minutes": "通过"}
        fake = SimpleUploadedFile("minutes.pdf", b"MZ\x90\x00 this is an exe", content_type="application/pdf")
        page = client.post(url, {**data, "minutes_file": fake}).content.decode()
        assert "不是 PDF、JPEG 或 PNG" in page
        assert not Meeting.objects.exists() and not Document.objects.exists()
        real = SimpleUploadedFile("纪要.pdf", PDF, content_type="application/octet-stream")
        assert client.post(url, {**data, "minutes_file": real}).status_code == 302
    document = Document.objects.get()
    assert document.content_type == "application/pdf" and document.kind == "minutes"
    import hashlib

    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    assert AuditRecord.objects.filter(action="proposal.meeting_passed").get().after["documents"] == [document.sha256]
    # served to the community and its subdistrict, 404 to others (logged in again: the session made
    # during the time travel has expired by now)
    download = reverse("approvals:document", args=[document.pk])
    response = login(client, org.person(Role.SUBDISTRICT_STAFF)).get(download)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    client.force_login(org.person(Role.SUPERVISOR, "b1"))
    assert client.get(download).status_code == 404


def test_oversized_upload_is_refused():
    from approvals import documents

    big = SimpleUploadedFile("big.png", PNG + b"\0" * (documents.MAX_BYTES), content_type="image/png")
    with pytest.raises(documents.DomainError):
        documents.inspect_upload(big)
    assert documents.inspect_upload(SimpleUploadedFile("ok.png", PNG))[1] == "image/png"


@pytest.mark.django_db
def test_notice_shows_its_computed_last_day_before_confirming(funded, client):
    org = funded
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = draft(org)
    from approvals import services as chain

    with travel(datetime.date(2026, 9, 30)):
        chain.proposal_submit_for_consent(proposal=proposal, by=secretary)
        chain.consent_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)
        chain.meeting_record(proposal=proposal, by=secretary, held_on=datetime.date(2026, 9, 30), place="室",
                             attendance=5, votes_for=5, votes_against=0, votes_abstain=0, minutes="通过")
        login(client, secretary)
        url = reverse("approvals:proposal-action", args=[proposal.pk, "post_notice"])
        page = client.post(url, {"posted_on": "2026-09-30", "working_days": "3", "text": ""}).content.decode()
        assert "2026年10月9日" in page and 'name="confirm"' in page
        assert Proposal.objects.get(pk=proposal.pk).state == State.MEETING_PASSED
        response = client.post(url, {"posted_on": "2026-09-30", "working_days": "3", "text": "", "confirm": "1"})
        assert response.status_code == 302
    assert Proposal.objects.get(pk=proposal.pk).state == State.NOTICE


@pytest.mark.django_db
def test_overdue_review_is_red_in_the_leaders_queue(funded, client):
    org = funded
    proposal = to_review(org, draft(org))
    with travel(datetime.date(2026, 10, 20)):
        page = login(client, org.person(Role.CONSTRUCTION_DIRECTOR)).get(reverse("home")).content.decode()
    assert proposal.title in page
    queue = page.split("queue-card", 1)[1]  # the work queue (the inbox above it names the proposal too)
    item = queue.split(proposal.title)[0].rsplit("<li", 1)[1]
    assert 'class="overdue"' in item


@pytest.mark.django_db
def test_application_form_pdf_embeds_a_cjk_font_and_shows_the_approvals(funded, client, tmp_path):
    import shutil
    import subprocess

    org = funded
    proposal = to_review(org, draft(org))
    login(client, org.person(Role.SUPERVISOR))
    response = client.get(reverse("approvals:proposal-pdf", args=[proposal.pk]))
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "form.pdf"
    path.write_bytes(response.content)
    if not shutil.which("pdffonts"):
        pytest.fail("pdffonts missing: apt-get install poppler-utils")
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts  # embedded
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "社区党组织服务群众专项经费使用申请审批表" in text
    assert proposal.title in text and "叁万元整" in text
    assert "同意提交联席会议讨论" not in text and "同意" in text
    # in English when the reader switched
    client.cookies["django_language"] = "en"
    response = client.get(reverse("approvals:proposal-pdf", args=[proposal.pk]))
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Application" in text


@pytest.mark.django_db
def test_overdue_reviews_are_escalated_once_and_shown_to_the_city(funded, client):
    from approvals import services as chain
    from approvals.tasks import escalate_overdue_reviews

    org = funded
    proposal = to_review(org, draft(org))  # deadline 2026-10-16
    with travel(datetime.date(2026, 10, 16)):
        assert escalate_overdue_reviews.delay().get() == 0
    with travel(datetime.date(2026, 10, 19)):
        assert escalate_overdue_reviews.delay().get() == 1
        assert chain.overdue_reviews_escalate() == 0  # once per round
        page = login(client, org.city_admin).get(reverse("home")).content.decode()
    assert AuditRecord.objects.filter(action="review.escalated", target_id=str(proposal.pk)).count() == 1
    assert "超期未审批" in page and proposal.title in page
