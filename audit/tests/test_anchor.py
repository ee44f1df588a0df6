"""The audit trail anchored outside the database: a keyed hash (the key is not in the database), the
algorithm and key id on each record, old unkeyed records still verifying, the triggers checked, and each
chain's head published (heads file, security log, the public page) and checked by verify_audit."""
import hashlib
import hmac
import json
import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit import keys, services
from audit.checks import audit_key_check
from audit.models import AuditChainHead, AuditRecord
from audit.services import audit_record, verify_chain

CHAIN = "community:12"


@pytest.fixture(autouse=True)
def heads_path(settings, tmp_path):
    settings.AUDIT_HEADS_FILE = str(tmp_path / "heads.jsonl")
    return settings.AUDIT_HEADS_FILE


def _write(n, user=None):
    return [audit_record(actor=user, action="proposal.submit", target=("approvals.proposal", i), community_id=12,
                         after={"n": i}) for i in range(n)]


def run_verify(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


def _rewrite(records, raw_sql_as_owner, sign, *, note="改过了", algorithm=None):
    """What the owner of the tables can do: change the first record, recompute the hashes of it and every
    later one with `sign(payload)`, and move the chain head — past the disabled triggers."""
    prev = records[0].prev_hash
    for i, record in enumerate(records):
        record = AuditRecord.objects.get(pk=record.pk)
        if i == 0:
            record.note = note
        if algorithm is not None:
            record.algorithm, record.key_id = algorithm, ""
        record.prev_hash = prev
        record.hash = sign(services.hash_payload(record))
        raw_sql_as_owner("UPDATE {table} SET note = %s, prev_hash = %s, hash = %s, algorithm = %s, key_id = %s "
                         "WHERE id = %s", [record.note, record.prev_hash, record.hash, record.algorithm,
                                           record.key_id, record.pk])
        prev = record.hash
    AuditChainHead.objects.filter(chain=records[0].chain).update(last_hash=prev)


@pytest.mark.django_db
def test_new_records_carry_the_keyed_algorithm_and_key_id(settings):
    settings.AUDIT_HMAC_KEY, settings.AUDIT_HMAC_KEY_ID = "s3cret-of-the-city", "2026a"
    record = _write(1)[0]
    assert (record.algorithm, record.key_id) == ("hmac-sha256", "2026a")
    expected = hmac.new(b"s3cret-of-the-city", services.hash_payload(record), "sha256").hexdigest()
    assert record.hash == expected
    assert record.hash != hashlib.sha256(services.hash_payload(record)).hexdigest()
    assert verify_chain() == []


@pytest.mark.django_db
def test_sm3_can_be_chosen_where_openssl_has_it(settings):
    if keys.HMAC_SM3 not in keys.algorithms_available():
        pytest.skip("this Python's OpenSSL has no SM3")
    settings.AUDIT_HASH_ALGORITHM = "hmac-sm3"
    first = _write(1)[0]
    settings.AUDIT_HASH_ALGORITHM = "hmac-sha256"
    second = _write(1)[0]
    assert (first.algorithm, second.algorithm) == ("hmac-sm3", "hmac-sha256")
    assert first.hash == hmac.new(keys.DEV_KEY, services.hash_payload(first), "sm3").hexdigest()
    assert verify_chain() == []


@pytest.mark.django_db
def test_old_unkeyed_records_still_verify_and_keyed_ones_follow(monkeypatch):
    with monkeypatch.context() as m:  # the code before the keyed hash: plain SHA-256, no key
        m.setattr(keys, "current_algorithm", lambda: keys.LEGACY)
        m.setattr(keys, "current_key_id", lambda: "")
        old = _write(2)
    new = _write(2)
    legacy = json.loads(services.hash_payload(old[0]))
    assert "algorithm" not in legacy and "key_id" not in legacy  # exactly what the old code hashed
    assert old[0].hash == hashlib.sha256(services.hash_payload(old[0])).hexdigest()
    assert [r.algorithm for r in AuditRecord.objects.order_by("seq")] == ["sha256", "sha256", "hmac-sha256",
                                                                        "hmac-sha256"]
    assert new[0].prev_hash == old[1].hash
    assert run_verify()[0] == 0


@pytest.mark.django_db
def test_a_chain_recomputed_without_the_key_fails(raw_sql_as_owner):
    records = _write(4)
    # Recomputed with plain SHA-256 under the keyed label, or with a guessed key: every record is named.
    _rewrite(records[1:], raw_sql_as_owner, lambda payload: hashlib.sha256(payload).hexdigest())
    problems = verify_chain(CHAIN)
    assert {p.seq for p in problems if "hash mismatch" in p.message} == {2, 3, 4}
    _rewrite(records[1:], raw_sql_as_owner, lambda p: hmac.new(b"guess", p, "sha256").hexdigest())
    assert {p.seq for p in verify_chain(CHAIN) if "hash mismatch" in p.message} == {2, 3, 4}


@pytest.mark.django_db
def test_relabelling_records_as_unkeyed_is_caught(raw_sql_as_owner):
    records = _write(3)
    _rewrite(records[1:], raw_sql_as_owner, lambda p: hashlib.sha256(p).hexdigest(), algorithm="sha256")
    status, output = run_verify("--chain", CHAIN)
    assert status == 1 and "an unkeyed (sha256) record after keyed ones" in output
    assert "hash mismatch" not in output  # the hashes themselves are right: the downgrade is what gives it away


@pytest.mark.django_db
def test_rotation_keeps_older_records_verifying(settings, tmp_path):
    key_file = tmp_path / "audit.keys"
    key_file.write_text("# id secret\nk1 first-secret\n")
    settings.AUDIT_HMAC_KEY_FILE = str(key_file)
    first = _write(1)[0]
    key_file.write_text("k1 first-secret\nk2 second-secret  # since 2027-01\n")
    second = _write(1)[0]
    assert (first.key_id, second.key_id) == ("k1", "k2")
    assert verify_chain() == []
    key_file.write_text("k2 second-secret\n")  # k1 deleted while records still name it
    problems = verify_chain()
    assert [p.seq for p in problems] == [1] and "'k1' is not in this server's keyring" in problems[0].message


@pytest.mark.django_db
def test_a_missing_trigger_is_reported(raw_sql_as_owner):
    _write(1)
    assert services.missing_triggers() == []
    assert run_verify()[0] == 0
    raw_sql_as_owner("SELECT 1")  # disables (PostgreSQL) or drops (SQLite) the append-only triggers
    assert services.missing_triggers() != []
    status, output = run_verify()
    assert status == 1 and "trigger missing or disabled: audit_record_" in output


@pytest.mark.django_db
def test_published_heads_anchor_the_chain_even_against_the_key_holder(raw_sql_as_owner, heads_path, tmp_path):
    records = _write(3)
    audit_record(actor=None, action="ledger.close", target=("fundapp.ledger", 1))
    # A handler on the security logger itself (caplog's sits on the root, which this logger may not propagate
    # to, depending on which test configured logging before).
    messages = []
    keep = logging.Handler(level=logging.INFO)
    keep.emit = lambda record: messages.append(record.getMessage())
    security = logging.getLogger("security")
    level = security.level
    security.addHandler(keep)
    security.setLevel(logging.INFO)
    try:
        published = services.publish_heads()
    finally:
        security.removeHandler(keep)
        security.setLevel(level)
    assert sorted((p.chain, p.seq) for p in published) == [("city", 1), (CHAIN, 3)]
    lines = [json.loads(line) for line in open(heads_path, encoding="utf-8")]
    assert {(x["chain"], x["seq"], x["hash"]) for x in lines} == {("city", 1, published[0].hash),
                                                                  (CHAIN, 3, records[2].hash)}
    log_lines = [message for message in messages if " audit.head " in message]
    assert any(f"chain={CHAIN} seq=3 hash={records[2].hash}" in line for line in log_lines)
    security_log_copy = tmp_path / "security.log"
    security_log_copy.write_text("\n".join(log_lines) + "\n", encoding="utf-8")
    status, output = run_verify("--heads", heads_path, "--heads", str(security_log_copy))
    assert status == 0 and "checked against 2 heads file(s)" in output

    # Whoever holds the database AND the key can recompute a valid chain; the published head still differs.
    _rewrite(records[1:], raw_sql_as_owner, lambda p: keys.digest(keys.HMAC_SHA256, keys.DEV_KEY_ID, p))
    assert verify_chain(CHAIN) == []
    status, output = run_verify("--chain", CHAIN)  # the default heads file (AUDIT_HEADS_FILE)
    assert status == 1 and "hash differs from the published head" in output
    status, output = run_verify("--chain", CHAIN, "--heads", str(security_log_copy))
    assert status == 1 and "hash differs from the published head" in output


@pytest.mark.django_db
def test_production_refuses_the_development_key(settings):
    settings.PRODUCTION = True
    settings.AUDIT_HMAC_KEY, settings.AUDIT_HMAC_KEY_FILE = "", ""
    assert [e.id for e in audit_key_check()] == ["audit.E001"]
    settings.AUDIT_HMAC_KEY = "a-real-secret-from-the-vault"
    assert audit_key_check() == []
    settings.AUDIT_HASH_ALGORITHM = "md5"
    assert [e.id for e in audit_key_check()] == ["audit.E002"]
    settings.PRODUCTION = False
    settings.AUDIT_HASH_ALGORITHM, settings.AUDIT_HMAC_KEY = "hmac-sha256", ""
    assert audit_key_check() == []  # development and tests: the development key
