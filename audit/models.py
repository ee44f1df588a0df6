from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove a written audit record."""


class AuditRecordQuerySet(models.QuerySet):
    # Bulk paths skip Model.save()/delete(), so they are closed here too; the database triggers
    # remain the real guard.
    def update(self, **kwargs):
        raise AppendOnlyError(_("审计记录只能追加，不能修改。"))

    def delete(self):
        raise AppendOnlyError(_("审计记录只能追加，不能删除。"))

    def in_effective_order(self, *, newest_first=False):
        """In the order the acts took effect (SPEC §9: timelines show the effective date), then recorded.
        Records older than effective_on count from their local recording date."""
        order = ["effective_day", "recorded_at", "seq"]
        return self.annotate(effective_day=Coalesce("effective_on", TruncDate("recorded_at"))).order_by(
            *(f"-{name}" for name in order) if newest_first else order
        )


class AuditRecord(models.Model):
    """One recorded act, hash-chained to the previous record of the same chain."""

    chain = models.CharField(_("记录链"), max_length=64)
    seq = models.PositiveBigIntegerField(_("序号"))
    # The real time of writing (the tamper evidence), never the domain clock.
    recorded_at = models.DateTimeField(_("记录时间"))
    # The date the act took effect (a meeting held, a payment made, a notice posted), which timelines
    # show; null on records written before it existed. Hashed only when set (audit.services).
    effective_on = models.DateField(_("生效日期"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_records",
    )
    actor_name = models.CharField(_("操作人姓名"), max_length=300, blank=True)
    # Not a foreign key: the post lives in an app that itself writes audit records.
    post_id = models.PositiveBigIntegerField(_("岗位编号"), null=True, blank=True)
    post_label = models.CharField(_("岗位"), max_length=300, blank=True)
    community_id = models.PositiveBigIntegerField(_("社区编号"), null=True, blank=True)
    action = models.CharField(_("操作"), max_length=100)
    target_type = models.CharField(_("对象类型"), max_length=100)
    target_id = models.CharField(_("对象编号"), max_length=64)
    before = models.JSONField(_("修改前"), null=True, blank=True)
    after = models.JSONField(_("修改后"), null=True, blank=True)
    note = models.TextField(_("备注"), blank=True)
    prev_hash = models.CharField(_("上一条哈希"), max_length=64)
    hash = models.CharField(_("哈希"), max_length=64, unique=True)
    # How `hash` was computed (audit.keys): "sha256" for the records written before the keyed hash (plain
    # SHA-256), "hmac-sha256" or "hmac-sm3" since, with the id of the key (kept outside the database).
    algorithm = models.CharField(_("哈希算法"), max_length=20, default="sha256")
    key_id = models.CharField(_("密钥编号"), max_length=40, blank=True)

    objects = AuditRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_record_chain_seq_unique"),
        ]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_record_target_idx"),
            models.Index(fields=["community_id"], name="audit_record_community_idx"),
        ]

    def __str__(self):
        return f"{self.chain} #{self.seq} {self.action} {self.target_type}:{self.target_id}"

    @property
    def effective_date(self):
        """The date the act took effect; for records older than the column, the local recording date."""
        return self.effective_on or timezone.localdate(self.recorded_at)

    @property
    def recorded_later(self):
        """Entered on a later day than it took effect (back-dated paper records, the demo's history)."""
        return timezone.localdate(self.recorded_at) != self.effective_date

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(_("审计记录只能追加，不能修改。"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(_("审计记录只能追加，不能删除。"))


class AuditChainHead(models.Model):
    """The latest position of one chain; locking this row serialises appends to that chain."""

    chain = models.CharField(_("记录链"), max_length=64, unique=True)
    seq = models.PositiveBigIntegerField(_("最新序号"), default=0)
    last_hash = models.CharField(_("最新哈希"), max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("记录链头")
        verbose_name_plural = _("记录链头")

    def __str__(self):
        return f"{self.chain} #{self.seq}"


class PublishedHead(models.Model):
    """A chain's head as it was published (daily: audit.tasks.publish_audit_heads): written to the security
    log and the heads file outside the database, and shown on the community's public page and in its open
    data. What anchors the trail is the copies outside the database; this row is what the pages show."""

    chain = models.CharField(_("记录链"), max_length=64)
    seq = models.PositiveBigIntegerField(_("序号"))
    hash = models.CharField(_("哈希"), max_length=64)
    published_at = models.DateTimeField(_("发布时间"))

    class Meta:
        verbose_name = _("已发布的链头")
        verbose_name_plural = _("已发布的链头")
        ordering = ["chain", "-published_at", "-pk"]
        indexes = [models.Index(fields=["chain", "-published_at"], name="audit_published_head_idx")]

    def __str__(self):
        return f"{self.chain} #{self.seq} {self.hash[:12]}"
