"""City-scale reads for residents and programs: the search, the city index (subdistricts with their totals),
one subdistrict's communities, the city-wide open data and the notices' feed.

Each reads in a fixed number of queries whatever the city's size; the index and a subdistrict's page hold one
line per subdistrict / per community of that subdistrict, never the whole city.
"""
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Length
from django.urls import reverse
from django.utils import timezone

from approvals.models import Notice, Proposal
from approvals.publishing import publisher_for
from fundapp import clock
from fundapp.models import Community, FundYear, SearchEntry, Subdistrict
from fundapp.models.funds import AMOUNTS, MoneySum
from fundapp.services.search import normalise, triple

from .selectors import _first_version, _money, public_notices

SEARCH_LIMIT = 20  # results shown; more than this and the page asks for a fuller name
SEARCH_CANDIDATES = 500  # substring matches considered for ranking (a one-character query may match the city)
CITY_SCHEMA = "fund-city/1"
FEED_ITEMS = 50


# ---- versions ---------------------------------------------------------------------------------------

CITY_VERSION_KEY = "public:v:city"


def city_version():
    """Bumped by anything recorded for any community and by any change to a subdistrict or community
    (public.signals): the index and the subdistrict pages, built from every community's figures, are cached
    under it."""
    return cache.get_or_set(CITY_VERSION_KEY, _first_version, None)


def city_bump():
    try:
        cache.incr(CITY_VERSION_KEY)
    except ValueError:
        cache.set(CITY_VERSION_KEY, _first_version(), None)


# ---- what is public --------------------------------------------------------------------------------

def _has_plan_notice(proposal_ref):
    # The rule of public.selectors.public_proposals (a plan notice was posted), for any year.
    return Exists(Notice.objects.filter(proposal_id=proposal_ref, kind=Notice.Kind.PLAN))


def public_notices_city():
    """Notices residents may read (public.selectors.public_notices) of projects put before them."""
    return public_notices().filter(_has_plan_notice(OuterRef("proposal_id")))


# ---- search ----------------------------------------------------------------------------------------

@dataclass
class Hit:
    kind: str
    name: str
    url: str
    where: str  # the subdistrict or community it belongs to ("" for a subdistrict)
    rank: int  # 0 exact, 1 prefix, 2 substring


def search(query, year, limit=SEARCH_LIMIT):
    """Subdistricts, communities and published project titles matching `query` by their name, pinyin
    (xingfu) or initials (xfsq), best first: exact, then prefix, then substring matches; within each,
    subdistricts, communities, then projects, shorter names first. At most `limit` hits, and whether there
    were more. Two queries, each served by an index on PostgreSQL (fundapp.models.search):

    - exact and prefix matches on the stored name, pinyin and initials (btree, `varchar_pattern_ops`);
    - substring matches on the stored grams (trigram GIN): a Chinese query tripled, so one or two characters
      are served too; a Latin query of one or two letters (x, xf) is matched by prefix only — as a
      substring it would match most of the city and mean nothing.
    """
    q = normalise(query)
    if not q:
        return [], False
    head = list(search_prefix_queryset(q)[:limit + 1])
    rest = []
    if len(head) <= limit and (not q.isascii() or len(q) >= 3):
        rest = list(search_substring_queryset(q)[:limit + 1 - len(head)])
    hits = [_hit(entry, year) for entry in head + rest]
    return hits[:limit], len(hits) > limit


def _entries():
    return (SearchEntry.objects.filter(~Q(kind=SearchEntry.Kind.PROJECT) | _has_plan_notice(OuterRef("object_id")))
            .select_related("subdistrict", "community")
            .annotate(kind_order=Case(When(kind=SearchEntry.Kind.SUBDISTRICT, then=Value(0)),
                                      When(kind=SearchEntry.Kind.COMMUNITY, then=Value(1)),
                                      default=Value(2), output_field=IntegerField()),
                      year=Subquery(Proposal.objects.filter(pk=OuterRef("object_id")).values("fund_year__year")[:1])))


def _prefix(q):
    return Q(key__startswith=q) | Q(pinyin__startswith=q) | Q(initials__startswith=q)


def search_prefix_queryset(q):
    """Entries whose name, pinyin or initials are or begin with the normalised query `q`, exact ones first."""
    exact = Q(key=q) | Q(pinyin=q) | Q(initials=q)
    return (_entries().filter(_prefix(q))
            .annotate(rank=Case(When(exact, then=Value(0)), default=Value(1), output_field=IntegerField()))
            .order_by("rank", "kind_order", Length("name"), "name", "pk"))


def search_substring_queryset(q):
    """Entries that hold `q` inside (and do not begin with it): among the first SEARCH_CANDIDATES the index
    finds, the best first."""
    pattern = q if q.isascii() else triple(q)
    candidates = _entries().filter(grams__contains=pattern).exclude(_prefix(q)).values("pk")[:SEARCH_CANDIDATES]
    return (_entries().filter(pk__in=Subquery(candidates)).annotate(rank=Value(2))
            .order_by("kind_order", Length("name"), "name", "pk"))


def _hit(entry, year):
    kind = SearchEntry.Kind
    if entry.kind == kind.SUBDISTRICT:
        return Hit(entry.kind, entry.name, reverse("public:subdistrict", args=[entry.subdistrict.code]), "", entry.rank)
    if entry.kind == kind.COMMUNITY:
        return Hit(entry.kind, entry.name, reverse("public:community-year", args=[entry.community.code, year]),
                   entry.subdistrict.name, entry.rank)
    url = reverse("public:community-year", args=[entry.community.code, entry.year or year])
    return Hit(entry.kind, entry.name, f"{url}#project-{entry.object_id}",
               f"{entry.community.name} · {entry.year or year}", entry.rank)


# ---- the city index and a subdistrict's page -------------------------------------------------------

@dataclass
class Totals(MoneySum):
    """A year's money added up over fund years (MoneySum), and how many communities have a fund record."""

    funded: int = 0
    COUNTERS = ("funded",)


def city_index(year):
    """Every subdistrict with its number of communities and the year's totals, and the city's: two queries
    (the subdistricts with their community counts; the fund years grouped by subdistrict)."""
    subdistricts = list(Subdistrict.objects.annotate(community_count=Count("communities")).order_by("name", "pk"))
    grouped = (FundYear.objects.filter(year=year).values("community__subdistrict_id")
               .annotate(funded=Count("pk"), **{name: Sum(name) for name in AMOUNTS}).order_by())
    totals = {row.pop("community__subdistrict_id"): Totals(**row) for row in grouped}
    city = Totals()
    rows = []
    for subdistrict in subdistricts:
        t = totals.get(subdistrict.pk, Totals())
        city.add(t)
        rows.append((subdistrict, t))
    return {"rows": rows, "city": city, "communities": sum(s.community_count for s in subdistricts)}


def subdistrict_page(subdistrict, year):
    """One subdistrict's communities, each with its fund year (or None): two queries."""
    communities = list(Community.objects.filter(subdistrict=subdistrict).order_by("name", "pk"))
    fund_years = {fy.community_id: fy for fy in FundYear.objects.filter(year=year, community__subdistrict=subdistrict)}
    rows = [(c, fund_years.get(c.pk)) for c in communities]
    total = Totals()
    for _community, fy in rows:
        if fy is not None:
            total.add(Totals(**{name: getattr(fy, name) for name in AMOUNTS}, funded=1))
    return {"rows": rows, "total": total}


# ---- city-wide open data ---------------------------------------------------------------------------

CITY_COLUMNS = ["subdistrict_code", "subdistrict", "community_code", "community", "year", "status", "allocated",
                "carried_in", "total", "settled", "reserved", "available", "carried_out", "projects", "json"]


def city_fund_years():
    """Every community's every fund year, as plain rows (CITY_COLUMNS), read in chunks from one query (a
    server-side cursor on PostgreSQL): a whole city is never held in memory."""
    published = (Proposal.objects.filter(fund_year=OuterRef("pk")).filter(_has_plan_notice(OuterRef("pk")))
                 .order_by().values("fund_year").annotate(n=Count("pk")).values("n"))
    fund_years = (FundYear.objects.select_related("community__subdistrict")
                  .annotate(projects=Subquery(published, output_field=IntegerField()))
                  .order_by("community__subdistrict__code", "community__code", "year"))
    for fy in fund_years.iterator(chunk_size=2000):
        c = fy.community
        yield {
            "subdistrict_code": c.subdistrict.code, "subdistrict": c.subdistrict.name,
            "community_code": c.code, "community": c.name, "year": fy.year, "status": fy.status,
            **{name: _money(getattr(fy, name)) for name in AMOUNTS},
            "total": _money(fy.total), "available": _money(fy.available),
            "projects": fy.projects or 0,
            "json": reverse("public:community-year-json", args=[c.code, fy.year]),
        }


def city_header():
    return {"schema": CITY_SCHEMA, "generated_at": timezone.localtime(clock.now()).isoformat(timespec="seconds"),
            "as_of": clock.today().isoformat()}


# ---- the notices' feed -----------------------------------------------------------------------------

def feed_notices(community=None, limit=FEED_ITEMS):
    """The latest notices residents may read, newest first (by the day posted, then the latest recorded)."""
    notices = public_notices_city().select_related("proposal__community", "proposal__fund_year")
    if community is not None:
        notices = notices.filter(proposal__community=community)
    notices = list(notices.order_by("-posted_on", "-pk")[:limit])
    # Titles as the public reads them: through the publishing step, with the names each community knows.
    publishers = {}
    for notice in notices:
        c = notice.proposal.community_id
        if c not in publishers:
            publishers[c] = publisher_for(c)
        notice.public_title = publishers[c].text(notice.proposal.title)
    return notices
