"""Retrying a whole act when PostgreSQL reports a lock conflict (kernel: imports Django only).

The services take their row locks in one documented order (docs/architecture.md: a proposal, then its
invoices, then the fund year), so two acts serialise instead of deadlocking. Where the database still
reports a deadlock (SQLSTATE 40P01) or a serialization failure (40001), the transaction has been rolled
back by PostgreSQL and nothing it wrote remains: the act can simply run again. `retry_on_conflict` does
that for the outermost transaction of a service:

- it retries only where it starts the transaction: called inside an `atomic` block already (a service
  calling another, a test), it re-raises at once, for only the outermost block can run the act again —
  the outermost service catches it and retries the whole act;
- a bounded number of attempts (5) with a small jittered backoff (about 20 ms, doubling, at most 0.5 s),
  so two victims do not collide again in step;
- after the last attempt it raises `LockConflict`, a `DomainError` with a message a person can read ("try
  again in a moment"), which the pages show on the form: never the "service unavailable" page or a 500.
"""
import functools
import logging
import random
import time

from django.db import DatabaseError, connections
from django.utils.translation import gettext as _

from .errors import Conflict

log = logging.getLogger(__name__)

DEADLOCK = "40P01"
SERIALIZATION_FAILURE = "40001"
RETRYABLE_SQLSTATES = frozenset({DEADLOCK, SERIALIZATION_FAILURE})
ATTEMPTS = 5
BASE_DELAY = 0.02  # seconds; the n-th retry waits a random time up to BASE_DELAY * 2**n
MAX_DELAY = 0.5


class LockConflict(Conflict):
    """The database kept choosing this act as the victim of a lock conflict; nothing was written."""

    code = "lock_conflict"


def sqlstate(exc):
    """The SQLSTATE of a database error (Django wraps the driver's error: look at its causes), or None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        code = getattr(exc, "pgcode", None) or getattr(exc, "sqlstate", None)
        if code:
            return code
        exc = exc.__cause__ or exc.__context__
    return None


def is_lock_conflict(exc):
    """A deadlock or serialization failure: the transaction was rolled back, the act may run again."""
    return isinstance(exc, DatabaseError) and sqlstate(exc) in RETRYABLE_SQLSTATES


def backoff(attempt):
    """Seconds to wait before retry number `attempt` (1, 2, …): full jitter under a doubling cap."""
    return random.uniform(0, min(MAX_DELAY, BASE_DELAY * 2 ** attempt))


def retry_on_conflict(func=None, *, attempts=ATTEMPTS, using="default"):
    """Decorate a service whose body is (or opens) its outermost `transaction.atomic`: run it again when
    PostgreSQL reports a deadlock or serialization failure, as the module docstring says. Put it outside
    `@transaction.atomic` (above it), so each attempt is a fresh transaction."""
    if func is None:
        return functools.partial(retry_on_conflict, attempts=attempts, using=using)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if connections[using].in_atomic_block:
            return func(*args, **kwargs)  # not the outermost: the caller's transaction is the act
        attempt = 1
        while True:
            try:
                return func(*args, **kwargs)
            except DatabaseError as exc:
                if not is_lock_conflict(exc):
                    raise
                if attempt >= attempts:
                    log.warning("%s: lock conflict (%s) on attempt %s of %s; giving up", func.__qualname__,
                                sqlstate(exc), attempt, attempts)
                    raise LockConflict(_("其他人正在同时办理相关的项目或经费，本次操作未能完成，也没有保存任何内容。请稍后再试。")) from exc
                log.info("%s: lock conflict (%s) on attempt %s; retrying", func.__qualname__, sqlstate(exc), attempt)
                time.sleep(backoff(attempt))
                attempt += 1

    wrapper.retries_on_conflict = True
    return wrapper


def run_with_retry(act, *, attempts=ATTEMPTS, using="default"):
    """`act()` run as `retry_on_conflict` would run a decorated service."""
    return retry_on_conflict(act, attempts=attempts, using=using)()
