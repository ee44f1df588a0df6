"""Security events, and what no log may ever contain.

The `security` logger gets one line per event — logins and their failures, lockouts, logouts, refusals
(403, and the 404 that the rights checks answer on staff pages instead of "not yours"), failed second
factors, CSRF failures — with who, what and when:

    2026-11-23T00:15:27+08:00 login_failed user=a1-secretary ip=10.0.0.7 method=POST path=/login/

`RedactingFilter` sits on every log handler (LOGGING in settings, plus `install()` for handlers that
others add later: Django's own, Celery's) and also runs as every log record is made, so that no record, at
any level, carries a password, a session id, a CSRF token, a phone or ID number, or the name a resident
or recipient typed into the form being served (masked as 张**, fundapp.privacy.mask_name).
"""
import contextvars
import json
import logging
import logging.config
import re
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.log import AdminEmailHandler

from .privacy import mask_name, redact

log = logging.getLogger("security")
SHANGHAI = ZoneInfo("Asia/Shanghai")
MASK = "***"

# ---------------------------------------------------------------------------------------------- redaction

# key=value, key: value, "key": "value", 'key': 'value', "table"."key" = 'value' (SQL) — for the keys
# that hold secrets. The value is a whole quoted string, [list] or (tuple), or whatever follows up to a
# delimiter.
_SECRET_KEYS = (r"[\w-]*(?:password|passwd|secret)[\w-]*|pwd|sessionid|session_?key|csrftoken|"
                r"csrfmiddlewaretoken|csrf_?token|x-csrftoken|otp_?token|token|authorization|cookie")
_SECRET_ASSIGNMENT = re.compile(
    rf"""(?ix)
    (?P<key>["']?\b(?:{_SECRET_KEYS})["']?\s*(?:=|:)\s*)
    (?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\[[^\]]*\]|\([^)]*\)|[^\s&;,'"}}\])]+)
    """
)
# A Cookie header lists several name=value pairs; every session and CSRF cookie value goes.
_COOKIE_VALUE = re.compile(r"(?i)\b(sessionid|csrftoken)=([^;\s'\"]+)")

_SESSION_KEY = re.compile(r"(?<![a-z0-9])[a-z0-9]{32}(?![a-z0-9])")
_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

_current_request = contextvars.ContextVar("security_log_request", default=None)

# Form fields whose values are secret, and those that hold a private person's name.
_SECRET_FIELD = re.compile(r"(?i)password|passwd|secret|token|otp")
_NAME_FIELD = re.compile(r"(?i)(?:^|_)name$")


def _request_values(request):
    """(secret strings, {full name: masked name}) known to the request being served."""
    secrets, names = set(), {}
    if request is None:
        return secrets, names
    for cookie in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
        if request.COOKIES.get(cookie):
            secrets.add(request.COOKIES[cookie])
    if request.META.get("CSRF_COOKIE"):
        secrets.add(request.META["CSRF_COOKIE"])
    session = getattr(request, "session", None)
    if session is not None and getattr(session, "session_key", None):
        secrets.add(session.session_key)  # also a key created (or rotated at login) during this request
    # Only a body that has already been parsed: reading it here would consume the request stream.
    post = request.__dict__.get("_post")
    if post:
        for key, values in post.lists():
            if _SECRET_FIELD.search(key):
                secrets.update(v for v in values if v)
            elif _NAME_FIELD.search(key):
                names.update({v.strip(): mask_name(v) for v in values if v and v.strip()})
    secrets = {s for s in secrets if len(s) >= 4}  # a one-letter "password" must not eat every "a"
    return secrets, names


def scrub(text, *, session_sql=False):
    """`text` without secrets, phone or ID numbers, or the current request's private names.

    `session_sql`: the text belongs to SQL on the session table (a parameter of it, say)."""
    if not text:
        return text
    text = _SECRET_ASSIGNMENT.sub(
        lambda m: m["key"] + (m["value"][0] + MASK + m["value"][0] if m["value"][0] in "\"'" else MASK), text)
    text = _COOKIE_VALUE.sub(lambda m: f"{m[1]}={MASK}", text)
    secrets, names = _request_values(_current_request.get())
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, names[name])
    if session_sql or "django_session" in text:
        # The SQL that looks a new session key up before it is the session's: Django's keys are 32
        # lowercase letters and digits.
        text = _SESSION_KEY.sub(MASK, text)
    return redact(text)


def _scrub_value(value, session_sql):
    if isinstance(value, str):
        return scrub(value, session_sql=session_sql)
    if type(value) in (list, tuple):
        return type(value)(_scrub_value(v, session_sql) for v in value)
    if isinstance(value, dict):
        return {k: _scrub_value(v, session_sql) for k, v in value.items()}
    return value


def scrub_record(record):
    """Redact a LogRecord in place: message, traceback, stack, and the `extra=` attributes (Django's SQL
    log carries `sql` and `params`). Safe to apply more than once."""
    if not getattr(record, "_scrubbed", False):
        try:
            message = record.getMessage()
        except Exception:  # a call with the wrong arguments: shown as it was made (and scrubbed), not lost
            message = f"(unformattable log message) {record.msg!s} {record.args!r}"
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        record._scrubbed = True
    # The record factory runs before Logger.makeRecord sets the extras, so these are done on every pass.
    session_sql = "django_session" in str(getattr(record, "sql", ""))
    for key, value in list(vars(record).items()):
        if key not in _STANDARD_ATTRIBUTES and key != "_scrubbed":
            setattr(record, key, _scrub_value(value, session_sql))
    return record


class RedactingFilter(logging.Filter):
    """On every handler: lets the record through, redacted."""

    def filter(self, record):
        scrub_record(record)
        return True


_FILTER = RedactingFilter()


class ScrubbedAdminEmailHandler(AdminEmailHandler):
    """settings.LOGGING's mail_admins: an error by email to ADMINS, as scrubbed as the log line.

    Django's AdminEmailHandler attaches its full error report: the request's POST data, cookies, headers and
    every frame's local variables, any of which may hold a resident's name or phone. This one sends what
    the log has (the message and the traceback, redacted) and, of the request, its method, path, client
    address and user id."""

    def emit(self, record):
        if not settings.ADMINS:
            return  # no one to tell: nothing is read of the request either
        scrub_record(record)
        request = getattr(record, "request", None)
        subject = self.format_subject(f"{record.levelname}: {record.getMessage()}")
        lines = [self.format(record)]
        if request is not None:
            # Only a user already loaded for the request: loading one reads the database, which may be the
            # very failure being reported (the 503 page).
            user = getattr(request, "_cached_user", None)
            lines += ["", f"Request: {getattr(request, 'method', '-')} {scrub(getattr(request, 'path', '-'))}",
                      f"Client: {_ip(request)}",
                      f"User id: {user.pk if getattr(user, 'is_authenticated', False) else '-'}"]
        self.send_mail(subject, "\n".join(lines), fail_silently=True)


def _all_handlers():
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    return {handler for lg in loggers for handler in lg.handlers}


def install():
    """Put the filter on every handler that exists now, and redact every record as it is made."""
    for handler in _all_handlers():
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(_FILTER)
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "_redacting", False):
        def redacting_factory(*args, **kwargs):
            return scrub_record(factory(*args, **kwargs))

        redacting_factory._redacting = True
        logging.setLogRecordFactory(redacting_factory)


def configure_logging(config):
    """settings.LOGGING_CONFIG: the LOGGING dict, then the filter on the handlers Django configured itself
    (django.utils.log.DEFAULT_LOGGING). Runs at every django.setup() — a Celery worker runs one too."""
    logging.config.dictConfig(config)
    install()


def unprotected_handlers():
    """Handlers without the filter (the test asserts there are none)."""
    return [h for h in _all_handlers() if not isinstance(h, logging.NullHandler)
            and not any(isinstance(f, RedactingFilter) for f in h.filters)]


# ------------------------------------------------------------------------------------------------- events

def _value(value):
    text = str(value)
    if text and re.fullmatch(r"[\w.:/@+\-]+", text):
        return text
    return json.dumps(text, ensure_ascii=False)  # quotes, and escapes newlines: one event, one line


def _ip(request):
    from .client_ip import client_ip

    return client_ip(request) or "-"


def event(name, request=None, *, user=None, username=None, level=logging.INFO, **fields):
    """Log security event `name`: when (ISO, Asia/Shanghai), who, from where, on what.

    Who is `username` when given (an attempted login: see _attempted_username), else `user`, else the
    request's signed-in user, else "-".
    """
    if user is None and request is not None:
        user = getattr(request, "user", None)
    if username is not None:
        who = {"user": username}
    elif user is not None and getattr(user, "is_authenticated", False):
        who = {"user": user.get_username(), "user_id": user.pk}
    else:
        who = {"user": "-"}
    where = {"ip": _ip(request), "method": request.method, "path": request.path} if request is not None else {}
    details = {**who, **fields, **where}
    line = " ".join([timezone.now().astimezone(SHANGHAI).isoformat(timespec="seconds"), name]
                    + [f"{key}={_value(value)}" for key, value in details.items() if value is not None])
    log.log(level, line, extra={"security_event": name, "security_fields": details})


def _attempted_username(username):
    """An attempted username is logged as typed only if such an account exists: an unknown one may well
    be a password typed into the wrong box, so it is logged masked (first character and length)."""
    from django.contrib.auth import get_user_model

    username = (username or "").strip()
    if not username:
        return "-"
    model = get_user_model()
    if model._default_manager.filter(**{model.USERNAME_FIELD: username}).exists():
        return username
    masked = mask_name(username[:16])  # a 10,000-character "name" is logged as 16 characters and its length
    return f"unknown:{masked}" if len(username) <= 16 else f"unknown:{masked}…({len(username)})"


def _on_login(sender, request, user, **kwargs):
    event("login", request, user=user)


def _on_login_failed(sender, credentials, request=None, **kwargs):
    from django.contrib.auth import get_user_model

    username = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username")
    event("login_failed", request, username=_attempted_username(username), level=logging.WARNING)


def _on_logout(sender, request, user, **kwargs):
    event("logout", request, user=user)


def _on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    event("lockout", request, username=_attempted_username(username), level=logging.WARNING)


def two_factor_failed(request):
    event("two_factor_failed", request, level=logging.WARNING)


def connect_signals():
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
    from django.core.signals import request_finished

    user_logged_in.connect(_on_login, dispatch_uid="security-log-login")
    user_login_failed.connect(_on_login_failed, dispatch_uid="security-log-login-failed")
    user_logged_out.connect(_on_logout, dispatch_uid="security-log-logout")
    user_locked_out.connect(_on_locked_out, dispatch_uid="security-log-lockout")
    request_finished.connect(_request_finished, dispatch_uid="security-log-request-finished")
    from celery.signals import after_setup_logger, after_setup_task_logger

    # Celery's worker replaces the root logger's handlers with its own: put the filter on those too.
    after_setup_logger.connect(lambda **kw: install(), weak=False, dispatch_uid="security-log-celery")
    after_setup_task_logger.connect(lambda **kw: install(), weak=False, dispatch_uid="security-log-celery-task")


# ---------------------------------------------------------------------------------------- request hooks

_PUBLIC_PREFIXES = ("/public/", "/static/", "/i18n/")


class SecurityLogMiddleware:
    """Outermost: makes the request known to the redaction filter, and logs refusals.

    A 403 is logged for anyone; a 404 for a signed-in person on a staff page, because the rights checks
    answer "not yours" with 404 (rights.get_community_or_404) so as not to reveal what exists.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _current_request.set(request)
        response = self.get_response(request)
        status = response.status_code
        if status == 403 and not getattr(request, "_security_logged", False):
            event("forbidden", request, level=logging.WARNING, status=403)
        elif (status == 404 and getattr(getattr(request, "user", None), "is_authenticated", False)
              and not request.path.startswith(_PUBLIC_PREFIXES)):
            event("not_found", request, level=logging.WARNING, status=404)
        return response


def _request_finished(sender, **kwargs):
    # Django logs a 4xx after the middleware has returned; the request stays known until the response
    # is closed, then it is forgotten.
    _current_request.set(None)


def csrf_failure(request, reason=""):
    """settings.CSRF_FAILURE_VIEW: log, then Django's own 403 page."""
    from django.views.csrf import csrf_failure as django_csrf_failure

    event("csrf_failure", request, level=logging.WARNING, reason=reason)
    request._security_logged = True
    return django_csrf_failure(request, reason=reason)
