"""The shipped systemd units, gunicorn.conf.py and logrotate file are accepted by the tools that read them
(issue 17): `systemd-analyze verify` (each ExecStart names a program the app's environment has),
`systemd-analyze security` (hardened), gunicorn's own configuration loader, a real gunicorn's access log,
and logrotate."""
import configparser
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.one_database  # nothing here depends on the database engine

REPO = Path(__file__).resolve().parent.parent
VENV = Path(sys.executable).parent.parent
UNITS = ("fund-web.service", "fund-worker.service", "fund-beat.service", "fund.target")


def _installed_here(tmp_path):
    """The units as they would be with the app in this checkout and its venv instead of /opt/fund/…."""
    for name in UNITS:
        text = (REPO / "deploy/systemd" / name).read_text()
        text = text.replace("/opt/fund/venv", str(VENV)).replace("/opt/fund/app", str(REPO))
        (tmp_path / name).write_text(text)
    return [str(tmp_path / name) for name in UNITS]


def _unit(name):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(REPO / "deploy/systemd" / name)
    return parser


def test_units_say_who_runs_what_with_which_environment():
    for name in UNITS[:3]:
        service = _unit(name)["Service"]
        assert (service["User"], service["EnvironmentFile"], service["Restart"]) == ("fund", "/etc/fund/fund.env",
                                                                                     "on-failure"), name
        for option in ("NoNewPrivileges", "PrivateTmp", "ProtectHome", "PrivateDevices"):
            assert service[option] == "yes", (name, option)
        assert service["ProtectSystem"] == "strict" and service["ReadWritePaths"] == "/var/lib/fund /var/log/fund"
        assert service["WorkingDirectory"] == "/opt/fund/app"
    assert "gunicorn --config /opt/fund/app/deploy/gunicorn.conf.py fundapp.wsgi" in _unit(UNITS[0])["Service"]["ExecStart"]
    assert "celery --app fundapp worker" in _unit(UNITS[1])["Service"]["ExecStart"]
    assert "celery --app fundapp beat" in _unit(UNITS[2])["Service"]["ExecStart"]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed (Debian's systemd)")
def test_systemd_accepts_the_units_and_finds_their_programs(tmp_path):
    paths = _installed_here(tmp_path)
    verified = subprocess.run(["systemd-analyze", "verify", "--man=no", *paths], capture_output=True, text=True)
    assert verified.returncode == 0 and not verified.stderr.strip(), verified.stderr
    # Hardened: each service's exposure (0 safest, 10 unsafe) is at most 4 ("OK").
    for path in paths[:3]:
        security = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=40", path],
                                  capture_output=True, text=True)
        assert security.returncode == 0, security.stdout[-600:]
    # A unit naming a program that is not there is refused: the check above means something.
    broken = Path(paths[0])
    broken.write_text(broken.read_text().replace("/bin/gunicorn ", "/bin/gunicorn-missing "))
    verified = subprocess.run(["systemd-analyze", "verify", "--man=no", str(broken)], capture_output=True, text=True)
    assert verified.returncode != 0 and "gunicorn-missing" in verified.stderr


def _gunicorn_settings(**env):
    printed = subprocess.run([VENV / "bin/gunicorn", "--print-config", "--config", REPO / "deploy/gunicorn.conf.py",
                              "fundapp.wsgi:application"], capture_output=True, text=True, cwd=REPO,
                             env={**os.environ, **env}, timeout=60)
    assert printed.returncode == 0, printed.stderr
    settings = {}
    for line in printed.stdout.splitlines():
        key, _, value = line.partition("=")
        settings[key.strip()] = value.strip()
    return settings


def test_gunicorn_loads_its_configuration_from_the_environment():
    defaults = _gunicorn_settings()
    assert defaults["bind"] == "['127.0.0.1:8000']"
    assert int(defaults["workers"]) == min(2 * os.cpu_count() + 1, 12)
    assert defaults["forwarded_allow_ips"] == "['127.0.0.1']" and defaults["timeout"] == "120"
    assert "%(U)s" in defaults["access_log_format"] and "%(r)s" not in defaults["access_log_format"]
    chosen = _gunicorn_settings(GUNICORN_BIND="unix:/run/fund-web/gunicorn.sock", GUNICORN_WORKERS="3",
                                FORWARDED_ALLOW_IPS="10.0.0.5,10.0.0.6", GUNICORN_TIMEOUT="30")
    assert (chosen["bind"], chosen["workers"], chosen["forwarded_allow_ips"], chosen["timeout"]) == (
        "['unix:/run/fund-web/gunicorn.sock']", "3", "['10.0.0.5', '10.0.0.6']", "30")


def test_the_access_log_keeps_the_path_and_the_client_but_no_query_string(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "access.log"
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1",
           "GUNICORN_ACCESS_LOG": str(log)}
    process = subprocess.Popen([VENV / "bin/gunicorn", "--config", REPO / "deploy/gunicorn.conf.py",
                                "fundapp.wsgi:application"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(300):  # up to 30 s: the worker imports Django
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("GET", "/no-such-page/?name=%E5%BC%A0%E4%B8%89&phone=13800138000",
                                   headers={"X-Forwarded-For": "198.51.100.23"})
                connection.getresponse().read()
                connection.close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode()
                time.sleep(0.1)
        for _ in range(50):
            if log.exists() and log.read_text():
                break
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    line = log.read_text()
    assert line.startswith("198.51.100.23 ") and '"GET /no-such-page/ HTTP/1.1" 404' in line
    assert "13800138000" not in line and "%E5" not in line and "?" not in line


@pytest.mark.skipif(not shutil.which("logrotate"), reason="logrotate not installed")
def test_logrotate_rotates_the_apps_logs(tmp_path):
    logs = tmp_path / "log"
    logs.mkdir()
    (logs / "security.log").write_text("2026-11-17 10:00:00 login.failed user=zhang ip=10.0.0.9\n")
    text = (REPO / "deploy/logrotate/fund").read_text()
    # This machine has no user "fund": root writes the test's copy.
    text = text.replace("/var/log/fund", str(logs)).replace("fund fund", "root root").replace("fund adm", "root root")
    (tmp_path / "fund").write_text(text)
    rotated = subprocess.run(["logrotate", "--force", "--state", tmp_path / "state", tmp_path / "fund"],
                             capture_output=True, text=True)
    assert rotated.returncode == 0, rotated.stderr
    kept = [p.name for p in logs.iterdir()]
    assert "security.log" in kept and any(name.startswith("security.log-") for name in kept), kept
    assert (logs / "security.log").read_text() == ""  # a new, empty file for the process to write
