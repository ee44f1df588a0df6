"""audit_records: many records at once, chained exactly as that many audit_record calls would chain them."""
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from audit.models import AuditChainHead, AuditRecord
from audit.services import audit_record, audit_records, compute_hash, verify_chain


def test_bulk_records_continue_each_chain_and_verify(user):
    audit_record(actor=user, action="a.one", target=("x.y", 1), community_id=7)
    heard = []

    def listen(sender, instance, created, **kwargs):
        heard.append((instance.pk, instance.chain, created))

    post_save.connect(listen, sender=AuditRecord, dispatch_uid="test-bulk-heard")
    try:
        entries = [{"actor": user, "action": "a.bulk", "target": ("x.y", n), "community_id": 7 if n % 2 else None,
                    "after": {"n": n}} for n in range(2, 12)]
        with CaptureQueriesContext(connection) as queries:
            records = audit_records(entries)
    finally:
        post_save.disconnect(sender=AuditRecord, dispatch_uid="test-bulk-heard")
    assert len(queries) <= 8  # heads created and locked, one insert, one update of the heads (+ savepoint)
    audit_record(actor=user, action="a.last", target=("x.y", 12), community_id=7)

    seven = list(AuditRecord.objects.filter(chain="community:7").order_by("seq").values_list("seq", "target_id"))
    assert seven == [(1, "1"), (2, "3"), (3, "5"), (4, "7"), (5, "9"), (6, "11"), (7, "12")]
    assert [r.target_id for r in AuditRecord.objects.filter(chain="city").order_by("seq")] == ["2", "4", "6", "8", "10"]
    assert all(compute_hash(r) == r.hash for r in AuditRecord.objects.all())
    assert AuditChainHead.objects.get(chain="city").seq == 5
    assert verify_chain() == []
    assert heard == [(r.pk, r.chain, True) for r in records] and all(pk for pk, _c, _n in heard)
    assert audit_records([]) == []
