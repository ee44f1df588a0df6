"""A shared cache in front of the site serves each reader their own language (issue 16).

A real nginx with `proxy_cache`, keyed on the URL alone (as a CDN or a city's front proxy keys), in front
of the live server: the language is in the address (/public/zh/…, /public/en/…), so once one reader has
warmed the cache the other still gets their language — from the cache (HIT), which is exactly where a
language chosen by a cookie at one shared address went wrong: the HIT would have carried the first
reader's language. The bare /public/… redirect depends on the reader and is never kept for others.
"""
import datetime
import http.client
import os
import pwd
import shutil
import tempfile

import pytest
import time_machine

from tests.chain import allocate
from tests.deploy_nginx import NGINX, free_port, running_nginx

pytestmark = pytest.mark.postgres  # the live server reads what the test wrote: committed, on PostgreSQL

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
CONFIG = """
worker_processes 1;
daemon off;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  proxy_cache_path {tmp}/cache levels=1 keys_zone=public:1m max_size=10m inactive=10m use_temp_path=off;
  # For comparison, the old way: /old/… is one address for both languages, the language chosen by the
  # reader's cookie (here by nginx rewriting to the language address, as the site itself used to choose).
  map $cookie_django_language $old_language {{ en en; default zh; }}
  server {{
    listen 127.0.0.1:{port};
    location /old/ {{
      rewrite ^/old/(.*)$ /public/$old_language/$1 break;
      proxy_pass {upstream};
      proxy_cache public;
      proxy_cache_key $scheme$proxy_host/old$request_uri;
      add_header X-Cache-Status $upstream_cache_status always;
    }}
    location / {{
      proxy_pass {upstream};
      proxy_cache public;
      proxy_cache_key $scheme$proxy_host$request_uri;   # the URL alone: no cookie, no Accept-Language
      add_header X-Cache-Status $upstream_cache_status always;
    }}
  }}
}}
"""


@pytest.fixture
def proxy(live_server):
    """nginx on a free port of 127.0.0.1 in front of the live server; stopped (killed if need be) after."""
    if not os.path.exists(NGINX):
        pytest.fail(f"{NGINX} not found: install Debian's nginx-light (bin/lib.sh TEST_DEBS)", pytrace=False)
    tmp = tempfile.mkdtemp(prefix="fund-nginx-")
    port = free_port()
    # As root, nginx's workers would run as nobody, who cannot write the cache here: keep them as we are.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    with open(f"{tmp}/nginx.conf", "w") as f:
        f.write(CONFIG.format(tmp=tmp, port=port, upstream=live_server.url, user=user))
    try:
        with running_nginx([NGINX, "-p", tmp, "-c", f"{tmp}/nginx.conf", "-e", f"{tmp}/error.log"], port):
            yield port
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _get(port, path, *, cookie=None, accept_language=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {}
    if cookie:
        headers["Cookie"] = f"django_language={cookie}"
    if accept_language:
        headers["Accept-Language"] = accept_language
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def _language(body):
    return "en" if '<html lang="en">' in body else "zh-hans" if '<html lang="zh-hans">' in body else None


def test_each_reader_gets_their_language_through_a_shared_cache_keyed_on_the_url(org, proxy):
    allocate(org)
    english = {"cookie": "en", "accept_language": "en-GB,en;q=0.9"}
    chinese = {"accept_language": "zh-CN,zh;q=0.9"}
    with time_machine.travel(datetime.datetime(2026, 11, 17, 10, 0, tzinfo=SHANGHAI), tick=True):
        # The printed, bare address: each reader is sent to their language's address, the redirect not kept.
        for reader, language in ((english, "en"), (chinese, "zh"), (english, "en")):
            status, headers, _ = _get(proxy, "/public/a1/2026/", **reader)
            assert status == 302 and headers["Location"] == f"/public/{language}/a1/2026/"
            assert headers["X-Cache-Status"] != "HIT"
        # The English reader warms the cache first; the Chinese reader then still gets Chinese…
        status, headers, body = _get(proxy, "/public/en/a1/2026/", **english)
        assert (status, headers["X-Cache-Status"], _language(body)) == (200, "MISS", "en")
        status, headers, body = _get(proxy, "/public/zh/a1/2026/", **chinese)
        assert (status, headers["X-Cache-Status"], _language(body)) == (200, "MISS", "zh-hans")
        # …and from now on both come from the cache, each in their own language.
        for _ in range(2):
            status, headers, body = _get(proxy, "/public/zh/a1/2026/", **chinese)
            assert (status, headers["X-Cache-Status"], _language(body)) == (200, "HIT", "zh-hans")
            status, headers, body = _get(proxy, "/public/en/a1/2026/", **english)
            assert (status, headers["X-Cache-Status"], _language(body)) == (200, "HIT", "en")
        # The cache ignores who asks (an English cookie gets the cached Chinese page at the Chinese address):
        # with the language chosen by a cookie at one address, this HIT would have been the wrong language.
        status, headers, body = _get(proxy, "/public/zh/a1/2026/", **english)
        assert (status, headers["X-Cache-Status"], _language(body)) == (200, "HIT", "zh-hans")
        assert "Cookie" not in headers.get("Vary", "") and headers["Cache-Control"].startswith("public")

        # The old way through the same cache: the English reader warms it, the Chinese reader gets English.
        status, headers, body = _get(proxy, "/old/a1/2026/", **english)
        assert (status, headers["X-Cache-Status"], _language(body)) == (200, "MISS", "en")
        status, headers, body = _get(proxy, "/old/a1/2026/", **chinese)
        assert (status, headers["X-Cache-Status"], _language(body)) == (200, "HIT", "en")  # the bug of issue 16
