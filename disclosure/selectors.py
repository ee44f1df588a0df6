"""Reading the year-end disclosures."""
from fundapp import clock
from fundapp.models import Community

from .models import YearEndDisclosure, deadline


def not_posted_in_time(year):
    """Communities without a year-end disclosure posted before 20 December of `year`: none at all, or one posted
    late. For the dashboards; before the deadline it lists those not posted yet."""
    in_time = YearEndDisclosure.objects.filter(year=year, posted_on__lte=deadline(year)).values("community_id")
    return (Community.objects.exclude(pk__in=in_time).select_related("subdistrict")
            .order_by("subdistrict__name", "name"))


def disclosure_status(year):
    """For the batches page: how many communities have this year's disclosure complete (the row, its poster
    file, the file's checksum matching), which lack their poster, and which are not in time."""
    from .services import poster_intact

    posted = YearEndDisclosure.objects.filter(year=year)
    late = list(not_posted_in_time(year))
    disclosures = {d.community_id: d for d in posted.filter(community__in=late)}
    rows = list(posted.select_related("community__subdistrict").order_by("community__subdistrict__name",
                                                                        "community__name"))
    incomplete = [d for d in rows if not poster_intact(d, remember=True)]
    return {
        "year": year,
        "deadline": deadline(year),
        "past_deadline": clock.today() > deadline(year),
        "posted": len(rows) - len(incomplete),
        "communities": Community.objects.count(),
        "flagged": [(c, disclosures.get(c.pk)) for c in late],
        "incomplete": incomplete,
    }


def public_disclosure(code, year):
    return (YearEndDisclosure.objects.select_related("community__subdistrict")
            .filter(community__code=code, year=year).first())
