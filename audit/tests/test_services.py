import datetime
from decimal import Decimal

from audit.models import GENESIS_HASH, AuditChainHead, AuditRecord
from audit.services import audit_record, compute_hash, verify_chain


class Post:
    pk = 31

    def __str__(self):
        return "社区党委书记 · 幸福社区"


def test_appends_build_a_hash_chain(user):
    records = [
        audit_record(actor=user, action="proposal.submit", target=("approvals.proposal", n),
                     community_id=7)
        for n in range(4)
    ]

    stored = list(AuditRecord.objects.filter(chain="community:7").order_by("seq"))
    assert [r.seq for r in stored] == [1, 2, 3, 4]
    assert stored[0].prev_hash == GENESIS_HASH
    for previous, record in zip(stored, stored[1:]):
        assert record.prev_hash == previous.hash
    assert all(compute_hash(r) == r.hash for r in stored)
    head = AuditChainHead.objects.get(chain="community:7")
    assert (head.seq, head.last_hash) == (4, records[-1].hash)
    assert verify_chain() == []


def test_decimals_dates_and_floats_round_trip_and_verify(user):
    paid_at = datetime.datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=datetime.UTC)
    record = audit_record(
        actor=user,
        action="payment.record",
        target=("fundapp.payment", 5),
        before={"amount": Decimal("1234.50"), "due": datetime.date(2025, 3, 1)},
        after={"paid_at": paid_at, "ratio": 0.25, "large": 1e16, "items": [Decimal("0.10")]},
        community_id=3,
    )

    stored = AuditRecord.objects.get(pk=record.pk)
    assert stored.before == {"amount": "1234.50", "due": "2025-03-01"}
    assert stored.after == {
        "paid_at": "2025-03-01T09:30:15.123456+00:00",
        "ratio": 0.25,
        "large": 10**16,
        "items": ["0.10"],
    }
    assert stored.recorded_at == record.recorded_at
    assert compute_hash(stored) == stored.hash == record.hash
    assert verify_chain("community:3") == []


def test_who_what_and_where_are_frozen_into_the_record(user):
    by_instance = audit_record(actor=user, action="user.edit", target=user, post=Post(), note="改名")
    by_system = audit_record(actor=None, action="deadline.expire", target=("approvals.step", 9),
                             community_id=12)

    assert (by_instance.chain, by_instance.seq) == ("city", 1)
    assert (by_instance.target_type, by_instance.target_id) == ("auth.user", str(user.pk))
    assert (by_instance.post_id, by_instance.post_label) == (31, "社区党委书记 · 幸福社区")
    assert by_instance.actor_name == "张三 (zhangsan)"
    assert (by_system.chain, by_system.seq, by_system.community_id) == ("community:12", 1, 12)
    assert (by_system.actor_id, by_system.actor_name) == (None, "")


def test_each_chain_counts_on_its_own(user):
    audit_record(actor=user, action="a", target=("x.y", 1), community_id=1)
    audit_record(actor=user, action="a", target=("x.y", 1), community_id=1)
    other = audit_record(actor=user, action="a", target=("x.y", 1), community_id=2)
    explicit = audit_record(actor=user, action="a", target=("x.y", 1), community_id=2, chain="city")

    assert (other.chain, other.seq, other.prev_hash) == ("community:2", 1, GENESIS_HASH)
    assert (explicit.chain, explicit.seq) == ("city", 1)
