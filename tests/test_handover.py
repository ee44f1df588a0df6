"""Handing over a post at an election: every kind of item waiting for the old holder reaches the successor's
queue and inbox, the successor can act on it and the old holder no longer can; what the old holder did stays
in their name and post."""
import datetime

import pytest
from django.urls import reverse

from approvals import reports
from approvals import services as chain
from approvals.handoffs import ended_notices_announce
from approvals.models import AnnualReport, Invoice, Notice, Objection, Signature
from approvals.pdf import signer
from approvals.selectors import work_queue_and_later
from audit.models import AuditRecord
from desk.home import home_sections
from fundapp import clock
from fundapp.errors import DomainError, NotAllowed
from fundapp.models import Notification, Post, Role
from fundapp.services import org as org_services
from fundapp.services.org import post_pending

from . import chain as steps
from .chain import allocate, draft, travel

D = datetime.date
REFUSED = (NotAllowed, DomainError)


def hand_over(org, make_user, role, day, code="a1", acting=False):
    """`role`'s post for `code` handed to a new person on `day` (today): (old user, successor, result)."""
    old = org.person(role, code)
    scope = {"community": org.community(code)} if Role.scope_of(role) == "community" else {
        "subdistrict": org.community(code).subdistrict}
    post = Post.objects.get(user=old, role=role, **scope)
    successor = make_user(f"new-{role}", "新任者")
    with travel(day):
        result = org_services.post_hand_over(post=post, successor=successor, on=day, acting=acting,
                                             by=org.city_admin)
    return old, successor, result


def queue_actions(user, day):
    with travel(day):
        now, later = work_queue_and_later(user)
    return {(i.proposal.pk, name) for i in now for name in i.actions} | {
        (i.proposal.pk, o.action.name) for i in later for o in i.later}


def inbox(user, link):
    return list(Notification.objects.filter(user=user, link=link).order_by("pk"))


def proposal_link(p):
    return reverse("approvals:proposal", args=[p.pk])


def assert_moved(old, successor, link, kinds):
    """The old holder's unread notification about it is read; the successor has one with the same text."""
    theirs = [n for n in inbox(old, link) if n.kind in kinds]
    assert theirs and all(n.read_at is not None for n in theirs)
    mine = inbox(successor, link)
    assert {n.text for n in theirs} <= {n.text for n in mine}
    assert all(n.read_at is None for n in mine)


def test_consent_moves_to_the_new_subdistrict_secretary(org, make_user):
    allocate(org)
    p = draft(org)
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY))
    old, successor, result = hand_over(org, make_user, Role.SUBDISTRICT_SECRETARY, D(2026, 9, 29))
    assert [(i.kind, i.link) for i in result.pending] == [("consent", proposal_link(p))]
    assert (p.pk, "consent") in queue_actions(successor, D(2026, 9, 29))
    assert (p.pk, "consent") not in queue_actions(old, D(2026, 9, 29))
    assert_moved(old, successor, proposal_link(p), {"consent_needed"})
    with travel(D(2026, 9, 29)):
        with pytest.raises(REFUSED):
            chain.consent_decide(proposal=p, by=old, consented=True)
        chain.consent_decide(proposal=p, by=successor, consented=True)
    # Acting in the new post settles what the successor was told.
    assert all(n.read_at for n in inbox(successor, proposal_link(p)) if n.kind == "consent_needed")


def test_review_moves_to_the_new_construction_director(org, make_user):
    allocate(org)
    p = steps.to_review(org, draft(org))
    with travel(D(2026, 10, 11)):
        chain.review_decide(proposal=p, by=org.person(Role.SUBDISTRICT_SECRETARY), decision="approve")
    old, successor, result = hand_over(org, make_user, Role.CONSTRUCTION_DIRECTOR, D(2026, 10, 12))
    assert ("review", proposal_link(p)) in [(i.kind, i.link) for i in result.pending]
    assert (p.pk, "review") in queue_actions(successor, D(2026, 10, 12))
    assert_moved(old, successor, proposal_link(p), {"review_needed", "leader_decided"})
    with travel(D(2026, 10, 12)):
        with pytest.raises(REFUSED):
            chain.review_decide(proposal=p, by=old, decision="approve")
        chain.review_decide(proposal=p, by=successor, decision="approve")
    p.refresh_from_db()
    assert p.state == "approved"


def test_a_signature_moves_and_the_signatures_made_stay_with_the_old_holder(org, make_user):
    p = steps.funded_and_accepted(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(D(2026, 11, 3)):
        invoice = chain.invoice_register(proposal=p, by=secretary, contractor="光明电器维修部", number="No.1",
                                         amount="28000.00", issued_on=D(2026, 11, 3))
        chain.invoice_sign(invoice=invoice, by=secretary)
    # The community secretary who signed is replaced; then the construction director, who is next to sign.
    old_secretary, new_secretary, first = hand_over(org, make_user, Role.COMMUNITY_SECRETARY, D(2026, 11, 3))
    signature = Signature.objects.get(invoice=invoice, order=1)
    assert signature.by == old_secretary and signature.post == first.old and first.old.end_date == D(2026, 11, 3)
    assert signer(signature).endswith("社区党委书记") and signer(signature).startswith(old_secretary.first_name)
    assert AuditRecord.objects.filter(action="proposal.sign_invoice", actor=old_secretary).get().post_label

    old, successor, result = hand_over(org, make_user, Role.CONSTRUCTION_DIRECTOR, D(2026, 11, 3))
    assert [(i.kind, i.link) for i in result.pending] == [("signature", proposal_link(p))]
    assert (p.pk, "sign_invoice") in queue_actions(successor, D(2026, 11, 3))
    assert_moved(old, successor, proposal_link(p), {"invoice_to_sign"})
    with travel(D(2026, 11, 3)):
        with pytest.raises(REFUSED):
            chain.invoice_sign(invoice=invoice, by=old)
        chain.invoice_sign(invoice=invoice, by=successor)
    assert Signature.objects.get(invoice=invoice, order=2).by == successor
    # A new hand-off after the handover goes to the holders in force: the next signer.
    assert Notification.objects.filter(user=org.person(Role.SUBDISTRICT_SECRETARY), kind="invoice_to_sign").exists()


def test_a_payment_moves_to_the_new_finance_officer(org, make_user):
    p, invoice = steps.settleable(org)
    old, successor, result = hand_over(org, make_user, Role.FINANCE_OFFICER, D(2026, 11, 4))
    assert [(i.kind, i.link) for i in result.pending] == [("payment", proposal_link(p))]
    assert (p.pk, "settle_invoice") in queue_actions(successor, D(2026, 11, 4))
    assert_moved(old, successor, proposal_link(p), {"invoice_to_pay"})
    with travel(D(2026, 11, 4)):
        with pytest.raises(REFUSED):
            chain.invoice_settle(invoice=invoice, by=old, paid_on=D(2026, 11, 4), method="transfer", reference="x")
        chain.invoice_settle(invoice=invoice, by=successor, paid_on=D(2026, 11, 4), method="transfer",
                             reference="BANK-1")
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.SETTLED


def test_an_objection_and_the_notice_next_step_move_to_the_new_community_secretary(org, make_user):
    allocate(org)
    p = steps.meeting_passed(org, draft(org))
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(D(2026, 9, 30)):
        notice = chain.notice_post(proposal=p, by=secretary, posted_on=D(2026, 9, 30), working_days=3)
        chain.objection_record(notice=notice, channel=Objection.Channel.PAPER, resident_name="李四",
                               text="路灯位置不合适", by=org.person(Role.COMMUNITY_STAFF))
    notice = Notice.objects.get(proposal=p)
    with travel(notice.next_step_day):
        assert ended_notices_announce(notice.next_step_day) == 1
    day = notice.next_step_day
    old, successor, result = hand_over(org, make_user, Role.COMMUNITY_SECRETARY, day)
    kinds = {i.kind for i in result.pending}
    assert {"objection"} <= kinds, kinds
    assert (p.pk, "answer_objection") in queue_actions(successor, day)
    assert_moved(old, successor, proposal_link(p), {"objection_received", "notice_ended"})
    objection = Objection.objects.get(notice=notice)
    with travel(day):
        # The home's sections follow the post too: the objection is on the successor's week, not the old holder's.
        def objection_items(user):
            return [i for sec in home_sections(user).sections for i in sec.items if i.kind == "objection"]

        assert len(objection_items(successor)) == 1 and objection_items(old) == []
        with pytest.raises(REFUSED):
            chain.objection_answer(objection=objection, by=old, answer="已调整")
        chain.objection_answer(objection=objection, by=successor, answer="已调整位置")
        assert (p.pk, "submit_for_review") in queue_actions(successor, day)
        chain.proposal_submit_for_review(proposal=p, by=successor)


def test_reports_to_submit_and_to_evaluate_move(org, make_user):
    community = org.community("a1")
    with travel(D(2026, 11, 20)):
        report, _created = reports.annual_report_draft(community=community, year=2026)
    link = reverse("approvals:report", args=[report.pk])
    old, successor, result = hand_over(org, make_user, Role.COMMUNITY_SECRETARY, D(2026, 11, 20))
    assert [(i.kind, i.link) for i in result.pending] == [("report_submit", link)]
    assert_moved(old, successor, link, {"report_due"})
    with travel(D(2026, 11, 20)):
        with pytest.raises(REFUSED):
            reports.annual_report_submit(report=report, by=old, narrative="年度工作总结")
        reports.annual_report_submit(report=report, by=successor, narrative="年度工作总结")

    old_staff, new_staff, result = hand_over(org, make_user, Role.SUBDISTRICT_STAFF, D(2026, 11, 21))
    assert ("report_evaluate", link) in [(i.kind, i.link) for i in result.pending]
    assert_moved(old_staff, new_staff, link, {"report_submitted"})
    with travel(D(2026, 11, 21)):
        with pytest.raises(REFUSED):
            reports.annual_report_evaluate(report=AnnualReport.objects.get(pk=report.pk), by=old_staff,
                                           grade="good", comments="较好")
        reports.annual_report_evaluate(report=AnnualReport.objects.get(pk=report.pk), by=new_staff, grade="good",
                                       comments="较好")


def test_an_item_nobody_was_told_of_gets_a_notification_once(org, make_user):
    allocate(org)
    p = draft(org)
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY))
    with travel(D(2026, 9, 28)):  # read, not acted on
        Notification.objects.filter(kind="consent_needed").update(read_at=clock.now())
    old, successor, result = hand_over(org, make_user, Role.SUBDISTRICT_SECRETARY, D(2026, 9, 29), acting=True)
    told = inbox(successor, proposal_link(p))
    assert [n.kind for n in told] == ["handover"] and p.title in told[0].text
    assert result.new.acting and result.new.title.endswith("（代）")
    record = AuditRecord.objects.get(action="post.hand_over")
    assert record.after["user"] == successor.username and record.after["notified"] == 1
    assert record.before["post"] == result.old.pk


def test_refusals_change_nothing(org, make_user):
    post = Post.objects.get(user=org.person(Role.COMMUNITY_SECRETARY), role=Role.COMMUNITY_SECRETARY)
    successor = make_user("someone")
    before = (Post.objects.count(), AuditRecord.objects.count())
    with travel(D(2026, 9, 29)):
        with pytest.raises(NotAllowed):
            org_services.post_hand_over(post=post, successor=successor, on=D(2026, 9, 29),
                                        by=org.person(Role.SUBDISTRICT_SECRETARY))
        for on, who, message in ((D(2026, 9, 30), successor, "晚于今天"), (D(2019, 1, 1), successor, "任职起始日"),
                                 (D(2026, 9, 29), post.user, "本人"),
                                 (D(2026, 9, 29), org.person(Role.COMMUNITY_SECRETARY, "a1"), "本人")):
            with pytest.raises(DomainError, match=message):
                org_services.post_hand_over(post=post, successor=who, on=on, by=org.city_admin)
    assert (Post.objects.count(), AuditRecord.objects.count()) == before


def test_pending_of_a_post_is_what_its_holder_would_see(org):
    allocate(org)
    p = draft(org)
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY))
        post = Post.objects.get(user=org.person(Role.SUBDISTRICT_SECRETARY), role=Role.SUBDISTRICT_SECRETARY)
        assert [i.kind for i in post_pending(post)] == ["consent"]
        other = Post.objects.get(user=org.person(Role.SUBDISTRICT_SECRETARY, "b1"), role=Role.SUBDISTRICT_SECRETARY)
        assert post_pending(other) == []


def test_a_change_to_decide_and_an_acceptance_move_to_the_new_subdistrict_posts(org, make_user):
    allocate(org)
    p = steps.approve(org, steps.to_review(org, draft(org)))
    with travel(D(2026, 10, 15)):
        chain.proposal_start(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY))
        chain.change_request(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY), description="延长工期",
                             new_planned_end=D(2026, 12, 20))
    day = D(2026, 10, 16)
    old, successor, result = hand_over(org, make_user, Role.SUBDISTRICT_SECRETARY, day)
    assert ("change", proposal_link(p)) in [(i.kind, i.link) for i in result.pending]
    assert (p.pk, "consent_change") in queue_actions(successor, day)
    assert_moved(old, successor, proposal_link(p), {"change_requested"})
    with travel(day):
        with pytest.raises(REFUSED):
            chain.change_decide(proposal=p, by=old, consent=True)
        chain.change_decide(proposal=p, by=successor, consent=True)

    old_staff, new_staff, result = hand_over(org, make_user, Role.SUBDISTRICT_STAFF, D(2026, 11, 2))
    assert ("step", proposal_link(p)) in [(i.kind, i.link) for i in result.pending]
    assert (p.pk, "acceptance") in queue_actions(new_staff, D(2026, 11, 2))
    assert_moved(old_staff, new_staff, proposal_link(p), {"follow_up_due"})
    inspection = dict(inspected_on=D(2026, 11, 2), quality="路灯全部点亮", satisfaction_method="入户问卷",
                      asked_count=50, satisfied_count=48, passed=True)
    with travel(D(2026, 11, 2)):
        with pytest.raises(REFUSED):
            chain.acceptance_record(proposal=p, by=old_staff, **inspection)
        chain.acceptance_record(proposal=p, by=new_staff, **inspection)
    p.refresh_from_db()
    assert p.state == "accepted"
