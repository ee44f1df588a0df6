"""A resident's objection, as the community secretary answers it: the objection, the resident's name and
phone on request (each look recorded: approvals.services.objection_contact_view), and the answer with the
way it reached them. Everyone else who may see the proposal sees the objection without name or phone."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from fundapp.errors import DomainError

from . import selectors, workflow
from . import services as chain
from .forms import ObjectionAnswerForm
from .models import Objection


def _objection_or_404(request, pk, objection_id):
    proposal = selectors.get_proposal_or_404(request.user, pk)
    objection = (Objection.objects.select_related("notice", "answered_by", "answered_post")
                 .filter(pk=objection_id, notice__proposal=proposal).first())
    if objection is None:
        raise Http404
    return proposal, objection


def _page(request, proposal, objection, *, form=None, contact=None):
    community = proposal.community
    may_answer = objection.is_open and bool(workflow.may(request.user, "objection_answer", community))
    if may_answer and form is None:
        form = ObjectionAnswerForm()
    return render(request, "approvals/objection.html", {
        "p": proposal, "objection": objection, "contact": contact, "form": form if may_answer else None,
        "may_see_contact": bool(workflow.may(request.user, "objection_contact_view", community)),
    })


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def objection(request, pk, objection_id):
    proposal, obj = _objection_or_404(request, pk, objection_id)
    if request.method == "POST":
        if not (obj.is_open and workflow.may(request.user, "objection_answer", proposal.community)):
            raise Http404
        form = ObjectionAnswerForm(request.POST)
        if form.is_valid():
            try:
                chain.objection_answer(objection=obj, by=request.user, answer=form.cleaned_data["answer"],
                                       channel=form.cleaned_data["channel"])
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("已办理：%(action)s。") % {"action": _("答复异议")})
                return redirect("approvals:proposal", pk=proposal.pk)
        return _page(request, proposal, obj, form=form)
    return _page(request, proposal, obj)


@login_required
@never_cache
@require_POST
def objection_contact(request, pk, objection_id):
    """Show the objector's name and contact to the community's secretary, after recording the look."""
    proposal, obj = _objection_or_404(request, pk, objection_id)
    if not workflow.may(request.user, "objection_contact_view", proposal.community):
        raise Http404
    contact = chain.objection_contact_view(objection=obj, by=request.user)
    return _page(request, proposal, obj, contact=contact)
