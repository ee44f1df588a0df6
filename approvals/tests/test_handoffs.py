"""The hand-off table: each act tells the right people (the holders of the posts it names for the act's
community, never the actor), once per act and person."""
import datetime

import pytest

from approvals import handoffs
from approvals import services as chain
from approvals.models import Invoice, Notice
from approvals.reports import annual_report_draft, annual_report_evaluate, annual_report_submit
from fundapp.models import Notification, Role
from tests.chain import allocate, approve, draft, meeting_passed, reload, to_review, travel



class Told:
    """The notifications written since the last look, as {kind: {holder's (role, community)}}."""

    def __init__(self, org):
        self.org = org
        self.last = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.who = {user.pk: key for key, user in org.people.items()}

    def __call__(self):
        new = list(Notification.objects.filter(pk__gt=self.last).order_by("pk"))
        if new:
            self.last = new[-1].pk
        told = {}
        for n in new:
            told.setdefault(n.kind, set()).add(self.who[n.user_id])
        return told


def holders(*pairs):
    return set(pairs)


@pytest.fixture
def told(org):
    return Told(org)


def test_the_chain_from_filing_to_payment_tells_each_next_person_and_never_the_actor(org, told):
    allocate(org)
    p = draft(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    told()
    day = datetime.date(2026, 9, 28)
    with travel(day):
        chain.proposal_submit_for_consent(proposal=p, by=secretary)
        assert told() == {"consent_needed": holders((Role.SUBDISTRICT_SECRETARY, "a"))}
        chain.consent_decide(proposal=p, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)
        assert told() == {"consent_given": holders((Role.COMMUNITY_SECRETARY, "a1"))}
        chain.meeting_record(proposal=p, by=secretary, held_on=day, place="会议室", attendance=25, votes_for=20,
                             votes_against=3, votes_abstain=2, minutes="同意")
        assert told() == {}  # the secretary recorded it; the next step is theirs
    with travel(datetime.date(2026, 9, 30)):
        chain.notice_post(proposal=p, by=secretary, posted_on=datetime.date(2026, 9, 30), working_days=3)
        assert told() == {"notice_posted": holders((Role.SUPERVISOR, "a1"))}
    notice = Notice.objects.get(proposal=p)
    # The morning task: nothing before the first working day after the last day, then once.
    assert handoffs.ended_notices_announce(today=notice.last_day) == 0
    assert handoffs.ended_notices_announce(today=notice.next_step_day) == 1
    assert handoffs.ended_notices_announce(today=notice.next_step_day) == 0  # run again: nobody twice
    assert told() == {"notice_ended": holders((Role.COMMUNITY_SECRETARY, "a1"))}
    with travel(notice.next_step_day):
        chain.proposal_submit_for_review(proposal=p, by=secretary)
        assert told() == {"review_needed": holders((Role.SUBDISTRICT_SECRETARY, "a"), (Role.CONSTRUCTION_DIRECTOR, "a"))}
        chain.review_decide(proposal=p, by=org.person(Role.SUBDISTRICT_SECRETARY), decision="approve")
        assert told() == {"leader_decided": holders((Role.CONSTRUCTION_DIRECTOR, "a"), (Role.COMMUNITY_SECRETARY, "a1"))}
        chain.review_decide(proposal=p, by=org.person(Role.CONSTRUCTION_DIRECTOR), decision="approve")
        # The second approval approves: "approved" to the secretary, not a second "one leader decided".
        assert told() == {"approved": holders((Role.COMMUNITY_SECRETARY, "a1"))}
        chain.proposal_start(proposal=p, by=secretary)
        assert told() == {"follow_up_due": holders((Role.SUBDISTRICT_STAFF, "a"))}
        chain.change_request(proposal=p, by=secretary, description="延期一周",
                             new_planned_end=datetime.date(2026, 12, 7))
        assert told() == {"change_requested": holders((Role.SUBDISTRICT_SECRETARY, "a"))}
        chain.change_decide(proposal=p, by=org.person(Role.SUBDISTRICT_SECRETARY), consent=True)
        assert told() == {"change_decided": holders((Role.COMMUNITY_SECRETARY, "a1"))}
    with travel(datetime.date(2026, 11, 2)):
        chain.acceptance_record(proposal=p, by=org.person(Role.SUBDISTRICT_STAFF), inspected_on=datetime.date(2026, 11, 2),
                                quality="好", satisfaction_method="问卷", asked_count=10, satisfied_count=9, passed=True)
        assert told() == {"acceptance_result": holders((Role.COMMUNITY_SECRETARY, "a1"))}
    with travel(datetime.date(2026, 11, 3)):
        invoice = chain.invoice_register(proposal=p, by=secretary, contractor="光明电器维修部", number="No.1",
                                         amount="28000.00", issued_on=datetime.date(2026, 11, 3))
        assert told() == {}  # the first signer is the secretary who registered it
        chain.invoice_sign(invoice=invoice, by=secretary)
        assert told() == {"invoice_to_sign": holders((Role.CONSTRUCTION_DIRECTOR, "a"))}
        chain.invoice_sign(invoice=invoice, by=org.person(Role.CONSTRUCTION_DIRECTOR))
        assert told() == {"invoice_to_sign": holders((Role.SUBDISTRICT_SECRETARY, "a"))}
        chain.invoice_sign(invoice=invoice, by=org.person(Role.SUBDISTRICT_SECRETARY))
        assert told() == {"invoice_to_pay": holders((Role.FINANCE_OFFICER, "a"))}
        chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER), paid_on=datetime.date(2026, 11, 3),
                             method="transfer", reference="T-1")
        assert told() == {"paid": holders((Role.COMMUNITY_SECRETARY, "a1"))}
    paid = Notification.objects.get(kind="paid")
    assert "28,000.00" in paid.text and "No.1" in paid.text and paid.link == f"/proposals/{p.pk}/"
    # What each person was asked to do and then did is read; news stays unread until they open it.
    unread = {(n.kind, told.who[n.user_id]) for n in Notification.objects.filter(read_at__isnull=True)}
    assert unread == {("leader_decided", (Role.COMMUNITY_SECRETARY, "a1")), ("change_decided", (Role.COMMUNITY_SECRETARY, "a1")),
                      ("paid", (Role.COMMUNITY_SECRETARY, "a1")), ("notice_posted", (Role.SUPERVISOR, "a1"))}
    # Only community a1's and subdistrict a's people were ever told.
    assert not Notification.objects.exclude(user__in=[u for (role, where), u in org.people.items()
                                                      if where in ("a", "a1")]).exists()


def test_a_leader_who_rejects_tells_the_other_leader_and_the_secretary(org, told):
    allocate(org)
    p = to_review(org, draft(org))
    told()
    with travel(datetime.date(2026, 10, 12)):
        chain.review_decide(proposal=p, by=org.person(Role.CONSTRUCTION_DIRECTOR), decision="reject", reason="选址不当")
    assert told() == {"rejected": holders((Role.SUBDISTRICT_SECRETARY, "a"), (Role.COMMUNITY_SECRETARY, "a1"))}
    text = Notification.objects.get(kind="rejected", user=org.person(Role.COMMUNITY_SECRETARY)).text
    assert "选址不当" in text and "a-construction_director" in text


def test_returns_refusals_and_objections_reach_the_community_secretary(org, told):
    allocate(org)
    p = draft(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(datetime.date(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=p, by=secretary)
        told()
        chain.consent_decide(proposal=p, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=False, comments="补充预算")
        assert told() == {"consent_returned": holders((Role.COMMUNITY_SECRETARY, "a1"))}
    q = draft(org, title="楼道粉刷")
    meeting_passed(org, q)
    with travel(datetime.date(2026, 9, 30)):
        chain.notice_post(proposal=q, by=secretary, posted_on=datetime.date(2026, 9, 30), working_days=3)
        told()
        notice = Notice.objects.get(proposal=q)
        chain.objection_record(notice=notice, channel="online", resident_name="李四", text="噪音", resident_contact="139")
        assert told() == {"objection_received": holders((Role.COMMUNITY_SECRETARY, "a1"))}
        chain.objection_record(notice=notice, channel="paper", resident_name="王五", text="选址", by=secretary)
        assert told() == {}  # the secretary recorded it from paper: not told of their own act


def test_a_refused_invoice_goes_back_to_the_secretary(org, told):
    from tests.chain import to_accepted

    allocate(org)
    p = to_accepted(org, approve(org, to_review(org, draft(org))))
    with travel(datetime.date(2026, 11, 3)):
        invoice = chain.invoice_register(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY), contractor="光明",
                                         number="No.9", amount="1000.00", issued_on=datetime.date(2026, 11, 3))
        chain.invoice_sign(invoice=invoice, by=org.person(Role.COMMUNITY_SECRETARY))
        told()
        chain.invoice_refuse(invoice=invoice, by=org.person(Role.CONSTRUCTION_DIRECTOR), reason="金额不符")
    assert told() == {"invoice_refused": holders((Role.COMMUNITY_SECRETARY, "a1"))}
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.RETURNED


def test_annual_reports_tell_who_writes_and_who_evaluates(org, told):
    with travel(datetime.date(2026, 11, 1)):
        report, _ = annual_report_draft(community=org.community("a1"), year=2026)
        assert told() == {"report_due": holders((Role.COMMUNITY_SECRETARY, "a1"))}
        annual_report_draft(community=org.community("a1"), year=2026)  # refreshed: no second message
        assert told() == {}
        annual_report_submit(report=report, by=org.person(Role.COMMUNITY_SECRETARY), narrative="全年情况")
        assert told() == {"report_submitted": holders((Role.SUBDISTRICT_STAFF, "a"))}
        annual_report_evaluate(report=report, by=org.person(Role.SUBDISTRICT_STAFF), grade="good", comments="")
        assert told() == {"report_evaluated": holders((Role.COMMUNITY_SECRETARY, "a1"))}
    assert "良好" in Notification.objects.get(kind="report_evaluated").text


def test_what_an_act_settles_is_a_kind_the_table_sends_and_an_act_that_exists():
    from approvals.workflow import TRANSITIONS

    kinds = {h.kind for rows in handoffs.HANDOFFS.values() for h in rows}
    assert set(handoffs.SETTLED_BY) <= set(TRANSITIONS) | {"objection.answer", "annual_report.submit",
                                                            "annual_report.evaluate"}
    assert {kind for settled in handoffs.SETTLED_BY.values() for kind in settled} <= kinds


def test_every_act_of_the_table_is_a_transition_or_a_recorded_act():
    from approvals.workflow import TRANSITIONS

    others = {"notice.ended", "objection.record", "annual_report.draft", "annual_report.submit",
              "annual_report.evaluate", "disclosure.post"}
    assert set(handoffs.HANDOFFS) <= set(TRANSITIONS) | others
    # Every transition that gives someone else work or news has a row (the rest are the actor's own next step).
    silent = {"meeting_passed", "meeting_failed", "hold", "replan", "review_approve", "finish_settlement",
              "complete", "post_voucher_notice", "follow_up"}
    assert set(TRANSITIONS) - set(handoffs.HANDOFFS) <= silent


def test_posts_ended_are_not_told(org, told):
    from fundapp.services import org as org_services

    ss = org.person(Role.SUBDISTRICT_SECRETARY)
    post = ss.posts.get()
    org_services.post_end(post=post, end_date=datetime.date(2026, 9, 1))
    allocate(org)
    p = draft(org)
    told()
    with travel(datetime.date(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY))
    assert told() == {}
    assert reload(p).state == "consent_pending"


def test_a_withdrawal_tells_the_subdistrict_only_when_it_had_reached_them(org, told):
    allocate(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(datetime.date(2026, 9, 28)):
        chain.proposal_withdraw(proposal=draft(org), by=secretary, reason="重复立项")
        assert told() == {}  # a draft: nobody else had it
        p = draft(org, title="楼道粉刷")
        chain.proposal_submit_for_consent(proposal=p, by=secretary)
        told()
        chain.proposal_withdraw(proposal=p, by=secretary, reason="居民意见变化")
        assert told() == {"withdrawn": holders((Role.SUBDISTRICT_SECRETARY, "a"))}


def test_the_year_end_disclosure_tells_the_community_secretary_to_post_it(org, told, settings, tmp_path):
    from disclosure.services import disclosure_generate

    settings.MEDIA_ROOT = tmp_path
    allocate(org)
    told()
    with travel(datetime.date(2026, 12, 10)):
        disclosure = disclosure_generate(org.community("a1").pk, 2026)
        disclosure_generate(org.community("a1").pk, 2026)  # again: no second message
    assert told() == {"disclosure_due": holders((Role.COMMUNITY_SECRETARY, "a1"))}
    n = Notification.objects.get(kind="disclosure_due")
    assert n.link == "/public/a1/2026/summary/" and "2026" in n.text
    assert disclosure.last_day.day == int(n.text.split("月")[-1].split("日")[0])
