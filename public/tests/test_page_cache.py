"""The cached public page is found by the code in its address and costs no query; a change to the community
or anything recorded for it stops the cached copy at once."""
import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals import services as chain
from fundapp.models import Role
from tests.chain import allocate, draft, travel


@pytest.mark.django_db
def test_a_hit_costs_no_query_and_a_recorded_act_is_seen_at_once(org, client, django_assert_num_queries):
    allocate(org)
    url = reverse("public:community-year", args=["a1", 2026])
    cache.clear()
    with travel(datetime.date(2026, 11, 16)):
        assert client.get(url).status_code == 200
        with django_assert_num_queries(0):
            again = client.get(url)
        assert again.status_code == 200 and again["Cache-Control"] == "public, max-age=60"
        proposal = draft(org, title="新公示项目")
        chain.proposal_submit_for_consent(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY))
        # Not yet public (no notice), but the act made the cached copy stale: the page is built again.
        with CaptureQueriesContext(connection) as rebuilt:
            assert client.get(url).status_code == 200
        assert any("fundapp_community" in q["sql"] for q in rebuilt.captured_queries)


@pytest.mark.django_db
def test_a_renamed_community_old_address_stops_answering_from_the_cache(org, client):
    allocate(org)
    cache.clear()
    old = reverse("public:community-year", args=["a1", 2026])
    assert client.get(old).status_code == 200
    community = org.community("a1")
    community.code = "a1-new"
    community.save()
    assert client.get(old).status_code == 404
    assert client.get(reverse("public:community-year", args=["a1-new", 2026])).status_code == 200


@pytest.mark.django_db
def test_a_page_the_process_remembers_is_not_served_once_the_cache_was_emptied(org, client):
    """Redis restarted without persistence forgets every version; the pages a web process still remembers
    must not match the versions that start again (they start at a random number, not at 1)."""
    from fundapp.models import FundYear

    allocate(org)
    url = reverse("public:community-year", args=["a1", 2026])
    cache.clear()
    assert "200,000.00" in client.get(url).content.decode()
    cache.clear()  # Redis restarted...
    # ...and meanwhile the figures changed in a way this test makes invisible to the signals.
    FundYear.objects.filter(community=org.community("a1"), year=2026).update(allocated="300000.00")
    page = client.get(url).content.decode()
    assert "300,000.00" in page and "200,000.00" not in page
