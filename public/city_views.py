"""Residents' city-scale pages and the city's open data: the index (subdistricts with their totals, and the
search), one subdistrict's communities, the city-wide CSV and JSON (streamed), the published JSON Schemas and
the notices' Atom feeds. Reads come from public.city_selectors."""
import json
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language

from fundapp import clock, tabular
from fundapp.models import Subdistrict
from fundapp.models.funds import AMOUNTS

from . import city_selectors, selectors
from .feeds import CityNoticesFeed, CommunityNoticesFeed
from .views import _fresh_until_midnight

SCHEMAS = {"fund-community-year-2": "fund-community-year-2.schema.json", "fund-city-1": "fund-city-1.schema.json"}


def _query(request):
    # Printable characters only: a NUL byte in a PostgreSQL query is an error, control characters mean nothing.
    return "".join(ch for ch in request.GET.get("q", "")[:200] if ch.isprintable()).strip()[:50]


def _cached_page(request, key, build):
    """The rendered page under `key` (which holds the city's data version, the local day and the language),
    built by `build()` on a miss: a hit costs no query."""
    content = cache.get(key)
    if content is None:
        content = build()
        cache.set(key, content, selectors.cache_seconds())
    return _fresh_until_midnight(HttpResponse(content))


def city_index(request):
    """/public/: the subdistricts with the year's totals — one line per subdistrict, whatever the number of
    communities — or, with ?q=, the search's hits."""
    year = clock.today().year
    query = _query(request)
    if query:
        hits, more = city_selectors.search(query, year)
        return _fresh_until_midnight(render(request, "public/index.html", {
            "year": year, "query": query, "hits": hits, "more": more}))
    today = clock.today()
    key = f"public:index:{year}:{today.isoformat()}:{get_language()}:{city_selectors.city_version()}"
    return _cached_page(request, key, lambda: render(request, "public/index.html", {
        "year": year, "query": "", "index": city_selectors.city_index(year)}).content)


def subdistrict(request, code):
    """/public/subdistricts/<code>/: the communities of one subdistrict with the year's figures."""
    if len(code) > 40:
        raise Http404
    year = clock.today().year
    today = clock.today()
    key = f"public:subdistrict:{code}:{year}:{today.isoformat()}:{get_language()}:{city_selectors.city_version()}"

    def build():
        sd = get_object_or_404(Subdistrict, code=code)
        return render(request, "public/subdistrict.html", {
            "year": year, "sd": sd, "page": city_selectors.subdistrict_page(sd, year)}).content

    return _cached_page(request, key, build)


# ---- city-wide open data ----------------------------------------------------------------------------

def _csv_rows():
    yield ["# " + json.dumps(city_selectors.city_header(), ensure_ascii=False)]
    yield city_selectors.CITY_COLUMNS
    amounts = {*AMOUNTS, "total", "available"}
    for row in city_selectors.city_fund_years():
        # Amounts as numbers (the writer neutralises text only: a negative amount is not a formula).
        yield [Decimal(row[c]) if c in amounts else row[c] for c in city_selectors.CITY_COLUMNS]


def city_csv(request):
    response = StreamingHttpResponse(tabular.csv_lines(_csv_rows()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="fund-city.csv"'
    response["Access-Control-Allow-Origin"] = "*"
    return _fresh_until_midnight(response)


def _json_chunks():
    header = json.dumps(city_selectors.city_header(), ensure_ascii=False)
    yield header[:-1] + ', "fund_years": ['
    separator = "\n"
    for row in city_selectors.city_fund_years():
        yield separator + json.dumps(row, ensure_ascii=False)
        separator = ",\n"
    yield "\n]}\n"


def city_json(request):
    response = StreamingHttpResponse(_json_chunks(), content_type="application/json; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return _fresh_until_midnight(response)


def schema(request, name):
    """A published JSON Schema (public/schemas/), the one the open data it names is checked against."""
    if name not in SCHEMAS:
        raise Http404
    text = (settings.BASE_DIR / "public" / "schemas" / SCHEMAS[name]).read_text(encoding="utf-8")
    response = HttpResponse(text, content_type="application/schema+json; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=3600"
    return response


def _cached_feed(request, scope, build):
    """A feed, cached like the index under the city's data version: its entries hold absolute addresses, so
    the key holds the scheme and host (one of ALLOWED_HOSTS) too."""
    key = (f"public:feed:{scope}:{request.scheme}:{request.get_host()}:{clock.today().isoformat()}:"
           f"{get_language()}:{city_selectors.city_version()}")
    entry = cache.get(key)
    if entry is None:
        response = build()
        entry = (response["Content-Type"], response.content)
        cache.set(key, entry, selectors.cache_seconds())
    return _fresh_until_midnight(HttpResponse(entry[1], content_type=entry[0]))


def city_notices_feed(request):
    return _cached_feed(request, "city", lambda: CityNoticesFeed()(request))


def community_notices_feed(request, code):
    if len(code) > 40:
        raise Http404
    return _cached_feed(request, f"community:{code}", lambda: CommunityNoticesFeed()(request, code=code))
