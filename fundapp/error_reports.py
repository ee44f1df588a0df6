"""Error reports to a self-hosted Sentry or GlitchTip (settings.SENTRY_DSN), scrubbed like the logs.

sentry-sdk is set up with send_default_pii=False (no user names, e-mails, IP addresses or cookies), no local
variables, no request bodies; and `scrub_event`, its before_send, takes out whatever personal data is left:
the request's body, cookies and identifying headers, every frame's variables, the user but its id, and, in
every remaining text (exception messages, log messages, breadcrumbs, extras), what the security log's filter
removes (fundapp.security_log.scrub: secrets, session ids, phone and ID numbers, the names posted in the
request being served).
"""

_DROP_HEADERS = {"cookie", "authorization", "x-forwarded-for", "x-real-ip", "forwarded", "x-csrftoken", "referer"}
MASK = "***"


def _scrub_strings(value, scrub):
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list | tuple):
        return [_scrub_strings(item, scrub) for item in value]
    if isinstance(value, dict):
        return {key: _scrub_strings(item, scrub) for key, item in value.items()}
    return value


def scrub_event(event, hint=None):
    """Sentry's before_send: the event without personal data (a new dict; None is never returned, so an
    error is always reported)."""
    from .security_log import scrub

    event = dict(event)
    request = dict(event.get("request") or {})
    if request:
        for key in ("data", "cookies", "env"):
            if key in request:
                request[key] = MASK
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {k: (MASK if k.lower() in _DROP_HEADERS else v) for k, v in headers.items()}
        elif isinstance(headers, list):
            request["headers"] = [[k, MASK if str(k).lower() in _DROP_HEADERS else v] for k, v in headers]
        event["request"] = request
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    for values in (event.get("exception") or {}).get("values") or [], (event.get("threads") or {}).get("values") or []:
        for item in values:
            for frame in (item.get("stacktrace") or {}).get("frames") or []:
                frame.pop("vars", None)
    return _scrub_strings(event, scrub)


def _before_send(event, hint):
    return scrub_event(event, hint)


def init_sentry(dsn, *, environment):
    """Called by settings when SENTRY_DSN is set."""
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=_before_send,
        traces_sample_rate=0,
    )
