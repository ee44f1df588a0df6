"""The city administrator's calendar pages over the test client: the year, paste → preview → confirm, a
single day, and nobody else."""
import datetime
import re

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import AuditRecord
from fundapp.models import Role
from workdays.models import ConfirmedYear, WorkdayOverride

from .helpers import NOTICE_2027, records, review_from_new_years_eve, travel

D = datetime.date
CALENDAR, NOTICE, DAY = reverse("workdays:calendar"), reverse("workdays:notice"), reverse("workdays:day")


@pytest.fixture
def admin(client, org):
    client.force_login(org.city_admin)
    return client


def fingerprint(response):
    return response.context["preview"].fingerprint


def offers_confirm(response):
    return 'name="confirm"' in response.content.decode()


@pytest.mark.django_db
def test_the_year_shows_twelve_months_the_status_and_the_holidays(admin):
    page = admin.get(CALENDAR, {"year": 2027})
    html = page.content.decode()

    assert page.status_code == 200
    assert len(page.context["months"]) == 12
    assert "未确认" in html and "元旦" in html and "春节" in html
    # 1 January 2027 (Friday) rests on the statutory fallback, unconfirmed.
    january = page.context["months"][0]
    first = next(d for week in january["weeks"] for d in week if d and d.day == D(2027, 1, 1))
    assert (first.is_workday, first.source) == (False, "fallback")
    assert "wd-unconfirmed" in html

    covered = admin.get(CALENDAR, {"year": 2026}).content.decode()
    assert "日历数据包" in covered and "wd-makeup" in covered  # 2026 has make-up Saturdays


@pytest.mark.django_db
def test_paste_preview_confirm(admin, org):
    proposal = review_from_new_years_eve(org)

    with travel(D(2027, 1, 5)):
        admin.force_login(org.city_admin)  # sessions end after 30 idle minutes, travelled ones too
        preview = admin.post(NOTICE, {"text": NOTICE_2027, "reason": ""})
        html = preview.content.decode()
        assert preview.status_code == 200 and offers_confirm(preview)
        assert "元旦" in html and "1月9日" in html  # parsed items, make-up day
        assert proposal.title in html and "东城街道2号社区" in html
        assert "2027年1月8日" in html and "2027年1月9日" in html
        assert not WorkdayOverride.objects.exists() and not records("calendar.change").exists()

        done = admin.post(NOTICE, {"text": NOTICE_2027, "reason": "", "confirm": "1",
                                   "fingerprint": fingerprint(preview)})
    admin.force_login(org.city_admin)

    assert done.status_code == 302 and done["Location"] == f"{CALENDAR}?year=2027"
    assert ConfirmedYear.objects.get().year == 2027 and WorkdayOverride.objects.count() == 35  # 29 holidays, 6 make-up days
    [change] = records("calendar.change")
    assert change.note == "国务院办公厅关于2027年部分节假日安排的通知"
    assert records("proposal.deadline_recalculated").count() == 1
    # The proposal page shows the new deadline and no "not confirmed" flag beside it.
    page = admin.get(reverse("approvals:proposal", args=[proposal.pk])).content.decode()
    assert re.search(r"审批期限</dt><dd>2027年1月9日（星期六）</dd>", page)
    year = admin.get(CALENDAR, {"year": 2027}).content.decode()
    assert "市委组织部已录入" in year
    history = year[year.index("最近的日历调整"):]
    assert "国务院办公厅关于2027年部分节假日安排的通知" in history and "city" in history and "2027" in history


@pytest.mark.django_db
def test_confirming_recomputes_and_refuses_a_stale_preview(admin, org):
    preview = admin.post(NOTICE, {"text": NOTICE_2027, "reason": "国办发明电"})
    WorkdayOverride.objects.create(day=D(2027, 1, 4), is_workday=True, reason="meanwhile")

    again = admin.post(NOTICE, {"text": NOTICE_2027, "reason": "国办发明电", "confirm": "1",
                                "fingerprint": fingerprint(preview)})

    assert again.status_code == 200 and "重新预览" in again.content.decode()
    assert not ConfirmedYear.objects.exists() and not records("calendar.change").exists()
    assert offers_confirm(again) and fingerprint(again) != fingerprint(preview)


@pytest.mark.django_db
def test_unparsed_text_is_shown_and_offers_no_confirmation(admin):
    # 1 January 2027 is a Friday, not a Thursday: the item cannot be read for certain.
    broken = NOTICE_2027.replace("1月1日（周五）", "1月1日（周四）")

    page = admin.post(NOTICE, {"text": broken, "reason": ""})
    html = page.content.decode()
    assert page.status_code == 200 and not offers_confirm(page)
    assert "没有读懂" in html and "1月1日（周四）至4日（周一）放假调休，共4天。" in html

    forced = admin.post(NOTICE, {"text": broken, "reason": "", "confirm": "1", "fingerprint": "x"})
    assert forced.status_code == 200 and not WorkdayOverride.objects.exists() and not ConfirmedYear.objects.exists()

    nothing = admin.post(NOTICE, {"text": "放假通知", "reason": ""})
    assert nothing.status_code == 200 and "没有读出" in nothing.content.decode() and not offers_confirm(nothing)


@pytest.mark.django_db
def test_a_single_day_set_and_removed(admin, org):
    preview = admin.post(DAY, {"day": "2027-02-20", "status": "work", "reason": "春节调休上班"})
    assert preview.status_code == 200 and offers_confirm(preview) and not WorkdayOverride.objects.exists()

    done = admin.post(DAY, {"day": "2027-02-20", "status": "work", "reason": "春节调休上班", "confirm": "1",
                            "fingerprint": fingerprint(preview)})
    assert done.status_code == 302
    assert WorkdayOverride.objects.get().reason == "春节调休上班"

    form = admin.get(DAY, {"day": "2027-02-20", "status": "remove"})
    assert 'value="2027-02-20"' in form.content.decode()
    preview = admin.post(DAY, {"day": "2027-02-20", "status": "remove", "reason": "撤销"})
    admin.post(DAY, {"day": "2027-02-20", "status": "remove", "reason": "撤销", "confirm": "1",
                     "fingerprint": fingerprint(preview)})
    assert not WorkdayOverride.objects.exists() and records("calendar.change").count() == 2

    # A reason is required; a change that changes nothing offers nothing to confirm.
    no_reason = admin.post(DAY, {"day": "2027-02-20", "status": "rest", "reason": ""})
    assert "请填写调整原因" in no_reason.content.decode() and not offers_confirm(no_reason)
    same = admin.post(DAY, {"day": "2027-03-01", "status": "remove", "reason": "无"})
    assert "没有需要记录的变化" in same.content.decode() and not offers_confirm(same)
    far = admin.post(DAY, {"day": "2201-01-01", "status": "rest", "reason": "远"})
    assert "日历范围" in far.content.decode()


@pytest.mark.django_db
def test_only_city_administrators_in_office_reach_the_pages(client, org):
    for url in (CALENDAR, NOTICE, DAY):
        assert client.get(url).status_code == 302  # to the login page
    for role in (Role.COMMUNITY_SECRETARY, Role.SUBDISTRICT_SECRETARY, Role.FINANCE_OFFICER):
        client.force_login(org.person(role))
        for url in (CALENDAR, NOTICE, DAY):
            assert client.get(url).status_code == 403
        assert client.post(NOTICE, {"text": NOTICE_2027, "confirm": "1"}).status_code == 403
        assert client.post(DAY, {"day": "2027-02-20", "status": "work", "reason": "x", "confirm": "1"}).status_code == 403
    assert not WorkdayOverride.objects.exists() and not AuditRecord.objects.filter(action="calendar.change").exists()


@pytest.mark.django_db
def test_the_calculator_links_the_calendar_for_city_administrators_only(client, org):
    client.force_login(org.city_admin)
    assert CALENDAR in client.get(reverse("workday-calculator")).content.decode()
    client.force_login(org.person(Role.COMMUNITY_SECRETARY))
    assert CALENDAR not in client.get(reverse("workday-calculator")).content.decode()


# Bad input: whatever is typed or pasted, a preview writes nothing and an unconfirmed or mangled
# confirmation records nothing; the pages answer 200 with a message, never a server error.
NASTY = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["", " ", "\x00", "<script>alert(1)</script>", "2027-02-30", "9999-12-31", "0001-01-01",
                     "1e5", "２０２７－０２－２０", "2027/02/20", "-1", "a" * 5000]),
)
NOTICE_LIKE = st.builds(
    lambda head, items: head + "\n" + "\n".join(items),
    st.sampled_from(["国务院办公厅关于2027年部分节假日安排的通知", "关于2201年部分节假日安排", "", "2027年节假日安排"]),
    st.lists(st.builds(lambda n, m, d, w, k: f"{n}、元旦：{m}月{d}日（{w}）至{d + 2}日放假调休，共{k}天。{m}月{d + 9}日上班。",
                       st.sampled_from("一二三十"), st.integers(0, 13), st.integers(0, 33),
                       st.sampled_from(["周五", "星期日", "周八", ""]), st.integers(0, 9)), max_size=3),
)


@pytest.mark.django_db
def test_generated_input_never_writes_without_a_matching_confirmation(admin):
    before = (WorkdayOverride.objects.count(), ConfirmedYear.objects.count(), AuditRecord.objects.count())

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                     HealthCheck.too_slow])
    @given(text=st.one_of(NASTY, NOTICE_LIKE), reason=NASTY, day=NASTY, status=NASTY, confirm=st.booleans(),
           fp=NASTY)
    def run(text, reason, day, status, confirm, fp):
        extra = {"confirm": "1", "fingerprint": fp} if confirm else {}
        for url, data in ((NOTICE, {"text": text, "reason": reason}),
                          (DAY, {"day": day, "status": status, "reason": reason})):
            response = admin.post(url, {**data, **extra})
            assert response.status_code == 200, (url, data, response.status_code)
            assert "<script>alert(1)</script>" not in response.content.decode()
        assert (WorkdayOverride.objects.count(), ConfirmedYear.objects.count(), AuditRecord.objects.count()) == before

    run()


@pytest.mark.django_db
def test_a_moved_notice_is_fresh_on_the_cached_public_json(admin, org):
    from django.test import Client

    from .helpers import running_notice

    running_notice(org)  # a1, posted Tue 22 Dec 2026 for 3 working days
    resident = Client()
    url = reverse("public:community-year-json", args=["a1", 2026])
    with travel(D(2026, 12, 23)):
        before = resident.get(url).json()["running_notices"]
        admin.force_login(org.city_admin)
        preview = admin.post(DAY, {"day": "2026-12-24", "status": "rest", "reason": "临时放假"})
        admin.post(DAY, {"day": "2026-12-24", "status": "rest", "reason": "临时放假", "confirm": "1",
                         "fingerprint": fingerprint(preview)})
        after = resident.get(url).json()["running_notices"]
    assert [n["last_day"] for n in before] == ["2026-12-24"]
    assert [n["last_day"] for n in after] == ["2026-12-25"]
