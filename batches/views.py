"""The batches pages: every run with its progress, each run's per-community status, re-running failures,
and the year close (a preview of every community's carry-over, then a run). City administrators only."""
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fundapp import clock
from fundapp.rights import is_city_admin

from . import registry, selectors, services
from .models import BatchItem, BatchRun


def city_admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not is_city_admin(request.user):
            raise PermissionDenied(_("只有市委组织部管理员可以查看和运行批量任务。"))
        return view(request, *args, **kwargs)

    return wrapped


@city_admin_required
def runs(request):
    year = clock.plausible_year(request.GET.get("year"), clock.today().year)
    runs = list(services.recent_runs())
    return render(request, "batches/runs.html", {
        "runs": runs,
        "live": any(run.is_live for run in runs),
        "attention": services.items_needing_attention(),
        "kinds": registry.choices(),
        "year": year,
        "disclosures": registry.statuses(year).get("disclosures"),  # registered by the disclosure app
    })


@city_admin_required
def run_detail(request, pk):
    run = get_object_or_404(BatchRun.objects.select_related("requested_by"), pk=pk)
    items = run.items.select_related("community__subdistrict")
    return render(request, "batches/run.html", {
        "run": run,
        "items": items,
        "failed": BatchItem.Status.FAILED,
    })


@require_POST
@city_admin_required
def run_start(request):
    kind = request.POST.get("kind", "")
    year = clock.plausible_year(request.POST.get("year"), None)
    if kind not in registry.KINDS or year is None:
        messages.error(request, _("请选择任务类型和年度。"))
        return redirect("batches:runs")
    if registry.start_page(kind):  # started from its own page, after its preview
        return redirect(registry.start_page(kind))
    run = services.batch_start(kind, year, by=request.user)
    messages.success(request, _("已开始：%(kind)s %(year)s 年，共 %(n)s 个社区。") % {
        "kind": run.kind_label, "year": year, "n": run.total})
    return redirect("batches:run", pk=run.pk)


@require_POST
@city_admin_required
def run_rerun(request, pk):
    run = get_object_or_404(BatchRun, pk=pk)
    count = services.batch_rerun_failures(run, by=request.user)
    if count:
        messages.success(request, _("已重新运行 %(n)s 个失败或中断的项。") % {"n": count})
    else:
        messages.info(request, _("没有失败或中断的项需要重新运行。"))
    return redirect("batches:run", pk=run.pk)


@city_admin_required
def year_close(request):
    """The year close (Art. 13): each community's carry-over for the chosen year, by subdistrict, and the
    confirmation that starts it as a batch."""
    year = clock.plausible_year(request.GET.get("year"), clock.today().year - 1)
    return render(request, "batches/year_close.html", {
        "year": year,
        "years": selectors.year_close_years(),
        "o": selectors.year_close_overview(year),
    })


@require_POST
@city_admin_required
def year_close_start(request):
    """Start closing the year for every community not closed yet — only what the page showed: if the
    figures changed since (someone settled an invoice, another run closed some), show them again."""
    year = clock.plausible_year(request.POST.get("year"), None)
    if year is None:
        messages.error(request, _("请选择年度。"))
        return redirect("batches:year-close")
    back = redirect(f"{reverse('batches:year-close')}?year={year}")
    overview = selectors.year_close_overview(year)
    if not overview.can_close:
        messages.error(request, _("%(year)s年度尚未结束，%(date)s起可结转。") % {
            "year": year, "date": date_format(overview.closable_from, "DATE_FORMAT")})
        return back
    if not overview.totals.to_close:
        messages.info(request, _("%(year)s年度各社区均已结转，无需再次运行。") % {"year": year})
        return back
    if request.POST.get("confirm") != "1":
        messages.error(request, _("请先核对预览，勾选确认后再开始结转。"))
        return back
    if (request.POST.get("to_close") != str(overview.totals.to_close)
            or request.POST.get("carry") != str(overview.totals.carry)):
        messages.error(request, _("预览之后数据有变化，请重新核对下面的数字后再确认。"))
        return back
    run = services.batch_start(selectors.KIND, year, overview.to_close_ids, by=request.user)
    messages.success(request, _("已开始：%(kind)s %(year)s 年，共 %(n)s 个社区。") % {
        "kind": run.kind_label, "year": year, "n": run.total})
    return redirect("batches:run", pk=run.pk)
