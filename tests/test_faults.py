"""Faults, for real: Redis stopped, a Celery worker SIGKILLed mid-batch, PostgreSQL restarted and stopped.

Each test starts PRIVATE services on free ports of 127.0.0.1 (tests/faults.py) and really stops and starts
them; the shared PostgreSQL and Redis of the machine are never touched. What each proves:

1. Redis stopped — staff actions over HTTP (a step of the approval chain; starting the December batch)
   and the residents' pages (reading, and submitting a need) all complete, quickly, with no 500 and
   nothing half-written; work that could not be queued is kept (a notification not yet emailed; batch
   items failed with the reason, re-runnable). With Redis back, the periodic resend and a real worker
   send each notification email exactly once, and re-running the batch finishes it.
2. A real `celery -A fundapp worker` process is SIGKILLed half-way through the December batches; a new
   worker finishes them, with exactly one disclosure, one poster and one annual report per community.
3. PostgreSQL restarted under a running gunicorn: the app reconnects by itself; with PostgreSQL down, a
   friendly 503 page (not a traceback, not a 500), logged; once it is back, pages and writes work again
   without restarting the app.

Needs redis-server and PostgreSQL's initdb/pg_ctl (run as the postgres OS user when the tests run as root).
1 and 2 also need the test database on PostgreSQL (their workers share it); 3 brings its own cluster.
A missing binary skips with the reason (REQUIRE_FAULTS=1 makes it a failure). About 60 s for the three.

Faults survived: Redis stopped (4 staff/public requests + a reminder run + the resend after it is back),
a worker SIGKILLed mid-batch, PostgreSQL restarted, PostgreSQL stopped and started again.
"""
import datetime
import hashlib
import re
import subprocess
import time
from decimal import Decimal

import pytest
from django.db import connection

from approvals.models import AnnualReport
from audit.models import AuditRecord
from batches.models import BatchItem, BatchRun
from disclosure.models import YearEndDisclosure
from disclosure.tests.seed import YEAR, seed_year
from fundapp.services import ledger as ledger_services
from fundapp.services import org as org_services
from tests import faults
from tests.chain import travel
from tests.faults import BASE_DIR, PYTHON, CeleryWorker, HttpClient, WebServer, app_env, database_url_of, wait_for

private_redis, private_postgres = faults.private_redis, faults.private_postgres  # fixtures

# ---------------------------------------------------------------------------------------------------------
# 1. Redis stopped: staff actions and public pages complete; the queued work is sent when it is back

FAST = 3.0  # seconds: what a request may take with Redis gone (Celery's defaults would wait ~20 s per task)


def _timed_request(call, what):
    started = time.monotonic()
    response = call()
    seconds = time.monotonic() - started
    assert seconds < FAST, f"{what} took {seconds:.1f} s with Redis down"
    return response


@pytest.mark.postgres  # the worker's threads share the test database (as in tests/test_celery_worker.py)
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_staff_and_public_pages_complete_and_the_queued_work_is_sent_once_it_is_back(
        org, private_redis, settings, client, tmp_path, caplog):
    import threading

    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from django.core import mail, signing
    from django.core.cache import cache
    from django.db import connections
    from django.urls import reverse

    from approvals.models import Need, Proposal
    from fundapp.models import Delivery, Notification, Role
    from fundapp.tasks import remind_needs_collection, send_pending_notification_emails
    from tests.chain import allocate, draft
    from tests.faults import celery_app_on

    settings.CACHES = {"default": {"BACKEND": "fundapp.cache.ResilientRedisCache", "LOCATION": private_redis.url,
                                   "KEY_PREFIX": "fund",
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    settings.MEDIA_ROOT = tmp_path / "media"
    for user in [org.city_admin, *org.people.values()]:
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    with travel(datetime.date(YEAR, 1, 10)):
        allocate(org, "a1")
    proposal = draft(org, "a1")
    secretary, admin = org.person(Role.COMMUNITY_SECRETARY, "a1"), org.city_admin
    public = client.__class__()

    with celery_app_on(private_redis.url) as app:
        # Running normally: the cache holds the public page, the app holds a connection to the broker.
        assert public.get("/public/zh/a1/2026/").status_code == 200
        assert cache.get("public:v:%s" % org.community("a1").pk) is not None
        send_pending_notification_emails.delay()  # nothing pending yet; it only opens the broker connection

        private_redis.stop()

        # A step of the approval chain, over HTTP: done, recorded, audited.
        client.force_login(secretary)
        audits = AuditRecord.objects.count()
        with travel(datetime.date(YEAR, 9, 28)):
            response = _timed_request(lambda: client.post(
                reverse("approvals:proposal-action", args=[proposal.pk, "submit_for_consent"]), {"confirm": "1"}),
                "a chain step")
        assert response.status_code == 302 and response["Location"] == f"/proposals/{proposal.pk}/"
        assert Proposal.objects.get(pk=proposal.pk).state == "consent_pending"
        assert AuditRecord.objects.count() == audits + 2  # the step, and its application form archived (filed)
        step = AuditRecord.objects.filter(action="proposal.submit_for_consent").order_by("-pk").first()
        assert step.target_id == str(proposal.pk)

        # A reminder (beat's quarterly job, run as the worker runs it): the notifications are recorded; their
        # emails cannot be queued — that is logged, and the rows stay "not emailed yet".
        caplog.clear()
        started = time.monotonic()
        with travel(datetime.date(YEAR, 10, 1)):
            assert remind_needs_collection.apply().get() == 8
        assert time.monotonic() - started < 8 * FAST
        # (Nine: the eight reminders, and the subdistrict secretary told of the proposal awaiting consent,
        # whose email could not be queued either.)
        unsent = Notification.objects.filter(emailed_at__isnull=True)
        assert unsent.count() == Notification.objects.count() == 9 and mail.outbox == []
        assert Delivery.objects.filter(status="pending", attempts=0).count() == 9
        failures = [r for r in caplog.records if "on_commit" in r.getMessage() and r.exc_info]
        assert len(failures) == 8 and all("Connection refused" in str(r.exc_info[1]) for r in failures)

        # The city administrator starts a December batch: the run is recorded and its items are marked failed
        # with the reason (not left "pending" forever), so they can be re-run.
        client.force_login(admin)
        response = _timed_request(lambda: client.post(reverse("batches:start"),
                                                      {"kind": "annual_reports", "year": YEAR}), "starting a batch")
        run = BatchRun.objects.get(kind="annual_reports")
        assert response.status_code == 302 and response["Location"] == reverse("batches:run", args=[run.pk])
        assert (run.status, run.total, run.failed_count) == ("failed", 4, 4)
        assert all("Connection refused" in item.error for item in run.items.all())
        assert AuditRecord.objects.filter(action="batch.start", target_id=str(run.pk)).exists()
        page = _timed_request(lambda: client.get(reverse("batches:run", args=[run.pk])), "the run's page")
        assert page.status_code == 200

        # Residents: reading (uncached now) and writing.
        for url in ("/public/zh/", "/public/zh/a1/2026/", "/public/zh/a1/2026.json"):
            assert _timed_request(lambda: public.get(url), url).status_code == 200, url
        assert _timed_request(lambda: public.get("/public/zh/a1/needs/new/"), "the needs form").status_code == 200
        shown = signing.dumps(time.time() - 60, salt="public-form")  # the form was filled in over a minute
        thanks = _timed_request(lambda: public.post("/public/zh/a1/needs/new/", {
            "shown": shown, "description": "希望增设老年活动室", "resident_name": "", "resident_contact": ""}),
            "a resident's submission")
        assert thanks.status_code == 200 and Need.objects.filter(description="希望增设老年活动室").count() == 1

        # Redis is back (empty, as after a restart without persistence): caching resumes, the pending
        # emails go out through a real worker — each exactly once, though the resend runs twice at once —
        # and re-running the batch's failures finishes it.
        private_redis.start()
        assert public.get("/public/zh/a1/2026/").status_code == 200
        assert private_redis.client().keys("fund:*")
        finished, ran_in = [], set()

        def done(sender=None, **kwargs):
            finished.append(sender.name)
            ran_in.add(threading.current_thread().name)
            connections.close_all()  # the worker threads' own connections, before the test database is flushed

        task_postrun.connect(done, weak=False)
        try:
            with start_worker(app, pool="threads", concurrency=4, perform_ping_check=True, shutdown_timeout=30):
                send_pending_notification_emails.delay()
                send_pending_notification_emails.delay()
                wait_for(lambda: finished.count("fundapp.tasks.deliver") == 18, 30,
                         f"18 delivery tasks to run (ran: {finished})")
                assert not Notification.objects.filter(emailed_at__isnull=True).exists()
                assert len(mail.outbox) == 9
                assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}
                assert sorted(m.to[0] for m in mail.outbox) == sorted(
                    Notification.objects.values_list("user__email", flat=True))

                client.force_login(admin)
                response = client.post(reverse("batches:rerun", args=[run.pk]))
                assert response.status_code == 302
                wait_for(lambda: BatchRun.objects.get(pk=run.pk).is_finished, 30, "the re-run batch")
                run.refresh_from_db()
                assert (run.status, run.done_count, run.failed_count) == ("done", 4, 0)
                assert AnnualReport.objects.count() == 4
            assert ran_in and threading.main_thread().name not in ran_in  # a real worker, not eager mode
        finally:
            task_postrun.disconnect(done)


# ---------------------------------------------------------------------------------------------------------
# 2. A worker killed half-way through the December batches


def _more_communities(org, n):
    """n more communities (with this year's allocation) beside the fixture's four, in both subdistricts."""
    codes = []
    with travel(datetime.date(YEAR, 1, 10)):
        for i in range(n):
            subdistrict = (org.a, org.b)[i % 2]
            code = f"{subdistrict.code}{i + 3}"
            community = org_services.community_create(subdistrict=subdistrict, name=f"{subdistrict.name}{i + 3}号社区",
                                                      code=code)
            ledger_services.fund_year_allocate(community=community, year=YEAR, amount=Decimal("80000.00") + i,
                                              entry_date=datetime.date(YEAR, 1, 10))
            codes.append(code)
    return codes


def _progress(run_ids):
    return {status: BatchItem.objects.filter(run_id__in=run_ids, status=status).count()
            for status in ("pending", "running", "done", "failed")}


@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_december_batch_is_replaced_and_the_batch_finishes_once(org, private_redis, tmp_path):
    from django.core.management import call_command

    from tests.faults import celery_app_on

    media = tmp_path / "media"
    visibility = 2  # seconds before a task taken by a dead worker is handed out again (production: 1 hour)
    env = app_env(DATABASE_URL=database_url_of(connection), REDIS_URL=private_redis.url, MEDIA_ROOT=media,
                  CELERY_VISIBILITY_TIMEOUT=visibility)
    first = CeleryWorker(env, tmp_path / "worker-1.log", pool="prefork", concurrency=2, name="first")
    second = CeleryWorker(env, tmp_path / "worker-2.log", pool="prefork", concurrency=2, name="second")
    try:
        first.start(wait=False)  # it boots while the year is seeded
        seed_year(org)
        codes = ["a1", "a2", "b1", "b2", *_more_communities(org, 4)]  # 8 communities
        first.wait_ready()
        with celery_app_on(private_redis.url):
            # What beat runs in December, by hand: both batches queued at once, 16 items on the broker.
            call_command("generate_disclosures", "--year", str(YEAR))
            call_command("generate_annual_reports", "--year", str(YEAR))
        runs = list(BatchRun.objects.order_by("pk"))
        run_ids = [run.pk for run in runs]
        assert [(r.kind, r.total) for r in runs] == [("disclosures", 8), ("annual_reports", 8)]

        # Half-way: some items done, one being worked on this very moment — then the worker is gone.
        wait_for(lambda: (lambda p: p["done"] >= 3 and p["running"] >= 1)(_progress(run_ids)), 60,
                 f"the first worker to be half-way (log:\n{first.output()[-3000:]})", interval=0.02)
        first.kill()
        killed_at = time.monotonic()
        at_kill = _progress(run_ids)
        interrupted = set(BatchItem.objects.filter(run_id__in=run_ids, status="running").values_list("pk", flat=True))
        assert interrupted and 3 <= at_kill["done"] < 16 and at_kill["failed"] == 0, at_kill
        assert BatchRun.objects.filter(pk__in=run_ids, status="running").exists()

        # Nothing moves while no worker runs: the killed worker's items stay claimed, the rest queued.
        time.sleep(max(0.0, visibility + 0.5 - (time.monotonic() - killed_at)))
        assert _progress(run_ids) == at_kill

        second.start()
        wait_for(lambda: not BatchRun.objects.filter(pk__in=run_ids, status="running").exists(), 90,
                 f"the second worker to finish the batches (log:\n{second.output()[-3000:]})", interval=0.2)
    finally:
        second.stop()
        first.stop()

    runs = list(BatchRun.objects.order_by("pk"))
    assert [(r.status, r.done_count, r.failed_count) for r in runs] == [("done", 8, 0)] * 2
    # The interrupted items were run again (their message redelivered after the worker died) and only they
    # were run twice: every other item ran exactly once.
    attempts = dict(BatchItem.objects.filter(run_id__in=run_ids).values_list("pk", "attempts"))
    assert {pk for pk, n in attempts.items() if n == 2} == interrupted
    assert all(n == 1 for pk, n in attempts.items() if pk not in interrupted)

    # Exactly one document per community and kind: no duplicate rows, posters, audit records.
    disclosures = list(YearEndDisclosure.objects.select_related("community"))
    assert sorted(d.community.code for d in disclosures) == sorted(codes)
    assert sorted(r.community.code for r in AnnualReport.objects.select_related("community")) == sorted(codes)
    posters = sorted(p.name for p in (media / "disclosures" / str(YEAR)).iterdir() if p.is_file())
    assert posters == sorted(f"{code}-{YEAR}.pdf" for code in codes)
    for d in disclosures:
        assert d.sha256 == hashlib.sha256((media / d.pdf.name).read_bytes()).hexdigest(), d.community.code
    assert AuditRecord.objects.filter(action="disclosure.post").count() == 8
    assert AuditRecord.objects.filter(action="disclosure.refresh").count() == 0
    # Both workers really ran items: the first before it was killed, the second after.
    assert re.search(rb"run_batch_item\[[^\]]+\] succeeded", first.output_bytes())
    assert re.search(rb"run_batch_item\[[^\]]+\] succeeded", second.output_bytes())


# ---------------------------------------------------------------------------------------------------------
# 3. PostgreSQL restarted and stopped under a running web server

SETUP_SCRIPT = """
import datetime, django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from django.contrib.auth import get_user_model
from fundapp.demo import DEMO_PASSWORD
from fundapp.models import Role
from fundapp.services import org
sd = org.subdistrict_create(name="东城街道", code="a")
community = org.community_create(subdistrict=sd, name="幸福社区", code="xingfu")
user = get_user_model().objects.create_user(username="xingfu-secretary", password=DEMO_PASSWORD, first_name="李书记")
org.post_create(user=user, role=Role.COMMUNITY_SECRETARY, community=community, start_date=datetime.date(2020, 1, 1))
"""
UNAVAILABLE = "服务暂时不可用，请稍后重试"


def _csrf(html):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def _need_form(session):
    page = session.get("/public/zh/xingfu/needs/new/")
    assert page.status_code == 200
    shown = re.search(r'name="shown" value="([^"]+)"', page.text).group(1)
    return {"csrfmiddlewaretoken": _csrf(page.text), "shown": shown, "website": "",
            "description": "小区门口的路灯坏了，晚上看不见路", "resident_name": "", "resident_contact": ""}


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.mark.postgres
def test_postgresql_restarted_under_the_web_server_gives_a_friendly_page_and_recovers_by_itself(
        private_postgres, tmp_path):
    from fundapp.demo import DEMO_PASSWORD

    pg = private_postgres
    pg.psql("CREATE DATABASE fund")
    env = app_env(DATABASE_URL=pg.url("fund"), DB_CONN_MAX_AGE=600, MEDIA_ROOT=tmp_path / "media",
                  ALLOWED_HOSTS="127.0.0.1")
    # The schema by migrate, and gunicorn booting meanwhile (it needs no database to start).
    setup = subprocess.Popen([PYTHON, "-c", SETUP_SCRIPT], cwd=BASE_DIR, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    web = WebServer(env, tmp_path / "gunicorn.log").start()
    try:
        output, _ = setup.communicate(timeout=120)
        assert setup.returncode == 0, output[-3000:]
        staff, resident = HttpClient(web.url), HttpClient(web.url)
        login = staff.get("/login/")
        signed_in = staff.post("/login/", data={
            "csrfmiddlewaretoken": _csrf(login.text), "username": "xingfu-secretary", "password": DEMO_PASSWORD})
        assert signed_in.status_code == 302, signed_in.text[-2000:]
        assert staff.get("/").status_code == 200
        assert resident.get("/public/zh/").status_code == 200

        # Restarted (a fast restart cuts every client connection): the web process's kept-alive connection is
        # dead; it is checked before use and replaced, so not even the first request after it fails.
        pg.restart()
        home = staff.get("/")
        assert home.status_code == 200 and "李书记" in home.text
        assert resident.get("/public/zh/").status_code == 200

        # Down (crashed: stop -m immediate): every page that needs the database answers 503 with the
        # friendly page — the signed-in desk (the session is in the database), the residents' pages, a
        # resident's submission — quickly, not a traceback, not a 500.
        form, form_shown_at = _need_form(resident), time.monotonic()
        pg.stop()
        for name, call in [
            ("desk", lambda: staff.get("/")),
            ("public", lambda: resident.get("/public/zh/")),
            ("need", lambda: resident.post("/public/zh/xingfu/needs/new/", data=form)),
        ]:
            response, seconds = _timed(call)
            assert response.status_code == 503, (name, response.status_code, response.text[-1500:])
            assert UNAVAILABLE in response.text and "Traceback" not in response.text, name
            assert response.headers["Retry-After"] == "30" and "no-store" in response.headers["Cache-Control"]
            assert seconds < 5, (name, seconds)
        # Logged, with the cause: nothing is swallowed.
        log = web.log_path.read_text(errors="replace")
        assert "Service Unavailable: /public/" in log and "OperationalError" in log and "Traceback" in log

        # Back: the same web process (never restarted) answers again, the signed-in person is still signed
        # in, and the submission that failed can be made now — once.
        pg.start()
        home = staff.get("/")
        assert home.status_code == 200 and "李书记" in home.text
        assert resident.get("/public/zh/").status_code == 200
        assert pg.psql("SELECT count(*) FROM approvals_need", "fund") == "0"
        time.sleep(max(0.0, 3.2 - (time.monotonic() - form_shown_at)))  # the form's anti-bot minimum
        thanks = resident.post("/public/zh/xingfu/needs/new/", data=form)
        assert thanks.status_code == 200, thanks.text[-1500:]
        assert pg.psql("SELECT count(*) FROM approvals_need", "fund") == "1"
        assert web.proc.poll() is None
        log = web.log_path.read_text(errors="replace")
        assert log.count("Booting worker") == 1, log[-3000:]
    finally:
        web.stop()


@pytest.mark.django_db
def test_only_a_lost_database_gets_the_503_page_any_other_error_is_still_a_500(monkeypatch, caplog):
    """The other side of the 503 handler (fundapp.unavailable): a bug is not dressed up as "try again"."""
    from django.db import InterfaceError, OperationalError
    from django.test import Client

    from public import city_selectors

    client = Client(raise_request_exception=False)
    for error, status, text in [
        (OperationalError("server closed the connection unexpectedly"), 503, UNAVAILABLE),
        (InterfaceError("connection already closed"), 503, UNAVAILABLE),
        (ZeroDivisionError("a bug"), 500, "系统暂时无法处理您的请求"),
    ]:
        def broken(*args, error=error, **kwargs):
            raise error

        monkeypatch.setattr(city_selectors, "city_index", broken)
        caplog.clear()
        response = client.get("/public/zh/")
        assert response.status_code == status and text in response.content.decode(), error
        assert ("Retry-After" in response) == (status == 503)
        logged = [r for r in caplog.records if r.name == "django.request" and r.levelname == "ERROR"]
        assert logged and logged[-1].exc_info[1] is error  # logged with its traceback, never swallowed
