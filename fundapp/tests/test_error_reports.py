"""Error reports: a mail to ADMINS for a 500 and the Sentry/GlitchTip event, both without personal data."""
import json

import pytest
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from fundapp import security_log
from fundapp.error_reports import scrub_event

NAME, PHONE = "欧阳明远", "13912345678"


@csrf_exempt  # (posted by a bare WSGI call below, without a token)
def boom(request):
    name, phone = request.POST["resident_name"], request.POST["resident_contact"]
    raise ValueError(f"no community for {name} (tel {phone})")


urlpatterns = [path("boom/", boom)]


@pytest.mark.django_db
def test_a_500_sends_one_scrubbed_mail_to_the_admins(settings):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    settings.ADMINS = [("值班", "ops@example.gov.cn")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "s3cr3tsessionvalue0123456789abcd"
    response = client.post("/boom/", {"resident_name": NAME, "resident_contact": PHONE, "text": "太吵"},
                           REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 500
    assert len(mail.outbox) == 1  # ours only: Django's default (unscrubbed) mail_admins is replaced
    message = mail.outbox[0]
    assert message.to == ["ops@example.gov.cn"]
    text = message.subject + message.body + "".join(str(a) for a in message.alternatives)
    assert "ValueError" in text and "/boom/" in text and "203.0.113.5" in text
    assert "欧**" in text  # the name, masked as in the logs
    for secret in (NAME, PHONE, "s3cr3tsessionvalue", "太吵"):
        assert secret not in text


@pytest.mark.django_db
def test_no_mail_without_admins_with_debug_on_or_for_a_foreign_host_name(settings):
    settings.ROOT_URLCONF = __name__
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ADMINS = []
    Client(raise_request_exception=False).post("/boom/", {"resident_name": NAME, "resident_contact": PHONE})
    assert mail.outbox == []
    settings.ADMINS = [("值班", "ops@example.gov.cn")]
    settings.DEBUG = True
    Client(raise_request_exception=False).post("/boom/", {"resident_name": NAME, "resident_contact": PHONE})
    assert mail.outbox == []
    settings.DEBUG = False
    # a scanner (or a health check by IP address): 400, logged, not a mail per request
    assert Client().get("/boom/", HTTP_HOST="203.0.113.80").status_code == 400
    assert mail.outbox == []


def test_before_send_removes_personal_data_from_an_event():
    request = RequestFactory().post("/public/zh/a1/object/1/", {"resident_name": NAME, "resident_contact": PHONE})
    request.POST  # parsed, as Django had done before the error  # noqa: B018
    token = security_log._current_request.set(request)
    try:
        event = scrub_event({
            "level": "error",
            "request": {"url": "https://fund.example.gov.cn/public/zh/a1/object/1/", "method": "POST",
                        "data": {"resident_name": NAME, "resident_contact": PHONE},
                        "cookies": {"sessionid": "abcdefabcdefabcdefabcdefabcdef12"},
                        "headers": {"Cookie": "sessionid=abcdefabcdefabcdefabcdefabcdef12", "User-Agent": "UA/1",
                                    "X-Forwarded-For": "203.0.113.5"},
                        "env": {"REMOTE_ADDR": "203.0.113.5"}},
            "user": {"id": 42, "username": "a1-community_secretary", "email": "x@example.gov.cn",
                     "ip_address": "203.0.113.5"},
            "exception": {"values": [{"type": "ValueError", "value": f"no community for {NAME} (tel {PHONE})",
                                      "stacktrace": {"frames": [{"function": "boom", "vars": {"phone": PHONE}}]}}]},
            "logentry": {"message": f"objection from {NAME}", "params": []},
            "breadcrumbs": {"values": [{"category": "query", "message": f"SELECT 1 WHERE phone = '{PHONE}'"}]},
            "extra": {"contact": f"电话 {PHONE}"},
        }, {})
    finally:
        security_log._current_request.reset(token)
    text = json.dumps(event, ensure_ascii=False)
    for personal in (NAME, PHONE, "abcdefabcdef", "203.0.113.5", "a1-community_secretary", "x@example"):
        assert personal not in text
    assert event["user"] == {"id": 42}
    assert event["exception"]["values"][0]["type"] == "ValueError"
    assert "欧**" in event["exception"]["values"][0]["value"]
    assert event["request"]["headers"]["User-Agent"] == "UA/1" and event["request"]["method"] == "POST"
    assert "vars" not in event["exception"]["values"][0]["stacktrace"]["frames"][0]


_SENT_BY_THE_APP = """
import sentry_sdk
from django.core.wsgi import get_wsgi_application
from django.conf import settings
from django.test import RequestFactory
app = get_wsgi_application()  # as gunicorn runs it: Sentry's WSGI and Django integrations both
settings.ROOT_URLCONF = "fundapp.tests.test_error_reports"
request = RequestFactory().post("/boom/?tel=%s", {"resident_name": "%s", "resident_contact": "%s", "text": "太吵"},
                                REMOTE_ADDR="203.0.113.5", HTTP_USER_AGENT="UA/1", HTTP_X_FORWARDED_FOR="198.51.100.4",
                                HTTP_COOKIE="csrftoken=c5rfc00kievalue0123456789abcdefg")
status = []
b"".join(app(request.environ, lambda s, h, exc_info=None: status.append(s)))
assert status[0].startswith("500"), status
sentry_sdk.flush(5)
""" % (PHONE, NAME, PHONE)


def test_a_self_hosted_sentry_receives_the_error_without_personal_data():
    """A real sentry-sdk, set up by the settings from SENTRY_DSN, sending to a GlitchTip stand-in here."""
    import gzip
    import http.server
    import os
    import subprocess
    import sys
    import threading
    from pathlib import Path

    import brotli

    received = []

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            encoding = self.headers.get("Content-Encoding")
            received.append(gzip.decompress(body) if encoding == "gzip"
                            else brotli.decompress(body) if encoding == "br" else body)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {k: v for k, v in os.environ.items() if k not in {"FUND_ENV", "ADMINS", "DATABASE_URL"}}
        env.update(SENTRY_DSN=f"http://publickey@127.0.0.1:{server.server_port}/7",
                   DJANGO_SETTINGS_MODULE="fundapp.settings")
        result = subprocess.run([sys.executable, "-c", _SENT_BY_THE_APP], cwd=Path(__file__).resolve().parents[2],
                                env=env, capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for body in received for line in body.decode().splitlines() if line.strip()]
    events = [line for line in lines if "exception" in line]
    assert len(events) == 1
    assert events[0]["exception"]["values"][0]["type"] == "ValueError"  # the error did arrive
    assert events[0]["request"]["method"] == "POST" and "/boom/" in events[0]["request"]["url"]
    assert events[0]["request"]["headers"]["User-Agent"] == "UA/1"
    text = json.dumps(lines, ensure_ascii=False)
    for personal in (NAME, PHONE, "c5rfc00kievalue", "203.0.113.5", "198.51.100.4", "太吵"):
        assert personal not in text, personal
