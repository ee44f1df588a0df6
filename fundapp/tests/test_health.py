"""/healthz for the load balancer (fundapp.health): the real database and Redis, a Redis that is not there."""
import json
import logging
import os
import time

import pytest
from django.urls import reverse

from fundapp import health, tasks
from tests.faults import shared_redis

REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
NOBODY = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def redis_settings(settings):
    shared_redis(REDIS_URL).delete(health.HEARTBEAT_KEY)
    settings.REDIS_URL = REDIS_URL
    settings.HEALTH_MIN_FREE_MB = 1
    yield settings
    shared_redis(REDIS_URL).delete(health.HEARTBEAT_KEY)


def _get(client):
    response = client.get(reverse("healthz"))
    return response, json.loads(response.content)


@pytest.mark.django_db
def test_all_well_is_200_with_a_small_json_no_cookie_and_never_cached(redis_settings, client, caplog):
    tasks.heartbeat()  # what beat sends every minute
    with caplog.at_level(logging.INFO):
        response, body = _get(client)
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "beat", "disk"}
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"
    assert body["checks"]["beat"].startswith("ok (") and body["checks"]["disk"].startswith("ok (")
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert not response.cookies  # no session, no CSRF cookie
    assert not [r for r in caplog.records if r.name == "security" or r.levelno >= logging.WARNING]
    assert client.head(reverse("healthz")).status_code == 200
    assert client.post(reverse("healthz")).status_code == 405  # not 403: no CSRF involved


@pytest.mark.django_db
def test_beat_silent_or_late_is_503(redis_settings, client, caplog):
    response, body = _get(client)
    assert response.status_code == 503 and body["checks"]["beat"] == "fail: no heartbeat"
    health.beat_heartbeat_write(now=time.time() - 400)  # beyond HEALTH_BEAT_MAX_AGE (300 s)
    with caplog.at_level(logging.INFO):
        response, body = _get(client)
    assert response.status_code == 503 and body["status"] == "fail"
    assert body["checks"]["beat"].startswith("fail: last heartbeat 4")
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"
    # a failing check is the load balancer's business: no "Service Unavailable" error (nor mail) per poll
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.django_db
def test_redis_unreachable_is_503(settings, client):
    settings.REDIS_URL = NOBODY
    settings.HEALTH_MIN_FREE_MB = 1
    started = time.monotonic()
    response, body = _get(client)
    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert body["checks"]["redis"] == "fail: ConnectionError" and body["checks"]["beat"] == "fail: ConnectionError"
    assert body["checks"]["database"] == "ok"
    assert NOBODY not in response.content.decode()
    # what is this host's own, for a load balancer that should not drop every web host for a shared Redis
    response = client.get(reverse("healthz"), {"check": "database,disk"})
    assert response.status_code == 200 and set(json.loads(response.content)["checks"]) == {"database", "disk"}
    response = client.get(reverse("healthz"), {"check": "database,<b>"})
    assert response.status_code == 400 and "<b>" in json.loads(response.content)["error"]


@pytest.mark.django_db
def test_too_little_disk_for_media_is_503(redis_settings, client):
    tasks.heartbeat()
    redis_settings.HEALTH_MIN_FREE_MB = 10 ** 12  # an exabyte
    response, body = _get(client)
    assert response.status_code == 503 and body["checks"]["disk"].startswith("fail: ")
    assert body["checks"]["beat"].startswith("ok")


@pytest.mark.django_db
def test_without_redis_development_checks_database_and_disk(settings, client):
    settings.REDIS_URL = ""
    settings.HEALTH_MIN_FREE_MB = 1
    response, body = _get(client)
    assert response.status_code == 200
    assert body["checks"]["redis"] == body["checks"]["beat"] == "not configured"


@pytest.mark.django_db
def test_plain_http_from_the_load_balancer_is_not_redirected(settings, client):
    settings.SECURE_SSL_REDIRECT = True
    settings.REDIS_URL = ""
    settings.HEALTH_MIN_FREE_MB = 1
    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(reverse("login")).status_code == 301


def test_heartbeat_is_in_beats_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["heartbeat"]
    assert entry["task"] == "fundapp.tasks.heartbeat" and entry["schedule"] <= 60
