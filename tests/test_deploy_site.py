"""The shipped nginx site (deploy/nginx/fund.conf.template) does what docs/deployment.md says (issue 17).

Rendered by deploy/nginx/render, accepted by `nginx -t`, then run by a real nginx: first in front of a small
upstream that answers with the headers it received (what reaches the app, what the cache keeps), then in
front of the live app (each language's public page cached, staff pages and logged-in readers not, hashed
static files collected by the production storage served by nginx with a year's cache).
"""
import datetime
import http.server
import json
import re
import urllib.parse
import threading
import time

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings

from fundapp.demo import DEMO_PASSWORD

from fundapp.models import Role
from tests.chain import allocate
from tests.deploy_nginx import request, running_site

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


class Echo(http.server.BaseHTTPRequestHandler):
    """Answers with the request headers it received and a count of requests for that path; the path says
    which Cache-Control (and Set-Cookie) to send."""
    counts = {}

    def do_GET(self):
        Echo.counts[self.path] = Echo.counts.get(self.path, 0) + 1
        body = json.dumps({"headers": {k.lower(): v for k, v in self.headers.items()},
                           "count": Echo.counts[self.path]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if "private" in self.path:
            self.send_header("Cache-Control", "private, no-store")
        elif "brief" in self.path:
            self.send_header("Cache-Control", "public, max-age=1")
        else:
            self.send_header("Cache-Control", "public, max-age=60")
        if "cookie" in self.path:
            self.send_header("Set-Cookie", "csrftoken=abc; Path=/")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        received = len(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", str(len(str(received))))
        self.end_headers()
        self.wfile.write(str(received).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def echo_site(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    Echo.counts = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with running_site(upstream=f"127.0.0.1:{server.server_address[1]}", app=tmp_path) as ports:
            yield ports
    finally:
        server.shutdown()
        server.server_close()


def _seen(port, path, **headers):
    status, response, body = request(port, path, headers=headers)
    assert status == 200, (status, body)
    return response, json.loads(body)


@pytest.mark.one_database
def test_what_reaches_the_app_and_what_the_cache_keeps(echo_site):
    http_port, https_port = echo_site
    # Plain HTTP is only a redirect to HTTPS.
    status, headers, _ = request(http_port, "/public/zh/a1/2026/?q=1", tls=False)
    assert status == 301 and headers["Location"] == "https://127.0.0.1/public/zh/a1/2026/?q=1"

    # X-Forwarded-For is overwritten with the address that connected, whatever the client sent; the scheme
    # and the host are nginx's; a forged X-Forwarded-Host does not reach the app.
    _, seen = _seen(https_port, "/desk/", **{"X-Forwarded-For": "203.0.113.9, 198.51.100.7",
                                             "X-Real-IP": "203.0.113.9", "X-Forwarded-Host": "evil.example",
                                             "X-Forwarded-Proto": "http"})
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert seen["headers"]["x-real-ip"] == "127.0.0.1"
    assert seen["headers"]["x-forwarded-proto"] == "https"
    assert seen["headers"]["host"] == f"127.0.0.1:{https_port}"
    assert "x-forwarded-host" not in seen["headers"]

    # A public page: kept once, then served from the cache (the app asked only once), keyed on the URL alone.
    for expected_status, expected_count in (("MISS", 1), ("HIT", 1), ("HIT", 1)):
        headers, seen = _seen(https_port, "/public/zh/a1/2026/", Cookie="django_language=en")
        assert (headers["X-Cache-Status"], seen["count"]) == (expected_status, expected_count)
    headers, seen = _seen(https_port, "/public/en/a1/2026/")
    assert (headers["X-Cache-Status"], seen["count"]) == ("MISS", 1)  # the other language: its own entry
    # A logged-in reader neither gets the cached copy nor leaves theirs.
    headers, seen = _seen(https_port, "/public/zh/a1/2026/", Cookie="sessionid=s3cr3t")
    assert (headers["X-Cache-Status"], seen["count"]) == ("BYPASS", 2)
    headers, seen = _seen(https_port, "/public/zh/a1/2026/")
    assert (headers["X-Cache-Status"], seen["count"]) == ("HIT", 1)
    # Expired: the next reader gets the stale copy at once while nginx asks the app in the background
    # (stale-while-revalidate); the reader after gets the fresh one.
    assert _seen(https_port, "/public/zh/brief/")[0]["X-Cache-Status"] == "MISS"
    time.sleep(2.2)  # nginx counts in whole seconds
    headers, seen = _seen(https_port, "/public/zh/brief/")
    assert (headers["X-Cache-Status"], seen["count"]) == ("STALE", 1)
    for _ in range(50):
        headers, seen = _seen(https_port, "/public/zh/brief/")
        if seen["count"] == 2:
            break
        time.sleep(0.1)
    assert (headers["X-Cache-Status"], seen["count"]) == ("HIT", 2)
    # Never kept: a response that sets a cookie, a private one (an objection's receipt).
    for path in ("/public/zh/cookie/", "/public/zh/private/"):
        counts = [_seen(https_port, path)[1]["count"] for _ in range(2)]
        assert counts == [1, 2], path
    # /healthz and the staff pages go to the app every time, even when the answer says "public".
    for path in ("/healthz", "/desk/"):
        counts = [_seen(https_port, path)[1]["count"] for _ in range(2)]
        assert counts[1] == counts[0] + 1, path

    # Uploaded files are never served from disk, whatever the address.
    status, _, _ = request(https_port, "/media/documents/1.pdf")
    assert status == 404
    # An upload above the app's largest (10 MB) is refused by nginx before it reaches the app.
    status, _, _ = request(https_port, "/desk/upload/", method="POST", body=b"x" * (13 * 1024 * 1024),
                           headers={"Content-Type": "application/octet-stream"})
    assert status == 413
    status, _, body = request(https_port, "/desk/upload/", method="POST", body=b"x" * (11 * 1024 * 1024),
                              headers={"Content-Type": "application/octet-stream"})
    assert (status, body) == (200, str(11 * 1024 * 1024))


@pytest.fixture
def collected(tmp_path):
    """The static files as `collectstatic` writes them in production (hashed names, .gz beside them)."""
    root = tmp_path / "var" / "staticfiles"
    storages = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    with override_settings(STATIC_ROOT=root, STORAGES=storages):
        call_command("collectstatic", "--noinput", verbosity=0)
    manifest = json.loads((root / "staticfiles.json").read_text())["paths"]
    return tmp_path, manifest


@pytest.mark.postgres  # the live server reads what the test wrote: committed, on PostgreSQL
def test_the_app_behind_the_shipped_site(org, live_server, collected):
    app, manifest = collected
    allocate(org)
    upstream = live_server.url.removeprefix("http://")
    with running_site(upstream=upstream, app=app) as (_, port), \
            time_machine.travel(datetime.datetime(2026, 11, 17, 10, 0, tzinfo=SHANGHAI), tick=True):
        # Each language's public page is kept once and then served from the cache, in its language.
        for language, html_lang in (("zh", "zh-hans"), ("en", "en")):
            for expected in ("MISS", "HIT", "HIT"):
                status, headers, body = request(port, f"/public/{language}/a1/2026/")
                assert (status, headers["X-Cache-Status"]) == (200, expected)
                assert f'<html lang="{html_lang}">' in body
        # A staff page (the login form sets its CSRF cookie) goes to the app each time and is not kept.
        for _ in range(2):
            status, headers, body = request(port, "/login/")
            assert status == 200 and "X-Cache-Status" not in headers and "csrftoken" in headers.get("Set-Cookie", "")

        # Static files come from nginx: the hashed name with a year's cache, the plain name with an hour's.
        original, hashed = next((k, v) for k, v in manifest.items() if k.endswith(".css"))
        status, headers, body = request(port, f"/static/{hashed}", headers={"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert headers.get("Content-Encoding") == "gzip"  # the .gz written beside it
        status, headers, body = request(port, f"/static/{original}")
        assert status == 200 and headers["Cache-Control"] == "public, max-age=3600"
        assert "text/css" in headers["Content-Type"]


@pytest.mark.postgres
def test_staff_log_in_over_https_through_the_shipped_site(org, live_server, tmp_path):
    """Production's HTTPS settings behind nginx: the app sees HTTPS (X-Forwarded-Proto) and the host the
    browser used, so the CSRF check of a login passes, the cookies are Secure, and the logged-in reader
    bypasses the public cache."""
    allocate(org)
    staff = org.person(Role.COMMUNITY_STAFF, "a1")
    secure = {"SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"), "SESSION_COOKIE_SECURE": True,
              "CSRF_COOKIE_SECURE": True}
    with override_settings(**secure), running_site(upstream=live_server.url.removeprefix("http://"),
                                                   app=tmp_path) as (_, port):
        status, headers, body = request(port, "/login/")
        assert status == 200 and "; Secure" in headers["Set-Cookie"]
        csrf_cookie = headers["Set-Cookie"].split(";")[0]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        form = urllib.parse.urlencode({"username": staff.username, "password": DEMO_PASSWORD,
                                       "csrfmiddlewaretoken": token})
        status, headers, body = request(port, "/login/", method="POST", body=form, headers={
            "Cookie": csrf_cookie, "Content-Type": "application/x-www-form-urlencoded",
            "Origin": f"https://127.0.0.1:{port}", "Referer": f"https://127.0.0.1:{port}/login/"})
        assert status == 302, body[:500]
        session = re.search(r"sessionid=[^;]+", headers["Set-Cookie"]).group(0)
        assert "; Secure" in headers["Set-Cookie"].split("sessionid=")[1]
        status, headers, _ = request(port, "/public/zh/a1/2026/", headers={"Cookie": session})
        assert (status, headers["X-Cache-Status"]) == (200, "BYPASS")
        # The same login from a page of another site is refused (CSRF: Origin is not this host).
        status, _, _ = request(port, "/login/", method="POST", body=form, headers={
            "Cookie": csrf_cookie, "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "https://evil.example"})
        assert status == 403
