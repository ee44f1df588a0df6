"""Ledger exports, reconciliation and the summary across communities (SPEC §2, §6, §7).

Thin: rights from fundapp.rights (view_fund; another community answers 404), figures from
desk.finance_selectors, files from desk.exports.
"""
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.validators import slug_re
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from fundapp import clock, rights
from fundapp.errors import DomainError, NotAllowed
from fundapp.models import FundYear, LedgerEntry, Subdistrict
from fundapp.services import ledger as ledger_services

from . import exports, finance_selectors
from .forms import ReversalForm


def _download(content, content_type, filenames, disposition="attachment"):
    """A response with a Chinese file name (RFC 5987/6266 `filename*`) and an ASCII one for old clients."""
    name, fallback = filenames
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
    return response


def _fund_year(request, code, year):
    community = rights.get_community_or_404(request.user, "view_fund", code=code)
    return get_object_or_404(FundYear.objects.select_related("community__subdistrict"), community=community,
                             year=year)


@never_cache
@login_required
def ledger_xlsx(request, code, year):
    fund_year = _fund_year(request, code, year)
    return _download(exports.ledger_xlsx(fund_year), exports.XLSX_CONTENT_TYPE,
                     exports.ledger_filenames(fund_year, "xlsx"))


@never_cache
@login_required
def ledger_csv(request, code, year):
    fund_year = _fund_year(request, code, year)
    return _download(exports.ledger_csv(fund_year).encode("utf-8"), "text/csv; charset=utf-8",
                     exports.ledger_filenames(fund_year, "csv"))


def _year(request):
    """?year=, this year when absent or not a plausible year."""
    return clock.plausible_year(request.GET.get("year"), clock.today().year)


def _scope(request):
    """The communities the person may see, narrowed to one subdistrict by ?subdistrict=<code>; and a label."""
    communities = rights.communities_for(request.user, "view_fund")
    code = request.GET.get("subdistrict", "")
    subdistrict = None
    if code and not slug_re.match(code):  # not a subdistrict code (a NUL byte would even upset PostgreSQL)
        raise Http404
    if code:
        subdistrict = Subdistrict.objects.filter(code=code, communities__in=communities).distinct().first()
        if subdistrict is None:
            raise Http404
        communities = communities.filter(subdistrict=subdistrict)
    return communities, subdistrict


def _scope_label(request, summary, subdistrict):
    if subdistrict is not None:
        return subdistrict.name
    if len(summary.communities) == 1:
        return summary.communities[0].community.name
    if len(summary.subdistricts) == 1:
        return summary.subdistricts[0].subdistrict.name
    if rights.is_city_admin(request.user):
        return _("全市")
    return "、".join(sd.subdistrict.name for sd in summary.subdistricts) or _("全部")


def _years(communities, year):
    years = set(FundYear.objects.filter(community__in=communities).values_list("year", flat=True).distinct())
    return sorted(years | {year, clock.today().year}, reverse=True)


def _subdistricts(communities):
    return Subdistrict.objects.filter(communities__in=communities).distinct().order_by("name")


@login_required
def reconcile(request):
    year = _year(request)
    communities, subdistrict = _scope(request)
    results = finance_selectors.reconcile_many(communities, year)
    return render(request, "fundapp/finance/reconcile.html", {
        "year": year, "years": _years(communities, year), "results": results,
        "failed": [r for r in results if not r.ok], "subdistrict": subdistrict,
        "subdistricts": _subdistricts(rights.communities_for(request.user, "view_fund")),
        "without_fund_year": communities.exclude(fund_years__year=year).order_by("subdistrict__name", "name"),
    })


@login_required
def summary(request):
    year = _year(request)
    communities, subdistrict = _scope(request)
    data = finance_selectors.summary(communities, year)
    return render(request, "fundapp/finance/summary.html", {
        "s": data, "year": year, "years": _years(communities, year), "scope": _scope_label(request, data, subdistrict),
        "subdistrict": subdistrict, "subdistricts": _subdistricts(rights.communities_for(request.user, "view_fund")),
    })


@never_cache
@login_required
def summary_pdf(request, year):
    communities, subdistrict = _scope(request)
    data = finance_selectors.summary(communities, year)
    scope = _scope_label(request, data, subdistrict)
    return _download(exports.summary_pdf(data, scope), "application/pdf",
                     exports.summary_filenames(scope, year, "pdf", subdistrict.code if subdistrict else ""),
                     disposition="inline")


@never_cache
@login_required
def summary_xlsx(request, year):
    communities, subdistrict = _scope(request)
    data = finance_selectors.summary(communities, year)
    scope = _scope_label(request, data, subdistrict)
    return _download(exports.summary_xlsx(data, scope), exports.XLSX_CONTENT_TYPE,
                     exports.summary_filenames(scope, year, "xlsx", subdistrict.code if subdistrict else ""))


@login_required
@require_http_methods(["GET", "POST"])
def ledger_reverse(request, code, year, pk):
    """Reverse a wrong allocation (the finance officer's correction, Art. 17): a reason and a date, through
    `fundapp.services.ledger.ledger_entry_reverse`. Its dry run decides: not this person's ledger → 404; an
    entry that cannot be reversed → the reason, and no form; a refused input → the service's message."""
    fund_year = _fund_year(request, code, year)
    entry = get_object_or_404(LedgerEntry.objects.select_related("fund_year__community"), pk=pk, fund_year=fund_year)
    try:
        refusal = ledger_services.ledger_entry_reverse_check(entry=entry, by=request.user)
    except NotAllowed:
        raise Http404 from None
    form = ReversalForm(request.POST or None) if not refusal else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            ledger_services.ledger_entry_reverse(entry=entry, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已冲销该分录。"))
            return redirect("ledger", code=fund_year.community.code, year=fund_year.year)
    return render(request, "fundapp/finance/reverse.html", {
        "fund_year": fund_year, "entry": entry, "form": form, "refusal": refusal,
    })
