"""Where a proposal stands, the basis of a decision and what a confirmation changes, for the templates that
include them (templates/approvals/_standing.html, _basis.html, _effect.html, _objection.html). Each tag calls
one selector of approvals; a page that already holds the answer (the work queue's `item.standing`) passes
it instead."""
from django import template

from approvals import basis, standing
from approvals import workflow
from fundapp import clock

register = template.Library()


@register.simple_tag
def standing_of(proposal):
    """approvals.standing.standing for one proposal (its page, its paper)."""
    return standing.standing(proposal, clock.today())


@register.simple_tag
def stepper_of(proposal):
    return standing.stepper(proposal)


@register.simple_tag(takes_context=True)
def decision_basis_of(context, proposal, action):
    """The basis of the consent, review or change decision `action`; None for any other action."""
    if action not in basis.DECISIONS:
        return None
    return basis.decision_basis(proposal, user=context["request"].user, today=clock.today())


@register.simple_tag
def effect_of(proposal, action, target=None):
    return basis.effect_summary(proposal, action, target=target, today=clock.today())


@register.simple_tag(takes_context=True)
def may_see_objector(context, proposal):
    """May the person reading see (on request, recorded) the objectors' names and contacts of `proposal`?"""
    request = context["request"]
    answers = request.__dict__.setdefault("_may_see_objector", {})  # once per page, not per objection
    if proposal.community_id not in answers:
        answers[proposal.community_id] = bool(workflow.may(request.user, "objection_contact_view",
                                                           proposal.community))
    return answers[proposal.community_id]
