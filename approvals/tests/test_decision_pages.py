"""The pages of issue 14's "where it stands", "decisions with their basis" and "the secretary answers the
resident": what each person sees, and that looking at a resident's phone leaves an audit record."""
import datetime
import re

import pytest
from django.urls import reverse

from approvals import services as chain
from approvals.models import Objection, Proposal
from audit.models import AuditRecord
from fundapp.models import Role
from tests.chain import allocate, draft, meeting_passed, travel

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

D = datetime.date
PHONE = "13912345678"


@pytest.fixture
def objected(org):
    """A 30,000 small-group proposal under review in a1 after one leader approved; its notice drew an
    objection from 张三丰 (phone PHONE), answered; a second objection stays open on a running notice in a2."""
    allocate(org)
    allocate(org, "a2")
    org.person(Role.SUBDISTRICT_SECRETARY).__class__.objects.filter(
        pk=org.person(Role.SUBDISTRICT_SECRETARY).pk).update(first_name="王建国")
    p = meeting_passed(org, draft(org, budget="30000.00", small_group=True))
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(D(2026, 9, 30)):
        notice = chain.notice_post(proposal=p, by=secretary, posted_on=D(2026, 9, 30), working_days=3)
        objection = chain.objection_record(notice=notice, channel="online", resident_name="张三丰", text="施工太吵",
                                           resident_contact=PHONE)
        chain.objection_answer(objection=objection, by=secretary, answer="改为白天施工", channel="phone")
    with travel(D(2026, 10, 10)):
        chain.proposal_submit_for_review(proposal=p, by=secretary)
    with travel(D(2026, 10, 12)):
        chain.review_decide(proposal=p, by=org.person(Role.SUBDISTRICT_SECRETARY), decision="approve",
                            reason="方案可行")
    return org, Proposal.objects.get(pk=p.pk), objection


def text(response):
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.mark.django_db
def test_the_leader_reviewing_sees_the_basis_and_what_approving_will_change(objected, client):
    org, p, objection = objected
    client.force_login(org.person(Role.CONSTRUCTION_DIRECTOR))
    with travel(D(2026, 10, 12)):
        page = text(client.get(reverse("approvals:proposal-action", args=[p.pk, "review"])))
    # the plan and its budget lines
    assert "路灯及人工" in page and "¥30,000.00" in page
    # the funds available now and after this budget is taken; the small-group cap used before and after
    assert "可用 ¥200,000.00 ¥170,000.00" in page
    assert "上限 ¥40,000.00" in page and "¥0.00 ¥30,000.00" in page
    # the meeting's votes, the notice and its objection with the answer and how it was given
    assert "赞成 20，反对 3，弃权 2" in page and "2026年9月28日" in page
    assert "2026年9月30日 张贴，公示 3 个工作日" in page
    assert "施工太吵" in page and "改为白天施工" in page and "电话答复" in page
    # the other leader's decision in this round
    assert "王建国" in page and "方案可行" in page
    # what confirming does: approved, 30,000 reserved
    assert "审核中 → 已批准" in page and "预留 ¥30,000.00" in page and "¥200,000.00 → ¥170,000.00" in page
    # and nobody's phone or full name
    assert PHONE not in page and "张三丰" not in page and "张**" in page


@pytest.mark.django_db
def test_every_confirmation_page_says_what_it_changes(objected, client):
    org, p, _ = objected
    fresh = draft(org, title="新项目")
    client.force_login(org.person(Role.COMMUNITY_SECRETARY))
    page = text(client.get(reverse("approvals:proposal-action", args=[fresh.pk, "submit_for_consent"])))
    assert "确认后将发生什么" in page and "起草中 → 待初步同意" in page and "不动用经费" in page


@pytest.mark.django_db
def test_the_proposal_page_says_with_whom_it_is_and_marks_the_current_step(objected, client):
    org, p, _ = objected
    client.force_login(org.person(Role.SUPERVISOR))
    with travel(D(2026, 10, 12)):
        response = client.get(reverse("approvals:proposal", args=[p.pk]))
    html = response.content.decode()
    current = re.findall(r'<li class="step ([a-z]+)" aria-current="step">\s*<span[^>]*>(\d+)</span>\s*'
                         r'<span class="label">([^<]+)</span>', html)
    assert current == [("current", "6", "党工委审批")]
    page = text(response)
    assert "王建国（社区党工委书记）：同意" in page
    assert f"待{org.person(Role.CONSTRUCTION_DIRECTOR).first_name}（社区建设管理委员会主任）审批" in page
    assert "审批期限：" in page


@pytest.mark.django_db
def test_only_the_communitys_secretary_may_see_the_objectors_phone_and_each_look_is_recorded(objected, client):
    org, p, objection = objected
    url = reverse("approvals:objection-contact", args=[p.pk, objection.pk])
    detail = reverse("approvals:proposal", args=[p.pk])
    for role, code in [(Role.SUPERVISOR, "a1"), (Role.COMMUNITY_STAFF, "a1"), (Role.SUBDISTRICT_SECRETARY, "a1"),
                       (Role.CONSTRUCTION_DIRECTOR, "a1"), (Role.SUBDISTRICT_STAFF, "a1"), (Role.CITY_ADMIN, "a1")]:
        client.force_login(org.person(role, code))
        page = client.get(detail).content.decode()
        assert PHONE not in page and "张三丰" not in page, role
        assert url not in page, role
        assert client.post(url).status_code == 404, role
    client.force_login(org.person(Role.COMMUNITY_SECRETARY, "a2"))  # another community's secretary
    assert client.post(url).status_code == 404
    assert not AuditRecord.objects.filter(action="objection.contact_viewed").exists()

    secretary = org.person(Role.COMMUNITY_SECRETARY)
    client.force_login(secretary)
    page = client.get(detail).content.decode()
    assert PHONE not in page and "张三丰" not in page  # not on render: only when asked for
    objection_page = client.get(reverse("approvals:objection", args=[p.pk, objection.pk])).content.decode()
    assert url in objection_page and PHONE not in objection_page
    assert client.get(url).status_code == 405
    shown = client.post(url)
    assert shown["Cache-Control"].startswith("max-age=0") or "no-store" in shown["Cache-Control"]
    assert PHONE in shown.content.decode() and "张三丰" in shown.content.decode()
    client.post(url)
    looks = AuditRecord.objects.filter(action="objection.contact_viewed", target_id=str(objection.pk))
    assert looks.count() == 2
    look = looks.first()
    assert look.actor_id == secretary.pk and look.community_id == p.community_id
    assert PHONE not in str(look.after) and "张三丰" not in str(look.after)


@pytest.mark.django_db
def test_the_secretary_answers_an_objection_by_phone_and_the_channel_is_recorded(objected, client):
    org, _, _ = objected
    p = meeting_passed(org, draft(org, "a2", title="另一个项目"), "a2")
    secretary = org.person(Role.COMMUNITY_SECRETARY, "a2")
    with travel(D(2026, 9, 30)):
        notice = chain.notice_post(proposal=p, by=secretary, posted_on=D(2026, 9, 30), working_days=3)
        objection = chain.objection_record(notice=notice, channel="online", resident_name="李四", text="有意见",
                                           resident_contact="13800000000")
        url = reverse("approvals:objection", args=[p.pk, objection.pk])
        client.force_login(org.person(Role.SUPERVISOR, "a2"))
        assert client.post(url, {"answer": "x", "channel": "phone"}).status_code == 404
        client.force_login(secretary)
        page = client.get(reverse("approvals:proposal", args=[p.pk])).content.decode()
        assert url in page  # the secretary's way to the resident
        refused = client.post(url, {"answer": "已电话说明", "channel": "fax"})
        assert refused.status_code == 200 and Objection.objects.get(pk=objection.pk).is_open
        response = client.post(url, {"answer": "已电话说明", "channel": "phone"})
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.answer_channel == "phone" and not objection.is_open
    record = AuditRecord.objects.get(action="objection.answer", target_id=str(objection.pk))
    assert record.after["channel"] == "phone"


@pytest.mark.django_db
def test_the_work_queue_row_says_where_each_item_stands(objected, client):
    org, p, _ = objected
    client.force_login(org.person(Role.CONSTRUCTION_DIRECTOR))
    with travel(D(2026, 10, 12)):
        page = text(client.get(reverse("home")))
    row = page.split(p.title, 1)[1]
    assert "王建国（社区党工委书记）：同意；待" in row and "审批，2026年10月" in row


@pytest.mark.django_db
def test_the_application_form_says_where_it_stands_in_its_header(objected, client, tmp_path):
    import shutil
    import subprocess

    org, p, _ = objected
    client.force_login(org.person(Role.SUPERVISOR))
    with travel(D(2026, 10, 12)):
        response = client.get(reverse("approvals:proposal-pdf", args=[p.pk]))
    path = tmp_path / "form.pdf"
    path.write_bytes(response.content)
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext missing: apt-get install poppler-utils")
    pdf = re.sub(r"\s+", "", subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                                            text=True, check=True).stdout)
    assert "办理进度（2026年10月12日）：审核中" in pdf
    assert "王建国（社区党工委书记）：同意；待" in pdf and "审批，2026年10月" in pdf
