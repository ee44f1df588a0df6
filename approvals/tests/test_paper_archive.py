"""Posting a notice archives its paper (Art. 17): the PDF with its SHA-256, the time and who; what is served
afterwards (to staff and residents) is that archived copy, never silently changed; a failed rendering posts
nothing; a calendar change that moves a running notice's last day archives a new version. The community's
phone and address print on the notices; an acting post prints "（代）" after its title."""
import datetime
import hashlib

import pytest
from django.urls import reverse

from approvals import pdf
from approvals import services as chain
from approvals.models import Notice, NoticePaper, Proposal, State
from audit.models import AuditRecord
from fundapp.models import Post, Role
from fundapp.services import org as org_services
from tests.chain import allocate, draft, meeting_passed, reload, travel
from workdays.services import calendar_change, make_changes
from workdays.tests.helpers import running_notice

from .test_papers import RECIPIENT, get_pdf, pdf_text, walked

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

D = datetime.date
PHONE, ADDRESS = "0431-88886666", "幸福路18号社区党群服务中心一楼"


@pytest.fixture
def people(org):
    from .test_papers import NAMES

    for (role, scope), user in org.people.items():
        if scope in ("a1", "a") and role in NAMES:
            user.first_name = NAMES[role]
            user.save(update_fields=["first_name"])
    return org


@pytest.fixture(autouse=True)
def _fresh_public_cache():
    # The public pages' cache (Redis) is keyed by community code and day: an earlier test's page of "a1" on the
    # same day must not be taken for this one's.
    from django.core.cache import cache

    cache.clear()


def stored(paper):
    with paper.file.open("rb") as f:
        return f.read()


@pytest.mark.django_db
def test_posting_each_notice_archives_its_paper_with_checksum_time_and_who(people, client, tmp_path):
    org = people
    proposal = walked(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    notices = list(Notice.objects.filter(proposal=proposal).order_by("pk"))
    assert [n.kind for n in notices] == [Notice.Kind.PLAN, Notice.Kind.VOUCHER, Notice.Kind.COMPLETION]
    urls = {Notice.Kind.PLAN: reverse("approvals:paper-plan-notice", args=[proposal.pk]),
            Notice.Kind.COMPLETION: reverse("approvals:paper-completion-notice", args=[proposal.pk])}
    for notice in notices:
        [paper] = NoticePaper.objects.filter(notice=notice)
        data = stored(paper)
        assert data.startswith(b"%PDF") and paper.size == len(data)
        assert paper.sha256 == hashlib.sha256(data).hexdigest()
        assert paper.reason == NoticePaper.Reason.POSTED
        assert paper.generated_by == secretary and paper.generated_post == notice.post
        assert paper.generated_at is not None and paper.content["title"] == notice.get_kind_display()
        record = AuditRecord.objects.get(action="notice.paper_archived", after__notice=notice.pk)
        assert record.after["sha256"] == paper.sha256 and record.actor == secretary
        assert record.effective_on == notice.posted_on
        url = urls.get(notice.kind) or reverse("approvals:paper-voucher-notice", args=[proposal.pk, notice.pk])
        assert get_pdf(client, org.person(Role.SUPERVISOR), url) == data  # the archived copy is served
        text = pdf_text(data, tmp_path, f"archived-{notice.kind}.pdf")
        assert notice.last_day.strftime("%Y年%-m月%-d日") in text and RECIPIENT not in text
    # a notice is archived as posted once
    with pytest.raises(Exception):
        from approvals.paper_archive import notice_paper_archive

        notice_paper_archive(notice=notices[0], by=secretary)


@pytest.mark.django_db
def test_a_later_change_of_the_record_never_changes_the_archived_paper(people, client, tmp_path):
    org = people
    allocate(org)
    proposal = meeting_passed(org, draft(org, budget="22000.00"))
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(D(2026, 9, 30)):
        chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 9, 30),
                          text="本项目回应张三（13912345678）反映的需求，请居民踊跃监督。")
    paper = NoticePaper.objects.get(notice__proposal=proposal)
    posted = stored(paper)
    text = pdf_text(posted, tmp_path)
    # what staff typed is posted with the project's private persons masked and numbers removed
    assert "回应张*（***）反映的需求，请居民踊跃监督" in text and "张三" not in text and "13912345678" not in text
    assert paper.content["remark"] == "本项目回应张*（***）反映的需求，请居民踊跃监督。"
    org_services.community_update(community=org.community("a1"), by=org.city_admin, phone=PHONE, address=ADDRESS,
                                  name="东城街道幸福社区")
    url = reverse("approvals:paper-plan-notice", args=[proposal.pk])
    served = get_pdf(client, secretary, url)
    assert served == posted and hashlib.sha256(served).hexdigest() == paper.sha256
    assert PHONE not in pdf_text(served, tmp_path) and "幸福社区" not in pdf_text(served, tmp_path)
    # the record as it is now would print otherwise: that is not what was posted
    now = pdf_text(pdf.plan_notice(reload(proposal)), tmp_path)
    assert PHONE in now and "幸福社区" in now
    # a damaged archive is an error, never served as what was posted
    with open(paper.file.path, "ab") as f:
        f.write(b"tampered")
    from approvals.paper_archive import ArchiveDamaged

    client.raise_request_exception = True
    with pytest.raises(ArchiveDamaged):
        client.get(url)


@pytest.mark.django_db
def test_a_failed_rendering_posts_nothing(people, settings, tmp_path):
    org = people
    allocate(org)
    proposal = meeting_passed(org, draft(org))
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("x")
    settings.MEDIA_ROOT = str(blocked)  # the archive cannot be written
    before = AuditRecord.objects.count()
    with travel(D(2026, 9, 30)), pytest.raises(OSError):
        chain.notice_post(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY), posted_on=D(2026, 9, 30))
    assert Proposal.objects.get(pk=proposal.pk).state == State.MEETING_PASSED
    assert not Notice.objects.filter(proposal=proposal).exists() and not NoticePaper.objects.exists()
    assert AuditRecord.objects.count() == before


@pytest.mark.django_db
def test_a_calendar_change_archives_a_new_version_and_keeps_the_posted_one(org, tmp_path,
                                                                          django_capture_on_commit_callbacks):
    proposal = running_notice(org)
    notice = Notice.objects.get(proposal=proposal)
    posted = NoticePaper.objects.get(notice=notice)
    assert "2026年12月24日" in pdf_text(stored(posted), tmp_path)
    with travel(D(2026, 12, 23)), django_capture_on_commit_callbacks(execute=True):
        calendar_change(by=org.city_admin, changes=make_changes({D(2026, 12, 24): False}), reason="临时放假")
    papers = list(NoticePaper.objects.filter(notice=notice).order_by("pk"))
    assert [p.reason for p in papers] == [NoticePaper.Reason.POSTED, NoticePaper.Reason.RECALCULATED]
    assert stored(papers[0]) == stored(posted) and papers[0].sha256 == posted.sha256  # kept as it was
    text = pdf_text(stored(papers[1]), tmp_path)
    assert "2026年12月25日" in text and papers[1].content["period"].endswith("2026年12月25日 止。")
    assert AuditRecord.objects.filter(action="notice.paper_archived", after__reason="recalculated").count() == 1


@pytest.mark.django_db
def test_the_public_page_shows_each_notice_in_full_with_a_link_to_its_archived_pdf(people, client, tmp_path):
    org = people
    proposal = walked(org)
    with travel(D(2026, 11, 13)):
        page = client.get(reverse("public:community-year", args=["a1", 2026])).content.decode()
    completion = Notice.objects.get(proposal=proposal, kind=Notice.Kind.COMPLETION)
    voucher = Notice.objects.get(proposal=proposal, kind=Notice.Kind.VOUCHER)
    plan = Notice.objects.get(proposal=proposal, kind=Notice.Kind.PLAN)
    for expected in ["项目完成公示全文", "结算合计", "¥21,200.05", "贰万壹仟贰佰元零伍分", "赵**", "验收结论：合格",
                     "本公示自 2026年11月12日 起张贴", "中共东城街道1号社区委员会",
                     "无发票支付公示全文", "¥1,200.05", "项目方案公示全文", "贰万贰仟元整", "楼道路灯不亮"]:
        assert expected in page, expected
    assert RECIPIENT not in page and "张三" not in page  # the recipient, the need's resident
    for notice in (plan, voucher, completion):
        url = reverse("public:notice-pdf", args=["a1", notice.public_id])
        assert f'href="{url}"' in page
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response.content == stored(NoticePaper.objects.get(notice=notice))
        text = pdf_text(response.content, tmp_path)
        assert RECIPIENT not in text and "张三" not in text
    # another community's code, a notice taken down: nothing
    assert client.get(reverse("public:notice-pdf", args=["a2", plan.public_id])).status_code == 404
    Notice.objects.filter(pk=plan.pk).update(status=Notice.Status.WITHDRAWN)
    assert client.get(reverse("public:notice-pdf", args=["a1", plan.public_id])).status_code == 404
    # the open data carries the same text
    with travel(D(2026, 11, 13)):
        data = client.get(reverse("public:community-year-json", args=["a1", 2026])).json()
    [running] = data["running_notices"]
    assert running["content"]["sections"][1]["rows"][-1] == ["大写", "贰万壹仟贰佰元零伍分"]
    assert running["pdf"] == reverse("public:notice-pdf", args=["a1", completion.public_id])


@pytest.mark.django_db
def test_community_phone_and_address_print_on_the_notices_and_are_audited(people, client, tmp_path):
    org = people
    community = org.community("a1")
    org_services.community_update(community=community, by=org.city_admin, phone=PHONE, address=ADDRESS)
    record = AuditRecord.objects.filter(action="community.change").latest("seq")
    assert record.before == {"phone": "", "address": ""} and record.after == {"phone": PHONE, "address": ADDRESS}
    proposal = walked(org)
    for notice in Notice.objects.filter(proposal=proposal):
        text = pdf_text(stored(NoticePaper.objects.get(notice=notice)), tmp_path, f"notice-{notice.kind}-contact.pdf")
        assert f"电话：{PHONE}" in text and f"地址：{ADDRESS}（社区便民服务大厅）" in text
    with travel(D(2026, 11, 13)):
        page = client.get(reverse("public:community-year", args=["a1", 2026])).content.decode()
    assert PHONE in page and ADDRESS in page
    # shown and edited in the back office
    client.force_login(org.city_admin)
    form = client.get(reverse("admin:fundapp_community_change", args=[community.pk])).content.decode()
    assert 'name="phone"' in form and 'name="address"' in form


@pytest.mark.django_db
def test_an_acting_post_prints_dai_after_its_title_on_every_signature(people, client, tmp_path):
    org = people
    director = org.person(Role.CONSTRUCTION_DIRECTOR)
    post = Post.objects.get(user=director, role=Role.CONSTRUCTION_DIRECTOR)
    post.acting = True
    org_services.post_save(post=post, by=org.city_admin)
    record = AuditRecord.objects.filter(action="post.change").latest("seq")
    assert record.before["acting"] is False and record.after["acting"] is True
    proposal = walked(org)
    text = pdf_text(get_pdf(client, director, reverse("approvals:proposal-pdf", args=[proposal.pk])), tmp_path,
                    "application-form-acting.pdf")
    assert "刘芳·社区建设管理委员会主任（代）" in text
    assert "陈志刚·社区党工委书记" in text and "社区党工委书记（代）" not in text
    assert pdf.signer(director, post) == "刘芳 · 社区建设管理委员会主任（代）"
    client.force_login(org.city_admin)
    form = client.get(reverse("admin:fundapp_post_change", args=[post.pk])).content.decode()
    assert 'name="acting"' in form
