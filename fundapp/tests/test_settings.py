import os
import subprocess
import sys
from pathlib import Path

import pytest

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

ROOT = Path(__file__).resolve().parents[2]


def _load_settings(**env):
    full_env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "FUND_ENV", "DEBUG"}}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import fundapp.settings as s; print(s.DEBUG, s.SECRET_KEY[:8], s.LANGUAGE_CODE, s.TIME_ZONE)"],
        cwd=ROOT, env=full_env, capture_output=True, text=True,
    )


def test_production_refuses_to_start_without_secret_key():
    result = _load_settings(FUND_ENV="production")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_starts_with_a_secret_key_and_debug_off():
    result = _load_settings(FUND_ENV="production", SECRET_KEY="x" * 60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "xxxxxxxx", "zh-hans", "Asia/Shanghai"]


def test_debug_is_off_unless_asked_for():
    assert _load_settings().stdout.split()[0] == "False"
    assert _load_settings(DEBUG="1").stdout.split()[0] == "True"


def test_deploy_check_with_production_settings_reports_nothing():
    # (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for this process; a deployment never would)
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(FUND_ENV="production", SECRET_KEY="p" * 20 + "roduction-secret-key-with-enough-variety-0123456789",
               ALLOWED_HOSTS="fund.example.gov.cn")
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
