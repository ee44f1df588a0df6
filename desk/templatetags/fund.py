import re

from django import template

from fundapp import i18n, privacy
from fundapp.amounts import format_yuan

register = template.Library()


@register.filter
def yuan(amount):
    """¥1,234.56"""
    if amount in (None, ""):
        return ""
    return format_yuan(amount)


register.filter("mask_name", privacy.mask_name)
register.filter("redact", privacy.redact)


@register.filter
def step_label(action):
    """"proposal.submit_for_review" → the transition's label in the reader's language."""
    from approvals.workflow import TRANSITIONS

    name = str(action).split(".", 1)[-1]
    transition = TRANSITIONS.get(name)
    if transition is not None:
        return transition.label
    from approvals.labels import OTHER_ACTIONS

    return OTHER_ACTIONS.get(str(action), action)


@register.filter
def state_label(value):
    from approvals.models import State

    try:
        return State(value).label
    except ValueError:
        return value


@register.filter
def get_item(mapping, key):
    return mapping.get(key)


@register.filter
def abs_value(number):
    return abs(number)


@register.filter
def is_checkbox(bound_field):
    """A single yes/no box (not a list of them), rendered with its label beside it."""
    from django.forms import CheckboxInput

    return isinstance(bound_field.field.widget, CheckboxInput)


@register.filter
def long_date(value, form=""):
    """A date as a paper writes it in the reader's language: 2026年12月2日 (English: 2 December 2026).
    `form`: "weekday" adds the day of the week (2026年12月2日 星期三 / Wednesday 2 December 2026), "short" leaves
    out the year (12月2日 / 2 December), "short weekday" both (12月2日 星期三 / Wed 2 December).
    An aware datetime is read in Asia/Shanghai first."""
    form = str(form).strip()
    if form == "weekday":
        return i18n.weekday_date(value)
    if form == "short weekday":
        return i18n.weekday_date(value, year=False)
    if form == "short":
        return i18n.month_day(value)
    return i18n.long_date(value)


@register.filter
def weekday_date(value, arg=""):
    """A deadline with its weekday: 2026年12月5日（星期六）; `|weekday_date:"short"` without the year:
    12月5日（星期六） (English: Saturday 5 December 2026 / Saturday 5 December)."""
    return i18n.weekday_date(value, year=arg != "short")


# "张三 (zhangsan)": how the audit trail names an actor (audit.services._actor_name), login included as
# evidence. Pages show the person: the name alone (with the post beside it), the login stays in the trail.
ACTOR_WITH_LOGIN = re.compile(r"^(?P<name>.+?) \((?P<login>[^()]+)\)$")


@register.filter
def person_name(actor_name):
    """The person's name from an audit record's actor name, without the login in brackets."""
    match = ACTOR_WITH_LOGIN.match(actor_name or "")
    return match.group("name") if match else (actor_name or "")


@register.filter
def signer(act):
    """Who signed an act and in which post at the time: "王某 · 社区建设管理委员会主任" (see approvals.pdf.signer)."""
    from approvals.pdf import signer as signer_label

    return signer_label(act)


@register.simple_tag
def papers_for(proposal):
    """The printable papers of a proposal the page offers: [(label, url), …] (approvals.pdf.papers)."""
    from approvals.pdf import papers

    return papers(proposal)


@register.simple_tag
def demo_as_of():
    """The date development runs as (settings.FUND_AS_OF) for the banner on every page, else None."""
    from fundapp import clock

    return clock.demo_as_of()
