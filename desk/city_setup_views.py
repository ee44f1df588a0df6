"""Setting up the city from Excel (the city administrator's roster import): the template, the upload and its
dry run, then the apply — all the work in fundapp.services.onboarding. City administrators only (403).

The uploaded workbook is kept between the dry run and the apply (onboarding.upload_keep: a random file name
under MEDIA_ROOT, named by a signed token that also carries its checksum and the uploader), and the apply
carries the dry run's fingerprint: what is applied is exactly the file previewed, and if the records changed
in between, the new dry run is shown instead.
"""
from functools import wraps
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from fundapp import rights
from fundapp.errors import DomainError
from fundapp.services import onboarding


def city_admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not rights.is_city_admin(request.user):
            raise PermissionDenied(_("只有在任的市委组织部管理员可以导入全市名册。"))
        return view(request, *args, **kwargs)

    return wrapped


class UploadForm(forms.Form):
    workbook = forms.FileField(label=gettext_lazy("填好的名册（.xlsx）"),
                               help_text=gettext_lazy("上传后先预览，不会写入任何内容。"))

    def clean_workbook(self):
        upload = self.cleaned_data["workbook"]
        if upload.size > onboarding.MAX_BYTES:
            raise forms.ValidationError(_("文件太大：最大 %(mb)s MB。请分几次导入。")
                                        % {"mb": onboarding.MAX_BYTES // (1024 * 1024)})
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("请上传 .xlsx 格式的 Excel 工作簿（不要用 .xls 或 .csv）。"))
        return upload


def _page(request, form, **context):
    return render(request, "desk/city/setup.html", {"form": form, "sheet_names": onboarding.sheet_names(),
                                                    "notes_sheet": onboarding.NOTES_TITLE, **context})


def _preview_context(plan):
    kinds = {spec.kind: spec for spec in onboarding.SHEETS}
    counts = plan.counts()
    return {
        "plan": plan,
        "groups": [{"spec": kinds[kind], "rows": rows, "counts": counts[kind],
                    "changed": [r for r in rows if r.status != onboarding.STATUS_UNCHANGED]}
                   for kind, rows in plan.rows.items()],
        "errors": plan.errors,
    }


@never_cache
@city_admin_required
@require_http_methods(["GET", "POST"])
def setup(request):
    """The page: the template to download, the upload, and after an upload its dry run."""
    if request.method != "POST":
        return _page(request, UploadForm())
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form)
    data = form.cleaned_data["workbook"].read()
    try:
        plan = onboarding.onboarding_plan(onboarding.read_workbook(data))
    except onboarding.ImportRefused as exc:
        return _page(request, form, refused=exc)
    token = onboarding.upload_keep(data=data, by=request.user) if not plan.errors and plan.changed else ""
    return _page(request, UploadForm(), token=token, filename=form.cleaned_data["workbook"].name,
                 **_preview_context(plan))


@city_admin_required
@require_POST
def apply(request):
    token = request.POST.get("token", "")
    try:
        data = onboarding.upload_load(token=token, by=request.user)
        plan = onboarding.onboarding_apply(data=data, by=request.user,
                                           expected_fingerprint=request.POST.get("fingerprint", ""))
    except onboarding.ApplyRefused as exc:
        return _page(request, UploadForm(), token=token if not exc.plan.errors else "", refused_apply=exc,
                     filename=request.POST.get("filename", ""), **_preview_context(exc.plan))
    except DomainError as exc:
        return _page(request, UploadForm(), apply_error=str(exc))
    onboarding.upload_forget(token=token)
    counts = plan.counts()
    messages.success(request, _("名册已导入：新增 %(new)s 行，修改 %(updated)s 行，%(unchanged)s 行不变。") % {
        "new": sum(c[onboarding.STATUS_NEW] for c in counts.values()),
        "updated": sum(c[onboarding.STATUS_UPDATED] for c in counts.values()),
        "unchanged": sum(c[onboarding.STATUS_UNCHANGED] for c in counts.values())})
    return redirect("city-setup:index")


@never_cache
@city_admin_required
def template_xlsx(request):
    response = HttpResponse(onboarding.template_workbook(), content_type=onboarding.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = ("attachment; filename=\"city-roster-template.xlsx\"; "
                                       f"filename*=UTF-8''{quote(onboarding.TEMPLATE_FILENAME, safe='')}")
    return response
