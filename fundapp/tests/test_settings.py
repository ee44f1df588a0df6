import os
import subprocess
import sys
from pathlib import Path

import pytest

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

ROOT = Path(__file__).resolve().parents[2]


# What production reads; each test starts without any of it.
_PRODUCTION_VARS = {"SECRET_KEY", "FUND_ENV", "DEBUG", "REDIS_URL", "CACHE_URL", "ALLOWED_HOSTS", "TRUSTED_PROXIES",
                    "MEDIA_ROOT", "ADMINS", "SENTRY_DSN", "FUND_AS_OF", "AUDIT_HMAC_KEY", "AUDIT_HMAC_KEY_ID",
                    "AUDIT_HMAC_KEY_FILE"}
GOOD_SECRET_KEY = "p" * 20 + "roduction-secret-key-with-enough-variety-0123456789"


def production_env(**overrides):
    """A complete production environment (a test removes or spoils one thing at a time)."""
    return {"FUND_ENV": "production", "SECRET_KEY": GOOD_SECRET_KEY, "ALLOWED_HOSTS": "fund.example.gov.cn",
            "REDIS_URL": "redis://127.0.0.1:6379/0", "TRUSTED_PROXIES": "127.0.0.1",
            "MEDIA_ROOT": str(ROOT / "var"), "AUDIT_HMAC_KEY": "audit-key-" + "k" * 40, "AUDIT_HMAC_KEY_ID": "2026a",
            **overrides}


def _load_settings(code="print(s.DEBUG, s.SECRET_KEY[:8], s.LANGUAGE_CODE, s.TIME_ZONE)", **env):
    full_env = {k: v for k, v in os.environ.items() if k not in _PRODUCTION_VARS}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import fundapp.settings as s; " + code],
        cwd=ROOT, env=full_env, capture_output=True, text=True,
    )


def _problems(result):
    """The settings named in the ImproperlyConfigured message, in order."""
    assert result.returncode != 0
    message = result.stderr[result.stderr.index("ImproperlyConfigured"):]
    return [line.strip()[2:].split(":")[0] for line in message.splitlines() if line.strip().startswith("- ")]


def test_production_refuses_to_start_without_secret_key():
    result = _load_settings(**production_env(SECRET_KEY=""))
    assert _problems(result) == ["SECRET_KEY"]


def test_production_names_everything_missing_at_once(tmp_path):
    result = _load_settings(FUND_ENV="production", MEDIA_ROOT=str(tmp_path / "absent"))
    assert _problems(result) == ["SECRET_KEY", "ALLOWED_HOSTS", "TRUSTED_PROXIES", "MEDIA_ROOT", "REDIS_URL"]
    assert str(tmp_path / "absent") in result.stderr


@pytest.mark.parametrize("key", ["dev-only-insecure-key-do-not-use-in-production", "x" * 60,
                                 "short-but-varied-0123456789", "django-insecure-" + "abcdefghij" * 5])
def test_production_refuses_a_weak_or_default_secret_key(key):
    assert _problems(_load_settings(**production_env(SECRET_KEY=key))) == ["SECRET_KEY"]


def test_production_media_root_must_exist(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert _problems(_load_settings(**production_env(MEDIA_ROOT=str(a_file)))) == ["MEDIA_ROOT"]
    assert _load_settings(**production_env(MEDIA_ROOT=str(tmp_path))).returncode == 0


def test_trusted_proxies_none_means_no_proxy_and_a_bad_one_is_refused():
    result = _load_settings("print(s.TRUSTED_PROXY_NETWORKS)", **production_env(TRUSTED_PROXIES="none"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    result = _load_settings("print(s.TRUSTED_PROXY_NETWORKS)",
                            **production_env(TRUSTED_PROXIES="127.0.0.1, 10.0.8.0/24"))
    assert result.stdout.strip() == "[IPv4Network('127.0.0.1/32'), IPv4Network('10.0.8.0/24')]"
    result = _load_settings(**production_env(TRUSTED_PROXIES="127.0.0.1,nginx.local"))
    assert _problems(result) == ["TRUSTED_PROXIES"] and "nginx.local" in result.stderr
    # development: no proxy unless told
    assert _load_settings("print(s.TRUSTED_PROXY_NETWORKS)").stdout.strip() == "[]"


def test_production_starts_with_a_secret_key_and_debug_off():
    result = _load_settings(**production_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", GOOD_SECRET_KEY[:8], "zh-hans", "Asia/Shanghai"]


def test_admins_are_read_from_the_environment():
    result = _load_settings("print(s.ADMINS)", ADMINS="运维 值班 <ops@example.gov.cn>, b@example.gov.cn")
    assert result.stdout.strip() == "[('运维 值班', 'ops@example.gov.cn'), ('b@example.gov.cn', 'b@example.gov.cn')]"
    assert _load_settings("print(s.ADMINS)").stdout.strip() == "[]"


def test_sentry_is_set_up_without_personal_data_when_a_dsn_is_given():
    code = ("import sentry_sdk; o = sentry_sdk.get_client().options; "
            "print(o['dsn'], o['send_default_pii'], o['include_local_variables'], o['max_request_body_size'], "
            "o['before_send'].__module__)")
    result = _load_settings(code, SENTRY_DSN="http://public@127.0.0.1:9/1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["http://public@127.0.0.1:9/1", "False", "False", "never",
                                     "fundapp.error_reports"]
    assert _load_settings("import sentry_sdk; print(sentry_sdk.get_client().is_active())").stdout.strip() == "False"


def test_debug_is_off_unless_asked_for():
    assert _load_settings().stdout.split()[0] == "False"
    assert _load_settings(DEBUG="1").stdout.split()[0] == "True"


def test_deploy_check_with_production_settings_reports_nothing():
    # (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for this process; a deployment never would)
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"} | _PRODUCTION_VARS}
    env.update(production_env())
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
