"""An intranet install (issue 17): bin/wheelhouse builds a bundle on a connected machine; bin/install-offline
installs the app's environment from it on a machine that reaches no network at all — here a network
namespace with only a loopback device (no route out), so anything that tried the network would fail.

Runs only where network namespaces can be made (root with `ip netns`). The bundle is built once per content
of requirements.txt and bin/wheelhouse and kept in ~/.cache/fund-test-wheelhouse (about 10 s to build, 35 MB); the test
is skipped, saying so, when no package index can be reached to build it.
"""
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.one_database  # nothing here depends on the database engine

REPO = Path(__file__).resolve().parent.parent


def _can_make_namespaces():
    if os.geteuid() != 0 or not shutil.which("ip"):
        return False
    name = f"fund-probe-{uuid.uuid4().hex[:8]}"
    if subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode != 0:
        return False
    subprocess.run(["ip", "netns", "delete", name], capture_output=True)
    return True


@pytest.fixture
def offline():
    """A command prefix that runs its command in a fresh network namespace with no route out."""
    if not _can_make_namespaces():
        pytest.skip("needs root and `ip netns` (network namespaces) to take the network away")
    name = f"fund-offline-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        yield ["ip", "netns", "exec", name]
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=True)


@pytest.fixture
def bundle():
    """The bundle as a tarball, built by bin/wheelhouse --tar (reused while its inputs are unchanged)."""
    key = hashlib.sha256((REPO / "requirements.txt").read_bytes() + (REPO / "bin/wheelhouse").read_bytes())
    # Outside the checkout, so that a fresh clone (CI) reuses it too.
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fund-test-wheelhouse"
    out = cache / f"bundle-{key.hexdigest()[:12]}"
    tarball = Path(f"{out}.tar")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build, whichever worker of the suite asks first
        if not tarball.exists():
            _build(out)
    return tarball


def _build(out):
    for stale in out.parent.glob("bundle-*"):  # built from other requirements
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    built = subprocess.run([REPO / "bin/wheelhouse", "--tar", out], capture_output=True, text=True, timeout=600)
    if built.returncode != 0:
        django = next(line for line in (REPO / "requirements.txt").read_text().splitlines() if line.startswith("Django=="))
        probe = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", out / "probe",
                                django], capture_output=True, text=True, timeout=120)
        if probe.returncode != 0:
            pytest.skip(f"no package index reachable to build the wheelhouse: {probe.stderr.strip()[-300:]}")
        pytest.fail(f"bin/wheelhouse failed:\n{built.stdout[-2000:]}{built.stderr[-2000:]}", pytrace=False)
    shutil.rmtree(out)  # the tarball is what gets copied to the intranet machine


def test_installs_and_runs_with_no_network(offline, bundle, tmp_path):
    # No route out inside the namespace: a connection to any outside address fails at once.
    unreachable = subprocess.run([*offline, sys.executable, "-c",
                                  "import socket; socket.create_connection(('151.101.0.223', 443), timeout=3)"],
                                 capture_output=True, text=True)
    assert unreachable.returncode != 0 and "Network is unreachable" in unreachable.stderr

    venv = tmp_path / "venv"
    installed = subprocess.run([*offline, REPO / "bin/install-offline", bundle, "--venv", venv, "--no-compile"],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "/opt/" not in installed.stdout + installed.stderr  # this machine's pip configuration was not used

    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "VIRTUAL_ENV")}
    environment["MEDIA_ROOT"] = str(tmp_path / "media")
    imported = subprocess.run([*offline, venv / "bin/python", "-c",
                               "import django, celery, weasyprint, psycopg, psycopg_pool, gunicorn; print(django.__version__)"],
                              capture_output=True, text=True, cwd=REPO, env=environment)
    pinned = next(line for line in (REPO / "requirements.txt").read_text().splitlines() if line.startswith("Django=="))
    assert imported.returncode == 0 and imported.stdout.strip() == pinned.split("==")[1], imported.stderr
    checked = subprocess.run([*offline, venv / "bin/python", "manage.py", "check"],
                             capture_output=True, text=True, cwd=REPO, env=environment)
    assert checked.returncode == 0 and "no issues" in checked.stdout, checked.stdout + checked.stderr


def test_a_damaged_bundle_is_refused(bundle, tmp_path):
    subprocess.run(["tar", "-C", tmp_path, "-xf", bundle], check=True)
    unpacked = next(tmp_path.iterdir())
    wheel = next((unpacked / "wheels").glob("Django-*.whl"), None) or next((unpacked / "wheels").glob("django-*.whl"))
    with open(wheel, "r+b") as f:
        f.seek(100)
        f.write(b"\0")
    refused = subprocess.run([REPO / "bin/install-offline", unpacked, "--venv", tmp_path / "venv"],
                             capture_output=True, text=True)
    assert refused.returncode == 1 and "the bundle is damaged" in refused.stdout
    assert not (tmp_path / "venv").exists()
