"""From a disclosure's stored figures to what the public page and the poster show (labels in the reader's
language, amounts as Decimals, the chart and the QR code as inline SVG; project titles through the one
publishing step, fundapp.privacy, with the names the community's records know)."""
from decimal import Decimal

from django.utils.translation import gettext as _

from approvals.models import Category, State
from approvals.publishing import publisher_for
from fundapp.qr import qr_svg

from .charts import PHONE_CHART, bar_chart


def _label(choices, value):
    try:
        return choices(value).label
    except ValueError:
        return value


def project_result(project):
    parts = [_("受益 %(n)s 人") % {"n": project.get("beneficiaries", 0)}]
    if project.get("accepted") is True:
        parts.append(_("验收合格，满意 %(s)s/%(a)s 人") % {"s": project["satisfied"], "a": project["asked"]})
    elif project.get("accepted") is False:
        parts.append(_("验收不合格"))
    return "；".join(parts)


# The page is read on phones: labels on their own lines, ≥ 14 px at 375 px (the poster uses the chart's
# default, wider proportions).
PAGE_CHART = PHONE_CHART


def display(disclosure, chart=None):
    figures = disclosure.figures
    money = {name: Decimal(value) for name, value in figures.get("money", {}).items()}
    categories = [
        {"label": _label(Category, row["category"]), "count": row["count"], "approved": Decimal(row["approved"]),
         "settled": Decimal(row["settled"])}
        for row in figures.get("by_category", [])
    ]
    projects = []
    publisher = publisher_for(disclosure.community_id)
    for row in figures.get("projects", []):
        approved = Decimal(row["approved"])
        projects.append({
            "title": publisher.text(row["title"]),
            "category": _label(Category, row["category"]),
            "state": _label(State, row["state"]),
            "budget": approved if approved > 0 else Decimal(row["budget"]),
            "budget_approved": approved > 0,
            "settled": Decimal(row["settled"]),
            "result": project_result(row),
        })
    totals = figures.get("projects_total", {})
    chart_title = _("按使用范围的支出（已结算）")
    return {
        "d": disclosure,
        "community": disclosure.community,
        "money": money,
        "categories": categories,
        "projects": projects,
        "projects_approved": Decimal(totals.get("approved", "0")),
        "projects_settled": Decimal(totals.get("settled", "0")),
        "chart_title": chart_title,
        "chart": bar_chart([(c["label"], c["settled"]) for c in categories], title=chart_title, **(chart or {})),
    }


def poster_context(disclosure, url):
    return {**display(disclosure), "public_url": url, "qr": qr_svg(url)}
