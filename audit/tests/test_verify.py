from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditRecord
from audit.services import audit_record, verify_chain


@pytest.fixture
def trail(user):
    return [
        audit_record(actor=user, action="proposal.submit", target=("approvals.proposal", n),
                     community_id=12, after={"n": n})
        for n in range(3)
    ] + [audit_record(actor=None, action="ledger.close", target=("fundapp.ledger", 1))]


def run_verify(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


def test_untouched_trail_passes(trail):
    status, output = run_verify()

    assert status == 0
    assert "审计记录完整 / audit trail intact: 4 records in 2 chains" in output


def test_an_edited_record_is_named(trail, raw_sql_as_owner):
    edited = trail[1]
    raw_sql_as_owner("UPDATE {table} SET note = %s WHERE id = %s", ["改过了", edited.pk])

    status, output = run_verify()

    assert status == 1
    assert f"[community:12 seq=2] id={edited.pk}: " in output
    assert "hash mismatch" in output
    assert "id=%d" % trail[2].pk not in output


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(trail, raw_sql_as_owner):
    edited, following = trail[1], trail[2]
    raw_sql_as_owner("UPDATE {table} SET hash = %s WHERE id = %s", ["f" * 64, edited.pk])

    problems = verify_chain("community:12")

    assert {(p.record_id, p.seq) for p in problems} == {(edited.pk, 2), (following.pk, 3)}


def test_a_deleted_record_leaves_a_gap_that_is_named(trail, raw_sql_as_owner):
    raw_sql_as_owner("DELETE FROM {table} WHERE id = %s", [trail[1].pk])

    status, output = run_verify()

    assert status == 1
    assert f"[community:12 seq=3] id={trail[2].pk}: " in output
    assert "missing records: seq 2–2" in output


def test_a_deleted_last_record_is_caught_by_the_chain_head(trail, raw_sql_as_owner):
    raw_sql_as_owner("DELETE FROM {table} WHERE id = %s", [trail[2].pk])

    problems = verify_chain()

    assert [(p.chain, p.seq) for p in problems] == [("community:12", 3)]
    assert "missing records at the end" in problems[0].message


def test_chain_option_checks_only_that_chain(trail, raw_sql_as_owner):
    raw_sql_as_owner("UPDATE {table} SET action = 'x' WHERE id = %s", [trail[0].pk])

    assert run_verify("--chain", "community:12")[0] == 1
    status, output = run_verify("--chain", "city")
    assert status == 0
    assert "1 records in 1 chains" in output
    assert AuditRecord.objects.count() == 4
