"""/healthz: is this web host fit to serve? For a load balancer (and an operator's monitoring).

Checks the database (a trivial query), Redis (a ping, when REDIS_URL is set), Celery beat's last heartbeat
(beat sends fundapp.tasks.heartbeat every minute, a worker writes the time to Redis; older than
HEALTH_BEAT_MAX_AGE seconds means beat or every worker is down) and the free space on MEDIA_ROOT's disk
(HEALTH_MIN_FREE_MB). 200 and {"status": "ok", ...} when all pass; 503 and the failing checks otherwise.

No session, no CSRF, never cached, no personal data: the body names checks and exception classes, never an
exception's message (a DSN or a password could be in one). Not logged as an error either: a load balancer
polls every few seconds, and a failing check is its business, not a mail to ADMINS per poll.
"""
import json
import shutil
import time

from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

HEARTBEAT_KEY = "fund:beat:heartbeat"
_TIMEOUT = 1  # seconds, for each Redis call: a health check must answer quickly, and say "fail"


def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=_TIMEOUT, socket_timeout=_TIMEOUT)


def beat_heartbeat_write(now=None):
    """Record that beat and a worker are alive (the heartbeat task). No Redis (development): nothing."""
    if not settings.REDIS_URL:
        return None
    now = time.time() if now is None else now
    _redis().set(HEARTBEAT_KEY, repr(now), ex=max(settings.HEALTH_BEAT_MAX_AGE * 4, 3600))
    return now


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_redis():
    if not settings.REDIS_URL:
        return "not configured"
    _redis().ping()
    return "ok"


def check_beat():
    if not settings.REDIS_URL:
        return "not configured"  # development: tasks run in the request, no beat
    value = _redis().get(HEARTBEAT_KEY)
    if value is None:
        raise RuntimeError("no heartbeat")
    age = time.time() - float(value)
    if age > settings.HEALTH_BEAT_MAX_AGE:
        raise RuntimeError(f"last heartbeat {int(age)} s ago")
    return f"ok ({int(age)} s ago)"


def check_disk():
    free_mb = shutil.disk_usage(settings.MEDIA_ROOT).free // (1024 * 1024)
    if free_mb < settings.HEALTH_MIN_FREE_MB:
        raise RuntimeError(f"{free_mb} MB free, below {settings.HEALTH_MIN_FREE_MB} MB")
    return f"ok ({free_mb} MB free)"


CHECKS = {"database": check_database, "redis": check_redis, "beat": check_beat, "disk": check_disk}


def _run(check):
    try:
        return True, check()
    except RuntimeError as exc:  # our own verdicts: their text holds no secret
        return False, f"fail: {exc}"
    except Exception as exc:  # noqa: BLE001 — any failure of a dependency is "not healthy"
        return False, f"fail: {type(exc).__name__}"


@csrf_exempt
@never_cache
@require_safe
def healthz(request):
    """All checks; `?check=database,disk` only those (a load balancer may want only what is this host's own:
    Redis and beat are shared by every web host, and taking them all out of the pool would not help)."""
    names = [n for n in request.GET.get("check", "").split(",") if n] or list(CHECKS)
    unknown = sorted(set(names) - set(CHECKS))
    if unknown:
        return HttpResponse(json.dumps({"error": f"unknown check: {', '.join(unknown)[:100]}",
                                        "checks": list(CHECKS)}), content_type="application/json", status=400)
    results = {name: _run(CHECKS[name]) for name in names}
    healthy = all(ok for ok, _ in results.values())
    body = {"status": "ok" if healthy else "fail", "checks": {name: text for name, (_, text) in results.items()}}
    response = HttpResponse(json.dumps(body), content_type="application/json", status=200 if healthy else 503)
    response._has_been_logged = True  # not "Service Unavailable" in the error log (and mail) at every poll
    return response
