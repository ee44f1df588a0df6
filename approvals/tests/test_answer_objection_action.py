"""The generic "答复异议" page (/proposals/<pk>/do/answer_objection/?target=<objection>) asks how the answer
reached the resident, like the objection's own page: the same form (approvals.forms.ObjectionAnswerForm) and
the same service (approvals.services.objection_answer), which records the channel and puts it in the audit
trail. Without a channel, or with one that is not offered, nothing is recorded and the page says so in Chinese."""
import datetime
import re

import pytest
from django.urls import reverse

from approvals import services as chain
from approvals.models import Objection
from audit.models import AuditRecord
from fundapp.models import Role
from tests.chain import allocate, draft, meeting_passed, travel

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

D = datetime.date
TODAY = D(2026, 10, 1)


@pytest.fixture
def open_objection(org):
    allocate(org)
    proposal = meeting_passed(org, draft(org))
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(D(2026, 9, 30)):
        notice = chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 9, 30), working_days=3)
        objection = chain.objection_record(notice=notice, channel="online", resident_name="李四", text="施工太吵",
                                           resident_contact="13800000000")
    url = reverse("approvals:proposal-action", args=[proposal.pk, "answer_objection"]) + f"?target={objection.pk}"
    return secretary, objection, url


def _unchanged(objection):
    fresh = Objection.objects.get(pk=objection.pk)
    return (fresh.is_open and fresh.answer == "" and fresh.answer_channel == ""
            and not AuditRecord.objects.filter(action="objection.answer").exists())


@pytest.mark.django_db
def test_the_page_asks_for_the_channel_with_the_objection_pages_choices(open_objection, client):
    secretary, objection, url = open_objection
    client.force_login(secretary)
    with travel(TODAY):
        page = client.get(url).content.decode()
    assert "答复方式" in page and "答复内容" in page
    for value, label in Objection.AnswerChannel.choices:
        assert f'value="{value}"' in page and str(label) in page
    # One field whose label contains 答复 and is bound to it (what the browser tests fill in by label).
    bound = re.findall(r'<label for="([^"]+)">[^<]*答复', page)
    assert bound == ["id_answer"], bound


@pytest.mark.django_db
@pytest.mark.parametrize("posted", [{}, {"channel": ""}, {"channel": "fax"}, {"channel": "online"}],
                         ids=["missing", "blank", "unknown", "a-filing-channel"])
def test_without_a_valid_channel_nothing_is_recorded(open_objection, client, posted):
    secretary, objection, url = open_objection
    client.force_login(secretary)
    with travel(TODAY):
        response = client.post(url, {"target": objection.pk, "answer": "已电话说明，改为白天施工", **posted})
    assert response.status_code == 200
    assert "请选择答复方式。" in response.content.decode()
    assert _unchanged(objection)


@pytest.mark.django_db
def test_the_channel_is_recorded_and_audited(open_objection, client):
    secretary, objection, url = open_objection
    client.force_login(secretary)
    with travel(TODAY):
        response = client.post(url, {"target": objection.pk, "answer": "已电话说明，改为白天施工", "channel": "phone"})
    assert response.status_code == 302
    objection.refresh_from_db()
    assert not objection.is_open and objection.answer_channel == "phone"
    assert objection.answer == "已电话说明，改为白天施工" and objection.answered_by == secretary
    record = AuditRecord.objects.get(action="objection.answer", target_id=str(objection.pk))
    assert record.after == {"answered": True, "channel": "phone"} and record.actor == secretary


@pytest.mark.django_db
def test_an_english_page_says_it_in_english(open_objection, client, settings):
    secretary, objection, url = open_objection
    client.force_login(secretary)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with travel(TODAY):
        response = client.post(url, {"target": objection.pk, "answer": "x", "channel": "fax"})
    page = response.content.decode()
    assert "Please choose how the answer was given." in page and "请选择答复方式。" not in page
    assert _unchanged(objection)


@pytest.mark.django_db
def test_the_service_refuses_a_channel_it_does_not_know(open_objection):
    secretary, objection, _ = open_objection
    with travel(TODAY), pytest.raises(chain.DomainError, match="请选择答复方式"):
        chain.objection_answer(objection=objection, by=secretary, answer="x", channel="fax")
    assert _unchanged(objection)
