"""Hand-offs on a real Celery worker consuming from Redis (as tests/test_celery_worker.py starts one),
delivered to a local webhook receiver (http.server on 127.0.0.1 in a thread) that verifies the signature:
an act of the chain → after commit → the worker → one signed POST per recipient, once under redelivery;
a receiver that keeps failing → retried with backoff, then "failed" with its error, in the admin."""
import datetime
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from approvals import services as chain
from fundapp.models import Delivery, Role
from fundapp.services import notify as notify_services
from fundapp.services.channels import webhook_verify
from tests.chain import allocate, draft, travel
from tests.test_celery_worker import _redis_available, worker  # noqa: F401 - the fixtures

pytestmark = [pytest.mark.celery_worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SECRET = "gateway-shared-secret"


class Receiver:
    """A gateway stand-in: records each POST (headers, body, whether the signature verified) and answers
    `status`."""

    def __init__(self, status=200):
        self.status, self.requests = status, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({
                    "headers": dict(self.headers), "body": json.loads(body),
                    "verified": webhook_verify(SECRET, self.headers["X-Fund-Timestamp"], body,
                                               self.headers["X-Fund-Signature"]),
                    "forged": webhook_verify("another-secret", self.headers["X-Fund-Timestamp"], body,
                                             self.headers["X-Fund-Signature"]),
                })
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def wait_for(predicate, timeout=30, what=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def deliveries_ran(executed):
    return [value for name, _thread, value in executed if name == "fundapp.tasks.deliver"]


@pytest.fixture
def gateway(settings):
    with Receiver() as receiver:
        settings.NOTIFY_WEBHOOK_URL, settings.NOTIFY_WEBHOOK_SECRET = receiver.url, SECRET
        yield receiver


def test_an_act_reaches_the_next_person_through_the_worker_signed_and_once(org, worker, gateway):
    leader = org.person(Role.SUBDISTRICT_SECRETARY)
    notify_services.notification_preferences_save(user=leader, email=False, webhook=True, digest=False)
    allocate(org)
    proposal = draft(org)
    with travel(datetime.date(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY))

    wait_for(lambda: Delivery.objects.filter(status="sent").exists(), what="the webhook delivery")
    delivery = Delivery.objects.get()
    assert (delivery.user, delivery.channel, delivery.attempts) == (leader, "webhook", 1)
    assert len(gateway.requests) == 1
    request = gateway.requests[0]
    assert request["verified"] and not request["forged"]
    assert request["headers"]["X-Fund-Delivery"] == str(delivery.pk)
    assert request["headers"]["X-Fund-Signature"].startswith("sha256=")
    body = request["body"]
    assert body["kind"] == "consent_needed" and body["recipient"]["username"] == leader.username
    assert "老旧小区路灯维修" in body["text"] and body["link"].endswith(f"/proposals/{proposal.pk}/")
    # It ran on the worker's threads, not here: not eager.
    assert deliveries_ran(worker) == [True]

    # Redelivery (acks_late after a lost worker) and the sweeper: the worker runs the task again, sends nothing.
    from fundapp.tasks import deliver, send_pending_deliveries

    deliver.delay(delivery.pk)
    send_pending_deliveries.delay()
    wait_for(lambda: len(deliveries_ran(worker)) == 2, what="the redelivered task")
    time.sleep(0.5)
    assert deliveries_ran(worker) == [True, False]
    assert len(gateway.requests) == 1 and Delivery.objects.get().attempts == 1


def test_a_gateway_that_keeps_failing_is_retried_then_marked_failed_for_the_administrator(
        org, worker, settings, client):
    settings.NOTIFY_MAX_ATTEMPTS, settings.NOTIFY_RETRY_BASE_SECONDS = 3, 0.2
    leader = org.person(Role.SUBDISTRICT_SECRETARY)
    notify_services.notification_preferences_save(user=leader, email=False, webhook=True, digest=False)
    with Receiver(status=500) as broken:
        settings.NOTIFY_WEBHOOK_URL, settings.NOTIFY_WEBHOOK_SECRET = broken.url, SECRET
        allocate(org)
        proposal = draft(org)
        with travel(datetime.date(2026, 9, 28)):
            chain.proposal_submit_for_consent(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY))
        wait_for(lambda: Delivery.objects.filter(status="failed").exists(), what="the delivery to fail")
        assert len(broken.requests) == 3 and all(r["verified"] for r in broken.requests)
        # Every retry is the same delivery: the receiver can tell a retry from a new message.
        assert {r["headers"]["X-Fund-Delivery"] for r in broken.requests} == {str(Delivery.objects.get().pk)}
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("failed", 3, None)
    assert "HTTP 500" in delivery.last_error
    # The act itself stands, and the inbox has the message.
    assert proposal.__class__.objects.get(pk=proposal.pk).state == "consent_pending"
    assert leader.notifications.filter(kind="consent_needed").count() == 1

    client.force_login(org.city_admin)
    page = client.get("/admin/fundapp/delivery/?status__exact=failed").content.decode()
    assert "发送失败" in page and "HTTP 500" in page
