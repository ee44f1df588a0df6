"""Forms keep what people did: a chosen file survives a refused submit, budget lines are added and removed
on the page (also without JavaScript), the procurement question is asked, known values are pre-filled."""
import datetime
import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from approvals.models import Document, Invoice, Meeting, PendingUpload, Proposal
from approvals import uploads
from fundapp.models import Role
from tests.chain import allocate, draft, funded_and_accepted, meeting_passed, travel

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def kept_token(page, field="scan"):
    match = re.search(rf'name="{field}-kept" value="([^"]+)"', page)
    return match.group(1) if match else None


@pytest.fixture
def accepted(org):
    return funded_and_accepted(org)


@pytest.mark.django_db
def test_an_invoice_scan_survives_a_refused_submit_and_is_saved_by_the_next(org, client, accepted):
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    url = reverse("approvals:proposal-action", args=[accepted.pk, "register_invoice"])
    with travel(datetime.date(2026, 11, 3)):
        client.force_login(secretary)
        page = client.get(url).content.decode()
        assert 'value="光明电器维修部"' in page  # the contractor the plan names, pre-filled
        data = {"contractor": "光明电器维修部", "number": "", "amount": "28000.00", "issued_on": "2026-11-03"}
        scan = SimpleUploadedFile("发票 No.0001.pdf", PDF, content_type="application/pdf")
        page = client.post(url, {**data, "scan": scan}).content.decode()
        assert "field-error" in page and not Invoice.objects.exists()
        assert "已上传：发票 No.0001.pdf" in page
        token = kept_token(page)
        assert token and PendingUpload.objects.get(token=token).owner == secretary
        # The file input comes back empty (browsers never refill it): the kept file is used instead.
        response = client.post(url, {**data, "number": "No.0001", "scan-kept": token})
    assert response.status_code == 302
    document = Document.objects.get(kind=Document.Kind.INVOICE)
    assert document.original_name == "发票 No.0001.pdf" and document.sha256 == hashlib.sha256(PDF).hexdigest()
    assert Invoice.objects.get().number == "No.0001"
    assert not PendingUpload.objects.exists()  # used, then forgotten


@pytest.mark.django_db
def test_a_kept_file_is_its_uploaders_only_and_can_be_dropped(org, client, accepted):
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    url = reverse("approvals:proposal-action", args=[accepted.pk, "register_invoice"])
    data = {"contractor": "光明电器维修部", "number": "", "amount": "28000.00", "issued_on": "2026-11-03"}
    with travel(datetime.date(2026, 11, 3)):
        client.force_login(secretary)
        page = client.post(url, {**data, "scan": SimpleUploadedFile("a.pdf", PDF)}).content.decode()
        token = kept_token(page)
        # Someone else's token is not a file of theirs.
        other = PendingUpload.objects.create(owner=org.person(Role.COMMUNITY_STAFF), token="x" * 40,
                                             original_name="b.pdf", content_type="application/pdf", size=1,
                                             sha256="0" * 64, file="pending/none.pdf")
        page = client.post(url, {**data, "number": "No.2", "scan-kept": other.token}).content.decode()
        assert "之前上传的文件已过期" in page and not Invoice.objects.exists()
        # Dropped: the step is saved without it.
        response = client.post(url, {**data, "number": "No.2", "scan-kept": token, "scan-kept-drop": "1"})
    assert response.status_code == 302
    assert not Document.objects.exists()


@pytest.mark.django_db
def test_a_refused_file_is_not_kept(org, client, accepted):
    url = reverse("approvals:proposal-action", args=[accepted.pk, "register_invoice"])
    with travel(datetime.date(2026, 11, 3)):
        client.force_login(org.person(Role.COMMUNITY_SECRETARY))
        fake = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 an exe", content_type="application/pdf")
        page = client.post(url, {"contractor": "光明", "number": "1", "amount": "1.00", "issued_on": "2026-11-03",
                                 "scan": fake}).content.decode()
    assert "不是 PDF、JPEG 或 PNG" in page and not PendingUpload.objects.exists()


@pytest.mark.django_db
def test_kept_files_are_bounded_and_purged_after_a_day(org, settings):
    owner = org.person(Role.COMMUNITY_SECRETARY)
    with travel(datetime.date(2026, 11, 3)):
        for i in range(uploads.MAX_PER_OWNER + 3):
            uploads.pending_keep(owner=owner, name=f"{i}.pdf", data=PDF, mime="application/pdf")
        assert PendingUpload.objects.filter(owner=owner).count() == uploads.MAX_PER_OWNER
        path = PendingUpload.objects.first().file.path
    with travel(datetime.date(2026, 11, 5)):
        assert uploads.pending_purge() == uploads.MAX_PER_OWNER
    assert not PendingUpload.objects.exists()
    import os

    assert not os.path.exists(path)


PLAN = {"community": "a1", "title": "健身步道", "category": "5", "content": "修建健身步道", "beneficiaries": "broad",
        "beneficiary_count": "300", "planned_start": "2026-10-01", "planned_end": "2026-11-01",
        "art4_declaration": "on", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "50"}


@pytest.mark.django_db
def test_a_budget_line_is_added_and_removed_without_javascript(org, client):
    allocate(org)
    client.force_login(org.person(Role.COMMUNITY_STAFF))
    url = reverse("approvals:proposal-new")
    page = client.get(url).content.decode()
    assert "增加一行" in page and "删除此行" in page and "保存后再次编辑" not in page
    data = {**PLAN, "lines-TOTAL_FORMS": "2", "lines-0-item": "材料", "lines-0-amount": "1000.00",
            "lines-0-in_procurement_catalogue": "0", "lines-1-item": "人工", "lines-1-amount": "500.00",
            "lines-1-in_procurement_catalogue": "0"}
    page = client.post(url, {**data, "add_line": "1"}).content.decode()
    assert not Proposal.objects.exists()
    assert 'name="lines-TOTAL_FORMS" value="3"' in page and 'name="lines-2-item"' in page
    assert 'value="材料"' in page and 'value="人工"' in page  # what was typed stays
    assert "field-error" not in page  # asking for a line is not a refused save
    data = {**data, "lines-TOTAL_FORMS": "3", "lines-2-item": "设计", "lines-2-amount": "200.00",
            "lines-2-in_procurement_catalogue": "1", "lines-1-DELETE": "on"}
    assert client.post(url, data).status_code == 302
    proposal = Proposal.objects.get()
    assert [(ln.item, ln.in_procurement_catalogue) for ln in proposal.lines.all()] == [("材料", False), ("设计", True)]
    assert str(proposal.budget) == "1200.00"
    # Editing shows the lines as saved, with the answers given, and adds a line the same way.
    edit = reverse("approvals:proposal-edit", args=[proposal.pk])
    page = client.get(edit).content.decode()
    assert re.search(r'name="lines-1-in_procurement_catalogue" value="1"[^>]*checked', page)
    # Typed dates stay ISO, as <input type="date"> needs them (the zh-hans default would write 2026/10/01).
    assert 'type="date" name="planned_start" value="2026-10-01"' in page


@pytest.mark.django_db
def test_the_procurement_catalogue_is_asked_not_assumed(org, client):
    allocate(org)
    client.force_login(org.person(Role.COMMUNITY_STAFF))
    url = reverse("approvals:proposal-new")
    page = client.get(url).content.decode()
    radios = re.findall(r'<input[^>]*name="lines-0-in_procurement_catalogue"[^>]*>', page)
    assert len(radios) == 2 and not any("checked" in r for r in radios)
    data = {**PLAN, "lines-TOTAL_FORMS": "1", "lines-0-item": "材料", "lines-0-amount": "1000.00"}
    page = client.post(url, data).content.decode()
    assert "请选择是否属于政府采购目录" in page and not Proposal.objects.exists()
    assert client.post(url, {**data, "lines-0-in_procurement_catalogue": "0"}).status_code == 302
    assert Proposal.objects.get().lines.get().in_procurement_catalogue is False


@pytest.mark.django_db
def test_a_line_recorded_without_the_answer_prints_not_answered(org):
    allocate(org)
    proposal = draft(org)  # the services were given no answer: none is invented
    assert proposal.lines.get().in_procurement_catalogue is None


@pytest.mark.django_db
def test_a_meeting_reads_as_its_date_and_the_voucher_form_chooses_the_only_one(org):
    allocate(org)
    proposal = meeting_passed(org, draft(org))
    meeting = Meeting.objects.get()
    assert str(meeting) == "2026年9月28日联席会议"
    with translation.override("en"):
        assert str(meeting) == "Joint meeting of 28 September 2026"
    from approvals.forms import VoucherForm, action_form

    form = action_form(VoucherForm, proposal=proposal, owner=org.person(Role.COMMUNITY_SECRETARY))
    assert form.initial["meeting"] == meeting.pk
    assert "Meeting object" not in str(form["meeting"]) and "2026年9月28日联席会议" in str(form["meeting"])
