"""The year-end disclosure (Art. 15): each community's summary of the year's spending and results, posted
before 20 December for 5 working days, on the notice board (the A4 poster) and on the public page."""
import datetime

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from fundapp import clock
from fundapp.models import Community

WORKING_DAYS = 5


def deadline(year):
    """Art. 15: posted *before* 20 December, so 19 December is the last day — read the same way as the
    annual report's "before 1 December" (approvals.reports.due_date). A later posting is still made, and
    marked late."""
    return datetime.date(year, 12, 19)


def poster_storage():
    # Regenerating a poster replaces the file under the same name instead of adding "_x7Yq2.pdf" copies:
    # one file per community and year, however often the batch runs.
    return FileSystemStorage(allow_overwrite=True)


def poster_path(instance, filename):
    return f"disclosures/{instance.year}/{instance.community.code}-{instance.year}.pdf"


class YearEndDisclosure(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="year_end_disclosures",
                                  verbose_name=_("社区"))
    year = models.PositiveSmallIntegerField(_("年度"))
    posted_on = models.DateField(_("张贴日期"))
    working_days = models.PositiveSmallIntegerField(_("公示工作日数"), default=WORKING_DAYS)
    last_day = models.DateField(_("公示最后一天"))
    calendar_confirmed = models.BooleanField(_("按已确认的日历计算"), default=True)
    late = models.BooleanField(_("逾期张贴"), default=False,
                               help_text=_("未在12月20日前张贴"))
    # Plain JSON written by disclosure.services.disclosure_figures: totals, by category, projects.
    figures = models.JSONField(_("公示数据"), default=dict)
    pdf = models.FileField(_("公示海报"), upload_to=poster_path, storage=poster_storage, blank=True)
    sha256 = models.CharField(_("SHA-256 校验值"), max_length=64, blank=True)
    generated_at = models.DateTimeField(_("海报生成时间"), null=True, blank=True)
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("海报生成人"),
                                     help_text=_("启动批量任务的人；为空表示系统定时生成。"))
    created_at = models.DateTimeField(_("创建时间"), default=clock.now)

    class Meta:
        ordering = ["-year", "community__subdistrict__name", "community__name"]
        verbose_name = _("年终公示")
        verbose_name_plural = _("年终公示")
        constraints = [
            models.UniqueConstraint(fields=["community", "year"], name="year_end_disclosure_once_a_year"),
            models.CheckConstraint(name="year_end_disclosure_last_day_after_posting",
                                   condition=Q(last_day__gte=F("posted_on"))),
        ]

    def __str__(self):
        return f"{self.community} {self.year}"

    @property
    def deadline(self):
        return deadline(self.year)

    @property
    def has_pdf(self):
        return bool(self.pdf and self.sha256)


def poster_version_path(instance, filename):
    return f"disclosures/{instance.disclosure.year}/archive/{filename}"


class DisclosurePoster(models.Model):
    """Every poster a disclosure has had (Art. 17): the current one is `YearEndDisclosure.pdf` (replaced when
    the figures change during the posting, with a `disclosure.refresh` audit record); each version rendered
    is kept here under its own name with its checksum, its time and who started it, and never changes."""

    disclosure = models.ForeignKey(YearEndDisclosure, on_delete=models.PROTECT, related_name="posters",
                                   verbose_name=_("年终公示"))
    file = models.FileField(_("文件"), upload_to=poster_version_path)
    sha256 = models.CharField(_("SHA-256 校验值"), max_length=64)
    size = models.PositiveIntegerField(_("大小（字节）"))
    generated_at = models.DateTimeField(_("生成时间"), default=clock.now)
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("生成人"))

    class Meta:
        ordering = ["generated_at", "pk"]
        verbose_name = _("年终公示海报存档")
        verbose_name_plural = _("年终公示海报存档")
        constraints = [models.UniqueConstraint(fields=["disclosure", "sha256"], name="disclosure_poster_once")]

    def __str__(self):
        return f"{self.disclosure} · {self.sha256[:12]}"
