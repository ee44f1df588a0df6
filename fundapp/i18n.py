import datetime

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _


def record_language():
    """Text stored in records (ledger descriptions, notices) is written in the site's language, not in the
    language the acting user happens to read the site in."""
    return translation.override(settings.LANGUAGE_CODE)


def _local(value):
    if isinstance(value, str):  # an ISO date of a plain structure (public.selectors: page, JSON and CSV)
        value = datetime.date.fromisoformat(value[:10])
    if isinstance(value, datetime.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value


def long_date(value):
    """A date as the reader's language writes it: 2026年12月2日 (English: 2 December 2026), from the active
    language's DATE_FORMAT (fundapp/formats/). An aware datetime is read in Asia/Shanghai first."""
    if not value:
        return ""
    return formats.date_format(_local(value), "DATE_FORMAT")


def month_day(value):
    """A date of this year without the year: 12月5日 / 5 December."""
    if not value:
        return ""
    return formats.date_format(_local(value), "MONTH_DAY_FORMAT")


def weekday_date(value, *, year=True):
    """A date that is a deadline, with its weekday: 2026年12月5日（星期六） / Saturday 5 December 2026;
    without the year: 12月5日（星期六） / Saturday 5 December."""
    if not value:
        return ""
    value = _local(value)
    day = formats.date_format(value, "DATE_FORMAT" if year else "MONTH_DAY_FORMAT")
    return _("%(date)s（%(weekday)s）") % {"date": day, "weekday": formats.date_format(value, "l")}
