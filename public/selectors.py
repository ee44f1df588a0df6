"""What the public may read, built once per community and year, in a fixed number of queries.

The page, the JSON and the CSV all come from `community_year(...)`, so they cannot disagree. Only what is
meant for the public is in it: projects that have been put to a public notice, their money and notices;
objections with the objector's name masked; never contact details. Every text in it has passed through the
one publishing step (fundapp.privacy.Publisher, with the names the community's records know:
approvals.publishing): names masked wherever they stand, phone, ID and bank-card numbers and flats removed.
"""
import datetime
import secrets
from collections import defaultdict
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Exists, JSONField, OuterRef, Prefetch, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language

from approvals.models import Category, Document, Notice, NoticePaper, Objection, Payment, Proposal
from approvals.models import DELIVERING
from approvals.publishing import party, publisher_for
from audit.services import community_chain, published_head
from fundapp import clock
from fundapp.models import Community, FundYear
from fundapp.privacy import mask_name

# 2: projects, notices and documents are named by their public id (a string), not the sequential pk.
SCHEMA = "fund-community-year/2"
CACHE_SECONDS = 600


def _money(value):
    return str(Decimal(value or 0).quantize(Decimal("0.01")))


def version(community_id):
    """Bumped whenever anything is recorded for the community (public.signals), so cached pages of it
    are never served stale."""
    return cache.get_or_set(f"public:v:{community_id}", _first_version, None)


def _first_version():
    # A random start, not 1: when the cache is emptied (Redis restarted without persistence) versions start
    # again elsewhere, so a page a web process still remembers under an old version can never match; with
    # Redis away, every call gets a new number, so nothing remembered is served.
    return secrets.randbits(48)


def bump(community_id):
    try:
        cache.incr(f"public:v:{community_id}")
    except ValueError:
        cache.set(f"public:v:{community_id}", _first_version(), None)


def published_title(proposal):
    """A project's title as the public reads it (for the pages about one project: objection, feedback)."""
    return publisher_for(proposal.community_id).text(proposal.title)


def public_proposals(fund_year=None):
    """Projects (of the year, if given) that have been put before residents (a plan notice was posted).
    Nothing else is named on any public page, file or address."""
    proposals = Proposal.objects.all() if fund_year is None else Proposal.objects.filter(fund_year=fund_year)
    return proposals.filter(Exists(Notice.objects.filter(proposal=OuterRef("pk"), kind=Notice.Kind.PLAN)))


def public_notices():
    """Notices residents may read (on the board now or before); a notice taken down is not among them."""
    return Notice.objects.filter(status__in=[Notice.Status.RUNNING, Notice.Status.ENDED])


# The notice's own facts, not text anyone typed: the service hall's phone and address are published on
# purpose, so that residents can object.
CONTENT_AS_IS = {"kind", "phone", "address", "posted_on"}


def published_content(content, publisher):
    """An archived notice's text (approvals.notice_content) through the publishing step once more: a paper
    archived before the step knew a name, or under older rules, is shown by today's."""
    if isinstance(content, dict):
        return {key: value if key in CONTENT_AS_IS else published_content(value, publisher)
                for key, value in content.items()}
    if isinstance(content, list):
        return [published_content(value, publisher) for value in content]
    if isinstance(content, str):
        return publisher.text(content)
    return content


def _notice_paper(community, notice, publisher):
    if notice.paper_sha256 is None:  # posted before notices were archived: no text or PDF to show
        return {"content": None, "pdf": None, "pdf_sha256": None}
    return {"content": published_content(notice.paper_content, publisher),
            "pdf": reverse("public:notice-pdf", args=[community.code, notice.public_id]), "pdf_sha256": notice.paper_sha256}


def seconds_to_midnight():
    """Whole seconds from now until the next 00:00 Asia/Shanghai (0 in the last second of the day)."""
    now = timezone.localtime(clock.now())
    midnight = timezone.make_aware(datetime.datetime.combine(now.date() + datetime.timedelta(days=1),
                                                             datetime.time()))
    return max(0, int((midnight - now).total_seconds()))


def max_age(limit=60):
    """How long a reader (a browser, a proxy) may keep a public response: at most `limit` seconds and never
    past local midnight, when notices end and deadlines pass without any act."""
    return min(limit, seconds_to_midnight())


def cache_seconds():
    """How long a server-side entry of today's data may live: CACHE_SECONDS, never past local midnight. The
    keys carry the local date as well, so an entry of yesterday is never read today whatever its timeout."""
    return max(1, min(CACHE_SECONDS, seconds_to_midnight()))


def community_year(community, year, today=None):
    """The public record of one community's fund for one year, as plain data (see docs/open-data.md).

    What it says depends on the day (a notice runs until the end of its last day), so the cache key holds
    the local date: at 00:00 Asia/Shanghai a new key is used and the data is built again, without any act.
    """
    today = clock.today() if today is None else today
    # Names (categories, states, notices) and addresses in it are in the active language — the address's.
    key = f"public:data:{community.pk}:{year}:{today.isoformat()}:{version(community.pk)}:{SCHEMA}:{get_language()}"
    data = cache.get(key)
    if data is None:
        data = _build(community, year, today)
        cache.set(key, data, cache_seconds())
    return data


def _audit_head(community):
    """The community's audit chain head as last published (daily): anyone may keep it, and a trail rewritten
    afterwards no longer contains it (docs/security.md). Sequence numbers and hashes only: no personal data."""
    head = published_head(community_chain(community.pk))
    if head is None:
        return None
    return {"seq": head.seq, "hash": head.hash,
            "published_at": timezone.localtime(head.published_at).isoformat(timespec="seconds")}


def _build(community, year, today):
    fund_year = FundYear.objects.filter(community=community, year=year).first()
    years = list(FundYear.objects.filter(community=community).order_by("-year").values_list("year", flat=True))
    data = {
        "schema": SCHEMA,
        "community": {"code": community.code, "name": community.name,
                      "subdistrict": community.subdistrict.name},
        "year": year,
        "years": years,
        "generated_at": timezone.localtime(clock.now()).isoformat(timespec="seconds"),
        "as_of": today.isoformat(),
        "totals": None, "by_category": [], "projects": [], "running_notices": [], "completion_notices": [],
        "audit_head": _audit_head(community),
    }
    if fund_year is None:
        return data
    publisher = publisher_for(community)
    data["totals"] = {
        "allocated": _money(fund_year.allocated), "carried_in": _money(fund_year.carried_in),
        "total": _money(fund_year.total), "settled": _money(fund_year.settled),
        "reserved": _money(fund_year.reserved), "available": _money(fund_year.available),
        "carried_out": _money(fund_year.carried_out),
    }
    # The latest archived paper of each notice, read in the notices' own query.
    paper = NoticePaper.objects.filter(notice=OuterRef("pk")).order_by("-generated_at", "-pk")
    notices = public_notices().order_by("posted_on", "pk").annotate(
        paper_sha256=Subquery(paper.values("sha256")[:1]),
        paper_content=Subquery(paper.values("content")[:1], output_field=JSONField()))
    objections = Objection.objects.order_by("received_at", "pk")
    public_documents = Document.objects.filter(kind__in=Document.PUBLIC_KINDS).order_by("uploaded_at", "pk")
    proposals = list(
        public_proposals(fund_year).order_by("created_at", "pk").prefetch_related(
            Prefetch("notices", queryset=notices.prefetch_related(Prefetch("objections", queryset=objections))),
            Prefetch("documents", queryset=public_documents, to_attr="public_documents"),
        )
    )
    # Money paid out of this year's fund, by category (a project carried into the next year keeps its
    # earlier payments here), so the categories add up to the year's settled total.
    spent = {category: total for (_, category), total in
             Payment.objects.paid_by_category(year=year, community_ids=[community.pk]).items()}
    by_category = defaultdict(lambda: {"projects": 0, "approved": Decimal(0)})
    for p in proposals:
        by_category[p.category]["projects"] += 1
        by_category[p.category]["approved"] += p.approved_budget
        project = {
            "id": p.public_id, "title": publisher.text(p.title), "category": p.category, "category_name": str(Category(p.category).label),
            "state": p.state, "state_name": str(p.get_state_display()), "budget": _money(p.budget),
            "approved_budget": _money(p.approved_budget), "settled": _money(p.settled_amount),
            "beneficiaries": p.beneficiary_count, "planned_start": p.planned_start.isoformat(),
            "planned_end": p.planned_end.isoformat(), "contractor": party(publisher, p.contractor),
            "feedback_open": p.state in DELIVERING,
            "documents": [{"id": d.public_id, "kind": d.kind, "kind_name": str(d.get_kind_display()),
                           "sha256": d.sha256, "uploaded_on": timezone.localdate(d.uploaded_at).isoformat()}
                          for d in p.public_documents],
            "notices": [], "notice_status": "", "notice_last_day": "",
        }
        for n in p.notices.all():
            notice = {
                "id": n.public_id, "kind": n.kind, "kind_name": str(n.get_kind_display()), "posted_on": n.posted_on.isoformat(),
                "last_day": n.last_day.isoformat(), "working_days": n.working_days,
                "running": n.is_running(today), "status": n.status_on(today).value,
                "status_name": str(n.status_on(today).label),
                "calendar_confirmed": n.calendar_confirmed,
                # The notice's full text as posted (masked when it was archived) and its archived PDF.
                **_notice_paper(community, n, publisher),
                "objections": [
                    # Until the secretary has reviewed it, the automatically redacted text (`reviewed` false).
                    {"name": mask_name(o.resident_name), "text": o.published(publisher), "reviewed": o.reviewed,
                     "received_on": timezone.localdate(o.received_at).isoformat(),
                     "answer": publisher.text(o.answer) if o.answered_at else None,
                     "answered_on": timezone.localdate(o.answered_at).isoformat() if o.answered_at else None}
                    for o in n.objections.all()
                ],
            }
            project["notices"].append(notice)
            # The latest notice, for the CSV's one line per project (notices come in posting order).
            project["notice_status"], project["notice_last_day"] = notice["status"], notice["last_day"]
            if notice["running"]:
                data["running_notices"].append({**notice, "project_id": p.public_id, "project_title": project["title"]})
            if n.kind == Notice.Kind.COMPLETION:
                data["completion_notices"].append({**notice, "project_id": p.public_id, "project_title": project["title"],
                                                   "settled": project["settled"]})
        data["projects"].append(project)
    data["by_category"] = [
        {"category": value, "name": str(label), "projects": by_category[value]["projects"] if value in by_category else 0,
         "approved": _money(by_category[value]["approved"] if value in by_category else 0),
         "settled": _money(spent.get(value))}
        for value, label in Category.choices
    ]
    return data
