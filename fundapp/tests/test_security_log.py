"""Security events are logged with who, what and when; no log record ever holds a password, a session id,
a CSRF token, or a resident's full name or phone number — at any level, from any logger."""
import datetime
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import django
import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from approvals import services as chain
from approvals.models import Objection
from fundapp import security_log
from fundapp.demo import DEMO_PASSWORD
from fundapp.models import Role
from tests.chain import allocate, draft, travel

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

D = datetime.date
WRONG_PASSWORD = "Wr0ng-Guess-7351"
EVENT_LINE = re.compile(r"^(?P<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00) (?P<event>\w+) (?P<fields>.*)$")


class Capture(logging.Handler):
    """A handler as every configured one is (test_every_log_handler_redacts): with the redacting filter."""

    def __init__(self, redacting=True):
        super().__init__(level=logging.DEBUG)
        self.records = []
        if redacting:
            self.addFilter(security_log.RedactingFilter())

    def emit(self, record):
        self.records.append(record)

    def texts(self):
        """Everything a handler could write: the message, traceback, stack and every string attribute."""
        for record in self.records:
            yield record.getMessage()
            yield from (record.exc_text or "", record.stack_info or "")
            yield from (str(v) for v in vars(record).values() if isinstance(v, (str, tuple, list, dict)))

    def events(self, name=None):
        found = []
        for record in self.records:
            if record.name == "security":
                match = EVENT_LINE.match(record.getMessage())
                assert match, record.getMessage()  # one line, ISO time in Asia/Shanghai, event, fields
                fields = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', match["fields"]))
                if name is None or match["event"] == name:
                    found.append({"at": match["at"], "event": match["event"], **fields})
        return found


@pytest.fixture
def logs():
    """Every record of every logger, at DEBUG, including the SQL that Django runs (with its parameters)."""
    capture = Capture()
    loggers = [logging.getLogger()] + [lg for lg in logging.Logger.manager.loggerDict.values()
                                       if isinstance(lg, logging.Logger)]
    levels = {lg: lg.level for lg in loggers}
    attached = [lg for lg in loggers if lg is logging.getLogger() or not lg.propagate]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    for lg in attached:
        lg.addHandler(capture)
    disabled, logging.root.manager.disable = logging.root.manager.disable, logging.NOTSET
    debug_cursor, connection.force_debug_cursor = connection.force_debug_cursor, True
    yield capture
    connection.force_debug_cursor = debug_cursor
    logging.root.manager.disable = disabled
    for lg in attached:
        lg.removeHandler(capture)
    for lg, level in levels.items():
        lg.setLevel(level)


def assert_never_logged(logs, *secrets):
    assert len(logs.records) > 10  # the capture works: there is something to search
    for text in logs.texts():
        for secret in secrets:
            assert secret not in text, f"{secret!r} logged: {text[:300]}"


def login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.django_db
def test_logins_failures_and_logouts_are_logged_without_password_or_session_id(org, logs):
    client = Client()
    client.get(reverse("login"))
    user = org.person(Role.FINANCE_OFFICER)
    assert login(client, user.username, WRONG_PASSWORD).status_code == 200
    # a password typed into the username box: no such account, so it is logged masked
    login(client, "Typed-My-Passw0rd-Here", WRONG_PASSWORD)
    assert login(client, user.username, DEMO_PASSWORD).status_code == 302
    session_id = client.cookies["sessionid"].value
    csrf_token = client.cookies["csrftoken"].value
    assert client.get(reverse("home")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302

    failed = logs.events("login_failed")
    assert [e["user"] for e in failed] == [user.username, '"unknown:T***************…(22)"']
    assert failed[0]["ip"] == "127.0.0.1" and failed[0]["path"] == "/login/" and failed[0]["method"] == "POST"
    [ok] = logs.events("login")
    assert ok["user"] == user.username and ok["user_id"] == str(user.pk) and ok["ip"] == "127.0.0.1"
    at = datetime.datetime.fromisoformat(ok["at"])
    assert abs((at - datetime.datetime.now(datetime.UTC)).total_seconds()) < 60
    [out] = logs.events("logout")
    assert out["user"] == user.username and out["path"] == "/logout/"
    assert_never_logged(logs, DEMO_PASSWORD, WRONG_PASSWORD, session_id, csrf_token)
    assert not any("Typed-My-Passw0rd-Here" in r.getMessage() for r in logs.records if r.name == "security")


@pytest.mark.django_db
def test_a_lockout_is_logged(org, logs):
    client = Client()
    username = org.person(Role.COMMUNITY_SECRETARY).username
    for _ in range(5):
        login(client, username, WRONG_PASSWORD)
    assert login(client, username, DEMO_PASSWORD).status_code == 429
    assert len(logs.events("login_failed")) >= 5
    lockouts = logs.events("lockout")
    assert lockouts and lockouts[0]["user"] == username and lockouts[0]["ip"] == "127.0.0.1"
    assert not logs.events("login")
    assert_never_logged(logs, DEMO_PASSWORD, WRONG_PASSWORD)


@pytest.mark.django_db
def test_refusals_on_staff_pages_are_logged_with_who_and_where(org, logs, client):
    staff = org.person(Role.COMMUNITY_STAFF, "a1")
    client.force_login(staff)
    # another community's ledger: the rights check answers 404 ("not yours" looks like "missing")
    assert client.get(reverse("ledger", args=["b1", 2026])).status_code == 404
    # the batch runs are the city administrator's: 403
    assert client.get(reverse("batches:runs")).status_code == 403
    [not_found] = logs.events("not_found")
    assert not_found["user"] == staff.username and not_found["user_id"] == str(staff.pk)
    assert not_found["path"] == "/ledgers/b1/2026/" and not_found["method"] == "GET"
    [forbidden] = logs.events("forbidden")
    assert forbidden["user"] == staff.username and forbidden["path"] == reverse("batches:runs")
    assert forbidden["status"] == "403"
    # a resident's mistyped public address is no security event
    Client().get("/public/nowhere/2026/")
    assert len(logs.events("not_found")) == 1


@pytest.mark.django_db
def test_csrf_failures_are_logged_once_without_the_token(org, logs):
    client = Client(enforce_csrf_checks=True)
    staff = org.person(Role.COMMUNITY_STAFF)
    client.force_login(staff)
    client.get(reverse("home"))
    response = client.post(reverse("approvals:needs") + "?community=a1",
                           {"channel": "door", "description": "x", "community": "a1",
                            "csrfmiddlewaretoken": "forged-token-0123456789abcdef"})
    assert response.status_code == 403
    [failure] = logs.events("csrf_failure")
    assert failure["user"] == staff.username and failure["method"] == "POST" and "CSRF" in failure["reason"]
    assert not logs.events("forbidden")  # the same refusal, not logged twice
    assert_never_logged(logs, "forged-token-0123456789abcdef", client.cookies["sessionid"].value)


@pytest.mark.django_db
def test_a_wrong_second_factor_is_logged(org, logs, client, settings):
    settings.TWO_FACTOR_REQUIRED = True
    user = org.person(Role.FINANCE_OFFICER)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    login(client, user.username, DEMO_PASSWORD)
    right = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    wrong = f"{(right + 1) % 1_000_000:06d}"
    client.post(reverse("two-factor-verify"), {"token": wrong})
    [failure] = logs.events("two_factor_failed")
    assert failure["user"] == user.username and failure["path"] == reverse("two-factor-verify")
    assert_never_logged(logs, DEMO_PASSWORD, f"token={wrong}")


@pytest.fixture
def running_notice(org):
    allocate(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = draft(org, budget="8000.00", title="健身器材")
    with travel(D(2026, 11, 16)):
        chain.proposal_submit_for_consent(proposal=proposal, by=secretary)
        chain.consent_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)
        chain.meeting_record(proposal=proposal, by=secretary, held_on=D(2026, 11, 16), place="室", attendance=9,
                             votes_for=9, votes_against=0, votes_abstain=0, minutes="通过")
        return chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 11, 16))


@pytest.mark.django_db
def test_a_residents_name_and_phone_never_reach_any_log(org, running_notice, logs):
    with travel(D(2026, 11, 18)):
        response = Client().post(reverse("public:object", args=["a1", running_notice.public_id]), {
            "resident_name": "张三丰", "resident_contact": "13812345678", "text": "请回电 13812345678",
            "website": "", "shown": signing.dumps(time.time() - 10, salt="public-form")})
    assert response.status_code == 302
    assert Objection.objects.get(notice=running_notice).resident_name == "张三丰"
    sql = [r.getMessage() for r in logs.records if r.name == "django.db.backends"]
    # the INSERT was logged, with the name masked: the search below would have found it
    assert any("approvals_objection" in s and "张**" in s for s in sql)
    assert_never_logged(logs, "张三丰", "13812345678")


def test_scrub_removes_secrets_in_the_shapes_they_come_in():
    cases = {
        "POST username=a&password=hunter2-secret&next=/": "hunter2-secret",
        '{"password": "hunter2-secret", "user": "a"}': "hunter2-secret",
        "{'new_password1': 'hunter2-secret'}": "hunter2-secret",
        "POST {'username': ['a'], 'password': ['hunter2-secret']}": "hunter2-secret",
        "Cookie: csrftoken=abcdefgh12345678; sessionid=s3ss10nk3y0000000000000000000000": "s3ss10nk3y",
        'WHERE "django_session"."session_key" = \'s3ss10nk3y0000000000000000000000\'': "s3ss10nk3y",
        "csrfmiddlewaretoken=abcdefgh12345678": "abcdefgh12345678",
        "回电 138-1234-5678 或 110101199003074512": "1234",
    }
    for text, secret in cases.items():
        assert secret not in security_log.scrub(text), text
    assert security_log.scrub("proposal 12 approved by a1-secretary") == "proposal 12 approved by a1-secretary"


def test_every_log_handler_redacts():
    django.setup()  # again, as a Celery worker does: Django's own handlers are made anew
    foreign = [h for h in security_log.unprotected_handlers() if not type(h).__module__.startswith("_pytest")]
    assert foreign == [], [(h, h.filters, [n for n, lg in logging.Logger.manager.loggerDict.items()
                                          if h in getattr(lg, "handlers", [])]) for h in foreign]
    # a handler added after start-up (by any library) still never receives the secret: records are
    # redacted as they are made
    capture = Capture(redacting=False)
    logger = logging.getLogger("some.library")
    logger.addHandler(capture)
    try:
        logger.warning("retrying with %s", {"password": "hunter2-secret"})
    finally:
        logger.removeHandler(capture)
    assert "hunter2-secret" not in capture.records[0].getMessage()


def test_security_events_go_to_the_file_named_by_SECURITY_LOG_FILE(tmp_path):
    path = tmp_path / "security.log"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SECURITY_LOG_FILE=str(path), DJANGO_SETTINGS_MODULE="fundapp.settings")
    script = ("import django; django.setup(); from fundapp import security_log; "
              "security_log.event('test_event', detail='password=hunter2-secret')")
    subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2], env=env, check=True,
                   timeout=60)
    line = path.read_text(encoding="utf-8")
    assert EVENT_LINE.match(line.strip()) and " test_event user=- " in line and "hunter2-secret" not in line
