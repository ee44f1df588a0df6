"""Pages for residents: no login. Reads come from public.selectors (cached, invalidated on every change);
writes go through the same services as the staff's."""
import json
import re
import threading
from collections import OrderedDict
from decimal import Decimal

from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from approvals import services as chain
from approvals.models import Document, Notice, Objection
from disclosure.charts import PHONE_CHART, bar_chart
from disclosure.selectors import public_disclosure
from fundapp import clock, publicurls, tabular
from fundapp.client_ip import client_ip
from fundapp.errors import DomainError
from fundapp.models import Community

from . import selectors
from .forms import FeedbackForm, NeedForm, ObjectionForm

# Drawn for a phone's width: readable at 375 px, capped by CSS on a desktop.
CHART = PHONE_CHART  # labels ≥ 14 px on a 375 px phone, never clipped (disclosure/charts.py)
RATE_LIMIT = 3  # submissions per address and notice (or community, for needs) per hour


def _community(code):
    return get_object_or_404(Community.objects.select_related("subdistrict"), code=code)


def community_year(request, code, year):
    # Found by the code in the address, so a hit costs no query: the entry carries the community's id and
    # the data version it was rendered at, and is served only while that is still the version — any
    # recorded act of the community, or a change to the community itself, bumps it (public/signals.py).
    # Each web process also remembers the pages it served last (PAGES), so a hit is one small cache read
    # (the version) rather than two and a 16 KB transfer.
    # The page also depends on the day (a notice runs until the end of its last day, Asia/Shanghai): the key
    # holds the local date, so from 00:00 a new key is used, in Redis and in PAGES alike, with no act.
    if len(code) > 40 or clock.plausible_year(year, None) is None:
        raise Http404  # no such community or year: not worth a cache key
    today = clock.today()
    if request.GET.get("objected"):
        # The resident's own "objection received" note (after the form): for them alone, never kept by the
        # caches (here or in a proxy), or every later reader would be told their objection was received.
        community = _community(code)
        response = render(request, "public/community_year.html",
                          {**_page_context(community, year, today), "objected": True})
        response["Cache-Control"] = "private, no-store"
        return response
    # The language is the address's (/public/zh/…, /public/en/…): the key is the URL's, as a proxy's is.
    key = f"public:page:{code}:{year}:{today.isoformat()}:{get_language()}:{selectors.SCHEMA}"
    entry = PAGES.get(key)
    if entry is None or selectors.version(entry[0]) != entry[1]:
        entry = cache.get(key)
        if entry is None or selectors.version(entry[0]) != entry[1]:
            community = _community(code)
            at_version = selectors.version(community.pk)
            context = _page_context(community, year, today)
            entry = (community.pk, at_version, render(request, "public/community_year.html", context).content)
            cache.set(key, entry, selectors.cache_seconds())
        PAGES.put(key, entry)
    return _fresh_until_midnight(HttpResponse(entry[2]))


def _page_context(community, year, today):
    data = selectors.community_year(community, year, today)
    return {"c": community, "d": data, "year": year, **_charts(data),
            # Linked only once posted (and its poster once made): no link leads to a "not found".
            "summary": public_disclosure(community.code, year)}


def _fresh_until_midnight(response):
    """Readers (browsers, a proxy in front) may keep a public page, JSON or CSV for a minute, never past the
    next local midnight: what it says about running notices changes then."""
    response["Cache-Control"] = f"public, max-age={selectors.max_age()}"
    return response


class _RecentPages:
    """The last `size` pages this process served, by key; thread-safe (gunicorn's gthread workers)."""

    def __init__(self, size):
        self.size = size
        self.entries = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key, entry):
        with self.lock:
            self.entries[key] = entry
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self):
        with self.lock:
            self.entries.clear()


PAGES = _RecentPages(size=256)  # ~16 KB a page: 4 MB per process at most


def _charts(data):
    if not data["totals"]:
        return {}
    t = data["totals"]
    return {
        "money_chart": bar_chart([(_("已结算"), t["settled"]), (_("已预留"), t["reserved"]),
                                  (_("尚可使用"), t["available"])], title=_("经费使用情况"), **CHART),
        "category_chart": bar_chart([(row["name"], row["settled"]) for row in data["by_category"]],
                                    title=_("按使用范围的支出"), **CHART),
    }


def community_year_json(request, code, year):
    data = selectors.community_year(_community(code), year)
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Access-Control-Allow-Origin"] = "*"
    return _fresh_until_midnight(response)


CSV_COLUMNS = ["id", "title", "category", "category_name", "state", "state_name", "budget", "approved_budget",
               "settled", "beneficiaries", "planned_start", "planned_end", "contractor", "notice_status",
               "notice_last_day"]
CSV_AMOUNTS = {"budget", "approved_budget", "settled"}  # numbers in the file, not text


def community_year_csv(request, code, year):
    community = _community(code)
    data = selectors.community_year(community, year)
    # The one table writer (fundapp.tabular): a BOM so that Excel opens the Chinese, text that a spreadsheet
    # could take for a formula kept as text, amounts as numbers.
    rows = [["# " + json.dumps({"schema": data["schema"], "community": data["community"], "year": year,
                                "as_of": data["as_of"], "totals": data["totals"]}, ensure_ascii=False)], CSV_COLUMNS]
    rows += [[Decimal(project[c]) if c in CSV_AMOUNTS else project[c] for c in CSV_COLUMNS]
             for project in data["projects"]]
    response = HttpResponse(tabular.csv_text(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{community.code}-{year}.csv"'
    return _fresh_until_midnight(response)


def _rate_limited(request, scope):
    address = client_ip(request)  # the resident behind the proxy, not the proxy
    key = f"public:rate:{scope}:{address}"
    count = cache.get_or_set(key, 0, 3600)
    if count >= RATE_LIMIT:
        return True
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, 3600)
    return False


@require_http_methods(["GET", "POST"])
def object_to_notice(request, code, notice_id):
    community = _community(code)
    # Only a plan notice put before residents (running or ended, not taken down) takes objections (Art. 10);
    # anything else is "not found", as an id that does not exist.
    notice = get_object_or_404(selectors.public_notices().select_related("proposal__fund_year"),
                               public_id=notice_id, proposal__community=community, kind=Notice.Kind.PLAN)
    running = notice.is_running(clock.today())
    form = ObjectionForm(request.POST or None)
    if not running:
        # The same rule the service applies (Notice.is_running): no form for a notice that has ended.
        return render(request, "public/object.html", {"c": community, "notice": notice, "form": None,
                                                      "title": selectors.published_title(notice.proposal),
                                                      "closed": _("该公示不在公示期内，不能提出异议。")})
    if request.method == "POST" and form.is_valid():
        if _rate_limited(request, f"objection:{notice.pk}"):
            form.add_error(None, _("提交次数过多，请一小时后再试，或到社区当面反映。"))
        else:
            try:
                chain.objection_record(notice=notice, channel=Objection.Channel.ONLINE,
                                       resident_name=form.cleaned_data["resident_name"],
                                       resident_contact=form.cleaned_data["resident_contact"],
                                       text=form.cleaned_data["text"])
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                url = reverse("public:community-year", args=[code, notice.proposal.fund_year.year])
                return redirect(f"{url}?objected=1#notice-{notice.pk}")
    return render(request, "public/object.html", {"c": community, "notice": notice, "form": form,
                                                  "title": selectors.published_title(notice.proposal)})


@require_http_methods(["GET", "POST"])
def submit_need(request, code):
    community = _community(code)
    form = NeedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _rate_limited(request, f"need:{community.pk}"):
            form.add_error(None, _("提交次数过多，请一小时后再试，或到社区当面反映。"))
        else:
            try:
                chain.need_record(community=community, by=None, channel=NeedForm.channel,
                                  description=form.cleaned_data["description"],
                                  resident_name=form.cleaned_data["resident_name"],
                                  resident_contact=form.cleaned_data["resident_contact"])
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                return render(request, "public/thanks.html", {"c": community})
    return render(request, "public/need.html", {"c": community, "form": form})


def public_document(request, code, pk):
    """A document meant for residents (Document.PUBLIC_KINDS) of a published project; nothing else."""
    from django.http import FileResponse

    document = get_object_or_404(Document.objects.select_related("proposal"), public_id=pk,
                                 proposal__community__code=code, kind__in=Document.PUBLIC_KINDS)
    if not selectors.public_proposals(document.proposal.fund_year).filter(pk=document.proposal_id).exists():
        raise Http404
    response = FileResponse(document.file.open("rb"), content_type=document.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    # A document's content never changes (sha256 published) and whether it is public does not depend on the
    # day, only on acts: an hour, not bounded by midnight.
    response["Cache-Control"] = "public, max-age=3600"
    return response


LEGACY_OBJECTION = re.compile(r"^(?P<code>[-\w]+)/notices/(?P<pk>[0-9]+)/object/\Z")


def bare_redirect(request, rest):
    """/public/… without a language → the same page in the reader's language (the switch's cookie, else the
    browser's Accept-Language, else Chinese): one 302, which a shared cache must not keep for everyone
    (Vary, private). An address that would not be found after the redirect is not found here either.

    The addresses printed on notice papers before public ids (`…/notices/<pk>/object/`, on papers already
    posted and archived) still lead somewhere, for a notice put before residents only: a plan notice's to its
    objection form; a notice after payment's or a completion notice's (which take no online objection) to
    the notice on the community's page, with the service hall's phone and address."""
    language = translation.get_language_from_request(request)
    if rest in publicurls.segments().values():  # /public/en → /public/en/
        language, rest = publicurls.language_of_path(f"/public/{rest}/"), ""
    legacy = LEGACY_OBJECTION.match(rest)
    with translation.override(language):
        if legacy:
            notice = selectors.public_notices().select_related("proposal__fund_year").filter(
                pk=legacy["pk"], proposal__community__code=legacy["code"]).first()
            if notice is None:
                raise Http404
            if notice.kind == Notice.Kind.PLAN:
                target = reverse("public:object", args=[legacy["code"], notice.public_id])
            else:
                target = reverse("public:community-year", args=[legacy["code"], notice.proposal.fund_year.year])
                running = notice.is_running(clock.today())
                target += f"#notice-{notice.public_id}" if running else f"#project-{notice.proposal.public_id}"
        else:
            target = publicurls.in_language("/public/" + rest, language)
            try:
                found = resolve(target)
            except Resolver404:
                raise Http404 from None
            if found.func is bare_redirect:  # not a page in that language either: no redirect to nowhere
                raise Http404
    if request.META.get("QUERY_STRING"):
        target += "?" + request.META["QUERY_STRING"]
    response = HttpResponseRedirect(target)
    response["Vary"] = "Cookie, Accept-Language"
    response["Cache-Control"] = "private, max-age=0"
    return response


def switch_language(request):
    """Residents' language link (a GET: it only sets the reader's preference cookie, so cached pages
    need no CSRF token), to the other language's address of the same page (`next`); the cookie is what the
    bare /public/… address redirects by next time."""
    from django.conf import settings
    from django.utils.http import url_has_allowed_host_and_scheme

    language = request.GET.get("to")
    target = request.GET.get("next") or reverse("public:index")
    # A path on this site only; redirect() would take anything else for a view name (and fail on it).
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("public:index")
    response = HttpResponseRedirect(target)
    if language in dict(settings.LANGUAGES):
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@require_http_methods(["GET", "POST"])
def project_feedback(request, code, pk):
    community = _community(code)
    # A project residents have been shown (a plan notice posted); a draft, a proposal awaiting consent or one
    # withdrawn before its notice is "not found", exactly as an id that does not exist.
    proposal = get_object_or_404(selectors.public_proposals().select_related("fund_year"), public_id=pk,
                                 community=community)
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _rate_limited(request, f"feedback:{proposal.pk}"):
            form.add_error(None, _("提交次数过多，请一小时后再试，或到社区当面反映。"))
        else:
            try:
                chain.feedback_record(proposal=proposal, satisfied=form.cleaned_data["satisfied"],
                                      comment=form.cleaned_data["comment"])
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                return render(request, "public/thanks.html", {"c": community, "feedback": True})
    return render(request, "public/feedback.html", {"c": community, "p": proposal, "form": form,
                                                    "title": selectors.published_title(proposal)})


def open_data_doc(request):
    """docs/open-data.md itself, so that the fields' meanings are published with the data."""
    from django.conf import settings

    text = (settings.BASE_DIR / "docs" / "open-data.md").read_text(encoding="utf-8")
    return HttpResponse(text, content_type="text/markdown; charset=utf-8")


def notice_pdf(request, code, notice_id):
    """The archived PDF of a notice residents may read (running or ended, of a published project): exactly the
    paper that was posted, masked when it was made (approvals.paper_archive). Nothing for a notice taken down."""
    from approvals.paper_archive import archived_paper, notice_paper_bytes

    notice = get_object_or_404(selectors.public_notices().select_related("proposal__fund_year"),
                               public_id=notice_id, proposal__community__code=code)
    if not selectors.public_proposals(notice.proposal.fund_year).filter(pk=notice.proposal_id).exists():
        raise Http404
    paper = archived_paper(notice)
    if paper is None:
        raise Http404
    response = HttpResponse(notice_paper_bytes(paper), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="notice-{notice.public_id}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    # Whether it may be read changes only by acts (a notice taken down); the file itself never changes.
    response["Cache-Control"] = f"public, max-age={selectors.max_age()}"
    return response
