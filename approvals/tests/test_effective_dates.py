"""Each step's audit record carries the date the person entered for it as its effective date, and the real
time it was recorded (SPEC §9); the proposal page's timeline shows the former and keeps the latter visible.

Every step below is entered a few days after the date it took effect, as paper records are."""
import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals import services as chain
from approvals.models import Meeting, Notice
from approvals.services import EFFECTIVE_DATE_KEYS, TRANSITIONS
from audit.models import AuditRecord
from fundapp import clock
from fundapp.models import Role
from fundapp.services import ledger as ledger_services
from tests.chain import allocate, draft, travel

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

D = datetime.timedelta
SECRETARY, SD_SECRETARY, DIRECTOR = Role.COMMUNITY_SECRETARY, Role.SUBDISTRICT_SECRETARY, Role.CONSTRUCTION_DIRECTOR
SD_STAFF, FINANCE = Role.SUBDISTRICT_STAFF, Role.FINANCE_OFFICER


def at_ten(day):
    """The moment `travel(day)` stands at: 10:00 in Beijing."""
    return datetime.datetime(day.year, day.month, day.day, 10, tzinfo=datetime.timezone(D(hours=8)))


def record(proposal, action):
    return AuditRecord.objects.filter(target_type="approvals.proposal", target_id=str(proposal.pk),
                                      action=f"proposal.{action}").latest("seq")


@pytest.fixture
def walked(org):
    """A proposal walked to completion, with a voucher payment; returns it and {action: (entered on, took effect)}."""
    person = lambda role: org.person(role, "a1")  # noqa: E731
    allocate(org)
    p = draft(org, budget="30000.00")
    seen = {}

    def step(entered_on, action, fn, effective=None, **kwargs):
        with travel(entered_on):
            result = fn(**kwargs)
        seen[action] = (entered_on, effective or entered_on)
        return result

    step(datetime.date(2026, 9, 14), "submit_for_consent", chain.proposal_submit_for_consent, proposal=p,
         by=person(SECRETARY))
    step(datetime.date(2026, 9, 15), "consent", chain.consent_decide, proposal=p, by=person(SD_SECRETARY),
         consented=True)
    held = datetime.date(2026, 9, 17)
    step(held + D(days=3), "meeting_passed", chain.meeting_record, held, proposal=p, by=person(SECRETARY),
         held_on=held, place="社区会议室", attendance=25, votes_for=20, votes_against=3, votes_abstain=2,
         minutes="同意实施")
    posted = datetime.date(2026, 9, 21)
    step(posted + D(days=1), "post_notice", chain.notice_post, posted, proposal=p, by=person(SECRETARY),
         posted_on=posted, working_days=3)
    review_day = p.notices.get().next_step_day
    step(review_day, "submit_for_review", chain.proposal_submit_for_review, proposal=p, by=person(SECRETARY))
    step(review_day + D(days=1), "review_approve", chain.review_decide, proposal=p, by=person(SD_SECRETARY),
         decision="approve")
    step(review_day + D(days=2), "approve", chain.review_decide, proposal=p, by=person(DIRECTOR), decision="approve")
    seen["review_approve"] = seen["approve"]  # the director's approval, recorded just before "approve"
    started = review_day + D(days=3)
    step(started, "start", chain.proposal_start, proposal=p, by=person(SECRETARY))
    visited = started + D(days=2)
    step(visited + D(days=4), "follow_up", chain.follow_up_record, visited, proposal=p, by=person(SD_STAFF),
         visited_on=visited, notes="进度正常")
    inspected = visited + D(days=7)
    step(inspected + D(days=2), "accept", chain.acceptance_record, inspected, proposal=p, by=person(SD_STAFF),
         inspected_on=inspected, quality="合格", satisfaction_method="入户问卷", asked_count=40,
         satisfied_count=38, passed=True)
    issued = inspected + D(days=3)
    invoice = step(issued, "register_invoice", chain.invoice_register, proposal=p, by=person(SECRETARY),
                   contractor="光明电器维修部", number="No.0001", amount="20000.00", issued_on=issued)
    for role in (SECRETARY, DIRECTOR, SD_SECRETARY):
        step(issued, "sign_invoice", chain.invoice_sign, invoice=invoice, by=person(role))
    paid = issued + D(days=1)
    step(paid + D(days=5), "settle_invoice", chain.invoice_settle, paid, invoice=invoice, by=person(FINANCE),
         paid_on=paid, method="transfer", reference="ZZ000001")
    voucher_paid = paid + D(days=1)
    payment = step(voucher_paid + D(days=2), "pay_voucher", chain.voucher_pay, voucher_paid, proposal=p,
                   by=person(FINANCE), meeting=Meeting.objects.get(proposal=p), recipient_name="李师傅",
                   receipt_reference="SJ-01", amount="5000.00", paid_on=voucher_paid, method="cash",
                   reference="XJ000001")
    voucher_posted = voucher_paid + D(days=3)
    step(voucher_posted + D(days=1), "post_voucher_notice", chain.voucher_notice_post, voucher_posted,
         payment=payment, by=person(SECRETARY), posted_on=voucher_posted)
    finished = voucher_posted + D(days=2)
    step(finished, "finish_settlement", chain.settlement_finish, proposal=p, by=person(SECRETARY))
    completion_posted = finished + D(days=1)
    step(completion_posted + D(days=1), "post_completion_notice", chain.completion_notice_post, completion_posted,
         proposal=p, by=person(SECRETARY), posted_on=completion_posted)
    done = p.notices.get(kind=Notice.Kind.COMPLETION).next_step_day
    step(done, "complete", chain.proposal_complete, proposal=p, by=person(SECRETARY))
    p.refresh_from_db()
    assert p.state == "completed" and p.settled_amount == Decimal("25000.00")
    return p, seen


def test_every_step_takes_effect_on_its_entered_date_and_keeps_its_recording_time(walked):
    p, seen = walked
    # Every step with a date of its own was entered after it took effect.
    assert {a for a, (entered, effective) in seen.items() if entered != effective} == {
        "meeting_passed", "post_notice", "follow_up", "accept", "settle_invoice", "pay_voucher",
        "post_voucher_notice", "post_completion_notice",
    }
    for action, (entered, effective) in seen.items():
        r = record(p, action)
        assert (action, r.effective_on) == (action, effective)
        # The real clock at entry (here the travelled one), not the effective date.
        assert (action, r.recorded_at) == (action, at_ten(entered))
        assert r.recorded_later == (entered != effective)


def test_every_dated_step_names_the_date_a_person_enters():
    # A key that names no transition, or a transition whose date was forgotten, would silently mean "today".
    assert set(EFFECTIVE_DATE_KEYS) <= set(TRANSITIONS)
    assert set(EFFECTIVE_DATE_KEYS.values()) == {"held_on", "posted_on", "paid_on", "inspected_on", "visited_on"}


def test_an_explicit_effective_date_wins_and_a_datetime_is_never_taken_for_a_date(org):
    allocate(org)
    p = draft(org)
    three_days_ago = clock.today() - D(days=3)

    chain.perform(proposal=p, action="submit_for_consent", by=org.person(SECRETARY), effective_on=three_days_ago)
    assert record(p, "submit_for_consent").effective_on == three_days_ago
    assert chain.effective_date("post_notice", {"posted_on": timezone.now()}) is None
    assert chain.effective_date("consent", {"posted_on": three_days_ago}) is None


def test_a_meeting_held_three_days_ago_takes_effect_then_and_is_recorded_now(org):
    allocate(org)
    p = draft(org)
    today = clock.today()
    with clock.as_of(today - D(days=5)):
        chain.proposal_submit_for_consent(proposal=p, by=org.person(SECRETARY))
        chain.consent_decide(proposal=p, by=org.person(SD_SECRETARY), consented=True)
    before = timezone.now()
    chain.meeting_record(proposal=p, by=org.person(SECRETARY), held_on=today - D(days=3), place="会议室",
                         attendance=20, votes_for=15, votes_against=3, votes_abstain=2, minutes="通过")

    r = record(p, "meeting_passed")
    assert r.effective_on == today - D(days=3)
    assert before <= r.recorded_at <= timezone.now()
    assert record(p, "consent").effective_on == today - D(days=5)


def test_money_and_needs_take_effect_on_their_own_dates(org):
    community = org.community("a1")
    entry = ledger_services.fund_year_allocate(community=community, year=2026, amount="1000.00",
                                              entry_date=datetime.date(2026, 1, 10))
    need = chain.need_record(community=community, by=org.person(Role.COMMUNITY_STAFF), channel="door",
                             description="路灯不亮", on=datetime.date(2026, 3, 2))
    reversal = ledger_services.ledger_entry_reverse(entry=entry, reason="金额有误",
                                                   entry_date=datetime.date(2026, 1, 12))

    def effective(target):
        return AuditRecord.objects.get(target_type=target._meta.label_lower, target_id=str(target.pk)).effective_on

    assert effective(entry) == datetime.date(2026, 1, 10)
    assert effective(need) == datetime.date(2026, 3, 2)
    assert effective(reversal) == datetime.date(2026, 1, 12)


def test_the_proposal_page_shows_effective_dates_in_order_with_the_recording_time(walked, client, org):
    p, seen = walked
    client.force_login(org.person(SECRETARY))

    page = client.get(reverse("approvals:proposal", args=[p.pk])).content.decode()
    timeline = page[page.index('class="timeline"'):]

    # The meeting took effect on 17 September and was entered on the 20th.
    assert '<time datetime="2026-09-17">2026年9月17日</time> <small class="recorded-at">录入于 2026年9月20日 10:00' \
        in timeline
    # A step entered on the day it took effect shows its time beside the date.
    assert '<time datetime="2026-09-15">2026年9月15日</time> <small class="recorded-at">10:00</small>' in timeline
    shown = [line.split('datetime="', 1)[1][:10] for line in timeline.split("<li>")[1:]]
    assert shown == sorted(shown)
    assert len(shown) == AuditRecord.objects.filter(target_type="approvals.proposal", target_id=str(p.pk)).count()


def test_the_timeline_reads_in_english_too(walked, client, org):
    p, seen = walked
    client.force_login(org.person(SECRETARY))
    client.cookies["django_language"] = "en"

    page = client.get(reverse("approvals:proposal", args=[p.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<time datetime="2026-09-17">17 September 2026</time> <small class="recorded-at">recorded 20 September 2026' \
        in page
