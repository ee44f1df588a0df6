"""The December batches on a real Celery worker consuming from Redis (not eager mode), on PostgreSQL.

Why an in-process worker thread (celery.contrib.testing.worker.start_worker) rather than a
`celery -A fundapp worker` subprocess:

- it is the real consumer: tasks go through the Redis broker (kombu's Redis transport, acks_late, ETA
  retries with backoff) and are executed by a WorkController with a thread pool of 4, not inline;
- it uses the test's own settings and database (the PostgreSQL test database the rows were committed to
  with transaction=True) without handing a DATABASE_URL for "test_…" to a second process and hoping it
  boots with the same configuration, and it starts in well under a second instead of several;
- a test-only failure can be injected into the handler with monkeypatch (a subprocess would need a
  production code path for it), which is how "interrupted half-way" is simulated: the disclosure's row is
  committed, then rendering the poster dies;
- it is stopped deterministically at the end of each test, so no stray worker outlives the suite.

Redis: REDIS_TEST_URL (default redis://127.0.0.1:6379/15), a database of its own that is flushed before
and after. Locally the tests skip when Redis is unreachable; in CI (REQUIRE_POSTGRES=1 or REQUIRE_REDIS=1)
they fail instead.
"""
import os
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connections
from django.utils import timezone

from approvals.models import AnnualReport
from batches import services as batch_services
from batches.models import BatchItem, BatchRun
from disclosure import services as disclosure_services
from disclosure.models import YearEndDisclosure
from tests.faults import shared_redis
from disclosure.tests.seed import EXPECTED, YEAR, seed_year

pytestmark = [pytest.mark.celery_worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
CODES = ("a1", "a2", "b1", "b2")


@pytest.fixture(autouse=True)
def _redis_available():
    """Before the (slower) seeding: skip locally, or fail in CI, when Redis does not answer."""
    shared_redis(REDIS_URL)


@pytest.fixture
def worker(settings, tmp_path):
    """A real worker on Redis; yields the list of (task name, thread name, return value) it executed."""
    from celery import Celery
    from celery.contrib.testing.app import setup_default_app
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun, task_prerun

    import approvals.tasks  # noqa: F401 - shared tasks are bound to every app that is finalized after import
    import batches.tasks  # noqa: F401
    import celery.contrib.testing.tasks  # noqa: F401 - the ping start_worker waits for
    import disclosure.tasks  # noqa: F401
    import fundapp.tasks  # noqa: F401

    redis_client = shared_redis(REDIS_URL)
    redis_client.flushdb()
    settings.MEDIA_ROOT = tmp_path / "media"
    app = Celery("fundapp-worker-test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=REDIS_URL, result_backend=REDIS_URL, task_always_eager=False, task_eager_propagates=False,
        task_default_queue=f"fund-test-{os.getpid()}", worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
    )
    executed, in_flight = [], set()

    def before_task(task_id=None, **kwargs):
        in_flight.add(task_id)

    def after_task(sender=None, task_id=None, retval=None, **kwargs):
        executed.append((sender.name, threading.current_thread().name, retval))
        # Each pool thread has its own Django connection to the test database; close it so that
        # nothing holds the database open when the test flushes it and the session drops it.
        connections.close_all()
        in_flight.discard(task_id)

    task_prerun.connect(before_task, weak=False)
    task_postrun.connect(after_task, weak=False)
    try:
        with setup_default_app(app), start_worker(app, pool="threads", concurrency=4, perform_ping_check=True,
                                                  shutdown_timeout=30):
            assert app.conf.task_always_eager is False
            yield executed
            # If the test stopped early, let the tasks already running finish before the database is
            # flushed under them (a stopping worker requeues unstarted messages; flushdb drops those).
            deadline = time.monotonic() + 30
            while in_flight and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        task_prerun.disconnect(before_task)
        task_postrun.disconnect(after_task)
        redis_client.flushdb()


def batch_items_run_by(executed):
    return [(thread, value) for name, thread, value in executed if name == "batches.tasks.run_batch_item"]


def wait_until_finished(run, timeout=45):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = BatchRun.objects.get(pk=run.pk)
        if run.is_finished:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run.pk} not finished: {list(run.items.values_list('status', flat=True))}")


def test_generating_twice_on_a_real_worker_gives_one_document_per_community(org, worker, settings):
    seed_year(org)
    for _ in range(2):
        call_command("generate_disclosures", "--year", str(YEAR), "--wait", "--timeout", "60")
        call_command("generate_annual_reports", "--year", str(YEAR), "--wait", "--timeout", "60")

    # Every item ran in the worker's pool threads, none in this (the main) thread: not eager mode.
    ran = batch_items_run_by(worker)
    assert len(ran) == 16 and all(thread != threading.main_thread().name for thread, _ in ran)
    assert {value for _, value in ran} == {"done"}
    runs = BatchRun.objects.filter(year=YEAR).order_by("pk")
    assert [(r.kind, r.status, r.done_count, r.failed_count) for r in runs] == [
        ("disclosures", "done", 4, 0), ("annual_reports", "done", 4, 0)] * 2

    disclosures = {d.community.code: d for d in YearEndDisclosure.objects.select_related("community")}
    assert sorted(disclosures) == list(CODES) and YearEndDisclosure.objects.count() == 4
    for code, d in disclosures.items():
        money = d.figures["money"]
        assert {k: money[k] for k in EXPECTED[code]} == EXPECTED[code], code
        assert d.has_pdf and d.posted_on == timezone.localdate() and d.working_days == 5
    files = sorted(p.name for p in (settings.MEDIA_ROOT / "disclosures" / str(YEAR)).iterdir() if p.is_file())
    assert files == [f"{code}-{YEAR}.pdf" for code in CODES]

    reports = {r.community.code: r for r in AnnualReport.objects.select_related("community")}
    assert sorted(reports) == list(CODES) and AnnualReport.objects.count() == 4
    for code, report in reports.items():
        money = report.figures.get("money", {})
        if code == "b2":
            assert money == {}  # no fund year at all
        else:
            assert {k: money[k] for k in EXPECTED[code]} == EXPECTED[code], code


def test_an_interrupted_item_is_rerun_to_completion_without_duplicates(org, worker, monkeypatch, settings):
    proposals = seed_year(org)
    a2, b1 = org.community("a2").pk, org.community("b1").pk
    real_poster = disclosure_services.poster_pdf
    calls = []

    def poster_dies_once_for_a2(disclosure):
        calls.append(disclosure.community_id)
        if disclosure.community_id == a2 and calls.count(a2) == 1:
            raise RuntimeError("worker lost while rendering the poster (test)")
        return real_poster(disclosure)

    real_figures = disclosure_services.disclosure_figures

    def database_blips_once_for_b1(community, year):
        calls.append(("figures", community.pk))
        if community.pk == b1 and calls.count(("figures", b1)) == 1:
            raise OperationalError("server closed the connection unexpectedly (test)")
        return real_figures(community, year)

    monkeypatch.setattr(disclosure_services, "poster_pdf", poster_dies_once_for_a2)
    monkeypatch.setattr(disclosure_services, "disclosure_figures", database_blips_once_for_b1)

    with pytest.raises(CommandError, match="3 of 4 communities done, 1 failed"):
        call_command("generate_disclosures", "--year", str(YEAR), "--wait", "--timeout", "60")
    run = BatchRun.objects.get(kind="disclosures")
    items = {i.community.code: i for i in run.items.select_related("community")}
    # b1's transient error was retried by Celery (autoretry with backoff) and went through.
    assert items["b1"].status == "done" and items["b1"].attempts == 2
    # a2 died half-way: its row and figures were committed, its poster was not.
    assert items["a2"].status == "failed" and "worker lost while rendering" in items["a2"].error
    half_done = YearEndDisclosure.objects.get(community_id=a2)
    assert not half_done.has_pdf
    assert not (settings.MEDIA_ROOT / "disclosures" / str(YEAR) / f"a2-{YEAR}.pdf").exists()

    # "重新运行失败项": only a2 is sent again, after the transaction commits, to the worker.
    assert batch_services.batch_rerun_failures(run) == 1
    run = wait_until_finished(run)
    assert (run.status, run.done_count, run.failed_count) == ("done", 4, 0)
    item = BatchItem.objects.get(run=run, community_id=a2)
    assert item.status == "done" and item.attempts == 2 and item.error == ""
    assert YearEndDisclosure.objects.count() == 4
    assert YearEndDisclosure.objects.get(community_id=a2).pk == half_done.pk
    assert all(d.has_pdf for d in YearEndDisclosure.objects.all())
    files = sorted(p.name for p in (settings.MEDIA_ROOT / "disclosures" / str(YEAR)).iterdir() if p.is_file())
    assert files == [f"{code}-{YEAR}.pdf" for code in CODES]

    # A redelivered message (acks_late after a worker died) for an item already done changes nothing.
    from batches.tasks import run_batch_item

    before = len(batch_items_run_by(worker))
    run_batch_item.delay(item.pk)
    deadline = time.monotonic() + 20
    while len(batch_items_run_by(worker)) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert batch_items_run_by(worker)[-1][1] == "skipped"
    assert YearEndDisclosure.objects.count() == 4
    assert BatchItem.objects.get(pk=item.pk).attempts == 2
    assert proposals  # the seeded projects are what the posters show


def test_close_year_twice_on_a_real_worker_carries_over_once(org, worker):
    import datetime

    import time_machine
    from django.db.models import Sum

    from fundapp.models import FundYear, LedgerEntry
    from approvals.tasks import close_previous_year

    seed_year(org)
    # Everything not yet paid carries over: what is available and what is reserved for unfinished projects.
    to_carry = {fy.community.code: fy.balance_to_carry
                for fy in FundYear.objects.filter(year=YEAR).select_related("community")}
    new_year = datetime.datetime(YEAR + 1, 1, 1, 0, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    with time_machine.travel(new_year, tick=True):
        first = close_previous_year.delay().get(timeout=60)
        second = close_previous_year.delay().get(timeout=60)
    assert first["closed"] == 4 and first["failed"] == []
    assert second == {"closed": 0, "already": 4, "failed": []}
    # task_postrun (which records the thread) fires just after the result is stored: wait for it, briefly.
    deadline = time.monotonic() + 10
    while len(ran := [thread for name, thread, _ in worker if name == "approvals.tasks.close_previous_year"]) < 2 \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(ran) == 2 and threading.main_thread().name not in ran
    carried = dict(LedgerEntry.objects.filter(kind="carry_in", fund_year__year=YEAR + 1)
                   .values_list("fund_year__community__code").annotate(total=Sum("amount")))
    assert carried == {code: amount for code, amount in to_carry.items() if amount > 0}
    assert LedgerEntry.objects.filter(kind="carry_out").count() == len(carried)
