"""The demo's year-end disclosures: in December, the communities that have reported have posted theirs."""
from fundapp import clock
from fundapp.models import Community

from .models import YearEndDisclosure
from .services import disclosure_generate

# The communities whose annual report the demo submits (approvals.demo._seed_reports).
POSTED = ("xingfu", "youyi")


def seed_year_end_disclosures(today=None):
    """From 1 December, this year's disclosure for POSTED (posted today, running 5 working days); before
    December nothing. Idempotent: a disclosure already posted keeps its date. Returns how many were posted."""
    today = today or clock.today()
    if today.month != 12:
        return 0
    posted = 0
    for community in Community.objects.filter(code__in=POSTED).order_by("code"):
        if YearEndDisclosure.objects.filter(community=community, year=today.year).exists():
            continue
        disclosure_generate(community.pk, today.year)
        posted += 1
    return posted
