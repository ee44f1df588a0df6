"""Uploads and PDFs (issue 6/7 "Hardening").

Uploads: judged by their bytes (not their name or the browser's content type), size-capped, refused with a
clear message and nothing stored; stored under MEDIA_ROOT, which no URL serves except the rights-checked
download (an attachment, nosniff) and, for the kinds made for residents, the public one.

PDFs: text people typed — a title like `<img src="file:///etc/passwd">`, a private-network URL — is printed
literally (pdftotext) and causes no fetch (a spy on the fetcher, sockets that record any connection);
markup that does reach the renderer is refused by its fetcher. Rendering time is bounded by bounding what is
rendered (every text field has a max_length, at most 50 budget lines) and, for the batch posters, by Celery
time limits on the task.
"""
import datetime
import hashlib
import inspect
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from django import forms
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from approvals import documents as document_store
from approvals import forms as approval_forms
from approvals import services as chain
from approvals.models import Category, Document, FollowUp, Proposal
from audit.models import AuditRecord
from fundapp import forms as fundapp_forms
from fundapp import pdf as fundapp_pdf
from fundapp import twofactor
from fundapp.models import Role
from public import forms as public_forms
from tests.chain import allocate, approve, draft, meeting_passed, to_review, travel
from tests.files import JPEG, PDF, png_bytes

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

VISIT = datetime.date(2026, 10, 20)




@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def stored_files(media):
    """The uploaded files (posting a notice also archives its paper under media/papers/)."""
    uploads = media / "documents"
    return sorted(p for p in uploads.rglob("*") if p.is_file()) if uploads.exists() else []


@pytest.fixture
def in_progress(org, media):
    """A started project of a1, where the subdistrict staff records follow-ups with photos."""
    allocate(org)
    proposal = approve(org, to_review(org, draft(org)))
    with travel(datetime.date(2026, 10, 15)):
        chain.proposal_start(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY))
    return proposal


def follow_up(client, org, proposal, upload):
    client.force_login(org.person(Role.SUBDISTRICT_STAFF))
    with travel(VISIT):
        return client.post(reverse("approvals:proposal-action", args=[proposal.pk, "follow_up"]), {
            "visited_on": VISIT.isoformat(), "notes": "现场查看", "photo": upload})


# ---- uploads: refused by content, with a message, nothing stored ----------------------------------

REFUSED = {
    "a PNG renamed .pdf": (SimpleUploadedFile("scan.pdf", png_bytes(), content_type="application/pdf"),
                           "扩展名与内容不符"),
    "a PDF renamed .png": (SimpleUploadedFile("photo.png", PDF, content_type="image/png"), "扩展名与内容不符"),
    "an HTML page called .pdf": (SimpleUploadedFile(
        "invoice.pdf", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        content_type="application/pdf"), "不是 PDF、JPEG 或 PNG"),
    "an SVG with a script called .png": (SimpleUploadedFile(
        "photo.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        content_type="image/png"), "不是 PDF、JPEG 或 PNG"),
    "a Windows executable called .jpg": (SimpleUploadedFile(
        "photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 400,
        content_type="image/jpeg"), "不是 PDF、JPEG 或 PNG"),
    "an ELF executable called .pdf": (SimpleUploadedFile(
        "scan.pdf", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 400, content_type="application/pdf"),
        "不是 PDF、JPEG 或 PNG"),
    "a PNG called .html": (SimpleUploadedFile("page.html", png_bytes(), content_type="text/html"),
                           "扩展名与内容不符"),
    "a file over 10 MB": (SimpleUploadedFile("big.pdf", PDF + b"0" * document_store.MAX_BYTES,
                                             content_type="application/pdf"), "超过 10 MB"),
    "an empty file": (SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf"), "空"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(REFUSED))
def test_a_bad_upload_is_refused_with_a_message_and_nothing_is_stored(case, client, org, in_progress, media):
    upload, message = REFUSED[case]
    counts = (Document.objects.count(), FollowUp.objects.count(), AuditRecord.objects.count())
    response = follow_up(client, org, in_progress, upload)
    assert response.status_code == 200, case
    html = response.content.decode()
    assert ('role="alert"' in html or 'class="field-error"' in html) and message in html, case
    assert (Document.objects.count(), FollowUp.objects.count(), AuditRecord.objects.count()) == counts, case
    assert stored_files(media) == [], case


def test_the_content_check_is_by_bytes_for_each_allowed_type():
    for name, data, mime in [("a.pdf", PDF, "application/pdf"), ("a.png", png_bytes(), "image/png"),
                             ("a.jpg", JPEG, "image/jpeg"), ("a.JPEG", JPEG, "image/jpeg"),
                             ("no-extension", png_bytes(), "image/png"), ("scan 2026.10.05", PDF, "application/pdf")]:
        # whatever the browser claimed the type to be
        upload = SimpleUploadedFile(name, data, content_type="text/html")
        assert document_store.inspect_upload(upload)[1] == mime, name
    assert document_store.MAX_BYTES == 10 * 1024 * 1024


# ---- uploads: stored outside the web root, served only by the rights-checked views ----------------

@pytest.mark.django_db
def test_an_accepted_upload_is_stored_under_media_root_with_our_name_and_its_checksum(client, org, in_progress,
                                                                                     media):
    data = png_bytes()
    response = follow_up(client, org, in_progress, SimpleUploadedFile("../../../etc/现场.png", data,
                                                                      content_type="application/pdf"))
    assert response.status_code == 302
    document = Document.objects.get()
    path = Path(document.file.path).resolve()
    assert path.is_relative_to(media.resolve()) and path.read_bytes() == data
    assert re.fullmatch(r"[0-9a-f]{32}\.png", path.name)  # our name, the content's extension
    assert document.content_type == "image/png" and document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.original_name == "现场.png"  # Django keeps the base name only
    assert stored_files(media) == [path]


def _all_patterns(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _all_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_media_root_is_outside_every_served_directory_and_no_url_serves_it(settings):
    from django.views.static import serve

    media = Path(django_settings.MEDIA_ROOT).resolve()
    served = [Path(django_settings.STATIC_ROOT).resolve(), *(Path(d).resolve() for d in settings.STATICFILES_DIRS)]
    served += [Path(getattr(settings, "WHITENOISE_ROOT", None) or "/nonexistent").resolve()]
    for root in served:
        assert not media.is_relative_to(root) and not root.is_relative_to(media), root
    for route, callback in _all_patterns():
        assert callback is not serve, route
        assert "media" not in route, route


@pytest.mark.django_db
def test_no_url_but_the_download_view_reaches_a_stored_file(client, org, in_progress, media):
    assert follow_up(client, org, in_progress, SimpleUploadedFile("p.png", png_bytes())).status_code == 302
    document = Document.objects.get()
    relative = Path(document.file.name)
    for url in (f"/media/{relative}", f"/static/{relative}", f"/{relative}", f"/static/../media/{relative}",
                f"/static/%2e%2e/media/{relative}", f"/var/media/{relative}"):
        response = client.get(url)
        assert response.status_code == 404, url


@pytest.mark.django_db
def test_the_download_is_an_attachment_only_for_those_who_may_see_the_community(client, org, in_progress, media):
    data = png_bytes()
    assert follow_up(client, org, in_progress, SimpleUploadedFile("photo.png", data)).status_code == 302
    document = Document.objects.get()
    url = reverse("approvals:document", args=[document.pk])

    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

    for role, code in [(Role.COMMUNITY_SECRETARY, "a2"), (Role.SUPERVISOR, "b1"), (Role.SUBDISTRICT_SECRETARY, "b1"),
                       (Role.FINANCE_OFFICER, "b1")]:
        client.force_login(org.person(role, code))
        assert client.get(url).status_code == 404, (role, code)
    assert client.get(reverse("approvals:document", args=[document.pk + 1000])).status_code == 404

    for role in (Role.SUPERVISOR, Role.COMMUNITY_STAFF, Role.SUBDISTRICT_STAFF, Role.CITY_ADMIN):
        client.force_login(org.person(role, "a1"))
        response = client.get(url)
        assert response.status_code == 200, role
        assert response["Content-Disposition"].startswith("attachment;"), role
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Type"] == "image/png"
        assert b"".join(response.streaming_content) == data


@pytest.mark.django_db
def test_residents_get_only_the_notice_photo_of_a_published_project(client, org, media):
    allocate(org)
    proposal = meeting_passed(org, draft(org))
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    # the meeting's minutes (not for residents) and the notice board photo (for residents)
    with travel(datetime.date(2026, 9, 30)):
        client.force_login(secretary)
        response = client.post(reverse("approvals:proposal-action", args=[proposal.pk, "post_notice"]), {
            "posted_on": "2026-09-30", "working_days": "3", "text": "公示", "confirm": "1",
            "photo": SimpleUploadedFile("board.jpg", JPEG)})
        assert response.status_code == 302, response.content.decode()[:2000]
    photo = Document.objects.get(kind=Document.Kind.NOTICE_PHOTO)
    chain_minutes = SimpleUploadedFile("minutes.pdf", PDF)
    other = draft(org, title="另一个项目")
    with travel(datetime.date(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=other, by=secretary)
        chain.consent_decide(proposal=other, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)
        chain.meeting_record(proposal=other, by=secretary, held_on=datetime.date(2026, 9, 28), place="会议室",
                             attendance=9, votes_for=9, votes_against=0, votes_abstain=0, minutes="同意",
                             documents=[(Document.Kind.MINUTES, chain_minutes)])
    minutes = Document.objects.get(kind=Document.Kind.MINUTES)
    # also a minutes document of the published project itself
    published_minutes = Document.objects.create(
        proposal=proposal, kind=Document.Kind.MINUTES, file=minutes.file.name, original_name="m.pdf",
        content_type="application/pdf", size=minutes.size, sha256=minutes.sha256, uploaded_by=secretary)

    client.logout()
    response = client.get(reverse("public:document", args=["a1", photo.public_id]))
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "image/jpeg" and b"".join(response.streaming_content) == JPEG
    assert client.get(reverse("public:document", args=["a2", photo.public_id])).status_code == 404  # another community
    for doc in (minutes, published_minutes):  # not a kind for residents, published project or not
        assert doc.kind not in Document.PUBLIC_KINDS
        assert client.get(reverse("public:document", args=["a1", doc.public_id])).status_code == 404
    # a notice photo of a project never put before residents (no plan notice): not served either
    hidden = Document.objects.create(
        proposal=other, kind=Document.Kind.NOTICE_PHOTO, file=photo.file.name, original_name="x.jpg",
        content_type="image/jpeg", size=photo.size, sha256=photo.sha256, uploaded_by=secretary)
    assert client.get(reverse("public:document", args=["a1", hidden.public_id])).status_code == 404


# ---- PDFs: typed text is printed, never fetched -----------------------------------------------------

HOSTILE = {
    "title": '<img src="file:///etc/passwd">',
    "content": '<img src="http://10.0.0.1/x.png"> <link rel="stylesheet" href="http://169.254.169.254/latest/">'
               ' <iframe src="http://192.168.1.1/"></iframe> <style>@import url("http://10.0.0.2/a.css");</style>',
    "contractor": '<object data="file:///etc/shadow"></object>',
    "item": '<embed src="http://[fd00::1]/e"><svg><image href="file:///etc/hostname"/></svg>',
}
NEVER = ("passwd", "shadow", "hostname", "10.0.0.", "169.254", "192.168", "fd00")


@pytest.fixture
def spy(monkeypatch, settings):
    """Records every URL the PDF fetcher is asked for and every socket connection attempted (refused)."""
    settings.PDF_RENDER_CACHE_SIZE, settings.PDF_RENDER_CACHE_DIR = 0, ""  # every document fetched (fundapp.pdf)
    seen = {"fetched": [], "connections": []}
    original = fundapp_pdf.LocalOnlyFetcher.fetch

    def fetch(self, url, headers=None):
        seen["fetched"].append(url)
        return original(self, url, headers)

    def refuse(*args, **kwargs):
        seen["connections"].append(args)
        raise OSError("network refused in this test")

    monkeypatch.setattr(fundapp_pdf.LocalOnlyFetcher, "fetch", fetch)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", lambda self, *a: refuse(*a))
    return seen


def pdftotext(data, tmp_path):
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext missing: apt-get install poppler-utils")
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def squeeze(text):
    return re.sub(r"\s+", "", text)


def hostile_proposal(org):
    allocate(org)
    community = org.community("a1")
    need = chain.need_record(community=community, by=org.person(Role.COMMUNITY_STAFF), channel="door",
                             description=HOSTILE["content"], on=datetime.date(2026, 1, 5))
    return chain.proposal_create(
        community=community, by=org.person(Role.COMMUNITY_STAFF), year=2026, title=HOSTILE["title"],
        category=Category.PROPERTY, content=HOSTILE["content"], beneficiaries="broad", beneficiary_count=100,
        planned_start=datetime.date(2026, 10, 15), planned_end=datetime.date(2026, 11, 30),
        contractor=HOSTILE["contractor"], art4_declaration=True, lines=[(HOSTILE["item"], "1000.00")],
        needs=[need])


@pytest.mark.django_db
def test_the_application_form_prints_hostile_text_literally_and_fetches_nothing(client, org, media, spy, tmp_path):
    proposal = hostile_proposal(org)
    client.force_login(org.person(Role.COMMUNITY_SECRETARY))
    response = client.get(reverse("approvals:proposal-pdf", args=[proposal.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = squeeze(pdftotext(response.content, tmp_path))
    for field in ("title", "contractor", "item"):
        assert squeeze(HOSTILE[field]) in text, field
    assert squeeze('<img src="http://10.0.0.1/x.png">') in text
    assert spy["connections"] == []
    assert not [url for url in spy["fetched"] if any(s in url for s in NEVER)], spy["fetched"]
    # and the proposal page shows it escaped
    html = client.get(reverse("approvals:proposal", args=[proposal.pk])).content.decode()
    assert "&lt;img src=&quot;file:///etc/passwd&quot;&gt;" in html and '<img src="file:///etc/passwd">' not in html


@pytest.mark.django_db
def test_the_year_end_poster_prints_hostile_titles_literally_and_fetches_nothing(client, org, media, spy, tmp_path):
    from disclosure.models import YearEndDisclosure
    from disclosure.services import disclosure_generate

    proposal = hostile_proposal(org)
    to_review(org, proposal)  # on the public record from its plan notice on
    with travel(datetime.date(2026, 12, 10)):
        disclosure_generate(org.community("a1").pk, 2026)
        disclosure = YearEndDisclosure.objects.get(community=org.community("a1"), year=2026)
        text = squeeze(pdftotext(disclosure.pdf.read(), tmp_path))
        assert squeeze(HOSTILE["title"]) in text
        html = client.get(reverse("disclosure:summary", args=["a1", 2026])).content.decode()
        public = client.get(reverse("public:community-year", args=["a1", 2026])).content.decode()
    for page in (html, public):
        assert "&lt;img src=&quot;file:///etc/passwd&quot;&gt;" in page and HOSTILE["title"] not in page
    assert spy["connections"] == []
    assert not [url for url in spy["fetched"] if any(s in url for s in NEVER)], spy["fetched"]


def test_markup_that_reaches_the_renderer_is_refused_by_its_fetcher(spy, settings):
    """Were text ever to reach WeasyPrint unescaped, the fetcher still refuses every local file and network
    address: the private ranges and the cloud metadata address included, whatever the element or CSS."""
    from weasyprint import HTML

    urls = ["file:///etc/passwd", "http://10.0.0.1/x.png", "http://169.254.169.254/latest/meta-data/",
            "http://192.168.1.1/a.css", "http://127.0.0.1:8000/admin/", "https://[fd00::1]/e",
            "ftp://10.0.0.3/x", f"file://{settings.BASE_DIR}/fundapp/settings.py",
            f"file://{settings.BASE_DIR}/static/../var/fund.sqlite3", "http://localhost/x.svg"]
    html = ("<html><head>"
            f'<link rel="stylesheet" href="{urls[3]}"><style>@import url("{urls[4]}");'
            f'body {{ background: url("{urls[1]}") }} @font-face {{ font-family: x; src: url("{urls[5]}") }}</style>'
            "</head><body>"
            f'<img src="{urls[0]}"><img src="{urls[2]}"><object data="{urls[6]}"></object>'
            f'<embed src="{urls[7]}"><iframe src="{urls[8]}"></iframe>'
            f'<svg><image href="{urls[9]}"/></svg><a rel="attachment" href="{urls[0]}">a</a>'
            f'<p style="font-family: x">公示</p></body></html>')
    out = HTML(string=html, base_url=fundapp_pdf.static_base_url(),
               url_fetcher=fundapp_pdf.LocalOnlyFetcher()).write_pdf()
    assert out.startswith(b"%PDF") and spy["connections"] == []
    for url in spy["fetched"]:
        assert not fundapp_pdf.allowed(url), url
    for url in urls:
        assert not fundapp_pdf.allowed(url), url


# ---- rendering time is bounded by bounding the input --------------------------------------------

def _form_classes():
    for module in (approval_forms, public_forms, fundapp_forms, twofactor):
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                yield cls


def test_every_text_field_of_every_form_has_a_length_cap():
    checked = 0
    for cls in _form_classes():
        try:
            fields = cls().fields  # some caps are set when the form is made (the login's, from the model)
        except (TypeError, AttributeError):  # needs a proposal or a community
            fields = cls.base_fields
        for name, field in fields.items():
            if isinstance(field, forms.CharField) and not isinstance(field.widget, forms.PasswordInput):
                assert field.max_length is not None and field.max_length <= 10_000, f"{cls.__name__}.{name}"
                checked += 1
    assert checked > 40
    assert approval_forms.ProposalForm.base_fields["title"].max_length == 200
    formset = approval_forms.BudgetLineFormSet
    assert (formset.max_num, formset.absolute_max, formset.validate_max) == (50, 50, True)


@pytest.mark.django_db
def test_a_10000_character_title_and_a_51st_budget_line_are_refused_at_the_form(client, org):
    allocate(org)
    client.force_login(org.person(Role.COMMUNITY_STAFF))
    url = reverse("approvals:proposal-new") + "?community=a1"
    plan = {"title": "路灯", "category": str(Category.PROPERTY), "content": "内容", "beneficiaries": "broad",
            "beneficiary_count": "10", "planned_start": "2026-10-01", "planned_end": "2026-10-31",
            "art4_declaration": "on", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "1",
            "lines-MAX_NUM_FORMS": "50"}

    def lines(n):
        rows = {"lines-TOTAL_FORMS": str(n)}
        for i in range(n):
            rows.update({f"lines-{i}-item": f"第{i}项", f"lines-{i}-amount": "10.00",
                         f"lines-{i}-in_procurement_catalogue": "1"})
        return rows

    records = AuditRecord.objects.count()
    for data, message in [({**plan, "title": "灯" * 10_000, **lines(1)}, "10000"),
                          ({**plan, "content": "x" * 10_000, **lines(1)}, "10000"),
                          ({**plan, **lines(51)}, "50"),
                          ({**plan, **lines(1), "lines-TOTAL_FORMS": "100000"}, "50")]:
        response = client.post(url, data)
        assert response.status_code == 200 and message in response.content.decode()
        assert Proposal.objects.count() == 0
    assert AuditRecord.objects.count() == records
    assert client.post(url, {**plan, **lines(50)}).status_code == 302  # the largest allowed plan is accepted
    assert Proposal.objects.get().lines.count() == 50


def test_batch_documents_have_a_time_limit():
    from batches import tasks

    task = tasks.run_batch_item
    assert 0 < task.soft_time_limit < task.time_limit <= 300
    assert (task.soft_time_limit, task.time_limit) == (tasks.SOFT_TIME_LIMIT, tasks.TIME_LIMIT)


@pytest.mark.django_db
def test_an_item_that_outruns_the_soft_limit_fails_and_can_be_run_again(org, monkeypatch):
    """What the worker does when the soft limit fires (SoftTimeLimitExceeded raised inside the handler):
    the item is failed with the reason, not retried as if transient, and 重新运行失败项 sends it again."""
    from celery.exceptions import SoftTimeLimitExceeded

    from batches import registry
    from batches import services as batch_services
    from batches.models import BatchItem

    calls = []

    def slow(community_id, year):
        calls.append(community_id)
        if len(calls) == 1:
            raise SoftTimeLimitExceeded("soft time limit exceeded")

    monkeypatch.setitem(registry.KINDS, "slow", registry.Kind("slow", slow))
    run = batch_services.batch_start("slow", 2026, community_ids=[org.community("a1").pk], dispatch=False)
    run = batch_services.batch_run_inline(run)
    item = run.items.get()
    assert item.status == BatchItem.Status.FAILED and "SoftTimeLimitExceeded" in item.error
    assert len(calls) == 1  # not retried as a transient error
    assert batch_services.batch_rerun_failures(run, dispatch=False) == 1
    run = batch_services.batch_run_inline(run)
    assert run.items.get().status == BatchItem.Status.DONE
