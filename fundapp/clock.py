"""The domain's notion of "now". Services ask this module, never the system clock directly, so that
seed_demo can record a believable history (acts dated over past weeks) through the real services, and so
that in development the whole app can run "as of" another date (settings.FUND_AS_OF, e.g.
`FUND_AS_OF=2027-01-04 bin/demo`): the real time shifted by whole days, the time of day still running.
The audit trail's recorded_at never comes from here: it is the real time, its tamper evidence."""
import contextvars
import datetime
from contextlib import contextmanager

from django.conf import settings
from django.utils import timezone

_as_of = contextvars.ContextVar("fund_clock_as_of", default=None)


def now():
    moment = _as_of.get()
    if moment is not None:
        return moment
    real = timezone.now()
    day = demo_as_of()
    if day is not None:
        # Whole days (Asia/Shanghai has no daylight saving time): the local date becomes `day`.
        real += datetime.timedelta(days=(day - timezone.localdate(real)).days)
    return real


def today():
    return timezone.localdate(now())


def demo_as_of():
    """The date development runs as (settings.FUND_AS_OF, refused in production), or None. Read on every
    call, never at import, so a test's settings override (and only the settings) decide."""
    return getattr(settings, "FUND_AS_OF", None)


@contextmanager
def as_of(day, hour=10):
    """Record everything inside the block as happening on `day` (local time)."""
    moment = timezone.make_aware(datetime.datetime(day.year, day.month, day.day, hour))
    token = _as_of.set(moment)
    try:
        yield
    finally:
        _as_of.reset(token)


def plausible_year(value, default):
    """`value` as a year between 2000 and 2100 (a query string's ?year=), else `default`."""
    try:
        year = int(value)
    except (TypeError, ValueError):
        return default
    return year if 2000 <= year <= 2100 else default
