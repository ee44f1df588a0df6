import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from approvals import services as chain
from approvals.demo import NOTICE_JUST_ENDED, posted_on_for_notice_ending_by
from approvals.models import Notice, Proposal, State
from audit.models import AuditRecord
from fundapp import clock, rights
from fundapp.demo import demo_summary
from fundapp.models import FundYear, Post, Role
from workdays import calendar


@pytest.mark.django_db
def test_seed_demo_builds_the_city_and_is_idempotent(demo_city):
    # demo_city: what the first `seed_demo` left (run once per test process); the second run is this test's.
    first = demo_summary()
    assert first["subdistricts"] == 2 and first["communities"] == 6
    # every role has a person in office
    assert set(Post.objects.filter(end_date__isnull=True).values_list("role", flat=True)) == set(Role.values)
    assert FundYear.objects.filter(allocated__gt=0).count() == 6
    call_command("seed_demo")
    assert demo_summary() == first
    assert FundYear.objects.filter(allocated__gt=0).count() == 6
    assert all(fy.allocated == fy.total for fy in FundYear.objects.all())


@pytest.mark.django_db
def test_demo_former_secretary_keeps_history_but_no_rights(demo_city):
    former = Post.objects.get(user__username="xingfu-former-secretary")
    assert former.end_date is not None
    assert not rights.check(former.user, "view_fund", former.community)


# ---- the demo can be walked end to end, and its history reads true ------------------------------------------

D = datetime.timedelta


@pytest.fixture
def demo(demo_city):
    """What `seed_demo` leaves (conftest.demo_city: its rows, taken once per test process)."""


def _secretary(code):
    return get_user_model().objects.get(username=f"{code}-secretary")


def test_a_plan_notice_and_a_completion_notice_ended_by_today_can_be_finished_today(demo):
    today = clock.today()
    for code, title, _category, _budget, state in NOTICE_JUST_ENDED:
        p = Proposal.objects.get(community__code=code, title=title)
        assert p.state == state
        kind = Notice.Kind.PLAN if state == State.NOTICE else Notice.Kind.COMPLETION
        notice = p.notices.get(kind=kind, status=Notice.Status.RUNNING)
        # Over by today, and only just: posted a day later, it would still be running.
        assert notice.last_day < today and notice.next_step_day <= today
        assert calendar.notice_next_step_day(notice.posted_on + D(days=1), notice.working_days).day > today
        # Its whole history lies in the past.
        assert not AuditRecord.objects.filter(target_id=str(p.pk), effective_on__gt=today).exists()

    plan = Proposal.objects.get(title=NOTICE_JUST_ENDED[0][1])
    chain.proposal_submit_for_review(proposal=plan, by=_secretary(plan.community.code))
    assert Proposal.objects.get(pk=plan.pk).state == State.UNDER_REVIEW
    done = Proposal.objects.get(title=NOTICE_JUST_ENDED[1][1])
    chain.proposal_complete(proposal=done, by=_secretary(done.community.code))
    assert Proposal.objects.get(pk=done.pk).state == State.COMPLETED


@pytest.mark.parametrize("today", [
    datetime.date(2026, 12, 2),  # a Wednesday
    datetime.date(2026, 12, 7),  # a Monday: the notice ended on Friday
    datetime.date(2026, 12, 6),  # a Sunday
    datetime.date(2026, 10, 8),  # the first working day after National Day (1–7 October 2026)
    datetime.date(2026, 9, 21),  # the Monday after a Sunday worked in lieu (20 September 2026)
    datetime.date(2026, 10, 11),  # the Sunday after a Saturday worked in lieu (10 October 2026)
])
def test_the_notice_is_dated_with_the_working_day_calendar(db, today):
    posted = posted_on_for_notice_ending_by(today)

    assert calendar.notice_next_step_day(posted, 3).day <= today
    assert calendar.notice_next_step_day(posted + D(days=1), 3).day > today


def test_the_timeline_reads_the_dates_of_the_acts(demo, client):
    p = Proposal.objects.get(title="楼道照明改造")
    records = {r.action.split(".", 1)[1]: r for r in
               AuditRecord.objects.filter(target_type="approvals.proposal", target_id=str(p.pk))}
    local = timezone.localdate
    plan = p.notices.get(kind=Notice.Kind.PLAN)
    completion = p.notices.get(kind=Notice.Kind.COMPLETION)
    payment = p.payments.get()
    expected = {
        "consent": local(p.consents.get().at),
        "meeting_passed": p.meetings.get().held_on,
        "post_notice": plan.posted_on,
        "submit_for_review": p.review_received_on,
        "start": None,
        "follow_up": p.follow_ups.get().visited_on,
        "accept": p.acceptances.get().inspected_on,
        "sign_invoice": local(payment.invoice.signatures.get(order=3).at),
        "settle_invoice": payment.paid_on,
        "post_completion_notice": completion.posted_on,
        "complete": completion.next_step_day,
    }
    for action, day in expected.items():
        if day is not None:
            assert (action, records[action].effective_on) == (action, day)
    assert plan.next_step_day <= p.review_received_on
    assert records["approve"].effective_on >= p.review_received_on
    # Entered when seed_demo ran, and said so on the page.
    assert all(r.recorded_later for r in records.values())

    client.force_login(_secretary("xingfu"))
    page = client.get(reverse("approvals:proposal", args=[p.pk])).content.decode()
    timeline = page[page.index('class="timeline"'):]
    shown = [item.split('datetime="', 1)[1][:10] for item in timeline.split("<li>")[1:]]
    assert shown == sorted(shown)
    held = p.meetings.get().held_on
    assert f'<time datetime="{held.isoformat()}">{held.year}年{held.month}月{held.day}日</time>' in timeline
    assert "录入于" in timeline
