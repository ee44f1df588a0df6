from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import clock


class Notification(models.Model):
    """A reminder, alert or hand-off for one person: a row in their inbox (always), and a delivery on each
    other channel they chose (fundapp.services.notify)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications",
                             verbose_name=_("收件人"))
    kind = models.CharField(_("类型"), max_length=40)
    # One notification per (user, key): a task that runs twice, or an act redelivered, does not tell twice.
    # A hand-off's key is its act's audit record ("act:<id>").
    key = models.CharField(max_length=120)
    text = models.CharField(_("内容"), max_length=300)
    link = models.CharField(_("链接"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), default=clock.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)
    # Set when the notification went into the person's daily digest (for those who chose one).
    digested_at = models.DateTimeField(_("汇总发送时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_key")]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self):
        return self.text


class NotificationPreference(models.Model):
    """How one person wants to be told, beyond the inbox (always on): by email, through the city's
    messaging gateway (the webhook channel), at once or in one daily digest."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_preference", verbose_name=_("用户"))
    email = models.BooleanField(_("电子邮件"), default=True)
    webhook = models.BooleanField(_("政务消息平台"), default=False)
    digest = models.BooleanField(_("每日汇总"), default=False,
                                 help_text=_("每天早上汇总发送一次，而不是逐条即时发送。"))
    updated_at = models.DateTimeField(_("更新时间"), default=clock.now)

    class Meta:
        verbose_name = _("提醒方式")
        verbose_name_plural = _("提醒方式")

    def __str__(self):
        return str(self.user)

    def channels(self):
        """The names of the channels (beyond the inbox) this person chose."""
        return [name for name in ("email", "webhook") if getattr(self, name)]


class Delivery(models.Model):
    """One message to one person on one channel (email, webhook, …): a notification sent at once, or a
    daily digest. Unique per (person, key, channel), so a redelivered task or a re-run never sends twice;
    a sender claims the row, sends outside any transaction and records the outcome."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries",
                             verbose_name=_("收件人"))
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="deliveries", verbose_name=_("提醒"))
    channel = models.CharField(_("渠道"), max_length=20)
    # The notification's key, or "digest:<date>" for a daily digest.
    key = models.CharField(_("标识"), max_length=120)
    subject = models.CharField(_("标题"), max_length=300)
    body = models.TextField(_("正文"))
    link = models.CharField(_("链接"), max_length=200, blank=True)
    # A digest's notifications, as sent: [{"text", "link", "at"}].
    items = models.JSONField(_("汇总条目"), default=list, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=clock.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("发送记录")
        verbose_name_plural = _("发送记录")
        constraints = [models.UniqueConstraint(fields=["user", "key", "channel"], name="delivery_once_per_channel")]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"{self.subject} ({self.channel})"
