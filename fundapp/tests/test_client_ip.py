"""The real client behind the reverse proxy (fundapp.client_ip): who is counted by the lockout, the
residents' rate limits and the security log."""
import logging

import pytest
from django.test import RequestFactory
from django.urls import reverse

from fundapp.client_ip import client_ip, parse_networks, resolve
from fundapp.demo import DEMO_PASSWORD

PROXIES = parse_networks(["127.0.0.1", "10.0.8.0/24", "fd00::/8"])


def test_a_trusted_proxy_forwards_the_client():
    assert resolve("127.0.0.1", "203.0.113.5", PROXIES) == "203.0.113.5"
    assert resolve("fd00::1", "2001:db8::7", PROXIES) == "2001:db8::7"
    assert resolve("::ffff:127.0.0.1", "203.0.113.5", PROXIES) == "203.0.113.5"  # IPv4 on an IPv6 socket


def test_an_untrusted_peer_cannot_forge_the_header():
    assert resolve("198.51.100.9", "203.0.113.5", PROXIES) == "198.51.100.9"
    assert resolve("198.51.100.9", "127.0.0.1", PROXIES) == "198.51.100.9"
    assert resolve("198.51.100.9", "", PROXIES) == "198.51.100.9"
    assert resolve("127.0.0.1", "203.0.113.5", []) == "127.0.0.1"  # no proxy configured: nobody is trusted


def test_a_chain_of_proxies_yields_the_right_most_untrusted_address():
    # the client forged "1.2.3.4" to the left; nginx (10.0.8.2) and the load balancer (10.0.8.1) appended
    assert resolve("10.0.8.1", "1.2.3.4, 203.0.113.5, 10.0.8.2", PROXIES) == "203.0.113.5"
    assert resolve("127.0.0.1", "1.2.3.4,203.0.113.5", PROXIES) == "203.0.113.5"
    # everything trusted: the left-most hop is the client (an internal one)
    assert resolve("127.0.0.1", "10.0.8.7, 10.0.8.2", PROXIES) == "10.0.8.7"
    # garbage left of a trusted hop: only that hop can be vouched for
    assert resolve("127.0.0.1", "203.0.113.5, <script>, 10.0.8.2", PROXIES) == "10.0.8.2"
    assert resolve("127.0.0.1", "203.0.113.5:5123", PROXIES) == "203.0.113.5"  # with a port


def test_resolved_once_per_request_from_settings(settings):
    settings.TRUSTED_PROXY_NETWORKS = PROXIES
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert client_ip(request) == "203.0.113.5"
    request.META["HTTP_X_FORWARDED_FOR"] = "198.51.100.1"
    assert client_ip(request) == "203.0.113.5"  # kept on the request
    settings.TRUSTED_PROXY_NETWORKS = []
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="127.0.0.1",
                                          HTTP_X_FORWARDED_FOR="203.0.113.5")) == "127.0.0.1"


def _login(client, client_address, password):
    return client.post(reverse("login"), {"username": "a1-community_secretary", "password": password},
                       REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=client_address)


@pytest.mark.django_db
def test_lockout_counts_the_real_client_behind_the_proxy(org, client, settings, caplog):
    settings.TRUSTED_PROXY_NETWORKS = PROXIES
    with caplog.at_level(logging.INFO, logger="security"):
        for _ in range(5):
            _login(client, "203.0.113.66", "wrong")
        assert _login(client, "203.0.113.66", DEMO_PASSWORD).status_code == 429  # that client is locked out
        # another resident... another client behind the same proxy signs in
        assert _login(client, "198.51.100.20", DEMO_PASSWORD).status_code == 302
    lines = [r.getMessage() for r in caplog.records if r.name == "security"]
    assert any(" lockout " in line and "ip=203.0.113.66" in line for line in lines)
    assert any(" login " in line and "ip=198.51.100.20" in line for line in lines)
    assert not any("ip=127.0.0.1" in line for line in lines)


@pytest.mark.django_db
def test_a_forged_header_does_not_escape_the_lockout(org, client, settings):
    settings.TRUSTED_PROXY_NETWORKS = PROXIES
    for n in range(5):  # straight to the app, a new forged X-Forwarded-For each time
        client.post(reverse("login"), {"username": "a1-community_secretary", "password": "wrong"},
                    REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    response = client.post(reverse("login"), {"username": "a1-community_secretary", "password": DEMO_PASSWORD},
                           REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert response.status_code == 429
