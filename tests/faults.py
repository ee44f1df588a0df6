"""Private Redis servers, PostgreSQL clusters and Celery workers that the fault tests really stop and start.

Nothing here touches the shared services on 5432/6379: each helper starts its own process on a free port
on 127.0.0.1, in a temporary directory, and stops it (by its own pid) when the test is done.

- `RedisServer`: `redis-server --port <free> --save ""` as a subprocess; `stop()` kills it (SIGKILL, like
  a crashed or unplugged server), `start()` brings it back on the same port (empty: `--save ""`).
- `PostgresCluster`: a throwaway cluster made with `initdb` in a directory owned by the `postgres` OS
  user when the tests run as root (PostgreSQL refuses to run as root; otherwise as the current user), driven with `pg_ctl` — `restart -m fast`,
  `stop -m immediate` (a crash: no shutdown checkpoint, clients are cut off), `start`.
- `CeleryWorker`: `celery -A fundapp worker` as a subprocess in its own process group, so that `kill()`
  (SIGKILL to the group) takes the worker and everything it started down at once, mid-task.
- `WebServer`: the app's WSGI under gunicorn, as in production, as a subprocess.

The pytest fixtures at the bottom skip a test with the reason when a binary is absent (CI sets
REQUIRE_FAULTS=1 to fail instead).
"""
import http.cookiejar
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PYTHON = sys.executable
AS_ROOT = os.geteuid() == 0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1", timeout=0.2):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(predicate, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def require_binary(path, what):
    if shutil.which(str(path)) is None and not Path(path).exists():
        message = f"{what} not found ({path}); install it to run the fault tests"
        if os.environ.get("REQUIRE_FAULTS") == "1":
            pytest.fail(message)
        pytest.skip(message)


def _stop_process(proc, sig=signal.SIGTERM, timeout=10):
    """Stop a process we started (and its process group when it leads one); never anything else."""
    if proc is None or proc.poll() is not None:
        return
    try:
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL) if os.getpgid(proc.pid) == proc.pid else proc.kill()
        proc.wait(10)


class RedisServer:
    def __init__(self, directory):
        self.port = free_port()
        self.directory = Path(directory)
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.log = open(self.directory / f"redis-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(self.directory)],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: self.proc.poll() is not None or port_open(self.port), 10, f"redis on {self.port}")
        assert self.proc.poll() is None, f"redis-server exited: {(self.directory / f'redis-{self.port}.log').read_text()}"
        return self

    def stop(self):
        """Gone at once, as if the server crashed: SIGKILL, and the port refuses connections."""
        _stop_process(self.proc, signal.SIGKILL)
        self.log.close()
        wait_for(lambda: not port_open(self.port), 5, f"redis on {self.port} to go away")

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=5)


class PostgresCluster:
    """A private cluster; `url(dbname)` for clients. Runs as the postgres OS user."""

    def __init__(self):
        self.port = free_port()
        # Not under pytest's tmp_path: that is root's and closed to the postgres user.
        self.directory = Path(tempfile.mkdtemp(prefix="fund-pg-fault-"))
        self.data = self.directory / "data"
        if AS_ROOT:
            shutil.chown(self.directory, "postgres", "postgres")
        self.log = self.directory / "server.log"

    def url(self, dbname="postgres"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def _as_postgres(self, *args, check=True, timeout=60):
        # PostgreSQL refuses to run as root: as root, run it as the postgres OS user; otherwise as ourselves.
        prefix = ["runuser", "-u", "postgres", "--"] if AS_ROOT else []
        result = subprocess.run([*prefix, *map(str, args)], capture_output=True,
                                text=True, timeout=timeout, cwd=self.directory)
        if check and result.returncode:
            raise AssertionError(f"{' '.join(map(str, args))} failed ({result.returncode}):\n{result.stdout}\n"
                                 f"{result.stderr}\n{self.log.read_text() if self.log.exists() else ''}")
        return result

    def init(self):
        self._as_postgres(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                          "--locale=C.UTF-8", "--no-sync")
        return self

    def _ctl(self, *args):
        options = (f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off "
                   f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=40")
        return self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w",
                                 "-t", "30", *args)

    def start(self):
        self._ctl("start")
        return self

    def restart(self):
        """A fast restart: every client connection is cut off, then the server is back."""
        self._ctl("restart", "-m", "fast")

    def stop(self, mode="immediate"):
        self._ctl("stop", "-m", mode)

    def running(self):
        return self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "status", check=False).returncode == 0

    def psql(self, sql, dbname="postgres"):
        return self._as_postgres(PG_BIN / "psql" if (PG_BIN / "psql").exists() else "psql",
                                 "-h", "127.0.0.1", "-p", self.port, "-d", dbname, "-v", "ON_ERROR_STOP=1",
                                 "-qAtc", sql).stdout.strip()

    def destroy(self):
        if self.data.exists() and self.running():
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


def app_env(**extra):
    """The environment of a process running this app (a worker, a web server): the defaults of a
    development setup, with no variable of the test session's leaking in except PATH and locale."""
    env = {key: os.environ[key] for key in ("PATH", "LANG", "LC_ALL", "HOME", "TZ") if key in os.environ}
    env.update({"DJANGO_SETTINGS_MODULE": "fundapp.settings", "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1", "LOG_LEVEL": "INFO"})
    env.update({key: str(value) for key, value in extra.items()})
    return env


class CeleryWorker:
    """`celery -A fundapp worker` in a process group of its own; `kill()` is SIGKILL to the group."""

    def __init__(self, env, log_path, *, pool="threads", concurrency=1, queue=None, name="fault"):
        self.env, self.log_path = env, Path(log_path)
        self.args = [PYTHON, "-m", "celery", "-A", "fundapp", "worker", "--loglevel", "INFO", "--pool", pool,
                     "--concurrency", str(concurrency), "--hostname", f"{name}-{os.getpid()}@%h",
                     "--without-gossip", "--without-mingle", "--without-heartbeat"]
        if queue:
            self.args += ["--queues", queue]
        self.proc, self._offset = None, 0

    def start(self, wait=True):
        self.log = open(self.log_path, "ab")
        self._offset = self.log_path.stat().st_size
        self.proc = subprocess.Popen(self.args, cwd=BASE_DIR, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        return self.wait_ready() if wait else self

    def wait_ready(self, timeout=60):
        wait_for(lambda: self.proc.poll() is not None or b" ready." in self.output_bytes(), timeout,
                 "the Celery worker to be ready")
        assert self.proc.poll() is None, f"worker exited ({self.proc.returncode}):\n{self.output()}"
        return self

    def output_bytes(self):
        with open(self.log_path, "rb") as f:
            f.seek(self._offset)
            return f.read()

    def output(self):
        return self.output_bytes().decode(errors="replace")

    def kill(self):
        """SIGKILL the worker's whole process group: no shutdown, no ack, no requeue — a crash."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            _stop_process(self.proc, signal.SIGTERM, timeout=20)
            self.log.close()


class WebServer:
    """The WSGI app under gunicorn (one worker, so that a persistent database connection is reused)."""

    def __init__(self, env, log_path):
        self.port = free_port()
        self.env, self.log_path = env, Path(log_path)
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "fundapp.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
             "--threads", "1", "--timeout", "60", "--access-logfile", "-", "--error-logfile", "-"],
            cwd=BASE_DIR, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: self.proc.poll() is not None or port_open(self.port), 30, "gunicorn to listen")
        assert self.proc.poll() is None, f"gunicorn exited:\n{self.log_path.read_text()}"
        return self

    def stop(self):
        _stop_process(self.proc, signal.SIGTERM)
        self.log.close()


class HttpClient:
    """A browser-ish client on the standard library: keeps cookies, does not follow redirects, and returns
    every status (a 503 is an answer to look at, not an exception)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    class Response:
        def __init__(self, status, headers, body):
            self.status_code, self.headers, self.text = status, headers, body.decode("utf-8", errors="replace")

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  self._NoRedirect)

    def request(self, path, data=None, timeout=10):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return self.Response(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return self.Response(error.code, error.headers, error.read())

    def get(self, path, **kwargs):
        return self.request(path, **kwargs)

    def post(self, path, data, **kwargs):
        return self.request(path, data=data, **kwargs)


@pytest.fixture
def private_redis(tmp_path):
    require_binary("redis-server", "redis-server")
    server = RedisServer(tmp_path).start()
    yield server
    if server.proc.poll() is None:
        _stop_process(server.proc, signal.SIGKILL)
        server.log.close()


@pytest.fixture
def private_postgres():
    require_binary(PG_BIN / "initdb", "PostgreSQL's initdb (set PG_BIN to its directory)")
    if AS_ROOT:
        require_binary("runuser", "runuser (to run PostgreSQL as the postgres user)")
    cluster = PostgresCluster().init().start()
    yield cluster
    cluster.destroy()


class celery_app_on:
    """This process's Celery app, sending to `broker_url` (a private Redis) instead of running eagerly:
    the project's own Celery settings (timeouts, retry policies) with only the broker swapped in. Used as
    a context manager; shared tasks' .delay() goes through it while inside."""

    def __init__(self, broker_url, queue=None):
        self.broker_url, self.queue = broker_url, queue

    def __enter__(self):
        from celery import Celery
        from celery.contrib.testing.app import setup_default_app

        import approvals.tasks  # noqa: F401 - shared tasks bind to every app finalized after import
        import batches.tasks  # noqa: F401
        import celery.contrib.testing.tasks  # noqa: F401 - the ping start_worker waits for
        import disclosure.tasks  # noqa: F401
        import fundapp.tasks  # noqa: F401

        self.app = Celery("fundapp-fault-test", set_as_current=False)
        self.app.config_from_object("django.conf:settings", namespace="CELERY")
        self.app.conf.update(broker_url=self.broker_url, result_backend=self.broker_url, task_always_eager=False,
                             task_eager_propagates=False, worker_hijack_root_logger=False,
                             broker_connection_retry_on_startup=True)
        if self.queue:
            self.app.conf.task_default_queue = self.queue
        self._default = setup_default_app(self.app)  # restores the previous app on exit
        self._default.__enter__()
        self.app.set_current()
        self.app.set_default()
        assert not self.app.conf.task_always_eager
        return self.app

    def __exit__(self, *exc):
        self._default.__exit__(*exc)


def database_url_of(connection):
    """The URL of the database this test process uses (pytest-django's test database), for a subprocess."""
    s = connection.settings_dict
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def shared_redis(url):
    """A client of the shared Redis at `url` (REDIS_TEST_URL), or the test skipped with the reason when it
    does not answer — failed instead where CI requires the services (REQUIRE_POSTGRES or REQUIRE_REDIS)."""
    import pytest
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure to reach it means the same thing here
        message = f"Redis unreachable at {url} ({type(exc).__name__}: {exc}); start redis-server or set REDIS_TEST_URL"
        if os.environ.get("REQUIRE_POSTGRES") == "1" or os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return client
