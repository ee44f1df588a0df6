import datetime

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# The calendar answers for these dates only; the tables refuse rows it could never use.
FIRST_DAY = datetime.date(1900, 1, 1)
LAST_DAY = datetime.date(2200, 12, 31)


class WorkdayOverride(models.Model):
    """One date whose status the city administrator sets; it wins over the chinese-calendar package."""

    day = models.DateField(_("调整日期"), unique=True)
    is_workday = models.BooleanField(
        _("上班"), help_text=_("勾选表示当天上班（如调休上班日），不勾选表示当天休息（如法定节假日）。")
    )
    reason = models.CharField(_("原因"), max_length=100, help_text=_("例如：2027年春节调休"))
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("工作日调整")
        verbose_name_plural = _("工作日调整")
        ordering = ["day"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(day__gte=FIRST_DAY, day__lte=LAST_DAY),
                name="workdays_override_day_in_range",
            )
        ]

    def __str__(self):
        status = gettext("上班") if self.is_workday else gettext("休息")
        return f"{self.day:%Y-%m-%d} {status}（{self.reason}）"


class ConfirmedYear(models.Model):
    """The administrator's word that every holiday and make-up working day of the year is entered as an
    override, so the weekday rule for the remaining dates is no longer a guess."""

    year = models.PositiveIntegerField(_("年份"), unique=True)
    note = models.CharField(_("备注"), max_length=200, blank=True, help_text=_("例如：国务院办公厅通知文号"))
    confirmed_at = models.DateTimeField(_("确认时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("已确认年份")
        verbose_name_plural = _("已确认年份")
        ordering = ["year"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(year__gte=FIRST_DAY.year, year__lte=LAST_DAY.year),
                name="workdays_confirmed_year_in_range",
            )
        ]

    def __str__(self):
        return gettext("%(year)s年节假日安排已确认") % {"year": self.year}
