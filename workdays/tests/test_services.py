"""The audited calendar service: writes, audit records, moved derived dates, refusals, the preview."""
import datetime

import pytest

from approvals import services as chain
from approvals.models import Notice, Proposal
from audit.models import AuditRecord
from audit.services import verify_chain
from fundapp.errors import DomainError, NotAllowed
from fundapp.models import Role
from fundapp.services import org as org_services
from tests.chain import to_review, travel
from workdays.calendar import CalendarChanges, WorkCalendar
from workdays.models import ConfirmedYear, WorkdayOverride
from workdays.notice_parser import parse_notice
from workdays.services import calendar_change, calendar_preview, make_changes

from .helpers import NOTICE_2027, funded_draft, records, review_from_new_years_eve, running_notice, secretary

D = datetime.date


@pytest.mark.django_db
def test_a_change_writes_the_overrides_and_one_audit_record_with_every_day_before_and_after(org):
    admin = org.city_admin
    result = calendar_change(by=admin, changes=make_changes({D(2027, 2, 20): True, D(2027, 2, 11): False}),
                             reason="2027年春节调休")

    assert {(o.day, o.is_workday, o.reason) for o in WorkdayOverride.objects.all()} == {
        (D(2027, 2, 11), False, "2027年春节调休"), (D(2027, 2, 20), True, "2027年春节调休")}
    [record] = records("calendar.change")
    assert record == result.record
    assert record.actor == admin and record.post_id is not None and "市委组织部" in record.post_label
    assert record.community_id is None and record.note == "2027年春节调休"
    assert record.before["days"] == {
        "2027-02-11": {"is_workday": True, "source": "fallback", "override": None},
        "2027-02-20": {"is_workday": False, "source": "fallback", "override": None},
    }
    assert record.after["days"] == {
        "2027-02-11": {"is_workday": False, "source": "override", "override": False},
        "2027-02-20": {"is_workday": True, "source": "override", "override": True},
    }
    assert record.after["confirmed_years"] == []
    assert verify_chain() == []


@pytest.mark.django_db
def test_removing_an_override_deletes_the_row_and_records_what_it_was(org):
    calendar_change(by=org.city_admin, changes=make_changes({D(2027, 2, 20): True}), reason="录入")
    calendar_change(by=org.city_admin, changes=make_changes({D(2027, 2, 20): None}), reason="录错了，撤销")

    assert not WorkdayOverride.objects.exists()
    last = records("calendar.change").last()
    assert last.before["days"]["2027-02-20"]["override"] is True
    assert last.after["days"]["2027-02-20"] == {"is_workday": False, "source": "fallback", "override": None}


@pytest.mark.django_db
def test_a_running_notice_over_a_day_that_becomes_a_holiday_ends_later_and_says_why(org):
    proposal = running_notice(org)
    ended = to_review(org, funded_draft(org, "b1"), "b1")  # notice of September: ended, history
    ended_notice = Notice.objects.get(proposal=ended)
    notice = Notice.objects.get(proposal=proposal)
    assert (notice.last_day, notice.next_step_day) == (D(2026, 12, 24), D(2026, 12, 25))

    with travel(D(2026, 12, 23)):
        result = calendar_change(by=org.city_admin, changes=make_changes({D(2026, 12, 24): False}),
                                 reason="市政府临时通知：12月24日放假")

    notice.refresh_from_db()
    # 22 and 23 December count, the 24th rests, Friday the 25th is the third working day.
    assert (notice.last_day, notice.next_step_day, notice.calendar_confirmed) == (D(2026, 12, 25), D(2026, 12, 26), True)
    [change] = records("calendar.change")
    [moved] = records("notice.recalculated")
    assert [m.kind for m in result.preview.moves] == ["notice"]
    assert moved.target_type == "approvals.proposal" and moved.target_id == str(proposal.pk)
    assert moved.community_id == org.community("a1").pk and moved.actor == org.city_admin
    assert moved.before == {"notice": notice.pk, "last_day": "2026-12-24", "next_step_day": "2026-12-25",
                            "calendar_confirmed": True}
    assert moved.after == {"notice": notice.pk, "last_day": "2026-12-25", "next_step_day": "2026-12-26",
                           "calendar_confirmed": True}
    assert "市政府临时通知" in moved.note and str(change.pk) in moved.note
    # An ended notice keeps the dates it ran with; the review of that proposal is not touched either.
    assert Notice.objects.get(pk=ended_notice.pk).last_day == ended_notice.last_day
    assert not records("proposal.deadline_recalculated").exists()
    # The next step follows the new date at once.
    with travel(D(2026, 12, 25)), pytest.raises(DomainError):
        chain.proposal_submit_for_review(proposal=proposal, by=secretary(org))
    assert verify_chain() == []


@pytest.mark.django_db
def test_pasting_the_notice_confirms_the_year_and_moves_an_unconfirmed_review_deadline(org):
    proposal = review_from_new_years_eve(org)
    # The fallback: 1 January is a statutory holiday, then Monday 4 to Friday 8 January.
    assert (proposal.review_deadline, proposal.review_deadline_confirmed) == (D(2027, 1, 8), False)
    parsed = parse_notice(NOTICE_2027)
    assert parsed.ok and parsed.year == 2027

    with travel(D(2027, 1, 5)):
        calendar_change(by=org.city_admin, changes=make_changes(parsed.overrides, {parsed.year}),
                        reason="国办发明电〔2026〕99号", source_text=NOTICE_2027)

    proposal.refresh_from_db()
    # 1–4 January rest; 5, 6, 7, 8 January and the make-up Saturday the 9th are the five working days.
    assert (proposal.review_deadline, proposal.review_deadline_confirmed) == (D(2027, 1, 9), True)
    assert ConfirmedYear.objects.get().year == 2027
    assert WorkCalendar().year_status(2027) == "admin_confirmed"
    assert WorkdayOverride.objects.filter(day__year=2027).count() == len(parsed.overrides)
    assert set(WorkdayOverride.objects.values_list("reason", flat=True)) == {"国办发明电〔2026〕99号"}
    [change] = records("calendar.change")
    assert change.after["confirmed_years"] == [2027] and change.before["year_status"] == {"2027": "unconfirmed"}
    assert change.after["source_text"] == NOTICE_2027.strip()
    assert change.before["days"]["2027-01-04"] == {"is_workday": True, "source": "fallback", "override": None}
    assert change.after["days"]["2027-01-09"] == {"is_workday": True, "source": "override", "override": True}
    [moved] = records("proposal.deadline_recalculated")
    assert moved.target_id == str(proposal.pk) and moved.community_id == org.community("a2").pk
    assert moved.before == {"round": 1, "review_deadline": "2027-01-08", "review_deadline_confirmed": False}
    assert moved.after == {"round": 1, "review_deadline": "2027-01-09", "review_deadline_confirmed": True}
    assert verify_chain() == []


@pytest.mark.django_db
def test_the_preview_shows_the_days_and_the_moves_and_writes_nothing(org):
    proposal = review_from_new_years_eve(org)
    counts = (WorkdayOverride.objects.count(), ConfirmedYear.objects.count(), AuditRecord.objects.count())
    parsed = parse_notice(NOTICE_2027)

    with travel(D(2027, 1, 5)):
        preview = calendar_preview(make_changes(parsed.overrides, {2027}))

    assert counts == (WorkdayOverride.objects.count(), ConfirmedYear.objects.count(), AuditRecord.objects.count())
    proposal.refresh_from_db()
    assert proposal.review_deadline == D(2027, 1, 8)
    [move] = preview.moves
    assert (move.kind, move.title, move.community_name) == ("review_deadline", proposal.title, "东城街道2号社区")
    assert (move.day_before, move.day_after, move.confirmed_before, move.confirmed_after) == (
        D(2027, 1, 8), D(2027, 1, 9), False, True)
    assert [(y.year, y.status_before, y.status_after) for y in preview.years] == [(2027, "unconfirmed", "admin_confirmed")]
    changed = {c.day: (c.before.is_workday, c.after.is_workday) for c in preview.workday_changes}
    assert changed[D(2027, 1, 4)] == (True, False) and changed[D(2027, 1, 9)] == (False, True)
    assert D(2027, 1, 1) not in changed  # a holiday either way: recorded as an override, no change of status
    assert {c.day for c in preview.days} >= set(parsed.overrides)
    assert not preview.empty and len(preview.fingerprint) == 32


@pytest.mark.django_db
def test_a_stale_preview_is_not_recorded(org):
    change = make_changes({D(2027, 2, 20): True})
    preview = calendar_preview(change)
    # Meanwhile another administrator records the same Saturday as a rest day (a stored override now).
    calendar_change(by=org.city_admin, changes=make_changes({D(2027, 2, 20): False}), reason="另一位管理员")

    with pytest.raises(DomainError, match="重新预览"):
        calendar_change(by=org.city_admin, changes=change, reason="按预览确认", expected=preview.fingerprint)
    assert WorkdayOverride.objects.get(day=D(2027, 2, 20)).is_workday is False
    # Looked at again, the same change is recorded.
    calendar_change(by=org.city_admin, changes=change, reason="重新预览后确认",
                    expected=calendar_preview(change).fingerprint)
    assert WorkdayOverride.objects.get(day=D(2027, 2, 20)).is_workday is True


@pytest.mark.django_db
def test_refusals_write_nothing(org, make_user):
    ended_admin = make_user("former-admin")
    post = org_services.post_create(user=ended_admin, role=Role.CITY_ADMIN, start_date=D(2020, 1, 1))
    org_services.post_end(post=post, end_date=D(2021, 1, 1))
    change = make_changes({D(2027, 2, 20): True})
    before = AuditRecord.objects.count()

    for person in (secretary(org), org.person(Role.SUBDISTRICT_SECRETARY), ended_admin, None):
        with pytest.raises(NotAllowed, match="市委组织部管理员"):
            calendar_change(by=person, changes=change, reason="无权")
    with pytest.raises(DomainError, match="原因"):
        calendar_change(by=org.city_admin, changes=change, reason="  ")
    with pytest.raises(DomainError, match="最多"):
        calendar_change(by=org.city_admin, changes=change, reason="很长" * 60)
    with pytest.raises(DomainError, match="没有可记录"):
        calendar_change(by=org.city_admin, changes=CalendarChanges(), reason="空")
    with pytest.raises(DomainError, match="日历范围"):
        make_changes({D(2201, 1, 1): False})
    with pytest.raises(DomainError, match="日历范围"):
        make_changes({}, {1899})
    with pytest.raises(DomainError):
        make_changes({D(2027, 1, 1): "yes"})
    with pytest.raises(DomainError):
        calendar_change(by=org.city_admin, changes={D(2027, 1, 1): False}, reason="不是 CalendarChanges")
    # A change that changes nothing: the holiday is one already, removing a missing override does nothing.
    with pytest.raises(DomainError, match="相同"):
        calendar_change(by=org.city_admin, changes=make_changes({D(2027, 3, 1): None}), reason="无变化")
    assert AuditRecord.objects.count() == before
    assert not WorkdayOverride.objects.exists() and not ConfirmedYear.objects.exists()


@pytest.mark.django_db
def test_an_already_confirmed_year_is_not_a_change(org):
    calendar_change(by=org.city_admin, changes=make_changes({}, {2027}), reason="2027年已核对")
    with pytest.raises(DomainError, match="相同"):
        calendar_change(by=org.city_admin, changes=make_changes({}, {2027}), reason="再确认一次")
    assert ConfirmedYear.objects.get().note == "2027年已核对"


@pytest.mark.django_db
def test_an_override_that_breaks_nothing_moves_nothing(org):
    proposal = review_from_new_years_eve(org)
    calendar_change(by=org.city_admin, changes=make_changes({D(2027, 3, 6): True}), reason="与期限无关")
    assert not records("proposal.deadline_recalculated").exists()
    assert Proposal.objects.get(pk=proposal.pk).review_deadline == D(2027, 1, 8)


@pytest.mark.django_db
def test_nul_characters_never_reach_the_database(org):
    calendar_change(by=org.city_admin, changes=make_changes({D(2027, 2, 20): True}), reason="春节\x00调休",
                    source_text="通知\x00全文")
    [change] = records("calendar.change")
    assert change.note == "春节 调休" and change.after["source_text"] == "通知全文"
    assert WorkdayOverride.objects.get().reason == "春节 调休"


@pytest.mark.django_db
def test_confirming_a_year_clears_the_flag_even_where_the_date_stays(org):
    proposal = review_from_new_years_eve(org)
    with travel(D(2027, 1, 4)):
        result = calendar_change(by=org.city_admin, changes=make_changes({}, {2027}), reason="2027年无调休变化")

    proposal.refresh_from_db()
    assert (proposal.review_deadline, proposal.review_deadline_confirmed) == (D(2027, 1, 8), True)
    [move] = result.preview.moves
    assert not move.day_moved and (move.confirmed_before, move.confirmed_after) == (False, True)
    assert records("proposal.deadline_recalculated").get().after["review_deadline_confirmed"] is True


@pytest.mark.django_db
def test_the_preview_reads_in_few_queries(org, django_assert_max_num_queries):
    for code in ("a1", "b1", "b2"):
        running_notice(org, code, title=f"{code}公示")
    review_from_new_years_eve(org)
    change = make_changes(parse_notice(NOTICE_2027).overrides, {2027})
    with travel(D(2026, 12, 23)), django_assert_max_num_queries(20):
        preview = calendar_preview(change)
    assert len(preview.moves) == 1  # the review's deadline; the notices end in 2026, which nothing changes
