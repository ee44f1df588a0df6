"""What each kind of batch does for one community: kind → handler(community_id, year).

The batches know no client app: each app registers its kinds from its `AppConfig.ready()` with
`register(kind, label, handler, …)`, the handler a callable (disclosure: "disclosures"; approvals:
"annual_reports", "year_close"). So this app sits below its clients (docs/architecture.md) and importing
it loads no other app. A handler must be idempotent: a re-run, or a task redelivered after a worker died,
calls it again for the same community and year and must not create a second document.

A kind whose act is done in the name of a person (the year close: its audit records name the city
administrator who started it) sets `with_requester`, and its handler is called with `by=` the run's
`requested_by` as well. A kind with `start_page` (a URL name) is started only from that page, which
shows what will happen first; the generic "start a batch" form leaves it out. `preview(year=…)` is what the
kind's start page shows before a run (the year close's preview); `status(year)` is a summary the runs page
shows for the year (the year-end disclosures' progress). `verify(community_id, year)` says what an item
that returned has failed to produce ("" when nothing): an item is done only when it produced everything.
"""
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    label: object
    handler: Callable
    with_requester: bool = False
    start_page: str = ""
    preview: Callable | None = None
    status: Callable | None = None
    verify: Callable | None = None


KINDS = {}


class UnknownKind(ValueError):
    pass


def register(kind, label, handler, **options):
    """Add a kind, from the client app's `ready()` (handler: a callable; options: with_requester, start_page,
    preview, status, verify). Registering the same kind again replaces it (a reloaded app config)."""
    if not callable(handler):
        raise TypeError(f"batch kind {kind!r}: the handler must be a callable, not {handler!r}")
    KINDS[kind] = Kind(label, handler, **options)


def label_for(kind):
    entry = KINDS.get(kind)
    return entry.label if entry else kind


def handler_for(kind):
    entry = KINDS.get(kind)
    if entry is None:
        raise UnknownKind(f"unknown batch kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    return entry.handler


def verify_for(kind):
    """The kind's check that an item produced everything (verify(community_id, year) → "" when complete,
    else what is missing), or None."""
    entry = KINDS.get(kind)
    return entry.verify if entry else None


def wants_requester(kind):
    entry = KINDS.get(kind)
    return bool(entry and entry.with_requester)


def start_page(kind):
    entry = KINDS.get(kind)
    return entry.start_page if entry else ""


def choices():
    """The kinds the generic form may start (those with a page of their own are started there)."""
    return [(kind, entry.label) for kind, entry in KINDS.items() if not entry.start_page]


def preview_for(kind):
    """The kind's preview callable (what its start page shows before a run), or None."""
    entry = KINDS.get(kind)
    return entry.preview if entry else None


def statuses(year):
    """{kind: status} for every kind that reports one for `year` (the runs page's summaries)."""
    return {kind: entry.status(year) for kind, entry in KINDS.items() if entry.status is not None}
