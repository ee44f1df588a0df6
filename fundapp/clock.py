"""The domain's notion of "now". Services ask this module, never the system clock directly, so that
seed_demo can record a believable history (acts dated over past weeks) through the real services."""
import contextvars
import datetime
from contextlib import contextmanager

from django.utils import timezone

_as_of = contextvars.ContextVar("fund_clock_as_of", default=None)


def now():
    return _as_of.get() or timezone.now()


def today():
    return timezone.localdate(now())


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
