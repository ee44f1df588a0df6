"""/public/ at a city's scale: one line per subdistrict with the year's totals, the communities of one
subdistrict on its own page; the index costs the same queries and bytes however many communities there are,
is cached, and a recorded act or a renamed subdistrict is seen at once."""
import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from fundapp.models import Community, FundYear
from fundapp.services import org as org_services
from tests.chain import allocate, travel

D = datetime.date


def grow(org, start, stop):
    """More communities with a fund year each, written in bulk (the index's cost is the subject, not the
    services')."""
    communities = Community.objects.bulk_create(
        [Community(subdistrict=sd, name=f"{sd.name}新{n}社区", code=f"{sd.code}-new-{n}")
         for sd in (org.a, org.b) for n in range(start, stop)])
    FundYear.objects.bulk_create([FundYear(community=c, year=2026, allocated=Decimal("100000.00"))
                                  for c in communities])


@pytest.mark.django_db
def test_the_index_costs_the_same_queries_and_bytes_at_two_city_sizes(org, client, django_assert_num_queries):
    allocate(org)
    url = reverse("public:index")
    sizes = []
    with travel(D(2026, 11, 20)):
        for start, stop in ((0, 1), (1, 150)):  # 6 communities, then 304
            grow(org, start, stop)
            cache.clear()
            with django_assert_num_queries(2):  # the subdistricts with their counts; the grouped fund years
                response = client.get(url)
            sizes.append(len(response.content))
            assert response.status_code == 200
        page = response.content.decode()
    assert abs(sizes[1] - sizes[0]) < 40, sizes  # only the counts' and totals' digits differ
    assert "东城街道新1社区" not in page  # communities are on their subdistrict's page
    assert "304 个社区" in page and "152 个社区" in page
    # The city's and each subdistrict's totals: the fund years added up (a1's 200,000 and 150 × 100,000).
    assert "15,200,000.00" in page and "30,200,000.00" in page


@pytest.mark.django_db
def test_cached_until_an_act_or_a_rename_and_sent_with_cache_control(org, client, django_assert_num_queries):
    url = reverse("public:index")
    with travel(D(2026, 11, 20)):
        first = client.get(url)
        assert first["Cache-Control"] == "public, max-age=60"
        with django_assert_num_queries(0):
            assert client.get(url).content == first.content
        allocate(org, code="b2")  # an audited act of a community: the totals change
        assert "200,000.00" in client.get(url).content.decode()
        org_services.subdistrict_update(subdistrict=org.b, name="西湖街道")
        page = client.get(url).content.decode()
        assert "西湖街道" in page and "西城街道" not in page
        subdistrict_page = client.get(reverse("public:subdistrict", args=["b"]))
        with django_assert_num_queries(0):
            client.get(reverse("public:subdistrict", args=["b"]))
    assert subdistrict_page["Cache-Control"] == "public, max-age=60"


@pytest.mark.django_db
def test_a_subdistrict_page_lists_its_own_communities_with_their_figures(org, client, django_assert_num_queries):
    allocate(org, code="a2", amount=Decimal("123456.00"))
    with travel(D(2026, 11, 20)):
        with django_assert_num_queries(3):  # the subdistrict, its communities, their fund years
            page = client.get(reverse("public:subdistrict", args=["a"])).content.decode()
        assert client.get(reverse("public:subdistrict", args=["nowhere"])).status_code == 404
    assert "东城街道1号社区" in page and "东城街道2号社区" in page and "西城街道1号社区" not in page
    assert "123,456.00" in page and "本年度经费尚未下达" in page
    assert reverse("public:community-year", args=["a2", 2026]) in page
