"""The shipped nginx site (deploy/nginx/fund.conf.template), rendered by deploy/nginx/render with this
machine's ports and paths and run by a real nginx: shared by the deployment tests."""
import contextlib
import http.client
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MIME_TYPES = "/etc/nginx/mime.types"
MAIN = """
worker_processes 1;
daemon off;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
  include {mime};
  default_type application/octet-stream;
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  include {tmp}/fund.conf;
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render(tmp, *, upstream, app):
    """The site as an operator renders it (deploy/nginx/render), with test ports, paths and a self-signed
    certificate; returns (http_port, https_port)."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-keyout", f"{tmp}/key.pem", "-out", f"{tmp}/cert.pem"],
                   check=True, capture_output=True)
    http_port, https_port = free_port(), free_port()
    env = dict(os.environ, FUND_HOST="127.0.0.1 localhost", FUND_APP=str(app), FUND_UPSTREAM=upstream,
               FUND_TLS_CERT=f"{tmp}/cert.pem", FUND_TLS_KEY=f"{tmp}/key.pem", FUND_CACHE_DIR=f"{tmp}/cache",
               FUND_HTTP_PORT=f"127.0.0.1:{http_port}", FUND_HTTPS_PORT=f"127.0.0.1:{https_port}")
    site = subprocess.run([REPO / "deploy/nginx/render"], env=env, check=True, capture_output=True, text=True).stdout
    Path(f"{tmp}/fund.conf").write_text(site)
    # As root, nginx's workers would run as nobody, who cannot write the cache here: keep them as we are.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    Path(f"{tmp}/nginx.conf").write_text(MAIN.format(tmp=tmp, user=user, mime=MIME_TYPES))
    return http_port, https_port


@contextlib.contextmanager
def running_nginx(command, port):
    """Start nginx (`command`), wait until it listens on `port` of 127.0.0.1 (at most 10 s), stop it after
    (killed if it does not stop)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):  # up to 10 s
            if process.poll() is not None:
                pytest.fail(f"nginx stopped: {process.stderr.read().decode()}", pytrace=False)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("nginx did not start listening within 10 s", pytrace=False)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def running_site(*, upstream, app):
    """nginx serving the shipped site in front of `upstream` (host:port); yields (http_port, https_port)."""
    if not os.path.exists(NGINX):
        pytest.fail(f"{NGINX} not found: install Debian's nginx-light (bin/lib.sh TEST_DEBS)", pytrace=False)
    tmp = tempfile.mkdtemp(prefix="fund-site-")
    try:
        ports = render(tmp, upstream=upstream, app=app)
        command = [NGINX, "-p", tmp, "-c", f"{tmp}/nginx.conf", "-e", f"{tmp}/error.log"]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, f"nginx -t refused the shipped site:\n{checked.stderr}"
        with running_nginx(command, ports[1]):
            yield ports
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def request(port, path, *, method="GET", headers=None, tls=True, body=None):
    """(status, headers as a dict, body as text) of one request to 127.0.0.1:port."""
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8", "replace")
    finally:
        connection.close()
