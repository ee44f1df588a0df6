"""The database is unreachable (PostgreSQL restarting, failed over, stopped): a "try again in a moment"
page with status 503, not a 500 "something is broken" page.

This is Django's 500 handler (`handler500` in fundapp/urls.py). Django calls it from inside its handling
of the uncaught exception, wherever it was raised — in a view or in a middleware (the session and the
signed-in user are loaded from the database before any view runs) — so `sys.exc_info()` is that
exception. It has already been sent to `got_request_exception`, and Django logs the response (level
ERROR, logger django.request, with the traceback) right after this returns: nothing is swallowed.

The page is rendered without the request, so that no context processor goes back to the database that
just failed. Recovery: Django closes a connection that raised (and, with CONN_HEALTH_CHECKS, checks a
kept-alive or pooled one before reusing it). With the connection pool (fundapp/settings.py), a pool that
could not hand out a connection is also closed here: its own reconnection attempts back off (1, 2, 4, 8 s…)
while PostgreSQL is away, so it could still be waiting when PostgreSQL is back; the next request opens a
new pool, which connects at once.
"""
import sys

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse
from django.template import loader
from django.views import defaults

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def is_database_unavailable(exc):
    return isinstance(exc, DATABASE_UNAVAILABLE)


def database_unavailable_response():
    response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _drop_pools():
    for connection in connections.all(initialized_only=True):
        pool = getattr(connection, "pool", None)
        if pool is not None:
            # Without waiting for its threads (they may be mid-way through a connection attempt): the person
            # is waiting for this page.
            pool.close(timeout=0)
            connection.close_pool()


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    if is_database_unavailable(sys.exc_info()[1]):
        _drop_pools()
        return database_unavailable_response()
    return defaults.server_error(request, template_name)
