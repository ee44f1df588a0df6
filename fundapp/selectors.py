"""Reads with meaning: what a page shows, fetched in a fixed number of queries."""
from collections import defaultdict

from django.utils import timezone

from . import rights
from .models import FundYear


def home_overview(user, on=None):
    """The user's posts in force and, per post, the fund years of this year it can see."""
    on = on or timezone.localdate()
    posts = list(rights.current_posts(user, on).order_by("role", "pk"))
    visible = rights.communities_for(user, "view_fund", on)
    years = defaultdict(list)
    for fund_year in (
        FundYear.objects.filter(community__in=visible, year=on.year)
        .select_related("community", "community__subdistrict")
        .order_by("community__subdistrict__name", "community__name")
    ):
        years[fund_year.community_id].append(fund_year)
    rows = []
    for post in posts:
        fund_years = [fy for fys in years.values() for fy in fys if post.covers(fy.community)]
        rows.append({"post": post, "fund_years": fund_years})
    return rows
