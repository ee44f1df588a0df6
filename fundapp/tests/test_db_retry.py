"""fundapp.db.retry_on_conflict against a real deadlock on PostgreSQL: two threads, each with its own
connection, lock two rows in opposite order; PostgreSQL kills one of them (40P01). Retried as a whole,
the victim's act succeeds; inside a caller's transaction it is not retried; out of attempts, the person
gets a readable LockConflict, not a database error."""
import threading

import pytest
from django.db import OperationalError, connection, transaction

from fundapp.db import LockConflict, is_lock_conflict, retry_on_conflict, sqlstate
from fundapp.models import Subdistrict
from fundapp.services import org as org_services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_rows():
    first = org_services.subdistrict_create(name="甲街道", code="x")
    second = org_services.subdistrict_create(name="乙街道", code="y")
    return first.pk, second.pk


def crossed(two_rows, *, attempts=5, outer_atomic=False):
    """Thread 0 locks row A then B, thread 1 row B then A, both between one Barrier on their first attempt:
    a certain deadlock. Returns per thread (attempts made, errors seen per attempt, result or exception)."""
    a, b = two_rows
    meet = threading.Barrier(2)
    log = {0: [], 1: []}
    outcome = {}

    def make_act(i, order):
        def act():
            log[i].append(None)
            first_attempt = len(log[i]) == 1
            try:
                with transaction.atomic():
                    Subdistrict.objects.select_for_update().get(pk=order[0])
                    if first_attempt:
                        meet.wait(timeout=20)
                    locked = Subdistrict.objects.select_for_update().get(pk=order[1])
                    Subdistrict.objects.filter(pk=locked.pk).update(name=f"{locked.name}·{i}")
                    return i
            except OperationalError as exc:
                log[i][-1] = sqlstate(exc)
                raise

        return retry_on_conflict(act, attempts=attempts)

    def run(i, order):
        try:
            act = make_act(i, order)
            if outer_atomic:
                with transaction.atomic():
                    outcome[i] = act()
            else:
                outcome[i] = act()
        except BaseException as exc:  # noqa: BLE001 - inspected by the test
            outcome[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(0, (a, b))), threading.Thread(target=run, args=(1, (b, a)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return log, outcome


def test_a_deadlock_victim_runs_its_whole_act_again_and_succeeds(two_rows):
    log, outcome = crossed(two_rows)
    assert outcome == {0: 0, 1: 1}, outcome  # both acts done, neither saw an error
    # Exactly one of them was PostgreSQL's deadlock victim on its first attempt, and ran once more.
    attempts = sorted(len(log[i]) for i in (0, 1))
    assert attempts == [1, 2], log
    victim = 0 if len(log[0]) == 2 else 1
    assert log[victim] == ["40P01", None]
    # Both writes are there: the victim's second attempt wrote what its first could not.
    a, b = two_rows
    assert Subdistrict.objects.get(pk=a).name == "甲街道·1"  # thread 1 wrote row A, thread 0 row B: once each
    assert Subdistrict.objects.get(pk=b).name == "乙街道·0"


def test_inside_a_callers_transaction_the_deadlock_goes_up_for_the_outermost_act_to_retry(two_rows):
    log, outcome = crossed(two_rows, outer_atomic=True)
    errors = [e for e in outcome.values() if isinstance(e, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], OperationalError) and is_lock_conflict(errors[0])
    assert sorted(len(log[i]) for i in (0, 1)) == [1, 1]  # nobody ran twice


def test_out_of_attempts_the_person_reads_a_conflict_not_a_database_error(two_rows):
    log, outcome = crossed(two_rows, attempts=1)
    errors = [e for e in outcome.values() if isinstance(e, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], LockConflict), outcome
    assert "请稍后再试" in str(errors[0])
    assert is_lock_conflict(errors[0].__cause__)
