"""Settings, read from the environment; zero configuration gives a working development setup.

Environment variables:
  FUND_ENV       "production" turns on the production checks (secure cookies; refuses to start, naming all
                 that is missing, without a real SECRET_KEY, ALLOWED_HOSTS, TRUSTED_PROXIES, REDIS_URL and a
                 writable MEDIA_ROOT).
  SECRET_KEY     required when FUND_ENV=production (50+ characters); a development default otherwise.
  TRUSTED_PROXIES  the reverse proxies (addresses/CIDRs, comma-separated) whose X-Forwarded-For is believed;
                 "none" for no proxy. Absent (development only): no proxy.
  ADMINS         "Name <a@b>, ..." get a scrubbed mail for each server error. SERVER_EMAIL: the sender.
  SENTRY_DSN     a self-hosted Sentry/GlitchTip gets scrubbed error events (fundapp.error_reports).
  HEALTH_MIN_FREE_MB, HEALTH_BEAT_MAX_AGE  /healthz's thresholds: free MB on MEDIA_ROOT's disk (1024), age in
                 seconds of beat's heartbeat (300).
  DEBUG          "1"/"true" to turn debug on; off unless asked for.
  DATABASE_URL   e.g. postgres://user@127.0.0.1:5432/fund; default: SQLite file var/fund.sqlite3.
  REDIS_URL      e.g. redis://127.0.0.1:6379/0; absent: Celery runs tasks eagerly in-process.
  ALLOWED_HOSTS  comma-separated; default "localhost,127.0.0.1" (plus "*" when DEBUG).
  MEDIA_ROOT     where uploaded documents live; default var/media.
  CELERY_VISIBILITY_TIMEOUT  seconds before a task held by a worker that died is delivered again; default 3600.
  EMAIL_TIMEOUT  seconds before a stalled mail server fails a send (the task retries); default 30.
  NOTIFY_WEBHOOK_URL     the city's messaging gateway (政务微信 / 钉钉 / SMS) that receives signed notifications;
                         empty (default): the "政务消息平台" channel is not offered.
  NOTIFY_WEBHOOK_SECRET  the shared secret of the webhook's HMAC-SHA256 signature; required with the URL.
  NOTIFY_WEBHOOK_TIMEOUT seconds before a stalled gateway fails a send (retried); default 10.
  NOTIFY_MAX_ATTEMPTS    sends of one message on one channel before it is marked failed; default 6.
  NOTIFY_RETRY_BASE_SECONDS  the first retry's delay, doubled each time (capped at 600 s); default 30.
  FUND_AS_OF     development only: run the app as if today were this date (YYYY-MM-DD), e.g. to walk the
                 demo on another day; refused when FUND_ENV=production.
"""
import datetime
import os
from email.utils import getaddresses
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


FUND_ENV = env_str("FUND_ENV", "development")
PRODUCTION = FUND_ENV == "production"

# What production lacks (fail fast): every problem is collected here and reported at once at the end of
# this file, so that an operator fixes the environment in one go.
PRODUCTION_PROBLEMS = []

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY")
if PRODUCTION and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50
                   or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-")):
    PRODUCTION_PROBLEMS.append(
        "SECRET_KEY: unset, the development default, or weak (needs 50+ characters, 5+ different ones) "
        "(须设置至少 50 个字符的随机密钥)")
if not SECRET_KEY:
    SECRET_KEY = _DEV_SECRET_KEY

# Development only: fundapp.clock shifts "now" by whole days so that today is this date (a banner on every
# page says so). Never in production: a deadline or a payment date must not depend on a setting.
FUND_AS_OF = None
if env_str("FUND_AS_OF"):
    if PRODUCTION:
        raise ImproperlyConfigured(
            "FUND_AS_OF is for development only and must not be set when FUND_ENV=production "
            "(生产环境不得设置 FUND_AS_OF)."
        )
    try:
        FUND_AS_OF = datetime.date.fromisoformat(env_str("FUND_AS_OF").strip())
    except ValueError:
        raise ImproperlyConfigured(
            f"FUND_AS_OF must be a date like 2027-01-04, not {env_str('FUND_AS_OF')!r} (FUND_AS_OF 须为日期)."
        ) from None

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
if PRODUCTION and not env_list("ALLOWED_HOSTS"):
    PRODUCTION_PROBLEMS.append("ALLOWED_HOSTS: unset (须设置站点域名, e.g. fund.example.gov.cn)")
if DEBUG:
    ALLOWED_HOSTS.append("*")

INSTALLED_APPS = [
    "fundapp.apps.FundAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "guardian",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "workdays",
    "audit",
    "fundapp",
    "approvals",
    "batches",
    "disclosure",
    "public",
    "desk",
]

MIDDLEWARE = [
    # Outermost: the redaction filter knows the request being served; refusals are logged as events.
    "fundapp.security_log.SecurityLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "fundapp.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "fundapp.twofactor.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fundapp.urls"
WSGI_APPLICATION = "fundapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "desk.context_processors.unread_notifications",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'fund.sqlite3'}"),
        conn_max_age=int(env_str("DB_CONN_MAX_AGE", "0")),
        # A kept-alive connection (DB_CONN_MAX_AGE > 0) is checked before a request reuses it, so after
        # PostgreSQL restarts the first request reconnects instead of failing on the dead connection.
        conn_health_checks=True,
    )
}
# PostgreSQL through psycopg 3 with Django's connection pool (one pool per process: a gunicorn worker's threads
# or a Celery worker's share it). Each connection is checked as it is taken from the pool (conn_health_checks),
# so after PostgreSQL restarts the next request gets a fresh one. DB_POOL=0 falls back to a connection per
# request (or kept for DB_CONN_MAX_AGE seconds: Django refuses persistent connections together with a pool).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_POOL", True):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(env_str("DB_POOL_MIN_SIZE", "1")),
        "max_size": int(env_str("DB_POOL_MAX_SIZE", "20")),
        # Seconds a request waits for a connection. With max_size at least gunicorn's threads per process, a
        # connection is always free while PostgreSQL is up; when it is down, the person reads the "try again
        # shortly" page (503) within seconds instead of waiting on (a page may try twice).
        "timeout": float(env_str("DB_POOL_TIMEOUT", "2")),
    }  # Django adds the check of each connection taken (conn_health_checks above).
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # Counts failed logins and locks out after repeated failures (django-axes); must come first.
    "axes.backends.AxesStandaloneBackend",
    # Tells an inactive user with the right password that the account is disabled; ends their sessions.
    "fundapp.auth.LoginBackend",
    # A city administrator in office: the back office's permissions of their duties, from the post.
    "fundapp.auth.CityAdminBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Two-factor login (TOTP) for those who sign, pay or administer: always in production; off by default in
# development so that the demo can be clicked through without an authenticator app.
TWO_FACTOR_REQUIRED = env_bool("TWO_FACTOR_REQUIRED", PRODUCTION)
OTP_TOTP_ISSUER = "服务群众专项经费"
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Failures are counted per real client (behind the proxy), not per proxy: fundapp.client_ip.
AXES_CLIENT_IP_CALLABLE = "fundapp.client_ip.client_ip"

# The reverse proxies in front of the app (comma-separated addresses or CIDRs, e.g. "127.0.0.1,10.0.8.0/24"):
# X-Forwarded-For is believed only when the peer is one of them (fundapp.client_ip). "none": the app faces
# clients directly. Unset in development: no proxy. Production refuses to start without it.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
if PRODUCTION and not TRUSTED_PROXIES:
    PRODUCTION_PROBLEMS.append(
        'TRUSTED_PROXIES: unset (须列出反向代理地址, e.g. "127.0.0.1" for nginx on the same host; "none" for no proxy)')
if [p.lower() for p in TRUSTED_PROXIES] == ["none"]:
    TRUSTED_PROXIES = []
try:
    from fundapp.client_ip import parse_networks  # noqa: E402 (standard library only)

    TRUSTED_PROXY_NETWORKS = parse_networks(TRUSTED_PROXIES)
except ValueError as exc:
    TRUSTED_PROXY_NETWORKS = []
    if PRODUCTION:
        PRODUCTION_PROBLEMS.append(f"TRUSTED_PROXIES: {exc} (代理地址无效)")
    else:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}") from None
# No guardian "anonymous user" row: residents never log in.
ANONYMOUS_USER_NAME = None
# Tables whose database triggers refuse UPDATE and DELETE (audit/management/commands/flush.py lifts them
# for the test framework's flush only).
APPEND_ONLY_MODELS = ["audit.AuditRecord", "fundapp.LedgerEntry"]
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates as each language writes them (zh: 2026年12月2日; en: 2 December 2026); typed dates stay ISO.
FORMAT_MODULE_PATH = ["fundapp.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
if PRODUCTION and not (MEDIA_ROOT.is_dir() and os.access(MEDIA_ROOT, os.W_OK | os.X_OK)):
    PRODUCTION_PROBLEMS.append(
        f"MEDIA_ROOT: {MEDIA_ROOT} does not exist or is not writable by this user (上传目录不存在或不可写)")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

REDIS_URL = env_str("REDIS_URL")
if PRODUCTION and not REDIS_URL:
    # Without it each web process would keep its own page cache (invalidation reaching none of the others)
    # and Celery would run tasks inside the web request.
    PRODUCTION_PROBLEMS.append("REDIS_URL: unset (须设置 Redis, e.g. redis://127.0.0.1:6379/0)")
# One cache shared by every web process (public pages are invalidated across all of them); it degrades to
# "uncached" when Redis is down. Without Redis (development), an in-process cache.
CACHE_URL = env_str("CACHE_URL", REDIS_URL)
CACHES = {
    "default": (
        {"BACKEND": "fundapp.cache.ResilientRedisCache", "LOCATION": CACHE_URL, "KEY_PREFIX": "fund",
         "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
        if CACHE_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis away (restarted, failed over, unplugged): a request that queues work must not hang on it. Sending a
# task then fails within about two seconds (each caller logs it and the work is sent again later:
# send_pending_notification_emails, the batches' 重新运行失败项), instead of the ~20 s Celery's defaults wait.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 10,
    # A task taken by a worker that then died (killed, machine lost) is delivered again after this many
    # seconds (acks_late). It must stay above the longest retry countdown (batch items: 300 s, emails:
    # 600 s), or a task waiting for its retry would be delivered twice.
    "visibility_timeout": int(env_str("CELERY_VISIBILITY_TIMEOUT", "3600")),
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 10
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
}
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    # Year close (Art. 13): unspent, unreserved money carries over into the new year.
    "close-previous-year": {
        "task": "approvals.tasks.close_previous_year",
        "schedule": crontab(month_of_year=1, day_of_month=1, hour=0, minute=30),
    },
    # Annual reports (Art. 16) are drafted on 1 November for the secretaries to complete by 30 November.
    "generate-annual-reports": {
        "task": "approvals.tasks.generate_this_years_annual_reports",
        "schedule": crontab(day_of_month=1, month_of_year=11, hour=6, minute=0),
    },
    # Year-end disclosures (Art. 15): generated and posted on 10 December, so that the 5 working days of
    # the notice fall before 20 December; communities not posted by then are flagged on /batches/.
    "generate-year-end-disclosures": {
        "task": "disclosure.tasks.generate_this_years_disclosures",
        "schedule": crontab(day_of_month=10, month_of_year=12, hour=6, minute=0),
    },
    # Art. 6: at the start of each quarter, secretaries are reminded to collect residents' needs.
    "remind-needs-collection": {
        "task": "fundapp.tasks.remind_needs_collection",
        "schedule": crontab(month_of_year="1,4,7,10", day_of_month=1, hour=8, minute=0),
    },
    # Deliveries (email, webhook) whose task was lost while the broker was away.
    "send-pending-deliveries": {
        "task": "fundapp.tasks.send_pending_deliveries",
        "schedule": 10 * 60,
    },
    # Notices whose last day has passed: the secretary may take the next step (first working day after).
    "announce-ended-notices": {
        "task": "approvals.tasks.announce_ended_notices",
        "schedule": crontab(hour=7, minute=0),
    },
    # One message per person who chose the daily digest, after the morning's reminders.
    "send-daily-digests": {
        "task": "fundapp.tasks.send_daily_digests",
        "schedule": crontab(hour=8, minute=0),
    },
    # The audit chains' heads, published outside the database (security log, heads file, public pages).
    "publish-audit-heads": {
        "task": "audit.tasks.publish_audit_heads",
        "schedule": crontab(hour=0, minute=10),
    },
    # Files kept after a refused form (approvals.uploads) live one day.
    "purge-pending-uploads": {
        "task": "approvals.tasks.purge_pending_uploads",
        "schedule": crontab(hour=3, minute=20),
    },
    "remind-review-deadlines": {
        "task": "approvals.tasks.remind_review_deadlines",
        "schedule": crontab(hour=7, minute=45),
    },
    # Reviews past their 5-working-day deadline (Art. 11) are escalated every morning.
    "escalate-overdue-reviews": {
        "task": "approvals.tasks.escalate_overdue_reviews",
        "schedule": crontab(hour=7, minute=30),
    },
    # Posts end at midnight; grants are re-derived from posts every night (checks never rely on it alone).
    "sync-post-permissions": {
        "task": "fundapp.tasks.sync_all_post_permissions",
        "schedule": 60 * 60,
    },
    # Proof of life for /healthz: beat sends it, a worker runs it (fundapp.health).
    "heartbeat": {
        "task": "fundapp.tasks.heartbeat",
        "schedule": 60,
        # Queued behind a long batch it still arrives (late: /healthz says so); workers away for hours
        # find the old ones expired, not a pile to run.
        "options": {"expires": 600},
    },
}

# Notifications by email: printed to the console in development, SMTP in production.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env_str("EMAIL_PORT", "25"))
# A mail server that accepts the connection and then stalls must not hold a worker (and the notification
# row it has locked) forever: the send fails after this many seconds and the task retries later.
EMAIL_TIMEOUT = int(env_str("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "fund@localhost")
# Notification channels besides the inbox (fundapp.services.channels): a city may add its own class here.
NOTIFY_CHANNELS = ["fundapp.services.channels.EmailChannel", "fundapp.services.channels.WebhookChannel"]
NOTIFY_WEBHOOK_URL = env_str("NOTIFY_WEBHOOK_URL")
NOTIFY_WEBHOOK_SECRET = env_str("NOTIFY_WEBHOOK_SECRET")
if NOTIFY_WEBHOOK_URL and not NOTIFY_WEBHOOK_SECRET:
    raise ImproperlyConfigured("NOTIFY_WEBHOOK_URL needs NOTIFY_WEBHOOK_SECRET (政务消息平台须设置签名密钥).")
NOTIFY_WEBHOOK_TIMEOUT = int(env_str("NOTIFY_WEBHOOK_TIMEOUT", "10"))
NOTIFY_MAX_ATTEMPTS = int(env_str("NOTIFY_MAX_ATTEMPTS", "6"))
NOTIFY_RETRY_BASE_SECONDS = float(env_str("NOTIFY_RETRY_BASE_SECONDS", "30"))
NOTIFY_RETRY_MAX_SECONDS = 600  # below CELERY_VISIBILITY_TIMEOUT: a waiting retry is never delivered twice
# The address printed on posters and in notifications (QR codes point here).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

# Content-Security-Policy: scripts only from this site (no inline script anywhere); inline style attributes
# are allowed for server-drawn charts and progress bars.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# The load balancer's health check may speak plain HTTP to a web host.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Security events (logins, failures, lockouts, refusals: fundapp/security_log.py) go to SECURITY_LOG_FILE
# when set (reopened after logrotate moves it), else to the console.
SECURITY_LOG_FILE = env_str("SECURITY_LOG_FILE")
CSRF_FAILURE_VIEW = "fundapp.security_log.csrf_failure"
LOGGING_CONFIG = "fundapp.security_log.configure_logging"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # On every handler: no password, session id, CSRF token, phone/ID number or resident's name in any log
    # (handlers that Django or Celery add themselves get it at start-up: security_log.install).
    "filters": {"redact": {"()": "fundapp.security_log.RedactingFilter"},
                "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "formatters": {"security": {"format": "%(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact"]},
        "security": (
            {"class": "logging.handlers.WatchedFileHandler", "filename": SECURITY_LOG_FILE, "encoding": "utf-8"}
            if SECURITY_LOG_FILE else {"class": "logging.StreamHandler"}
        ) | {"filters": ["redact"], "formatter": "security"},
        # Errors (a 500, say) by email to ADMINS, with DEBUG off, scrubbed like the logs: no request body,
        # cookies or local variables (Django's own AdminEmailHandler would send them).
        "mail_admins": {"class": "fundapp.security_log.ScrubbedAdminEmailHandler", "level": "ERROR",
                        "filters": ["require_debug_false", "redact"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint narrates every step at INFO; only its warnings (missing fonts, bad CSS) matter here.
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"},
                # (replaces Django's default handlers on "django": its console and unscrubbed mail_admins)
                "django": {"handlers": ["mail_admins"], "level": "INFO"},
                # A request for another host name (a scanner, a health check by IP) is logged, not mailed.
                "django.security.DisallowedHost": {"handlers": ["console"], "level": "ERROR", "propagate": False},
                "axes": {"level": "WARNING"},
                "security": {"handlers": ["security"], "level": "INFO", "propagate": False}},
}

# Error reports. ADMINS="Name <a@example.gov.cn>, Other <b@example.gov.cn>": who gets a mail for each server
# error (LOGGING's mail_admins). SERVER_EMAIL: its sender.
ADMINS = [(name or address, address) for name, address in getaddresses([env_str("ADMINS")]) if "@" in address]
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# SENTRY_DSN: a self-hosted Sentry or GlitchTip gets each error too, scrubbed (fundapp.error_reports).
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    from fundapp.error_reports import init_sentry  # noqa: E402

    init_sentry(SENTRY_DSN, environment=FUND_ENV)

# /healthz (fundapp.health): the disk of MEDIA_ROOT needs this much free space; beat's heartbeat (every
# minute) must be younger than this.
HEALTH_MIN_FREE_MB = int(env_str("HEALTH_MIN_FREE_MB", "1024"))
HEALTH_BEAT_MAX_AGE = int(env_str("HEALTH_BEAT_MAX_AGE", "300"))

if PRODUCTION and PRODUCTION_PROBLEMS:
    raise ImproperlyConfigured(
        "FUND_ENV=production, but the environment is incomplete (生产环境配置不完整):\n"
        + "\n".join(f"  - {problem}" for problem in PRODUCTION_PROBLEMS))
