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


def test_gunicorn_tells_systemd_it_is_ready_and_logs_no_query_string(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "access.log"
    # fund-web.service is Type=notify: systemd waits for gunicorn's READY=1 on NOTIFY_SOCKET.
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(30)
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1",
           "GUNICORN_ACCESS_LOG": str(log), "NOTIFY_SOCKET": str(tmp_path / "notify")}
    process = subprocess.Popen([VENV / "bin/gunicorn", "--config", REPO / "deploy/gunicorn.conf.py",
                                "fundapp.wsgi:application"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert b"READY=1" in notify.recv(1024)
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
        notify.close()
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


def test_the_example_environment_file_names_every_setting_the_app_reads():
    import re

    settings = (REPO / "fundapp/settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|list)\(\s*"([A-Z_]+)"', settings))
    read |= set(re.findall(r'os\.environ(?:\.get)?[\[(]\s*"([A-Z_]+)"', settings)) - {"DJANGO_SETTINGS_MODULE"}
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "EMAIL_BACKEND"} <= read  # the search works
    example = (REPO / "deploy/fund.env.example").read_text()
    named = set(re.findall(r"^#?\s*([A-Z_]+)=", example, re.MULTILINE)) | {"DEBUG", "FUND_AS_OF"}
    assert read - named == set(), "settings read but not in deploy/fund.env.example"
    # Every line systemd would read is NAME=value, nothing it would misread.
    for line in example.splitlines():
        assert not line or line.startswith("#") or re.fullmatch(r"[A-Z_]+=[^\"']*", line), line
    # The units' hardening lets the app write where the example puts its files.
    for path in ("/var/lib/fund/media", "/var/log/fund/security.log", "/var/log/fund/access.log"):
        assert path in example


def test_manage_runs_with_the_environment_file(tmp_path):
    (tmp_path / "media").mkdir()
    env_file = tmp_path / "fund.env"
    env_file.write_text("# as /etc/fund/fund.env\nMEDIA_ROOT=%s\nSITE_URL=https://fund.example.gov.cn\n"
                        "DATABASE_URL=sqlite:///%s/fund.sqlite3\nADMINS=fund-ops@example.gov.cn\n"
                        % (tmp_path / "media", tmp_path))
    me = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MEDIA_ROOT", "SITE_URL")}
    environment.update(FUND_ENV_FILE=str(env_file), FUND_VENV=str(VENV), FUND_USER=me)
    shown = subprocess.run([REPO / "deploy/manage", "shell", "-c",
                            "from django.conf import settings as s; print(s.MEDIA_ROOT, s.SITE_URL, s.DATABASES['default']['NAME'])"],
                           capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-1].split() == [str(tmp_path / "media"), "https://fund.example.gov.cn", str(tmp_path / "fund.sqlite3")]
