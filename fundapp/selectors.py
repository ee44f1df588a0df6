"""Reads with meaning: what a page shows, fetched in a fixed number of queries."""
from collections import defaultdict

from django.db.models import Q

from . import clock, rights
from .models import Community, FundYear, Role
from .models.org import COMMUNITY_ROLES


def oversees(user):
    """Subdistrict and city people watch deadlines across communities."""
    return rights.current_posts(user).exclude(role__in=COMMUNITY_ROLES).exists()


def home_overview(user, on=None):
    """The user's posts in force and, per post, the fund years of this year it can see — except the city
    administrator's, which would be every community of the city: theirs is the dashboard (desk.dashboard_views)."""
    on = on or clock.today()
    posts = list(rights.current_posts(user, on).order_by("role", "pk"))
    local = [p for p in posts if p.role != Role.CITY_ADMIN]
    visible = rights.communities_for(user, "view_fund", on) if local else Community.objects.none()
    if any(p.role == Role.CITY_ADMIN for p in posts):
        covered = Q(pk__in=[])
        for post in local:
            covered |= Q(subdistrict_id=post.subdistrict_id) if post.subdistrict_id else Q(pk=post.community_id)
        visible = visible.filter(covered)
    years = defaultdict(list)
    for fund_year in (
        FundYear.objects.filter(community__in=visible, year=on.year)
        .select_related("community", "community__subdistrict")
        .order_by("community__subdistrict__name", "community__name")
    ):
        years[fund_year.community_id].append(fund_year)
    rows = []
    for post in posts:
        fund_years = [] if post.role == Role.CITY_ADMIN else [
            fy for fys in years.values() for fy in fys if post.covers(fy.community)]
        rows.append({"post": post, "fund_years": fund_years})
    return rows


def ledger(fund_year):
    """The fund year's entries with a running balance, in one query."""
    from .models import LedgerEntry

    sign = {LedgerEntry.Kind.ALLOCATION: 1, LedgerEntry.Kind.CARRY_IN: 1, LedgerEntry.Kind.EXPENDITURE: -1,
            LedgerEntry.Kind.CARRY_OUT: -1}
    rows, balance = [], 0
    entries = (fund_year.entries.select_related("reverses", "created_by", "payment__invoice", "payment__proposal")
               .order_by("entry_date", "pk"))
    for entry in entries:
        direction = -sign[entry.reverses.kind] if entry.kind == LedgerEntry.Kind.REVERSAL else sign[entry.kind]
        balance += direction * entry.amount
        rows.append({"entry": entry, "credit": entry.amount if direction > 0 else None,
                     "debit": entry.amount if direction < 0 else None, "balance": balance})
    return rows
