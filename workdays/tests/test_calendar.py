from datetime import date, datetime, timedelta

import pytest

from workdays import calendar
from workdays.calendar import CalendarError
from workdays.models import ConfirmedYear, WorkdayOverride


def rest_day(day, reason="测试休息"):
    return WorkdayOverride.objects.create(day=day, is_workday=False, reason=reason)


def work_day(day, reason="测试上班"):
    return WorkdayOverride.objects.create(day=day, is_workday=True, reason=reason)


@pytest.mark.django_db
def test_spec_example_notice_across_national_day():
    last = calendar.notice_last_day(date(2026, 9, 30), 3)
    next_step = calendar.notice_next_step_day(posted=date(2026, 9, 30), n=3)

    assert last.day == date(2026, 10, 9)
    assert next_step.day == date(2026, 10, 10)
    assert last.confirmed and next_step.confirmed
    assert last.warning == ""


@pytest.mark.django_db
def test_notice_posted_on_a_holiday_starts_on_the_next_working_day():
    assert calendar.is_workday(date(2026, 10, 3)) is False

    assert calendar.notice_last_day(date(2026, 10, 3), 1).day == date(2026, 10, 8)
    assert calendar.notice_last_day(date(2026, 10, 3), 2).day == date(2026, 10, 9)


@pytest.mark.django_db
def test_make_up_saturday_counts_as_a_working_day():
    saturday = date(2026, 10, 10)
    assert saturday.weekday() == 5
    assert calendar.day_info(saturday) == calendar.DayInfo(saturday, True, "package")

    # Fri 9 Oct is day 1, make-up Sat 10 Oct day 2, Mon 12 Oct day 3.
    assert calendar.notice_last_day(date(2026, 10, 9), 3).day == date(2026, 10, 12)


@pytest.mark.django_db
def test_deadline_does_not_count_the_receipt_date():
    assert calendar.deadline_after(date(2026, 9, 29), 1).day == date(2026, 9, 30)
    # 8, 9, 10 (make-up Saturday), 12, 13 October.
    result = calendar.deadline_after(receipt=date(2026, 9, 30), n=5)
    assert result.day == date(2026, 10, 13)
    assert result.confirmed


@pytest.mark.django_db
def test_override_turns_a_package_working_day_into_a_rest_day():
    rest_day(date(2026, 10, 8))

    assert calendar.day_info(date(2026, 10, 8)) == calendar.DayInfo(date(2026, 10, 8), False, "override")
    assert calendar.notice_last_day(date(2026, 9, 30), 3).day == date(2026, 10, 10)


@pytest.mark.django_db
def test_override_turns_a_package_holiday_into_a_working_day():
    work_day(date(2026, 10, 1))

    assert calendar.is_workday(date(2026, 10, 1)) is True
    assert calendar.notice_last_day(date(2026, 9, 30), 3).day == date(2026, 10, 8)


@pytest.mark.django_db
def test_year_the_package_does_not_cover_is_counted_on_the_fallback_with_a_warning():
    monday = date(2027, 3, 1)
    assert calendar.year_status(2027) == "unconfirmed"
    assert calendar.day_info(monday).source == "fallback"
    assert not calendar.day_info(monday).confirmed

    result = calendar.notice_last_day(monday, 1)

    assert result.day == monday
    assert result.unconfirmed_dates == (monday,)
    assert not result.confirmed
    assert "2027年" in result.warning


@pytest.mark.django_db
def test_override_confirms_a_single_date_in_an_unconfirmed_year():
    rest_day(date(2027, 3, 1), reason="2027年测试休息")

    result = calendar.notice_last_day(date(2027, 3, 1), 1)

    assert result.day == date(2027, 3, 2)
    assert result.unconfirmed_dates == (date(2027, 3, 2),)


@pytest.mark.django_db
def test_confirmed_year_makes_the_whole_year_confirmed():
    rest_day(date(2027, 1, 1), reason="2027年元旦")
    ConfirmedYear.objects.create(year=2027)

    assert calendar.year_status(2027) == "admin_confirmed"
    assert calendar.day_info(date(2027, 3, 6)) == calendar.DayInfo(date(2027, 3, 6), False, "admin_confirmed")
    result = calendar.deadline_after(date(2026, 12, 31), 1)
    assert result.day == date(2027, 1, 4)
    assert result.confirmed
    assert result.warning == ""


@pytest.mark.django_db
def test_count_across_the_year_end_is_unconfirmed_for_the_new_year_only():
    # 31 Dec 2026 (package), then on the fallback: 1 Jan 2027 is New Year's Day (statutory), 2–3 Jan the
    # weekend, 4 and 5 Jan working days.
    result = calendar.deadline_after(date(2026, 12, 30), 3)

    assert result.day == date(2027, 1, 5)
    assert result.unconfirmed_dates == tuple(date(2027, 1, d) for d in (1, 2, 3, 4, 5))
    assert "2027年" in result.warning
    assert "2026" not in result.warning


@pytest.mark.parametrize(
    "call",
    [
        lambda: calendar.notice_last_day(date(1800, 1, 1), 3),
        lambda: calendar.deadline_after(date(2201, 1, 1), 3),
        lambda: calendar.day_info(date(1800, 1, 1)),
        lambda: calendar.working_days_between(date(2026, 1, 1), date(1800, 1, 1)),
        lambda: calendar.year_status(1800),
    ],
)
@pytest.mark.django_db
def test_date_outside_the_calendar_is_refused_before_touching_the_database(call, django_assert_num_queries):
    with django_assert_num_queries(0), pytest.raises(CalendarError, match="日期超出日历范围"):
        call()


@pytest.mark.parametrize("n", [0, -1, 401])
@pytest.mark.django_db
def test_count_outside_1_to_400_is_refused(n, django_assert_num_queries):
    with django_assert_num_queries(0), pytest.raises(CalendarError, match="工作日数必须在"):
        calendar.notice_last_day(date(2026, 9, 30), n)


@pytest.mark.parametrize(
    "posted, n",
    [("2026-09-30", 3), (datetime(2026, 9, 30, 9), 3), (date(2026, 9, 30), "3"), (date(2026, 9, 30), True)],
)
@pytest.mark.django_db
def test_wrong_types_are_refused(posted, n, django_assert_num_queries):
    with django_assert_num_queries(0), pytest.raises(CalendarError):
        calendar.deadline_after(posted, n)


@pytest.mark.django_db
def test_walk_past_the_end_of_the_calendar_is_refused():
    with pytest.raises(CalendarError, match="日期超出日历范围"):
        calendar.deadline_after(date(2200, 12, 30), 5)


@pytest.mark.parametrize("start, n", [(date(2026, 9, 1), 20), (date(2026, 12, 1), 20), (date(2026, 12, 1), 200)])
@pytest.mark.django_db
def test_count_uses_a_constant_number_of_queries(start, n, django_assert_max_num_queries):
    rest_day(start + timedelta(days=3))

    # One query for the overrides, one for the confirmed years once the walk leaves the package's years.
    with django_assert_max_num_queries(2):
        calendar.deadline_after(start, n)


@pytest.mark.django_db
def test_walk_past_the_preloaded_range_still_sees_later_overrides():
    closed = [date(2027, 2, 1) + timedelta(days=i) for i in range(89)]  # 1 Feb – 30 Apr 2027
    WorkdayOverride.objects.bulk_create(WorkdayOverride(day=d, is_workday=False, reason="测试") for d in closed)

    result = calendar.deadline_after(date(2027, 1, 29), 1)

    assert result.day == date(2027, 5, 3)
    assert date(2027, 4, 30) not in result.unconfirmed_dates


@pytest.mark.django_db
def test_working_days_between():
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 9)) == 2
    assert calendar.working_days_between(start=date(2026, 10, 9), end=date(2026, 10, 12)) == 2
    assert calendar.working_days_between(date(2026, 10, 9), date(2026, 10, 9)) == 0


@pytest.mark.django_db
def test_working_days_between_is_negative_when_overdue():
    assert calendar.working_days_between(date(2026, 10, 9), date(2026, 9, 30)) == -2
    assert calendar.working_days_between(date(2026, 10, 13), date(2026, 10, 9)) == -3


# --- pending changes (a preview) and the month grid ----------------------------------------------------------


def _stored_counts():
    return WorkdayOverride.objects.count(), ConfirmedYear.objects.count()


@pytest.mark.django_db
def test_a_pending_rest_day_moves_the_notice_last_day_without_writing():
    before = _stored_counts()
    changes = calendar.CalendarChanges(overrides={date(2026, 10, 8): False})

    preview = calendar.WorkCalendar(changes=changes)

    assert preview.notice_last_day(date(2026, 9, 30), 3).day == date(2026, 10, 10)
    assert preview.day_info(date(2026, 10, 8)) == calendar.DayInfo(date(2026, 10, 8), False, "override")
    assert preview.working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == 3
    assert calendar.WorkCalendar().notice_last_day(date(2026, 9, 30), 3).day == date(2026, 10, 9)
    assert _stored_counts() == before


@pytest.mark.django_db
def test_a_pending_removal_undoes_a_stored_override():
    rest_day(date(2026, 10, 8))
    before = _stored_counts()

    preview = calendar.WorkCalendar(changes=calendar.CalendarChanges(overrides={date(2026, 10, 8): None}))

    assert preview.day_info(date(2026, 10, 8)) == calendar.DayInfo(date(2026, 10, 8), True, "package")
    assert preview.deadline_after(date(2026, 9, 30), 2).day == date(2026, 10, 9)
    assert calendar.deadline_after(date(2026, 9, 30), 2).day == date(2026, 10, 10)
    assert _stored_counts() == before


@pytest.mark.django_db
def test_a_pending_working_day_replaces_a_stored_rest_day():
    rest_day(date(2027, 3, 1), reason="2027年测试休息")

    preview = calendar.WorkCalendar(changes=calendar.CalendarChanges(overrides={date(2027, 3, 1): True}))

    assert preview.day_info(date(2027, 3, 1)) == calendar.DayInfo(date(2027, 3, 1), True, "override")
    assert preview.notice_last_day(date(2027, 3, 1), 1).day == date(2027, 3, 1)


@pytest.mark.django_db
def test_a_pending_confirmation_confirms_the_year_without_writing():
    before = _stored_counts()
    preview = calendar.WorkCalendar(changes=calendar.CalendarChanges(confirm_years=frozenset({2027})))

    assert preview.year_status(2027) == "admin_confirmed"
    assert preview.day_info(date(2027, 3, 1)).confirmed
    result = preview.deadline_after(date(2026, 12, 30), 3)
    assert result.day == date(2027, 1, 5)  # still the statutory New Year's Day off
    assert result.confirmed and result.warning == ""
    assert calendar.year_status(2027) == "unconfirmed"
    assert not calendar.deadline_after(date(2026, 12, 30), 3).confirmed
    assert _stored_counts() == before


@pytest.mark.django_db
def test_pending_changes_cost_no_more_queries(django_assert_max_num_queries):
    rest_day(date(2027, 3, 3))
    changes = calendar.CalendarChanges(overrides={date(2027, 3, 2): False}, confirm_years=frozenset({2027}))
    with django_assert_max_num_queries(2):
        assert calendar.WorkCalendar(changes).deadline_after(date(2027, 3, 1), 1).day == date(2027, 3, 4)


@pytest.mark.parametrize(
    "make",
    [
        lambda: calendar.CalendarChanges(overrides={"2027-01-01": False}),
        lambda: calendar.CalendarChanges(overrides={datetime(2027, 1, 1, 9): False}),
        lambda: calendar.CalendarChanges(overrides={date(1800, 1, 1): False}),
        lambda: calendar.CalendarChanges(overrides={date(2027, 1, 1): "yes"}),
        lambda: calendar.CalendarChanges(overrides={date(2027, 1, 1): 0}),
        lambda: calendar.CalendarChanges(overrides=[(date(2027, 1, 1), False)]),
        lambda: calendar.CalendarChanges(confirm_years=frozenset({"2027"})),
        lambda: calendar.CalendarChanges(confirm_years=frozenset({1800})),
        lambda: calendar.CalendarChanges(confirm_years=2027),
        lambda: calendar.CalendarChanges(confirm_years="2027"),
        lambda: calendar.WorkCalendar(changes={date(2027, 1, 1): False}),
    ],
)
def test_bad_changes_are_refused(make):
    with pytest.raises(CalendarError):
        make()


def test_changes_are_a_frozen_copy():
    overrides = {date(2027, 1, 4): False}
    changes = calendar.CalendarChanges(overrides=overrides, confirm_years={2027})
    overrides[date(2027, 1, 5)] = False

    assert dict(changes.overrides) == {date(2027, 1, 4): False}
    assert changes.confirm_years == frozenset({2027})
    with pytest.raises(TypeError):
        changes.overrides[date(2027, 1, 5)] = False


@pytest.mark.django_db
def test_month_days_draws_a_month_in_one_query(django_assert_max_num_queries):
    rest_day(date(2026, 10, 9), reason="测试休息")
    with django_assert_max_num_queries(1):
        days = calendar.WorkCalendar().month_days(2026, 10)

    assert [info.day for info in days] == [date(2026, 10, d) for d in range(1, 32)]
    assert days[0].holiday_name == "国庆节" and not days[0].is_workday
    assert days[8] == calendar.DayInfo(date(2026, 10, 9), False, "override")
    assert days[8].holiday_name == "测试休息"
    assert days[9].is_workday and days[9].holiday_name == "国庆节"  # the make-up Saturday the package names
    assert days[12].holiday_name == ""
    assert len(calendar.WorkCalendar().month_days(2028, 2)) == 29


@pytest.mark.django_db
def test_month_days_of_an_unconfirmed_year_and_a_pending_change():
    preview = calendar.WorkCalendar(calendar.CalendarChanges(overrides={date(2027, 2, 13): True}))
    days = {info.day: info for info in preview.month_days(2027, 2)}

    assert days[date(2027, 2, 6)].holiday_name == "春节" and days[date(2027, 2, 6)].source == "fallback"
    assert days[date(2027, 2, 13)].is_workday and days[date(2027, 2, 13)].source == "override"
    assert days[date(2027, 2, 14)].is_workday is False


@pytest.mark.parametrize("year, month", [(2026, 0), (2026, 13), (2026, "10"), (1800, 1), (2026, True)])
@pytest.mark.django_db
def test_month_days_refuses_a_bad_month(year, month, django_assert_num_queries):
    with django_assert_num_queries(0), pytest.raises(CalendarError):
        calendar.WorkCalendar().month_days(year, month)
