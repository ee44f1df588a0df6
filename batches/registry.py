"""What each kind of batch does for one community: kind → handler(community_id, year).

Handlers are named by dotted path and imported when first used, so this app depends on no other app's
models at import time. A handler must be idempotent: a re-run, or a task redelivered after a worker died,
calls it again for the same community and year and must not create a second document.

A kind whose act is done in the name of a person (the year close: its audit records name the city
administrator who started it) sets `with_requester`, and its handler is called with `by=` the run's
`requested_by` as well. A kind with `start_page` (a URL name) is started only from that page, which
shows what will happen first; the generic "start a batch" form leaves it out.
"""
from dataclasses import dataclass

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Kind:
    label: object
    handler: str
    with_requester: bool = False
    start_page: str = ""


KINDS = {
    "disclosures": Kind(_("年终公示（第十五条）"), "disclosure.services.disclosure_generate"),
    "annual_reports": Kind(_("年度报告草稿（第十六条）"), "approvals.tasks.annual_report_batch_item"),
    "year_close": Kind(_("年度结转（第十三条）"), "fundapp.tasks.year_close_batch_item",
                       with_requester=True, start_page="batches:year-close"),
}


class UnknownKind(ValueError):
    pass


def register(kind, label, handler, **options):
    """Add a kind (handler: a dotted path or a callable; options: with_requester, start_page)."""
    KINDS[kind] = Kind(label, handler, **options)


def label_for(kind):
    entry = KINDS.get(kind)
    return entry.label if entry else kind


def handler_for(kind):
    entry = KINDS.get(kind)
    if entry is None:
        raise UnknownKind(f"unknown batch kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    return import_string(entry.handler) if isinstance(entry.handler, str) else entry.handler


def wants_requester(kind):
    entry = KINDS.get(kind)
    return bool(entry and entry.with_requester)


def start_page(kind):
    entry = KINDS.get(kind)
    return entry.start_page if entry else ""


def choices():
    """The kinds the generic form may start (those with a page of their own are started there)."""
    return [(kind, entry.label) for kind, entry in KINDS.items() if not entry.start_page]
