"""At midnight a notice ends by itself: the public page, JSON and CSV, the objection form, the staff's proposal
page and the work queue all change from 00:00 Asia/Shanghai the day after its last day, with no act in between
and with the caches on (Redis, as in production, and each process's remembered pages).

Redis: REDIS_TEST_URL (default redis://127.0.0.1:6379/12), flushed before and after. Skipped when Redis does
not answer, failed instead in CI (REQUIRE_REDIS=1 or REQUIRE_POSTGRES=1), as tests/test_celery_worker.py.
"""
import csv
import datetime
import io
import os
import re

import pytest
import time_machine
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals import services as chain
from approvals.models import Notice, Objection
from audit.models import AuditRecord
from fundapp.errors import DomainError
from fundapp.models import Role
from public import selectors
from tests.chain import allocate, draft, meeting_passed, travel
from tests.faults import shared_redis

REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/12")
BEIJING = datetime.timezone(datetime.timedelta(hours=8))
POSTED = datetime.date(2026, 11, 16)  # a Monday: 3 working days, the last one Wednesday 18 November
LAST_DAY = datetime.date(2026, 11, 18)
BEFORE = datetime.datetime(2026, 11, 18, 23, 59, 30, tzinfo=BEIJING)
AFTER = datetime.datetime(2026, 11, 19, 0, 0, 5, tzinfo=BEIJING)
TITLE = "健身器材更新"


@pytest.fixture
def redis_cache(settings):
    client = shared_redis(REDIS_URL)
    client.flushdb()
    settings.CACHES = {"default": {"BACKEND": "fundapp.cache.ResilientRedisCache", "LOCATION": REDIS_URL,
                                   "KEY_PREFIX": "fund", "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    yield client
    client.flushdb()


@pytest.fixture
def notice_ending_tonight(org, redis_cache):
    allocate(org)
    proposal = meeting_passed(org, draft(org, budget="8000.00", title=TITLE), day=POSTED)
    with travel(POSTED):
        notice = chain.notice_post(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY), posted_on=POSTED,
                                   working_days=3)
    assert notice.last_day == LAST_DAY and notice.next_step_day == LAST_DAY + datetime.timedelta(days=1)
    return notice


def max_age(response):
    match = re.fullmatch(r"public, max-age=(\d+)", response["Cache-Control"])
    assert match, response["Cache-Control"]
    return int(match.group(1))


def csv_rows(response):
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return [dict(zip(rows[1], row)) for row in rows[2:]]


def queue_section(html):
    match = re.search(r'<section class="card queue-card">(.*?)</section>', html, re.S)
    return match.group(1) if match else ""


def public_views(client, notice):
    urls = {name: reverse(f"public:{name}", args=["a1", 2026])
            for name in ("community-year", "community-year-json", "community-year-csv")}
    return {name: client.get(url) for name, url in urls.items()}


@pytest.mark.django_db
def test_a_notice_ends_at_midnight_everywhere_with_no_act_and_the_caches_on(org, notice_ending_tonight, redis_cache):
    notice = notice_ending_tonight
    proposal = notice.proposal
    object_url = reverse("public:object", args=["a1", notice.public_id])
    resident, secretary = Client(), Client()
    secretary.force_login(org.person(Role.COMMUNITY_SECRETARY))
    assert type(caches["default"]).__name__ == "ResilientRedisCache"  # the real thing, not the in-memory cache

    with time_machine.travel(BEFORE, tick=False) as clock:
        # 23:59:30 on the last day: running, and cached (Redis and this process's memory).
        before = public_views(resident, notice)
        page = before["community-year"].content.decode()
        assert 'class="card notices-running"' in page and TITLE in page and object_url in page
        data = before["community-year-json"].json()
        assert [n["id"] for n in data["running_notices"]] == [notice.public_id]
        assert data["projects"][0]["notices"][0]["running"] is True
        assert data["projects"][0]["notices"][0]["status"] == "running"
        assert data["as_of"] == "2026-11-18"
        assert [(r["title"], r["notice_status"], r["notice_last_day"]) for r in csv_rows(before["community-year-csv"])] \
            == [(TITLE, "running", "2026-11-18")]
        # No reader may keep any of them past midnight.
        for name, response in before.items():
            assert 0 < max_age(response) <= 30, name
        # A second visit is served from the caches: no query at all.
        with CaptureQueriesContext(connection) as queries:
            assert resident.get(reverse("public:community-year", args=["a1", 2026])).content.decode() == page
        assert len(queries.captured_queries) == 0
        assert cache.get(f"public:data:{org.community('a1').pk}:2026:2026-11-18:"
                         f"{selectors.version(org.community('a1').pk)}:{selectors.SCHEMA}:zh-hans") is not None
        assert redis_cache.keys("fund:*public:page:a1:2026:2026-11-18:*")
        form = resident.get(object_url)
        assert form.status_code == 200 and b'name="text"' in form.content
        staff = secretary.get(reverse("approvals:proposal", args=[proposal.pk])).content.decode()
        assert 'data-status="running"' in staff and "公示中" in staff
        # The next step opens tomorrow: not yet in the community secretary's queue.
        assert TITLE not in queue_section(secretary.get("/").content.decode())

        acts, version = AuditRecord.objects.count(), selectors.version(org.community("a1").pk)

        # 00:00:05 the next day; nothing is recorded in between, nothing is cleared.
        clock.move_to(AFTER)
        after = public_views(resident, notice)
        page = after["community-year"].content.decode()
        assert "notices-running" not in page and object_url not in page
        assert TITLE in page and 'data-status="ended"' in page and "已结束" in page
        data = after["community-year-json"].json()
        assert data["running_notices"] == []
        assert data["projects"][0]["notices"][0]["running"] is False
        assert data["projects"][0]["notices"][0]["status"] == "ended"
        assert data["as_of"] == "2026-11-19" and data["generated_at"].startswith("2026-11-19T00:00:05")
        assert [(r["title"], r["notice_status"]) for r in csv_rows(after["community-year-csv"])] == [(TITLE, "ended")]
        for name, response in after.items():
            assert max_age(response) == 60, name

        # The objection form refuses, on the page and in the service.
        closed = resident.get(object_url).content.decode()
        assert "该公示不在公示期内，不能提出异议。" in closed and 'name="text"' not in closed
        refused = resident.post(object_url, {"resident_name": "王五", "text": "太吵", "shown": "x"})
        assert "该公示不在公示期内，不能提出异议。" in refused.content.decode()
        with pytest.raises(DomainError, match="不在公示期内"):
            chain.objection_record(notice=notice, channel=Objection.Channel.ONLINE, resident_name="王五", text="太吵")
        assert not Objection.objects.exists()
        assert list(Notice.objects.running_on(LAST_DAY + datetime.timedelta(days=1))) == []
        assert list(Notice.objects.running_on(LAST_DAY)) == [notice]

        # The staff's page shows it ended; the work queue now offers the next step (报街道党工委审批).
        staff = secretary.get(reverse("approvals:proposal", args=[proposal.pk])).content.decode()
        assert 'data-status="ended"' in staff and "已结束" in staff
        queue = queue_section(secretary.get("/").content.decode())
        assert TITLE in queue and "报街道党工委审批" in queue

        # No act happened: the stored status and the data version are as they were.
        assert AuditRecord.objects.count() == acts
        assert selectors.version(org.community("a1").pk) == version
        notice.refresh_from_db()
        assert notice.status == Notice.Status.RUNNING  # closed only by the next step, as before


def test_max_age_and_server_side_lifetimes_never_reach_past_local_midnight():
    for moment, browsers, server in [(datetime.datetime(2026, 11, 18, 12, 0, tzinfo=BEIJING), 60, 600),
                                     (datetime.datetime(2026, 11, 18, 23, 55, tzinfo=BEIJING), 60, 300),
                                     (datetime.datetime(2026, 11, 18, 23, 59, 1, tzinfo=BEIJING), 59, 59),
                                     (datetime.datetime(2026, 11, 18, 23, 59, 59, 500000, tzinfo=BEIJING), 0, 1),
                                     # 16:00 UTC is midnight in Beijing
                                     (datetime.datetime(2026, 11, 18, 15, 59, 45, tzinfo=datetime.UTC), 15, 15)]:
        with time_machine.travel(moment, tick=False):
            assert (selectors.max_age(), selectors.cache_seconds()) == (browsers, server), moment
