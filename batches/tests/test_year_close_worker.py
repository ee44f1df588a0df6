"""The year close batch on a real Celery worker consuming from Redis, on PostgreSQL (see
tests/test_celery_worker.py for the worker fixture and why it runs in-process). Redis: REDIS_TEST_URL."""
import datetime
import threading
from decimal import Decimal

import pytest
import time_machine

from audit.models import AuditRecord
from batches import services
from fundapp.models import FundYear, LedgerEntry
from tests.chain import allocate, approve, draft, to_review
from tests.test_celery_worker import _redis_available, batch_items_run_by, wait_until_finished, worker  # noqa: F401

pytestmark = [pytest.mark.celery_worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

YEAR = 2026


def test_the_year_close_batch_on_a_real_worker_closes_each_community_once(org, worker):  # noqa: F811
    allocate(org, "a1")
    allocate(org, "b1", amount=Decimal("50000.00"))
    approve(org, to_review(org, draft(org, budget="20000.00", title="在建项目")))
    in_2027 = datetime.datetime(2027, 1, 4, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    with time_machine.travel(in_2027, tick=True):
        first = wait_until_finished(services.batch_start("year_close", YEAR, by=org.city_admin))
        entries = LedgerEntry.objects.filter(kind__in=("carry_out", "carry_in")).count()
        second = wait_until_finished(services.batch_start("year_close", YEAR, by=org.city_admin))
    assert (first.status, first.done_count, first.failed_count) == ("done", 4, 0)
    assert (second.status, second.done_count, second.failed_count) == ("done", 4, 0)
    ran = batch_items_run_by(worker)
    assert len(ran) == 8 and all(thread != threading.main_thread().name for thread, _ in ran)
    assert set(FundYear.objects.filter(year=YEAR).values_list("status", flat=True)) == {"closed"}
    assert LedgerEntry.objects.filter(kind__in=("carry_out", "carry_in")).count() == entries > 0
    closes = AuditRecord.objects.filter(action="fund.close_year")
    assert closes.count() == 4 and set(closes.values_list("actor", flat=True)) == {org.city_admin.pk}
    assert FundYear.objects.get(community__code="b1", year=YEAR + 1).carried_in == Decimal("50000.00")
