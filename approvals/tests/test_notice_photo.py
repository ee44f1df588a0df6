"""The photo of a posted notice, attached after posting (approvals.services.notice_photo_attach): posting
produces the paper; the secretary prints it, posts it, photographs the board and uploads the photo — to any
notice of any kind, while the project goes on or after it ended. The photo is filed like the posting form's
(a notice photo of the proposal), audited, shown on the proposal page and on the public page; someone else's
community, a file that is not a photo, or no file is refused and writes nothing."""
import datetime

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from approvals import services as chain
from approvals.actions import ACTIONS, offers
from approvals.forms import NoticePhotoForm
from approvals.models import Document, Notice, State
from audit.models import AuditRecord
from fundapp.errors import DomainError, NotAllowed
from fundapp.models import Role
from tests.chain import allocate, draft, meeting_passed, reload, settleable, travel
from tests.files import JPEG, PDF, png_bytes

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

D = datetime.date
PHOTO = Document.Kind.NOTICE_PHOTO


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def photo(name="公示栏.png", data=None):
    return [(PHOTO, SimpleUploadedFile(name, png_bytes() if data is None else data))]


def posted(org, title="楼道路灯更换"):
    """A plan notice posted on Wed 2026-09-30 without a photo (the paper is printed after posting)."""
    allocate(org)
    proposal = meeting_passed(org, draft(org, title=title))
    with travel(D(2026, 9, 30)):
        return chain.notice_post(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY), posted_on=D(2026, 9, 30),
                                 working_days=3, text="更换 40 盏楼道路灯")


def written():
    return Document.objects.count(), AuditRecord.objects.count()


@pytest.mark.django_db
def test_the_photo_is_attached_audited_and_shown_to_staff_and_residents(org, client):
    notice = posted(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(D(2026, 10, 1)):
        [document] = chain.notice_photo_attach(notice=notice, by=secretary, documents=photo())
    assert (document.proposal_id, document.kind, document.action) == (notice.proposal_id, PHOTO, "post_notice")
    assert document.content_type == "image/png" and document.original_name == "公示栏.png"
    with document.file.open("rb") as handle:
        assert handle.read() == png_bytes()
    record = AuditRecord.objects.get(action="notice.photo_attached")
    assert record.actor == secretary and record.post_label  # the post acted in
    assert (record.target_type, record.target_id) == ("approvals.proposal", str(notice.proposal_id))
    assert record.after == {"notice": notice.pk, "kind": "plan", "documents": [document.sha256]}
    assert record.effective_on == D(2026, 10, 1)

    # The proposal page: the file among the materials, the step in the timeline.
    client.force_login(secretary)
    page = client.get(reverse("approvals:proposal", args=[notice.proposal_id])).content.decode()
    assert reverse("approvals:document", args=[document.pk]) in page and "公示栏.png" in page
    assert "上传公示栏照片" in page

    # The public page: the notice photo of a project put before residents, served as uploaded.
    client.logout()
    cache.clear()
    page = client.get(reverse("public:community-year", args=["a1", 2026])).content.decode()
    link = reverse("public:document", args=["a1", document.public_id])
    assert link in page and "公示照片" in page
    response = client.get(link)
    assert response.status_code == 200 and b"".join(response.streaming_content) == png_bytes()


@pytest.mark.django_db
def test_offered_per_posted_notice_and_attached_through_the_page(org, client):
    notice = posted(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = reload(notice.proposal)
    with travel(D(2026, 10, 1)):
        found = [o for o in offers(secretary, proposal) if o.action.name == "attach_notice_photo"]
        assert [(o.target, o.available) for o in found] == [(notice, True)]
        for person in (org.person(Role.COMMUNITY_STAFF), org.person(Role.SUBDISTRICT_SECRETARY),
                       org.person(Role.COMMUNITY_SECRETARY, "a2")):
            assert "attach_notice_photo" not in {o.action.name for o in offers(person, proposal)}
        client.force_login(secretary)
        page = client.get(reverse("approvals:proposal", args=[proposal.pk])).content.decode()
        url = reverse("approvals:proposal-action", args=[proposal.pk, "attach_notice_photo"])
        assert f'{url}?target={notice.pk}' in page
        form_page = client.get(f"{url}?target={notice.pk}").content.decode()
        assert 'accept="image/jpeg,image/png"' in form_page
        refused = client.post(url, {"target": str(notice.pk)})  # no file: the form says so, nothing written
        assert refused.status_code == 200 and not Document.objects.exists()
        assert "请选择公示栏照片。" in refused.content.decode()
        response = client.post(url, {"target": str(notice.pk), "photo": SimpleUploadedFile("board.jpg", JPEG)})
    assert response.status_code == 302
    document = Document.objects.get()
    assert (document.kind, document.content_type, document.original_name) == (PHOTO, "image/jpeg", "board.jpg")


@pytest.mark.django_db
def test_any_notice_of_any_kind_takes_a_photo_after_the_project_moved_on(org):
    """A completion notice of a completed project, and a plan notice of a project withdrawn since: each ran
    on the board, so its photo is evidence still."""
    proposal, invoice = settleable(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(D(2026, 11, 4)):
        chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER), paid_on=D(2026, 11, 4),
                             method="transfer", reference="T-1")
    with travel(D(2026, 11, 5)):
        chain.settlement_finish(proposal=proposal, by=secretary)
        completion = chain.completion_notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 11, 5))
    with travel(D(2026, 11, 20)):
        chain.proposal_complete(proposal=proposal, by=secretary)
        assert reload(proposal).state == State.COMPLETED
        [document] = chain.notice_photo_attach(notice=completion, by=secretary, documents=photo("完成公示.png"))
        assert document.action == "post_completion_notice"
        found = {o.target for o in offers(secretary, reload(proposal)) if o.action.name == "attach_notice_photo"}
        assert found == set(proposal.notices.all()) and len(found) == 2  # the plan's and the completion's

    withdrawn = meeting_passed(org, draft(org, title="撤回的项目"))
    with travel(D(2026, 10, 8)):
        plan = chain.notice_post(proposal=withdrawn, by=secretary, posted_on=D(2026, 10, 8))
        chain.proposal_withdraw(proposal=withdrawn, by=secretary, reason="居民意见变化")
        assert Notice.objects.get(pk=plan.pk).status == Notice.Status.WITHDRAWN
        [document] = chain.notice_photo_attach(notice=plan, by=secretary, documents=photo())
    assert document.proposal_id == withdrawn.pk
    assert AuditRecord.objects.filter(action="notice.photo_attached").count() == 2


@pytest.mark.django_db
def test_someone_else_and_bad_files_are_refused_and_nothing_is_written(org):
    notice = posted(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    before = written()
    with travel(D(2026, 10, 1)):
        for person in (org.person(Role.COMMUNITY_SECRETARY, "a2"), org.person(Role.SUBDISTRICT_SECRETARY, "b1"),
                       org.person(Role.COMMUNITY_STAFF), org.person(Role.SUPERVISOR)):
            with pytest.raises(NotAllowed):
                chain.notice_photo_attach(notice=notice, by=person, documents=photo())
        cases = {
            "no file": ([], "请选择公示栏照片"),
            "a PDF is not a photo": (photo("公示.pdf", PDF), "不是照片"),
            "not an image at all": (photo("公示.png", b"just some text, no picture"), "不是 PDF、JPEG 或 PNG"),
            "an empty file": (photo("公示.png", b""), "是空的"),
            "a PNG named .jpg": (photo("公示.jpg"), "扩展名与内容不符"),
            "another kind of document": ([(Document.Kind.MINUTES, SimpleUploadedFile("x.png", png_bytes()))],
                                         "只能上传公示栏照片"),
            "a good photo, then a PDF": ([*photo(), *photo("公示.pdf", PDF)], "不是照片"),
        }
        for case, (documents, message) in cases.items():
            with pytest.raises(DomainError) as refused:
                chain.notice_photo_attach(notice=notice, by=secretary, documents=documents)
            assert message in str(refused.value), case
    assert written() == before


def test_the_form_requires_a_photo_and_binds_to_the_service():
    empty = NoticePhotoForm({}, {})
    assert not empty.is_valid() and empty.errors["photo"] == ["请选择公示栏照片。"]
    form = NoticePhotoForm({}, {"photo": SimpleUploadedFile("board.png", png_bytes())})
    assert form.is_valid(), form.errors
    action = ACTIONS["attach_notice_photo"]
    assert action.service is chain.notice_photo_attach and action.target is Notice and not action.waits
    assert action.operation == "notice_photo_attach"


@pytest.mark.django_db
def test_a_photo_kept_from_a_refused_submit_counts_as_chosen(org):
    from approvals import uploads

    secretary = org.person(Role.COMMUNITY_SECRETARY)
    kept = uploads.pending_keep(owner=secretary, name="公示栏.png", data=png_bytes(), mime="image/png")
    form = NoticePhotoForm({"photo-kept": kept.token}, {}, owner=secretary)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["photo"].read() == png_bytes()
    dropped = NoticePhotoForm({"photo-kept": kept.token, "photo-kept-drop": "1"}, {}, owner=secretary)
    assert not dropped.is_valid() and dropped.errors["photo"] == ["请选择公示栏照片。"]
