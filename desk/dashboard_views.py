"""The dashboards: the whole city for the city administrator (/dashboard/) and one subdistrict for its secretary
and staff, and for the city administrator (/dashboard/<code>/).

Thin: who may look is fundapp.rights.dashboard_access (anyone else: 403); the rows come from
desk.dashboard_selectors, paged here; the files from desk.exports through fundapp.tabular, holding exactly the
rows the filters select (every page of them, not only the one shown).
"""
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.core.validators import slug_re
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from approvals.models import Category
from disclosure.charts import PHONE_CHART, bar_chart
from fundapp import clock, rights
from fundapp.models import Role, Subdistrict

from . import exports
from .dashboard_selectors import CHART_ROWS, LISTS, PAGE_SIZE, Filters, Scope, due_this_week
from .finance_views import _download

DEFAULT_LIST = "deadlines"
YEARS_BACK = 4


def _scope(request, code):
    """The dashboard asked for, once the person may see it (a subdistrict that does not exist: 404)."""
    subdistrict = None
    if code is not None:
        subdistrict = get_object_or_404(Subdistrict, code=code)
    decision = rights.dashboard_access(request.user, subdistrict)
    if not decision:
        raise PermissionDenied(decision.reason)
    return Scope(today=clock.today(), subdistrict=subdistrict), decision.post


def _filters(request, scope):
    """The list and the filters from the query string; what makes no sense is left out, never an error."""
    chosen = LISTS.get(request.GET.get("list", ""), LISTS[DEFAULT_LIST])
    year = clock.plausible_year(request.GET.get("year"), scope.today.year)
    subdistrict = None
    code = request.GET.get("subdistrict", "")
    if scope.is_city and code:
        if not slug_re.match(code):
            raise Http404
        subdistrict = get_object_or_404(Subdistrict, code=code)
    category = request.GET.get("category", "")
    category = int(category) if category.isdigit() and int(category) in Category.values else None
    kind = request.GET.get("kind", "")
    kind = kind if kind in dict(chosen.kinds) else ""
    community = " ".join(request.GET.get("community", "").split())[:100]
    return chosen, Filters(year=year, subdistrict=subdistrict, community=community, category=category, kind=kind)


def _for(item, f):
    """The filters that apply to `item` (a list without categories ignores the category filter)."""
    return Filters(year=f.year, subdistrict=f.subdistrict, community=f.community,
                   category=f.category if "category" in item.filters else None,
                   kind=f.kind if "kind" in item.filters and f.kind in dict(item.kinds) else "")


def _base(scope):
    if scope.is_city:
        return reverse("dashboard:city")
    return reverse("dashboard:subdistrict", args=[scope.subdistrict.code])


def _export_url(scope, name, item, f):
    base = reverse("dashboard:city-export" if scope.is_city else "dashboard:subdistrict-export",
                   kwargs={"fmt": name} | ({} if scope.is_city else {"code": scope.subdistrict.code}))
    return base + "?" + urlencode([("list", item.key), *_for(item, f).query()])


def _charts(scope, f):
    spending, categories = LISTS["spending"], LISTS["categories"]
    units = spending.rows(scope, _for(spending, f))
    if not scope.is_city:
        units = units[:CHART_ROWS + 1]
    rows = [spending.row(unit, scope, f) for unit in units]
    cut = len(rows) > CHART_ROWS and not scope.is_city
    rows = rows[:CHART_ROWS] if cut else rows
    by_category = categories.rows(scope, _for(categories, f))
    return {
        "spending_chart": bar_chart([(r.name, r.settled, r.total) for r in rows],
                                    title=_("已结算占经费总额"), **PHONE_CHART),
        "category_chart": bar_chart([(str(r["label"]), r["settled"], r["approved"]) for r in by_category],
                                    title=_("各使用范围已结算占批准预算"), **PHONE_CHART),
        "chart_cut": cut,  # a subdistrict with more communities than its chart shows
    }


def _page(request, code):
    scope, post = _scope(request, code)
    chosen, f = _filters(request, scope)
    base = _base(scope)
    cards = []
    for item in LISTS.values():
        if not item.counted:
            continue
        mine = _for(item, f)
        rows = item.rows(scope, mine)
        cards.append({"list": item, "count": rows.count() if isinstance(rows, QuerySet) else len(rows),
                      "url": base + "?" + urlencode([("list", item.key), *mine.query()]),
                      "season": item.in_season(scope, mine)})
    mine = _for(chosen, f)
    page = Paginator(chosen.rows(scope, mine), PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode([("list", chosen.key), *mine.query()])
    columns = chosen.columns(scope)
    return render(request, "desk/dashboard/page.html", {
        "scope": scope, "f": f, "chosen": chosen, "lists": LISTS.values(), "cards": cards,
        "heads": list(zip(columns, chosen.column_formats(scope))),
        "rows": [list(zip(columns, chosen.cells(row, scope, mine))) for row in page],
        "city_admin": post.role == Role.CITY_ADMIN,
        "page": page, "query": query, "base": base,
        "season_note": "" if chosen.in_season(scope, mine) else chosen.season_note(scope, mine),
        "due": due_this_week(scope, f, base),
        "years": list(range(scope.today.year, scope.today.year - YEARS_BACK - 1, -1)),
        "subdistricts": Subdistrict.objects.order_by("name") if scope.is_city else (),
        "categories": Category.choices,
        "exports": [(label, _export_url(scope, name, chosen, f)) for name, label in (
            ("xlsx", _("导出 Excel")), ("csv", _("导出 CSV")))],
        **_charts(scope, f),
    })


@login_required
def city(request):
    return _page(request, None)


@login_required
def subdistrict(request, code):
    return _page(request, code)


def _export(request, code, fmt):
    if fmt not in ("xlsx", "csv"):
        raise Http404
    scope, _post = _scope(request, code)
    chosen, f = _filters(request, scope)
    mine = _for(chosen, f)
    rows = chosen.rows(scope, mine)
    lines = [[cell.value for cell in chosen.cells(row, scope, mine)] for row in rows]
    headers = [str(h) for h in chosen.columns(scope)]
    where = scope.subdistrict.name if scope.subdistrict else (f.subdistrict.name if f.subdistrict else _("全市"))
    title = _("%(where)s %(year)s年度 %(list)s") % {"where": where, "year": f.year, "list": chosen.title}
    code_part = scope.subdistrict.code if scope.subdistrict else (f.subdistrict.code if f.subdistrict else "city")
    names = (exports.safe_filename(f"{title}.{fmt}"), f"dashboard-{code_part}-{f.year}-{chosen.key}.{fmt}")
    formats = chosen.column_formats(scope)
    if fmt == "csv":
        return _download(exports.table_csv(headers, lines, formats).encode("utf-8"), "text/csv; charset=utf-8", names)
    return _download(exports.table_xlsx(title, headers, lines, formats), exports.XLSX_CONTENT_TYPE, names)


@never_cache
@login_required
def city_export(request, fmt):
    return _export(request, None, fmt)


@never_cache
@login_required
def subdistrict_export(request, code, fmt):
    return _export(request, code, fmt)
