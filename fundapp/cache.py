"""The shared cache (Redis) for several web processes — and pages that still answer when it is down.

A cache is an optimisation here: if Redis does not answer, a read is a miss and a write is skipped, and
the failure is logged (once a minute per process, not per request). Public pages are then rendered from
the database, as for a first visitor.
"""
import logging
import time

from django.core.cache.backends.redis import RedisCache

log = logging.getLogger(__name__)
_last_warning = 0.0


def _warn(operation, error):
    global _last_warning
    if time.monotonic() - _last_warning > 60:
        _last_warning = time.monotonic()
        log.warning("cache unavailable (%s): %s — serving uncached", operation, error)


def _errors():
    import redis

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class ResilientRedisCache(RedisCache):
    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except _errors() as error:
            _warn("get", error)
            return default

    def set(self, key, value, timeout=..., version=None):
        from django.core.cache.backends.base import DEFAULT_TIMEOUT

        try:
            return super().set(key, value, DEFAULT_TIMEOUT if timeout is ... else timeout, version)
        except _errors() as error:
            _warn("set", error)

    def get_or_set(self, key, default, timeout=..., version=None):
        from django.core.cache.backends.base import DEFAULT_TIMEOUT

        try:
            return super().get_or_set(key, default, DEFAULT_TIMEOUT if timeout is ... else timeout, version)
        except _errors() as error:
            _warn("get_or_set", error)
            return default() if callable(default) else default

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except _errors() as error:
            _warn("incr", error)
            return 0

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except _errors() as error:
            _warn("delete", error)
            return False
