"""The main pages answer in a fixed number of SQL queries, whatever the number of communities and projects.

The data comes from `seed_scale` (the benchmark's generator) at two sizes; every page is fetched at both and
its query count must equal the number below. A change that adds a query per row (an N+1) makes the larger
size differ and fails here; a change that adds a fixed query changes the number below, on purpose, in review.
"""
import datetime

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import get_objects_for_user

from approvals.models import Proposal, State
from fundapp import rights
from fundapp.models import Community
from tests.chain import travel

TODAY = datetime.date(2026, 11, 20)
YEAR = TODAY.year

# (page, who is logged in (None: a resident), url pattern) — {code}, {year}, {live} (a proposal in progress),
# {done} (a completed one) are filled in from the seeded data.
PAGES = [
    ("public index", None, "/public/zh/"),
    ("public community-year, uncached", None, "/public/zh/{code}/{year}/"),
    ("public community-year, cached", None, "/public/zh/{code}/{year}/"),
    ("open data JSON, uncached", None, "/public/zh/{code}/{year}.json"),
    ("open data CSV, uncached", None, "/public/zh/{code}/{year}.csv"),
    ("work queue, subdistrict secretary", "sd0001-secretary", "/"),
    ("work queue, construction director", "sd0001-director", "/"),
    ("work queue, subdistrict staff", "sd0001-staff", "/"),
    ("work queue, finance officer", "sd0001-finance", "/"),
    ("work queue, community secretary", "c00001-secretary", "/"),
    ("work queue, community staff", "c00001-staff", "/"),
    ("work queue, supervisor", "c00001-supervisor", "/"),
    ("work queue, city administrator", "scale-city-admin", "/"),
    ("proposal list, subdistrict secretary", "sd0001-secretary", "/proposals/"),
    ("proposal list, community secretary", "c00001-secretary", "/proposals/"),
    ("proposal detail in progress, subdistrict secretary", "sd0001-secretary", "/proposals/{live}/"),
    ("proposal detail completed, subdistrict secretary", "sd0001-secretary", "/proposals/{done}/"),
    ("ledger list, finance officer", "sd0001-finance", "/ledgers/"),
    ("ledger page, finance officer", "sd0001-finance", "/ledgers/{code}/{year}/"),
    ("reconciliation, finance officer", "sd0001-finance", "/finance/reconcile/"),
    ("summary, finance officer", "sd0001-finance", "/finance/summary/"),
]

# Whatever the size. Raise a number only for a fixed cost you mean to add. The homes include their sections by
# role (desk/home.py): a handful of queries each over all of the person's communities.
# Every staff page counts the person's unread notifications once, for the badge in the top bar
# (desk.context_processors.unread_notifications).
# Where each item stands (approvals.standing): the posts of the queue's communities once, and the rows only
# the states shown need (reviews of the reviews, invoices of the accepted…), once each.
EXPECTED = {
    "public index": 2,
    # the data (as the JSON), whether the year-end summary is posted, the names the community's records know,
    # for the publishing step (approvals.publishing), and the audit chain's last published head (audit_head)
    "public community-year, uncached": 11,
    "public community-year, cached": 0,
    "open data JSON, uncached": 10,
    "open data CSV, uncached": 10,
    "work queue, subdistrict secretary": 31,
    "work queue, construction director": 31,
    "work queue, subdistrict staff": 30,
    "work queue, finance officer": 27,
    "work queue, community secretary": 31,
    "work queue, community staff": 20,
    "work queue, supervisor": 22,
    # + the back-office permissions of the post (fundapp.auth.CityAdminBackend); no fund years: the city's money
    # is on the dashboard (desk.dashboard_views), not on the home
    "work queue, city administrator": 17,
    "proposal list, subdistrict secretary": 9,
    "proposal list, community secretary": 10,
    "proposal detail in progress, subdistrict secretary": 33,
    "proposal detail completed, subdistrict secretary": 37,
    "ledger list, finance officer": 8,
    "ledger page, finance officer": 18,
    "reconciliation, finance officer": 14,
    "summary, finance officer": 14,
}


# The homes again in early December, when the year's duties (annual reports overdue since 30 November,
# year-end disclosures due by 19 December) are on them: still a fixed number, whatever the size.
DECEMBER = datetime.date(2026, 12, 2)
HOMES = [page for page in PAGES if page[2] == "/"]
EXPECTED_DECEMBER = {
    "work queue, subdistrict secretary": 31,
    "work queue, construction director": 31,
    "work queue, subdistrict staff": 30,
    "work queue, finance officer": 27,
    "work queue, community secretary": 31,
    "work queue, community staff": 20,
    "work queue, supervisor": 22,
    "work queue, city administrator": 19,  # + the reports and disclosures counted
}


def _counts(pages=PAGES):
    community = Community.objects.get(code="c00001")
    this_year = Proposal.objects.filter(fund_year__year=YEAR).order_by("pk")
    values = {"code": community.code, "year": YEAR,
              "live": this_year.filter(state=State.IN_PROGRESS).first().pk,
              "done": this_year.filter(state=State.COMPLETED).first().pk}
    clients, counts = {}, {}
    # Content types are cached per process, as in a long-running web worker: warm, so that no page pays
    # for the first lookup depending on which page happens to come first.
    ContentType.objects.clear_cache()
    ContentType.objects.get_for_models(*apps.get_models())
    # django-guardian caches the content type of each permission codename per process, likewise.
    anybody = get_user_model().objects.get(username="scale-city-admin")
    for codename in sorted(rights.ALL_PERMISSIONS):
        get_objects_for_user(anybody, f"fundapp.{codename}", klass=Community, accept_global_perms=False).exists()
    for name, username, pattern in pages:
        if "uncached" in name:
            cache.clear()
        if username not in clients:
            clients[username] = Client()
            if username:
                clients[username].force_login(get_user_model().objects.get(username=username))
        url = pattern.format(**values)
        with CaptureQueriesContext(connection) as queries:
            response = clients[username].get(url)
        assert response.status_code == 200, (name, url, response.status_code)
        counts[name] = len(queries.captured_queries)
    return counts


@pytest.mark.parametrize("communities, projects", [(2, 23), (8, 46)], ids=["small", "larger"])
def test_query_counts_are_fixed(db, communities, projects):
    with travel(TODAY):
        # One subdistrict holding every community, so the subdistrict's people see all of them.
        call_command("seed_scale", communities=communities, years=2, projects=projects,
                     big_subdistrict=communities, stdout=open("/dev/null", "w"))
        cache.clear()
        counts = _counts()
    with travel(DECEMBER):
        december = _counts(HOMES)
    assert counts == EXPECTED
    assert december == EXPECTED_DECEMBER
