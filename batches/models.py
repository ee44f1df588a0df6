"""Long runs over every community (the December disclosures, the annual report drafts), with progress.

A run has one item per community; each item is one Celery task, so a city-wide batch fans out over the
workers, shows how far it has got, and can re-run just the items that failed.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fundapp.models import Community


class BatchRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("运行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("有失败项")

    kind = models.CharField(_("任务类型"), max_length=40)
    year = models.PositiveSmallIntegerField(_("年度"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("发起人"))
    # Kept by batches.services under a lock on this row as each item finishes, so listing runs is one query.
    total = models.PositiveIntegerField(_("社区数"), default=0)
    done_count = models.PositiveIntegerField(_("已完成"), default=0)
    failed_count = models.PositiveIntegerField(_("失败"), default=0)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("批量任务")
        verbose_name_plural = _("批量任务")
        indexes = [models.Index(fields=["kind", "year"])]
        constraints = [
            models.CheckConstraint(name="batch_run_counts_within_total",
                                   condition=Q(done_count__lte=models.F("total") - models.F("failed_count"))),
        ]

    def __str__(self):
        return f"{self.kind_label} {self.year} #{self.pk}"

    @property
    def kind_label(self):
        from .registry import label_for

        return label_for(self.kind)

    @property
    def pending_count(self):
        """Items not finished yet (waiting in the queue or running)."""
        return self.total - self.done_count - self.failed_count

    @property
    def percent_done(self):
        return 100 if not self.total else round(100 * (self.done_count + self.failed_count) / self.total)

    @property
    def percent_ok(self):
        return 0 if not self.total else round(100 * self.done_count / self.total)

    @property
    def percent_failed(self):
        return 0 if not self.total else round(100 * self.failed_count / self.total)

    @property
    def is_finished(self):
        return self.status != self.Status.RUNNING

    @property
    def interrupted_count(self):
        """Items whose worker died (running, lease passed). Annotated by batches.services.recent_runs."""
        cached = getattr(self, "interrupted", None)
        if cached is not None:
            return cached
        return self.items.filter(interrupted_q()).count()

    @property
    def is_live(self):
        """Still making progress: something is queued or running with a live lease (the page refreshes)."""
        return not self.is_finished and self.pending_count > self.interrupted_count


def interrupted_q(prefix=""):
    return Q(**{f"{prefix}status": "running", f"{prefix}lease_until__lt": timezone.now()})


class BatchItem(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("运行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    run = models.ForeignKey(BatchRun, on_delete=models.CASCADE, related_name="items", verbose_name=_("批量任务"))
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    error = models.TextField(_("错误信息"), blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    # While an item runs, its worker renews this every minute or so (batches.services.LEASE_SECONDS). A
    # running item whose lease has passed lost its worker (kill -9, a machine gone): it shows as interrupted
    # within minutes and can be re-run from the page — not after the broker's hour-long visibility timeout.
    lease_until = models.DateTimeField(_("租约到期"), null=True, blank=True)

    class Meta:
        ordering = ["community__subdistrict__name", "community__name"]
        verbose_name = _("批量任务明细")
        verbose_name_plural = _("批量任务明细")
        constraints = [models.UniqueConstraint(fields=["run", "community"], name="batch_item_once_per_community")]
        indexes = [models.Index(fields=["run", "status"])]

    def __str__(self):
        return f"{self.run_id}:{self.community_id} {self.status}"

    @property
    def is_interrupted(self):
        """Running, but its worker stopped renewing the lease: the worker died."""
        return (self.status == self.Status.RUNNING and self.lease_until is not None
                and self.lease_until < timezone.now())

    @property
    def shown_status(self):
        return "interrupted" if self.is_interrupted else self.status

    @property
    def shown_status_label(self):
        return _("已中断") if self.is_interrupted else self.get_status_display()

    @property
    def error_summary(self):
        """The last line of the stored traceback: what went wrong, in one line."""
        lines = [line for line in self.error.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""
