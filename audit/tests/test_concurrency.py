import threading

import pytest
from django.db import connection, connections

from audit.models import AuditChainHead, AuditRecord
from audit.services import audit_record, verify_chain

THREADS = 8
RECORDS_PER_THREAD = 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_to_one_chain_stay_gapless(user):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has no row locks and serialises every writer anyway")
    start = threading.Barrier(THREADS)
    errors = []

    def append(worker):
        try:
            start.wait()
            for n in range(RECORDS_PER_THREAD):
                # A chain nobody has written yet, so the threads also race to create its head.
                audit_record(actor=user, action="payment.record",
                             target=("fundapp.payment", worker * 100 + n), community_id=42)
        except Exception as error:  # reported below: an exception in a thread would vanish
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(w,)) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    total = THREADS * RECORDS_PER_THREAD
    seqs = list(AuditRecord.objects.filter(chain="community:42").order_by("seq")
                .values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1))
    assert AuditChainHead.objects.get(chain="community:42").seq == total
    assert verify_chain() == []
