from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import clock


class Notification(models.Model):
    """A reminder or alert for one person, shown in the app and sent by email."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications",
                             verbose_name=_("收件人"))
    kind = models.CharField(_("类型"), max_length=40)
    # One notification per (user, key): a task that runs twice does not remind twice.
    key = models.CharField(max_length=120)
    text = models.CharField(_("内容"), max_length=300)
    link = models.CharField(_("链接"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), default=clock.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)
    # A task sending the email claims the row first (a token and the time), sends outside any transaction,
    # then marks it sent only if its claim still stands — see fundapp.services.notify.notification_email_send.
    email_claim = models.CharField(max_length=32, blank=True, default="")
    email_claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_key")]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self):
        return self.text
