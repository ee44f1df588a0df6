"""The batches pages: every run with its progress, each run's per-community status, re-running failures.
City administrators only."""
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fundapp import clock
from fundapp.rights import is_city_admin

from . import registry, services
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
    from disclosure.selectors import disclosure_status

    year = clock.plausible_year(request.GET.get("year"), clock.today().year)
    return render(request, "batches/runs.html", {
        "runs": services.recent_runs(),
        "kinds": registry.choices(),
        "year": year,
        "disclosures": disclosure_status(year),
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
        messages.success(request, _("已重新运行 %(n)s 个失败项。") % {"n": count})
    else:
        messages.info(request, _("没有失败项需要重新运行。"))
    return redirect("batches:run", pk=run.pk)
