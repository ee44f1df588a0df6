"""An act's effective date beside the time it was recorded (SPEC §9): hashed when set, so a changed date is
caught, and not hashed when absent, so every record written before the column existed still verifies."""
import datetime
import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from audit.models import AuditRecord
from audit.services import (
    HASHED_FIELDS, _hashable, _locked_head, audit_record, canonical_json, compute_hash, verify_chain,
)
from fundapp import clock

DAY = datetime.date(2026, 11, 20)


def legacy_hash(record):
    """The hash as it was computed before effective_on existed: the fixed fields, nothing else."""
    payload = {name: _hashable(getattr(record, name)) for name in HASHED_FIELDS}
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def append_legacy(chain, n, *, recorded_at=None):
    """Append a record exactly as audit_record wrote it before this column: no effective_on."""
    with transaction.atomic():
        head = _locked_head(chain)
        record = AuditRecord(
            chain=chain, seq=head.seq + 1, recorded_at=recorded_at or timezone.now(), actor=None,
            action="proposal.submit_for_consent", target_type="approvals.proposal", target_id=str(n),
            community_id=int(chain.split(":")[1]), after={"n": n}, prev_hash=head.last_hash,
        )
        record.hash = legacy_hash(record)
        record.save(force_insert=True)
        head.seq, head.last_hash = record.seq, record.hash
        head.save(update_fields=["seq", "last_hash"])
    return record


def run_verify():
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


@pytest.fixture
def mixed_trail(user):
    """Two records from before the column, then two new ones (one back-dated), on one chain."""
    old = [append_legacy("community:12", n) for n in range(2)]
    new = [
        audit_record(actor=user, action="proposal.meeting_passed", target=("approvals.proposal", 7),
                     community_id=12, effective_on=DAY),
        audit_record(actor=user, action="proposal.post_notice", target=("approvals.proposal", 7), community_id=12),
    ]
    return old, new


def test_a_record_without_effective_date_hashes_as_before(user):
    record = audit_record(actor=user, action="x", target=("x.y", 1))
    legacy = AuditRecord(**{name: getattr(record, name) for name in HASHED_FIELDS}, effective_on=None)

    assert compute_hash(legacy) == legacy_hash(legacy)
    # Set, it is part of the hash.
    assert record.effective_on is not None
    assert compute_hash(record) == record.hash != legacy_hash(record)


def test_effective_date_defaults_to_the_domain_clock_and_recorded_at_stays_real(user):
    before = timezone.now()
    plain = audit_record(actor=user, action="x", target=("x.y", 1))
    with clock.as_of(DAY):
        back_dated = audit_record(actor=user, action="x", target=("x.y", 2))
        explicit = audit_record(actor=user, action="x", target=("x.y", 3), effective_on=DAY - datetime.timedelta(3))
    after = timezone.now()

    assert plain.effective_on == timezone.localdate()
    assert back_dated.effective_on == DAY
    assert explicit.effective_on == datetime.date(2026, 11, 17)
    # The recorded time is the real clock's, not the domain's: it is the trail's evidence.
    for record in (plain, back_dated, explicit):
        stored = AuditRecord.objects.get(pk=record.pk)
        assert before <= stored.recorded_at <= after
        assert stored.effective_on == record.effective_on
        assert compute_hash(stored) == stored.hash
    assert AuditRecord.objects.get(pk=back_dated.pk).recorded_later
    assert not AuditRecord.objects.get(pk=plain.pk).recorded_later


def test_old_and_new_records_verify_together(mixed_trail):
    old, new = mixed_trail

    assert [r.effective_on for r in AuditRecord.objects.order_by("seq")] == [None, None, DAY, timezone.localdate()]
    assert verify_chain() == []
    status, output = run_verify()
    assert status == 0, output
    assert "4 records in 1 chains" in output


def test_an_old_record_shows_its_local_recording_date():
    # 17:30 UTC is 01:30 the next day in Beijing.
    record = AuditRecord(recorded_at=datetime.datetime(2026, 12, 1, 17, 30, tzinfo=datetime.UTC))

    assert record.effective_date == datetime.date(2026, 12, 2)
    assert not record.recorded_later


@pytest.mark.parametrize("which, value", [
    ("new", "'2026-11-21'"),  # a back-dated act moved by a day
    ("new", "NULL"),  # the date removed, as if the record were older than the column
    ("old", "'2026-11-21'"),  # a date slipped into a record written before the column
], ids=["changed", "removed", "added"])
def test_a_changed_effective_date_is_caught(mixed_trail, raw_sql_as_owner, which, value):
    old, new = mixed_trail
    target = new[0] if which == "new" else old[1]
    raw_sql_as_owner(f"UPDATE {{table}} SET effective_on = {value} WHERE id = %s", [target.pk])

    problems = verify_chain()

    assert [(p.record_id, p.seq) for p in problems] == [(target.pk, target.seq)]
    assert "hash mismatch" in problems[0].message
    status, output = run_verify()
    assert status == 1
    assert f"id={target.pk}: " in output


def test_timelines_order_by_effective_date_then_recorded_time(user):
    real_today = timezone.localdate()
    legacy = append_legacy("community:3", 1, recorded_at=timezone.now() - datetime.timedelta(days=30))
    today = audit_record(actor=user, action="b", target=("x.y", 1), community_id=3)
    earlier = audit_record(actor=user, action="c", target=("x.y", 1), community_id=3,
                           effective_on=real_today - datetime.timedelta(days=10))
    same_day = audit_record(actor=user, action="d", target=("x.y", 1), community_id=3,
                            effective_on=real_today - datetime.timedelta(days=10))

    ordered = list(AuditRecord.objects.filter(community_id=3).in_effective_order())
    assert [r.pk for r in ordered] == [legacy.pk, earlier.pk, same_day.pk, today.pk]
    newest = list(AuditRecord.objects.filter(community_id=3).in_effective_order(newest_first=True))
    assert [r.pk for r in newest] == [today.pk, same_day.pk, earlier.pk, legacy.pk]
