"""Staff pages of the approval chain. Each view parses input, fetches through a rights check (404 for
"missing" and "not yours" alike) and calls a service; a refused rule comes back as a form error."""
from django.contrib import messages
from django.db.models import Case, When
from django.contrib.auth.decorators import login_required
from django.core.validators import slug_re
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fundapp import clock, rights
from fundapp.errors import DomainError
from fundapp.models import FundYear
from workdays import calendar

from . import pdf, reports, selectors
from . import services as chain
from .actions import ACTIONS, offer, offers
from .forms import (BudgetLineFormSet, NeedForm, ProposalForm, ReportEvaluateForm, ReportSubmitForm, action_form,
                    plausible_pk, procurement_initial)
from . import workflow
from .models import EDITABLE, AnnualReport, Category, Document, Invoice, Need, Proposal, State


@login_required
def proposal_list(request):
    state = request.GET.get("state") or None
    if state not in State.values:
        state = None
    proposals = selectors.proposals_for(request.user, state=state)
    return render(request, "approvals/proposal_list.html", {
        "proposals": proposals[:200], "state": state, "states": State.choices,
        "can_draft": workflow.communities_for(request.user, "proposal_create").exists(),
    })


@login_required
def proposal_detail(request, pk):
    with chain.rights_of(request.user) as snapshot:
        proposal = selectors.get_proposal_or_404(request.user, pk, snapshot)
        proposal, timeline = selectors.proposal_detail(proposal)
        found = offers(request.user, proposal)
        can_edit = proposal.state in EDITABLE and chain.may_now(request.user, "proposal_update", proposal.community)
    available = {}
    for o in found:
        if o.available:
            available.setdefault(o.action, []).append(o.target)
    return render(request, "approvals/proposal_detail.html", {
        "p": proposal, "timeline": timeline, "fund_year": proposal.fund_year,
        "offers": found, "actions": list(available.items()), "can_edit": can_edit,
        "blocked": [o for o in found if not o.available],
    })


def _plan_from(form, formset):
    lines = [(f.cleaned_data["item"], f.cleaned_data["amount"], f.cleaned_data.get("in_procurement_catalogue"))
             for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
    data = dict(form.cleaned_data)
    needs = data.pop("needs")
    return data, lines, needs


@login_required
@require_http_methods(["GET", "POST"])
def proposal_create(request):
    communities = workflow.communities_for(request.user, "proposal_create")
    code = request.GET.get("community") or request.POST.get("community")
    community = communities.filter(code=code).first() if code and slug_re.match(code) else None
    if code and community is None:
        raise Http404
    if community is None:
        if communities.count() != 1:
            return render(request, "approvals/choose_community.html", {"communities": communities})
        community = communities.get()
    # Opened from a need of the register ("据此起草项目"): that need is ticked.
    need = request.GET.get("need", "")
    initial = {"needs": [int(need)]} if plausible_pk(need) else {}
    form = ProposalForm(request.POST or None, community=community, initial=initial)
    formset = BudgetLineFormSet(request.POST or None, prefix="lines")
    if "add_line" in request.POST:  # "增加一行" without JavaScript: the same page with one more line, nothing saved
        formset = formset.add_line()
    elif request.method == "POST" and form.is_valid() and formset.is_valid():
        data, lines, needs = _plan_from(form, formset)
        try:
            proposal = chain.proposal_create(community=community, by=request.user, lines=lines, needs=needs, **data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("项目草稿已保存。"))
            return redirect("approvals:proposal", pk=proposal.pk)
    return render(request, "approvals/proposal_form.html", {
        "form": form, "formset": formset, "community": community, "fund_year": _fund_year(community),
    })


@login_required
@require_http_methods(["GET", "POST"])
def proposal_edit(request, pk):
    proposal = selectors.get_proposal_or_404(request.user, pk)
    if not workflow.may(request.user, "proposal_update", proposal.community) or proposal.state not in EDITABLE:
        raise Http404
    initial = {k: getattr(proposal, k) for k in chain.PLAN_FIELDS}
    initial["needs"] = list(proposal.needs.all())
    form = ProposalForm(request.POST or None, community=proposal.community, initial=initial)
    formset = BudgetLineFormSet(request.POST or None, prefix="lines", initial=[
        {"item": ln.item, "amount": ln.amount,
         "in_procurement_catalogue": procurement_initial(ln.in_procurement_catalogue)} for ln in proposal.lines.all()])
    if "add_line" in request.POST:
        formset = formset.add_line()
    elif request.method == "POST" and form.is_valid() and formset.is_valid():
        data, lines, needs = _plan_from(form, formset)
        try:
            chain.proposal_update(proposal=proposal, by=request.user, lines=lines, needs=needs, **data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("方案已保存。"))
            return redirect("approvals:proposal", pk=proposal.pk)
    return render(request, "approvals/proposal_form.html", {
        "form": form, "formset": formset, "community": proposal.community, "fund_year": proposal.fund_year,
        "proposal": proposal,
    })


def _fund_year(community):
    return FundYear.objects.filter(community=community, year=clock.today().year).first()


@login_required
@require_http_methods(["GET", "POST"])
def proposal_action(request, pk, action):
    """One step: ACTIONS[action] names its form and its service. The service layer's dry run says whether the
    step is this person's here and now (else 404) — on a GET with its guards, to show a blocked step with
    its reason instead of a form; a POST goes to the service, which checks everything under its lock. The
    rights come from one snapshot for the whole request (`chain.rights_of`), which the service uses too."""
    ui = ACTIONS.get(action)
    if ui is None:
        raise Http404
    target_id = request.GET.get("target") or request.POST.get("target") or ""
    with chain.rights_of(request.user) as snapshot:
        proposal = selectors.get_proposal_or_404(request.user, pk, snapshot)
        found = offer(request.user, proposal, ui, int(target_id) if plausible_pk(target_id) else None,
                      guards=request.method == "GET")
        if found is None:
            raise Http404
        return _action_page(request, proposal, ui, found)


def _action_page(request, proposal, ui, found):
    target = found.target
    form = action_form(ui.form, request.POST or None, request.FILES or None, proposal=proposal, target=target,
                       owner=request.user)
    preview = None
    if not found.available:
        pass  # blocked: the page says why (and from when), and offers no form
    elif request.method == "POST" and form.is_valid():
        # Files are chosen on the confirmation step: a browser cannot carry a chosen file to a second page.
        if ui.previewed and "confirm" not in request.POST:
            # Show the computed last day before the secretary confirms (SPEC §5).
            try:
                posted, days = form.cleaned_data["posted_on"], form.cleaned_data["working_days"]
                preview = {"last": calendar.notice_last_day(posted, days),
                           "next": calendar.notice_next_step_day(posted, days)}
            except calendar.CalendarError as exc:
                form.add_error("posted_on", str(exc))
        else:
            try:
                ui.run(form, proposal=proposal, by=request.user, target=target)
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                if hasattr(form, "uploads_used"):
                    form.uploads_used()  # the files kept across a refused submit are now the step's documents
                messages.success(request, _("已办理：%(action)s。") % {"action": ui.label})
                return redirect(_next_step_url(request.user, proposal.pk, ui)
                                or reverse("approvals:proposal", args=[proposal.pk]))
    return render(request, "approvals/action.html", {
        "p": proposal, "ui": ui, "form": form, "target": target, "preview": preview, "offer": found,
        "feedback": chain.feedback_tally(proposal) if ui.name == "acceptance" else None,
        "needs_preview": ui.previewed,
        "target_kind": ui.target.__name__.lower() if ui.target else "",
    })


def _next_step_url(user, pk, ui):
    """The form of the step this person takes next (`Action.then`), when it is now offered to them on exactly
    one object: they are led there instead of back to the proposal's page."""
    if not ui.then:
        return None
    fresh = Proposal.objects.get(pk=pk)
    found = [o for o in offers(user, fresh) if o.action.name == ui.then and o.available]
    if len(found) != 1:
        return None
    url = reverse("approvals:proposal-action", args=[pk, ui.then])
    return url + (f"?target={found[0].target.pk}" if found[0].target is not None else "")


@login_required
def proposal_pdf(request, pk):
    proposal = selectors.get_proposal_or_404(request.user, pk)
    content = pdf.application_form(proposal)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="application-{proposal.pk}.pdf"'
    return response


@login_required
def document_download(request, pk):
    document = get_object_or_404(Document.objects.select_related("proposal__community"), pk=pk)
    if not rights.check(request.user, "view_fund", document.proposal.community):
        raise Http404
    response = FileResponse(document.file.open("rb"), content_type=document.content_type, as_attachment=True,
                            filename=document.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def needs(request):
    communities = rights.communities_for(request.user, "view_fund")
    writable = workflow.communities_for(request.user, "need_record")
    code = request.GET.get("community") or request.POST.get("community")
    if code and not slug_re.match(code):  # not a community code (a NUL byte would even upset PostgreSQL)
        raise Http404
    community = writable.filter(code=code).first() if code else (writable.first() if writable.count() == 1 else None)
    if (code and community is None) or (request.method == "POST" and community is None):
        raise Http404  # not a community this person records needs for: the same answer as a missing one
    form = NeedForm(request.POST or None) if community else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            chain.need_record(community=community, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("需求已登记。"))
            return redirect(f"{request.path}?community={community.code}")
    register = (Need.objects.filter(community__in=communities).select_related("community")
                .order_by("-recorded_at")[:200])
    draftable = set(workflow.communities_for(request.user, "proposal_create").values_list("pk", flat=True))
    return render(request, "approvals/needs.html", {
        "needs": register, "form": form, "community": community, "writable": writable, "draftable": draftable,
    })


# Waiting invoices first: being signed, then awaiting settlement.
INVOICE_ORDER = [Invoice.Status.SIGNING, Invoice.Status.SIGNED, Invoice.Status.SETTLED, Invoice.Status.RETURNED]


@login_required
def invoices(request):
    """Invoices of the communities this person can see, those waiting first (finance: awaiting settlement)."""
    status = request.GET.get("status") or None
    if status not in Invoice.Status.values:
        status = None
    rows = (Invoice.objects.filter(proposal__community__in=rights.communities_for(request.user, "view_fund"))
            .select_related("proposal", "proposal__community").prefetch_related("signatures")
            .order_by(Case(*[When(status=s, then=i) for i, s in enumerate(INVOICE_ORDER)]), "-registered_at"))
    if status:
        rows = rows.filter(status=status)
    return render(request, "approvals/invoices.html", {"invoices": rows[:300], "status": status,
                                                       "statuses": Invoice.Status.choices})


@login_required
def annual_reports(request):
    year = clock.plausible_year(request.GET.get("year"), clock.today().year)
    return render(request, "approvals/reports.html", {
        "year": year, "reports": reports.reports_for(request.user, year),
        "flagged": reports.missing_or_late(request.user, year), "due": reports.due_date(year),
    })


@login_required
@require_http_methods(["GET", "POST"])
def annual_report(request, pk):
    report = get_object_or_404(AnnualReport.objects.select_related("community"), pk=pk)
    if not rights.check(request.user, "view_fund", report.community):
        raise Http404
    can_submit = report.status == AnnualReport.Status.DRAFT and workflow.may(request.user, "annual_report_submit",
                                                                             report.community)
    can_evaluate = report.status == AnnualReport.Status.SUBMITTED and workflow.may(
        request.user, "annual_report_evaluate", report.community)
    form = None
    if can_submit:
        form = ReportSubmitForm(request.POST or None, initial={"narrative": report.narrative})
    elif can_evaluate:
        form = ReportEvaluateForm(request.POST or None)
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            if can_submit:
                reports.annual_report_submit(report=report, by=request.user, **form.cleaned_data)
            else:
                reports.annual_report_evaluate(report=report, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已报送街道党工委。") if can_submit else _("评议已保存。"))
            return redirect("approvals:report", pk=report.pk)
    elif request.method == "POST":
        if form is None:
            raise Http404
    return render(request, "approvals/report.html", {
        "report": report, "form": form, "can_submit": can_submit, "can_evaluate": can_evaluate,
        "categories": dict(Category.choices), "states": dict(State.choices),
    })
