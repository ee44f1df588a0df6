"""The public year-end summary: no login, cheap to serve (one row, figures already computed)."""
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from .presentation import PAGE_CHART, display
from .selectors import public_disclosure
from .services import public_url


def _get(code, year):
    disclosure = public_disclosure(code, year)
    if disclosure is None:
        raise Http404(_("该社区本年度的年终公示尚未发布。"))
    return disclosure


@require_safe
@cache_control(public=True, max_age=300)
def summary(request, code, year):
    disclosure = _get(code, year)
    return render(request, "disclosure/summary.html", {**display(disclosure, PAGE_CHART), "public_url": public_url(disclosure)})


@require_safe
@cache_control(public=True, max_age=300)
def summary_pdf(request, code, year):
    disclosure = _get(code, year)
    if not disclosure.pdf or not disclosure.sha256:
        raise Http404(_("公示海报正在生成，请稍后再试。"))
    try:
        handle = disclosure.pdf.open("rb")
    except FileNotFoundError:
        raise Http404(_("公示海报正在生成，请稍后再试。")) from None
    response = FileResponse(handle, content_type="application/pdf",
                            filename=f"{disclosure.community.code}-{disclosure.year}-summary.pdf")
    response["ETag"] = f'"{disclosure.sha256}"'
    return response
