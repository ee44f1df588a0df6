"""The city administrator's year allocation (Art. 5): choose or upload, preview, confirm.

Thin: the plan and the act are fundapp.services.allocations (rights checked there too); an uploaded table is
kept in the session under the plan's key between the preview and the confirmation, so the confirmation acts
on exactly what was previewed.
"""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from fundapp import rights
from fundapp.errors import DomainError
from fundapp.services import allocations

from .city_forms import AllocationForm
from .finance_views import _download

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHOWN = 200  # rows listed per group on the preview (the counts and totals are of all)


def _city_admin(request):
    if not rights.is_city_admin(request.user):
        raise PermissionDenied


@never_cache
@login_required
def template_xlsx(request):
    _city_admin(request)
    return _download(allocations.allocation_template_xlsx(), XLSX, ("年度经费金额表.xlsx", "allocation-template.xlsx"))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def allocate(request):
    _city_admin(request)
    form = AllocationForm(request.POST or None, request.FILES or None)
    plan, sheet_errors, done = None, [], None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        args = {"year": data["year"], "entry_date": data["entry_date"], "by": request.user}
        try:
            if request.POST.get("confirm"):
                key = data["key"]
                if data["amount"]:
                    done = allocations.year_allocation_confirm(**args, key=key, amount=data["amount"])
                else:
                    amounts = request.session.get(f"allocation:{key}")
                    if not amounts:
                        raise DomainError(_("预览已过期，请重新上传金额表。"))
                    done = allocations.year_allocation_confirm(**args, key=key, amounts=amounts)
                request.session.pop(f"allocation:{key}", None)
                messages.success(request, allocations.summary_text(done))
                return render(request, "desk/city/allocation_done.html", {"plan": done, "shown": SHOWN})
            if data["sheet"]:
                amounts = {code: str(v) for code, v in allocations.amounts_from_xlsx(data["sheet"].read()).items()}
                plan = allocations.year_allocation_plan(**args, amounts=amounts)
                request.session[f"allocation:{plan.key}"] = amounts
            else:
                plan = allocations.year_allocation_plan(**args, amount=data["amount"])
        except allocations.SheetRefused as exc:
            form.add_error("sheet", str(exc))
            sheet_errors = exc.errors
        except DomainError as exc:
            form.add_error(None, str(exc))
    return render(request, "desk/city/allocation.html", {
        "form": form, "plan": plan, "sheet_errors": sheet_errors, "shown": SHOWN,
        "from_sheet": bool(plan and not form.cleaned_data.get("amount")),
    })
