"""What each kind of batch does for one community: kind → handler(community_id, year).

Handlers are named by dotted path and imported when first used, so this app depends on no other app's
models at import time. A handler must be idempotent: a re-run, or a task redelivered after a worker died,
calls it again for the same community and year and must not create a second document.
"""
from dataclasses import dataclass

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Kind:
    label: object
    handler: str


KINDS = {
    "disclosures": Kind(_("年终公示（第十五条）"), "disclosure.services.disclosure_generate"),
    "annual_reports": Kind(_("年度报告草稿（第十六条）"), "approvals.tasks.annual_report_batch_item"),
}


class UnknownKind(ValueError):
    pass


def register(kind, label, handler):
    """Add a kind (handler: a dotted path or a callable)."""
    KINDS[kind] = Kind(label, handler)


def label_for(kind):
    entry = KINDS.get(kind)
    return entry.label if entry else kind


def handler_for(kind):
    entry = KINDS.get(kind)
    if entry is None:
        raise UnknownKind(f"unknown batch kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    return import_string(entry.handler) if isinstance(entry.handler, str) else entry.handler


def choices():
    return [(kind, entry.label) for kind, entry in KINDS.items()]
