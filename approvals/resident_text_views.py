"""A resident's text (an objection, a need) as the community's secretary reviews it before — or after — it
is published: the original as written (staff only, labelled so), what the public reads now, and the form
that sets the published version (approvals.services.resident_text_publish, audited)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from fundapp import rights
from fundapp.errors import DomainError

from . import services as chain
from . import workflow
from .forms import PublicTextForm
from .models import Need, Objection
from .publishing import publisher_for

KINDS = {
    "objection": (Objection.objects.select_related("notice__proposal__community", "public_text_by"),
                  lambda item: item.notice.proposal.community),
    "need": (Need.objects.select_related("community", "public_text_by"), lambda item: item.community),
}


def _item_or_404(user, kind, pk):
    """The objection or need if the person may see its community's fund; 404 for missing and not yours."""
    if kind not in KINDS:
        raise Http404
    queryset, community_of = KINDS[kind]
    item = queryset.filter(pk=pk).first()
    if item is None or not rights.check(user, "view_fund", community_of(item)):
        raise Http404
    return item, community_of(item)


def _back(kind, item):
    if kind == "objection":
        return reverse("approvals:objection", args=[item.notice.proposal_id, item.pk])
    return reverse("approvals:needs") + f"?community={item.community.code}"


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def resident_text(request, kind, pk):
    item, community = _item_or_404(request.user, kind, pk)
    may_publish = bool(workflow.may(request.user, "resident_text_publish", community))
    published = item.published(publisher_for(community))
    form = None
    if may_publish:
        form = PublicTextForm(request.POST or None, initial={"text": published})
    if request.method == "POST":
        if not may_publish:
            raise Http404
        if form.is_valid():
            try:
                chain.resident_text_publish(item=item, by=request.user, text=form.cleaned_data["text"])
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("已办理：%(action)s。") % {"action": _("审核公开内容")})
                return redirect(_back(kind, item))
    return render(request, "approvals/resident_text.html", {
        "item": item, "kind": kind, "community": community, "published": published, "form": form,
        "back": _back(kind, item),
    })
