"""Starting batches, running their items and re-running the failures.

How a batch runs:

- `batch_start` creates the run and one item per community in one transaction, and only when that
  transaction has committed (`transaction.on_commit`) sends one Celery task per item as a `group`, each
  carrying nothing but the item's id. A worker never sees an item the database does not have yet.
- `item_execute` (called by `batches.tasks.run_batch_item`) claims the item, calls the kind's handler and
  records the outcome. An item already done is skipped, so a redelivered task (acks_late: a worker that
  died mid-task gets its message again) does nothing twice; handlers are idempotent besides.
- Transient errors (database or broker connection lost, serialization failure) are re-raised so that
  Celery retries the task with exponential backoff; a rule's refusal (DomainError) fails the item with its
  message; anything else fails it at once with its traceback stored for the batches page, from where
  `batch_rerun_failures` sends just those again.
- A kind registered `with_requester` gets `by=` the person who started the run, so what the handler
  writes (the year close's audit records) names them, even in a worker.
- The run's counts and status are recomputed under a lock on the run row each time an item finishes.
- An item is done only when what it must produce is there: a kind registered with `verify` is asked after
  its handler returns (the disclosure: the row, the poster file, its checksum) and the item fails with the
  answer if not.
- A running item holds a lease (`lease_until`, LEASE_SECONDS) that a heartbeat thread renews while the
  handler runs. A worker killed with `kill -9` stops renewing it: within LEASE_SECONDS the item shows as
  interrupted, and `batch_rerun_failures` sends it again with the failed ones (idempotent handlers: one
  disclosure per community however often).
"""
import datetime
import logging
import threading
import traceback
from functools import partial

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from audit.services import audit_record
from fundapp.errors import DomainError
from fundapp.models import Community

from .models import BatchItem, BatchRun, interrupted_q
from .registry import handler_for, verify_for, wants_requester

log = logging.getLogger(__name__)

# Worth trying again in a moment: the database or a connection went away, or PostgreSQL aborted a
# transaction that lost a serialization/deadlock race (psycopg's TransactionRollbackError is an
# OperationalError). Everything else is a bug or bad data, and retrying would only repeat it.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)

ERROR_MAX_CHARS = 8000

# A running item's lease; its heartbeat renews it every third of that. Long enough for a busy database to
# be slow, short enough that a dead worker shows within minutes (the broker would wait an hour).
LEASE_SECONDS = getattr(settings, "BATCH_LEASE_SECONDS", 180)


def _lease_end():
    return timezone.now() + datetime.timedelta(seconds=LEASE_SECONDS)


def batch_start(kind, year, community_ids=None, by=None, *, dispatch=True):
    """Create a run with one item per community (all communities unless `community_ids`) and dispatch it
    after commit. With dispatch=False the caller runs the items itself (`batch_run_inline`)."""
    handler_for(kind)  # an unknown kind fails here, not in a worker
    year = int(year)
    with transaction.atomic():
        communities = Community.objects.order_by("subdistrict__name", "name")
        if community_ids is not None:
            communities = communities.filter(pk__in=list(community_ids))
        community_pks = list(communities.values_list("pk", flat=True))
        run = BatchRun.objects.create(kind=kind, year=year, requested_by=by, total=len(community_pks))
        BatchItem.objects.bulk_create([BatchItem(run=run, community_id=pk) for pk in community_pks])
        if not community_pks:
            run.status, run.finished_at = BatchRun.Status.DONE, timezone.now()
            run.save(update_fields=["status", "finished_at"])
        audit_record(actor=by, action="batch.start", target=run,
                     after={"kind": kind, "year": year, "communities": len(community_pks)})
        item_ids = list(run.items.values_list("pk", flat=True))
        if dispatch and item_ids:
            transaction.on_commit(partial(dispatch_items, item_ids), robust=True)
    return run


def batch_rerun_failures(run, by=None, *, dispatch=True):
    """Send the run's failed and interrupted items again (interrupted: running, but the lease passed — the
    worker died); returns how many. The previous error stays until the item succeeds."""
    with transaction.atomic():
        run = BatchRun.objects.select_for_update().get(pk=run.pk)
        # Locked, then re-read: an item whose worker renewed its lease meanwhile is alive and left alone.
        items = list(run.items.select_for_update(of=("self",)).order_by()
                     .filter(Q(status=BatchItem.Status.FAILED) | interrupted_q()).values_list("pk", "status"))
        item_ids = [pk for pk, _status in items]
        if not item_ids:
            return 0
        interrupted = sum(1 for _pk, status in items if status == BatchItem.Status.RUNNING)
        BatchItem.objects.filter(pk__in=item_ids).update(status=BatchItem.Status.PENDING, finished_at=None,
                                                         lease_until=None)
        _run_recount(run)
        audit_record(actor=by, action="batch.rerun_failures", target=run,
                     after={"kind": run.kind, "year": run.year, "items": len(item_ids),
                            "interrupted": interrupted})
        if dispatch:
            transaction.on_commit(partial(dispatch_items, item_ids), robust=True)
    return len(item_ids)


def dispatch_items(item_ids):
    """One task per item, as a group (fan-out). If the broker cannot be reached the items are failed
    with that reason, so they show on the batches page and can be re-run, instead of waiting forever."""
    from celery import group

    from .tasks import run_batch_item

    try:
        group(run_batch_item.s(item_id) for item_id in item_ids).apply_async()
    except Exception:  # noqa: BLE001 - whatever the broker raised, the items must not hang as "pending"
        log.exception("could not dispatch batch items %s", item_ids)
        if _celery_eager():
            raise  # in eager mode the tasks ran in-process: this is the tasks' own error
        error = traceback.format_exc(limit=3)
        for item_id in item_ids:
            _item_finish(item_id, BatchItem.Status.FAILED, error=error)


def batch_run_inline(run):
    """Run every unfinished item of the run in this process, one after another (eager mode, tests)."""
    from .tasks import run_batch_item

    for item_id in run.items.exclude(status=BatchItem.Status.DONE).values_list("pk", flat=True):
        # apply() runs the task here, retries included; a final failure is recorded on the item.
        run_batch_item.apply(args=(item_id,), throw=False)
    run.refresh_from_db()
    return run


def item_execute(item_id):
    """Run one item: claim it, call the handler, record the outcome. Returns the item's final status
    (or "skipped" when it was already done)."""
    item = _item_claim(item_id)
    if item is None:
        return "skipped"
    try:
        extra = {"by": item.run.requested_by} if wants_requester(item.run.kind) else {}
        with _lease_kept(item_id):
            handler_for(item.run.kind)(item.community_id, item.run.year, **extra)
        verify = verify_for(item.run.kind)
        missing = verify(item.community_id, item.run.year) if verify else ""
        if missing:
            # The handler returned, but what it had to make is not all there: not done.
            _item_finish(item_id, BatchItem.Status.FAILED, error=str(missing))
            return BatchItem.Status.FAILED
    except TRANSIENT_ERRORS as exc:
        # Let Celery retry it; meanwhile the page shows the item waiting again, with the reason.
        try:
            _item_set(item_id, BatchItem.Status.PENDING, error=f"{type(exc).__name__}: {exc}（稍后自动重试）")
        except Exception:  # noqa: BLE001 - the database itself may be what is down
            log.warning("could not record the transient failure of batch item %s", item_id, exc_info=True)
        raise
    except DomainError as exc:
        # A rule refused it (a year the next one cannot take, a post ended): the message is the reason.
        _item_finish(item_id, BatchItem.Status.FAILED, error=str(exc))
        return BatchItem.Status.FAILED
    except Exception:  # noqa: BLE001 - any other failure is the item's, not the batch's
        log.exception("batch item %s failed", item_id)
        _item_finish(item_id, BatchItem.Status.FAILED, error=traceback.format_exc())
        return BatchItem.Status.FAILED
    _item_finish(item_id, BatchItem.Status.DONE, error="")
    return BatchItem.Status.DONE


def item_give_up(item_id, exc):
    """Retries are used up (or a transient error outlived them): fail the item so it can be re-run."""
    text = "".join(traceback.format_exception(exc)) if isinstance(exc, BaseException) else str(exc)
    _item_finish(item_id, BatchItem.Status.FAILED, error=text)


class _lease_kept:
    """Renew the item's lease from a thread while the handler runs (a worker, not eager mode: there the
    item finishes in the request that started it). The thread uses a connection of its own and closes it."""

    def __init__(self, item_id):
        self.item_id = item_id
        self.stop = threading.Event()
        self.thread = None

    def __enter__(self):
        if not _celery_eager() and LEASE_SECONDS > 0:
            self.thread = threading.Thread(target=self._beat, name=f"batch-lease-{self.item_id}", daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=10)

    def _beat(self):
        try:
            while not self.stop.wait(LEASE_SECONDS / 3):
                lease_renew(self.item_id)
        finally:
            connection.close()


def lease_renew(item_id):
    """The heartbeat: push the running item's lease forward. Returns whether it was still running."""
    try:
        return bool(BatchItem.objects.filter(pk=item_id, status=BatchItem.Status.RUNNING)
                    .update(lease_until=_lease_end()))
    except Exception:  # noqa: BLE001 - a missed beat is not the item's failure; the next one may get through
        log.warning("could not renew the lease of batch item %s", item_id, exc_info=True)
        return False


def _item_claim(item_id):
    with transaction.atomic():
        # Locks the item's row only: of=("self",) leaves the run's row (which every finishing item locks) and
        # order_by() keeps the model's ordering from joining — and locking — the community and its subdistrict.
        item = (BatchItem.objects.select_for_update(of=("self",)).select_related("run").filter(pk=item_id)
                .order_by().first())
        if item is None:
            log.warning("batch item %s no longer exists", item_id)
            return None
        if item.status == BatchItem.Status.DONE:
            return None
        item.status = BatchItem.Status.RUNNING
        item.attempts += 1
        item.started_at = timezone.now()
        item.finished_at = None
        item.lease_until = _lease_end()
        item.save(update_fields=["status", "attempts", "started_at", "finished_at", "lease_until"])
    return item


def _item_set(item_id, status, *, error):
    BatchItem.objects.filter(pk=item_id).update(status=status, error=error[-ERROR_MAX_CHARS:])


def _item_finish(item_id, status, *, error):
    run_id = BatchItem.objects.filter(pk=item_id).order_by().values_list("run_id", flat=True).first()
    if run_id is None:
        return
    with transaction.atomic():
        # Locks in the same order as batch_rerun_failures (run, then item), so the two never deadlock.
        run = BatchRun.objects.select_for_update().get(pk=run_id)
        item = BatchItem.objects.select_for_update().get(pk=item_id)
        if item.status == BatchItem.Status.DONE and status != BatchItem.Status.DONE:
            return  # a late failure report from a duplicate delivery never undoes a success
        item.status, item.finished_at = status, timezone.now()
        item.error = (error or "")[-ERROR_MAX_CHARS:]
        item.lease_until = None
        item.save(update_fields=["status", "finished_at", "error", "lease_until"])
        _run_recount(run)


def _run_recount(run):
    """Call with the run row locked. The last item to finish sees every other item's committed status."""
    counts = dict(run.items.order_by().values_list("status").annotate(n=Count("pk")))
    run.total = sum(counts.values())
    run.done_count = counts.get(BatchItem.Status.DONE, 0)
    run.failed_count = counts.get(BatchItem.Status.FAILED, 0)
    if run.done_count + run.failed_count == run.total:
        run.status = BatchRun.Status.FAILED if run.failed_count else BatchRun.Status.DONE
        run.finished_at = run.finished_at or timezone.now()
    else:
        run.status, run.finished_at = BatchRun.Status.RUNNING, None
    run.save(update_fields=["total", "done_count", "failed_count", "status", "finished_at"])


def _celery_eager():
    from celery import current_app

    return bool(current_app.conf.task_always_eager)


def celery_is_eager():
    return _celery_eager()


def recent_runs(limit=50):
    return (BatchRun.objects.select_related("requested_by")
            .annotate(interrupted=Count("items", filter=interrupted_q("items__")))[:limit])


def items_needing_attention(limit=100):
    """Failed and interrupted items of the runs still marked running or failed, newest run first."""
    return list(BatchItem.objects.select_related("run", "community__subdistrict")
                .filter(Q(status=BatchItem.Status.FAILED) | interrupted_q())
                .exclude(run__status=BatchRun.Status.DONE)
                .order_by("-run__started_at", "community__subdistrict__name", "community__name")[:limit])
