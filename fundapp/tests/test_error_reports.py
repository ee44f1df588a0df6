"""Error reports: a mail to ADMINS for a 500 and the Sentry/GlitchTip event, both without personal data."""
import json

import pytest
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import path

from fundapp import security_log
from fundapp.error_reports import scrub_event

NAME, PHONE = "欧阳明远", "13912345678"


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
