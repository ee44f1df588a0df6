"""The one generic task of the batches: run one item of a run, by id."""
from celery import Task, shared_task

from . import services


class BatchItemTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # Reached when a transient error outlived its retries: record it on the item so the batches page
        # shows it and "重新运行失败和中断的项" can send it again.
        item_id = args[0] if args else kwargs.get("item_id")
        if item_id is not None:
            services.item_give_up(item_id, exc)


# A poster renders in about a second. An item still running after SOFT_TIME_LIMIT seconds is stuck (a
# pathological input, a hung font lookup): Celery raises SoftTimeLimitExceeded inside it and item_execute
# records the item as failed (re-runnable from the batches page); TIME_LIMIT kills the pool process if even
# that does not return. Enforced by the prefork pool (the worker's default), not in eager mode.
SOFT_TIME_LIMIT = 120
TIME_LIMIT = 150


@shared_task(
    bind=True,
    base=BatchItemTask,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
    autoretry_for=services.TRANSIENT_ERRORS,
    retry_backoff=True,  # 1 s, 2 s, 4 s … with full jitter
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=6,
    acks_late=True,  # a worker that dies mid-item gets the message redelivered (the item is idempotent)
    reject_on_worker_lost=True,
    ignore_result=True,  # the outcome lives on the BatchItem row
)
def run_batch_item(self, item_id):
    return services.item_execute(item_id)
