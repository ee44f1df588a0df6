"""Where a proposal stands (approvals.standing): with whom, what, by when, and the stepper."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals import services as chain
from approvals.models import Proposal, State
from approvals.standing import STAGES, standing, standings, stepper
from fundapp.models import Role
from tests.chain import allocate, approve, draft, meeting_passed, signed_invoice, to_accepted, to_review, travel

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

D = datetime.date


@pytest.fixture
def funded(org):
    allocate(org)
    allocate(org, "a2")
    # People have names; the pages show them, never a username.
    for role, name in [(Role.SUBDISTRICT_SECRETARY, "王建国"), (Role.CONSTRUCTION_DIRECTOR, "李明"),
                       (Role.COMMUNITY_SECRETARY, "陈红"), (Role.SUBDISTRICT_STAFF, "赵干事"),
                       (Role.FINANCE_OFFICER, "孙会计")]:
        user = org.person(role)
        user.first_name = name
        user.save(update_fields=["first_name"])
    return org


def _only(s):
    assert len(s.tasks) == 1, s.tasks
    return s.tasks[0]


@pytest.mark.django_db
def test_submitted_for_consent_it_is_with_the_subdistrict_secretary_by_name_and_post(funded):
    org = funded
    p = draft(org)
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY))
        s = standing(Proposal.objects.get(pk=p.pk), D(2026, 9, 28))
    task = _only(s)
    assert task.role == Role.SUBDISTRICT_SECRETARY
    assert task.who == f"王建国（{Role.SUBDISTRICT_SECRETARY.label}）"
    assert org.person(Role.SUBDISTRICT_SECRETARY).username not in task.who
    assert "初步同意" in str(task.todo) and task.due is None
    assert "联席会议" in str(s.after)


@pytest.mark.django_db
def test_in_review_after_one_leader_approved_it_waits_for_the_other_by_the_deadline(funded):
    org = funded
    p = to_review(org, draft(org))
    with travel(D(2026, 10, 12)):
        chain.review_decide(proposal=p, by=org.person(Role.SUBDISTRICT_SECRETARY), decision="approve")
    p = Proposal.objects.get(pk=p.pk)
    s = standing(p, D(2026, 10, 12))
    assert s.done == [f"王建国（{Role.SUBDISTRICT_SECRETARY.label}）：同意"]
    task = _only(s)
    assert task.role == Role.CONSTRUCTION_DIRECTOR and task.who.startswith("李明（")
    assert task.due == p.review_deadline and not task.late
    assert standing(p, p.review_deadline + datetime.timedelta(days=1)).tasks[0].late


@pytest.mark.django_db
def test_a_running_notice_says_when_the_next_step_opens_and_asks_for_answers_first(funded):
    org = funded
    p = meeting_passed(org, draft(org))
    with travel(D(2026, 9, 30)):
        notice = chain.notice_post(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY), posted_on=D(2026, 9, 30),
                                   working_days=3)
        chain.objection_record(notice=notice, channel="online", resident_name="张三", text="太吵")
    p = Proposal.objects.get(pk=p.pk)
    notice.refresh_from_db()
    s = standing(p, D(2026, 10, 1))
    answer, submit = s.tasks
    assert "异议" in str(answer.todo) and answer.role == Role.COMMUNITY_SECRETARY
    assert submit.due == notice.last_day and submit.opens_on == notice.next_step_day
    # from its next-step day it can be submitted at once
    later = standing(p, notice.next_step_day).tasks[-1]
    assert later.opens_on is None and "审批" in str(later.todo)


@pytest.mark.django_db
def test_an_invoice_waits_for_its_next_signer_then_for_finance(funded):
    org = funded
    p = to_accepted(org, approve(org, to_review(org, draft(org))))
    assert "发票" in str(_only(standing(Proposal.objects.get(pk=p.pk), D(2026, 11, 3))).todo)
    with travel(D(2026, 11, 3)):
        invoice = chain.invoice_register(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY), contractor="光明电器维修部",
                                         number="No.9", amount="1000.00", issued_on=D(2026, 11, 3))
        chain.invoice_sign(invoice=invoice, by=org.person(Role.COMMUNITY_SECRETARY))
    task = _only(standing(Proposal.objects.get(pk=p.pk), D(2026, 11, 3)))
    assert task.role == Role.CONSTRUCTION_DIRECTOR and "No.9" in str(task.todo) and "2/3" in str(task.todo)
    signed_invoice(org, p, number="No.10", amount="2000.00")
    roles = {t.role for t in standing(Proposal.objects.get(pk=p.pk), D(2026, 11, 3)).tasks}
    assert roles == {Role.CONSTRUCTION_DIRECTOR, Role.FINANCE_OFFICER}


@pytest.mark.django_db
def test_nobody_in_post_is_said_so(funded):
    org = funded
    p = draft(org)
    from fundapp.models import Post

    Post.objects.filter(role=Role.COMMUNITY_SECRETARY, community=org.community("a1")).update(end_date=D(2021, 1, 1))
    task = _only(standing(p, D(2026, 9, 28)))
    assert task.people == [] and "暂无在任人员" in str(task.who)


@pytest.mark.django_db
def test_the_stepper_marks_the_current_step_and_where_a_proposal_stopped(funded):
    org = funded
    p = to_review(org, draft(org))
    steps = stepper(p)
    assert len(steps) == len(STAGES) == 10
    current = [s for s in steps if s.current]
    assert [(s.number, str(s.label), s.status) for s in current] == [(6, "党工委审批", "current")]
    assert all(s.status == "done" for s in steps[:5]) and all(s.status == "todo" for s in steps[6:])
    with travel(D(2026, 10, 12)):
        chain.review_decide(proposal=p, by=org.person(Role.SUBDISTRICT_SECRETARY), decision="reject", reason="重复")
    p = Proposal.objects.get(pk=p.pk)
    assert [s.status for s in stepper(p) if s.current] == ["stopped"]
    assert "不予批准" in str(standing(p, D(2026, 10, 12)).note) and standing(p, D(2026, 10, 12)).finished

    withdrawn = meeting_passed(org, draft(org, "a2"), "a2")
    with travel(D(2026, 9, 29)):
        chain.proposal_withdraw(proposal=withdrawn, by=org.person(Role.COMMUNITY_SECRETARY, "a2"), reason="不办了")
    stopped = [s for s in stepper(Proposal.objects.get(pk=withdrawn.pk)) if s.current]
    assert [str(s.label) for s in stopped] == ["方案公示"]  # withdrawn after the meeting passed it


@pytest.mark.django_db
def test_a_returned_draft_says_who_returned_it_and_why(funded):
    org = funded
    p = draft(org)
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY))
        chain.consent_decide(proposal=p, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=False,
                             comments="预算明细过粗")
    s = standing(Proposal.objects.get(pk=p.pk), D(2026, 9, 28))
    assert s.state == State.DRAFT and "王建国" in s.note and "预算明细过粗" in s.note


@pytest.mark.django_db
def test_standings_of_a_list_take_a_fixed_number_of_queries(funded):
    org = funded
    for n in range(4):
        to_review(org, draft(org, "a1" if n % 2 else "a2", title=f"项目{n}"), "a1" if n % 2 else "a2")

    def count(proposals):
        proposals = list(Proposal.objects.filter(pk__in=[p.pk for p in proposals]).select_related("community"))
        with CaptureQueriesContext(connection) as queries:
            standings(proposals, D(2026, 10, 12))
        return len(queries)

    everything = list(Proposal.objects.all())
    assert count(everything[:2]) == count(everything)
