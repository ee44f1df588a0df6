"""The papers a community files and signs are archived when they are filed (Art. 17), as notices are when they
are posted: the application form on submission for consent and again for review, the minutes when the meeting
is recorded, the acceptance sheet when the acceptance is recorded, the annual report when it is submitted and
again when it is evaluated. Each with its SHA-256, time, who and post, rendered in the act's transaction (no
paper, no act); served afterwards as archived, never silently changed by a later edit of the record; a damaged
archive is an error; the back office lists the archives read-only."""
import datetime
import hashlib

import pytest
from django.urls import reverse

from approvals import paper_archive
from approvals import services as chain
from approvals.models import AnnualReport, FiledPaper, Meeting, NoticePaper, Proposal, State
from approvals.paper_archive import ArchiveDamaged
from approvals.reports import annual_report_draft, annual_report_evaluate, annual_report_submit
from audit.models import AuditRecord
from fundapp.models import Post, Role
from fundapp.services import org as org_services
from tests.chain import allocate, approve, draft, meeting_passed, reload, to_accepted, travel

from .test_papers import get_pdf, pdf_text

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

D = datetime.date
Kind, Reason = FiledPaper.Kind, FiledPaper.Reason


def stored(paper):
    with paper.file.open("rb") as f:
        return f.read()


def assert_archived(paper, by, role):
    data = stored(paper)
    assert data.startswith(b"%PDF") and paper.size == len(data)
    assert paper.sha256 == hashlib.sha256(data).hexdigest()
    assert paper.generated_by == by and paper.generated_post == Post.objects.get(user=by, role=role)
    record = AuditRecord.objects.get(action="paper.filed", target_id=str(paper.pk))
    assert record.after["sha256"] == paper.sha256 and record.actor == by and record.after["reason"] == paper.reason
    return data


@pytest.mark.django_db
def test_each_filing_act_archives_its_paper_and_the_views_serve_it(org, client, tmp_path):
    allocate(org)
    proposal = meeting_passed(org, draft(org, budget="22000.00"))  # submitted for consent, consent, meeting
    secretary, staff = org.person(Role.COMMUNITY_SECRETARY), org.person(Role.SUBDISTRICT_STAFF)
    with travel(D(2026, 9, 30)):
        chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 9, 30), working_days=3)
    with travel(D(2026, 10, 10)):
        chain.proposal_submit_for_review(proposal=proposal, by=secretary)
    approve(org, proposal)
    to_accepted(org, proposal)
    proposal = reload(proposal)
    meeting, acceptance = proposal.meetings.get(), proposal.acceptances.get()
    papers = list(FiledPaper.objects.filter(proposal=proposal).order_by("pk"))
    assert [(p.kind, p.reason, p.record_id) for p in papers] == [
        (Kind.APPLICATION_FORM, Reason.SUBMITTED_FOR_CONSENT, proposal.pk),
        (Kind.MEETING_MINUTES, Reason.MEETING_RECORDED, meeting.pk),
        (Kind.APPLICATION_FORM, Reason.SUBMITTED_FOR_REVIEW, proposal.pk),
        (Kind.ACCEPTANCE_SHEET, Reason.ACCEPTANCE_RECORDED, acceptance.pk),
    ]
    consent_form, minutes, review_form, sheet = papers
    viewer = org.person(Role.SUPERVISOR)
    # the application form, as printed when it was filed: each version at its own address, listed on the page
    data = assert_archived(consent_form, secretary, Role.COMMUNITY_SECRETARY)
    url = reverse("approvals:paper-application-form", args=[proposal.pk, consent_form.pk])
    assert get_pdf(client, viewer, url) == data
    text = pdf_text(data, tmp_path, "filed-application-form.pdf")
    assert "申请审批表" in text and "申请日期：2026年9月28日" in text and "贰万贰仟元整" in text
    data = assert_archived(review_form, secretary, Role.COMMUNITY_SECRETARY)
    url_review = reverse("approvals:paper-application-form", args=[proposal.pk, review_form.pk])
    assert get_pdf(client, viewer, url_review) == data
    page = client.get(reverse("approvals:proposal", args=[proposal.pk])).content.decode()
    assert "申请审批表（报送同意存档，2026年9月28日）" in page and "申请审批表（报送审核存档，2026年10月10日）" in page
    # the minutes and the acceptance sheet: the paper views serve the archived copies
    data = assert_archived(minutes, secretary, Role.COMMUNITY_SECRETARY)
    assert get_pdf(client, viewer, reverse("approvals:paper-minutes", args=[proposal.pk, meeting.pk])) == data
    assert "联席会议纪要" in pdf_text(data, tmp_path, "filed-minutes.pdf")
    data = assert_archived(sheet, staff, Role.SUBDISTRICT_STAFF)
    assert get_pdf(client, viewer, reverse("approvals:paper-acceptance", args=[proposal.pk, acceptance.pk])) == data
    assert "综合验收单" in pdf_text(data, tmp_path, "filed-acceptance.pdf")
    # another proposal's id in the address: nothing
    other = draft(org, title="另一个项目")
    client.force_login(org.person(Role.COMMUNITY_SECRETARY))
    assert client.get(reverse("approvals:paper-application-form", args=[other.pk, consent_form.pk])).status_code == 404
    assert client.get(reverse("approvals:paper-minutes", args=[other.pk, meeting.pk])).status_code == 404
    # an outsider: nothing
    client.force_login(org.person(Role.COMMUNITY_SECRETARY, "a2"))
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_a_later_change_of_the_record_never_changes_the_filed_paper(org, client, tmp_path):
    allocate(org)
    proposal = draft(org, title="老旧小区路灯维修")
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=proposal, by=secretary)
        chain.consent_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=False,
                             comments="请补充预算明细")
        chain.proposal_update(proposal=reload(proposal), by=org.person(Role.COMMUNITY_STAFF), title="楼道照明改造")
    first = FiledPaper.objects.get(proposal=proposal)
    filed = stored(first)
    url = reverse("approvals:paper-application-form", args=[proposal.pk, first.pk])
    served = get_pdf(client, secretary, url)
    assert served == filed and hashlib.sha256(served).hexdigest() == first.sha256
    text = pdf_text(served, tmp_path)
    assert "老旧小区路灯维修" in text and "楼道照明改造" not in text
    # filed again: a new version with the record as it is now; the first is kept as it was
    with travel(D(2026, 9, 29)):
        chain.proposal_submit_for_consent(proposal=reload(proposal), by=secretary)
        chain.consent_decide(proposal=reload(proposal), by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)
        chain.meeting_record(proposal=reload(proposal), by=secretary, held_on=D(2026, 9, 29), place="社区会议室",
                             attendance=9, votes_for=7, votes_against=1, votes_abstain=1, minutes="同意实施")
    first.refresh_from_db()
    assert stored(first) == filed and get_pdf(client, secretary, url) == filed
    second = FiledPaper.objects.filter(proposal=proposal, kind=Kind.APPLICATION_FORM).latest("pk")
    assert second.pk != first.pk and "楼道照明改造" in pdf_text(stored(second), tmp_path)
    # the minutes are served as recorded after the community is renamed
    minutes = FiledPaper.objects.get(proposal=proposal, kind=Kind.MEETING_MINUTES)
    org_services.community_update(community=org.community("a1"), by=org.city_admin, name="东城街道幸福社区")
    minutes_url = reverse("approvals:paper-minutes", args=[proposal.pk, minutes.record_id])
    served = get_pdf(client, secretary, minutes_url)
    assert served == stored(minutes) and "幸福社区" not in pdf_text(served, tmp_path)
    # a damaged archive is an error, never served nor rendered again in its place
    with open(minutes.file.path, "ab") as f:
        f.write(b"tampered")
    client.raise_request_exception = True
    with pytest.raises(ArchiveDamaged):
        client.get(minutes_url)


@pytest.mark.django_db
def test_a_failed_rendering_files_nothing(org, monkeypatch):
    allocate(org)
    proposal = draft(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=proposal, by=secretary)
        chain.consent_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)

    def broken(*args):
        raise RuntimeError("the renderer failed")

    # fault injection: the renderer of the minutes fails; the meeting is not recorded
    monkeypatch.setitem(paper_archive.FILED_RENDERERS, Kind.MEETING_MINUTES, broken)
    before = AuditRecord.objects.count()
    with travel(D(2026, 9, 28)), pytest.raises(RuntimeError):
        chain.meeting_record(proposal=proposal, by=secretary, held_on=D(2026, 9, 28), place="社区会议室",
                             attendance=9, votes_for=7, votes_against=1, votes_abstain=1, minutes="同意实施")
    assert Proposal.objects.get(pk=proposal.pk).state == State.CONSENTED
    assert not Meeting.objects.filter(proposal=proposal).exists()
    assert not FiledPaper.objects.filter(kind=Kind.MEETING_MINUTES).exists()
    assert AuditRecord.objects.count() == before
    # nor is an annual report submitted without its paper
    monkeypatch.setitem(paper_archive.FILED_RENDERERS, Kind.ANNUAL_REPORT, broken)
    with travel(D(2026, 11, 20)):
        report, _ = annual_report_draft(community=org.community("a1"), year=2026)
        before = AuditRecord.objects.count()
        with pytest.raises(RuntimeError):
            annual_report_submit(report=report, by=secretary, narrative="全年实施项目 1 个。")
    report.refresh_from_db()
    assert report.status == AnnualReport.Status.DRAFT and report.submitted_at is None
    assert AuditRecord.objects.count() == before and not FiledPaper.objects.filter(report=report).exists()


@pytest.mark.django_db
def test_the_annual_report_is_archived_when_submitted_and_again_when_evaluated(org, client, tmp_path):
    allocate(org)
    secretary, staff = org.person(Role.COMMUNITY_SECRETARY), org.person(Role.SUBDISTRICT_STAFF)
    with travel(D(2026, 11, 20)):
        report, _ = annual_report_draft(community=org.community("a1"), year=2026)
        annual_report_submit(report=report, by=secretary, narrative="全年实施项目 1 个，楼道照明全部恢复。")
    submitted = FiledPaper.objects.get(report=report)
    filed = assert_archived(submitted, secretary, Role.COMMUNITY_SECRETARY)
    assert submitted.kind == Kind.ANNUAL_REPORT and submitted.reason == Reason.REPORT_SUBMITTED
    url = reverse("approvals:report-pdf", args=[report.pk])
    assert get_pdf(client, secretary, url) == filed
    with travel(D(2026, 12, 3)):
        annual_report_evaluate(report=report, by=staff, grade="good", comments="按期报送，资料齐全。")
    submitted.refresh_from_db()
    evaluated = FiledPaper.objects.filter(report=report).latest("pk")
    assert evaluated.reason == Reason.REPORT_EVALUATED and stored(submitted) == filed
    data = assert_archived(evaluated, staff, Role.SUBDISTRICT_STAFF)
    assert get_pdf(client, secretary, url) == data  # the latest version is served
    text = pdf_text(data, tmp_path, "filed-annual-report.pdf")
    assert "按期报送，资料齐全。" in text and "良好" in text
    assert "按期报送" not in pdf_text(filed, tmp_path)


@pytest.mark.django_db
def test_the_back_office_lists_the_archives_read_only(org, client):
    allocate(org)
    proposal = draft(org)
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY))
    paper = FiledPaper.objects.get(proposal=proposal)
    client.force_login(org.city_admin)
    for model in (FiledPaper, NoticePaper):
        name = model._meta.model_name
        page = client.get(reverse(f"admin:approvals_{name}_changelist")).content.decode()
        assert str(model._meta.verbose_name_plural) in page
        assert client.get(reverse(f"admin:approvals_{name}_add")).status_code == 403
    page = client.get(reverse("admin:approvals_filedpaper_changelist")).content.decode()
    assert "申请审批表" in page and "报送街道党工委书记同意时生成" in page and paper.sha256 in page
    change = reverse("admin:approvals_filedpaper_change", args=[paper.pk])
    page = client.get(change).content.decode()
    assert paper.file.name in page and 'name="_save"' not in page
    assert client.post(change, {"reason": "report_submitted"}).status_code == 403
    delete = reverse("admin:approvals_filedpaper_delete", args=[paper.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert FiledPaper.objects.get(pk=paper.pk).reason == Reason.SUBMITTED_FOR_CONSENT
