"""Open data a program can use: the city-wide CSV and JSON (streamed), the published JSON Schemas — checked here
against what the endpoints return — and the notices' Atom feeds."""
import csv
import datetime
import io
import json
import xml.etree.ElementTree as ET
from decimal import Decimal

import jsonschema
import pytest
from django.conf import settings
from django.http import StreamingHttpResponse
from django.urls import reverse

from approvals.models import Notice
from fundapp.models import FundYear
from public.tests.test_public import build_year_with_everything
from tests.chain import allocate, draft, meeting_passed, travel
from tests.snapshot import org_snapshot_fixtures

D = datetime.date
ATOM = "{http://www.w3.org/2005/Atom}"
SCHEMAS = settings.BASE_DIR / "public" / "schemas"

year_with_everything_snapshot, year_with_everything = org_snapshot_fixtures(build_year_with_everything)


def schema(name):
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


def validate(instance, name):
    validator = jsonschema.Draft202012Validator(schema(name), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, [(list(e.path), e.message) for e in errors[:5]]


def body(response):
    assert isinstance(response, StreamingHttpResponse)  # streamed, never built whole for a city
    return b"".join(response.streaming_content).decode("utf-8")


def test_the_schemas_are_valid_json_schemas():
    for name in ("fund-community-year-2", "fund-city-1"):
        jsonschema.Draft202012Validator.check_schema(schema(name))


@pytest.mark.django_db
def test_every_json_file_answers_to_its_published_schema(year_with_everything, client):
    org = year_with_everything["org"]
    allocate(org, code="b1", year=2025)
    with travel(D(2026, 11, 17)):
        for code, year in (("a1", 2026), ("a2", 2026), ("b1", 2025)):
            data = client.get(reverse("public:community-year-json", args=[code, year])).json()
            validate(data, "fund-community-year-2")
        city = json.loads(body(client.get(reverse("public:city-json"))))
    validate(city, "fund-city-1")
    # The schema catches what it promises: an amount as a number is refused.
    data["totals"] = {**(data["totals"] or {}), "settled": 28000.0}
    with pytest.raises(AssertionError):
        validate(data, "fund-community-year-2")
    for name in ("fund-community-year-2", "fund-city-1"):
        served = client.get(reverse("public:schema", args=[name]))
        assert served["Content-Type"].startswith("application/schema+json") and served.json() == schema(name)
    assert client.get(reverse("public:schema", args=["nothing-1"])).status_code == 404


@pytest.mark.django_db
def test_the_city_files_hold_every_community_and_year_with_the_ledger_figures(year_with_everything, client):
    org = year_with_everything["org"]
    allocate(org, code="b1", year=2025, amount=Decimal("50000.00"))
    with travel(D(2026, 11, 17)):
        city = json.loads(body(client.get(reverse("public:city-json"))))
        response = client.get(reverse("public:city-csv"))
        assert response["Content-Disposition"] == 'attachment; filename="fund-city.csv"'
        text = body(response)
    assert city["schema"] == "fund-city/1" and city["as_of"] == "2026-11-17"
    rows = {(r["community_code"], r["year"]): r for r in city["fund_years"]}
    assert set(rows) == {(fy.community.code, fy.year) for fy in FundYear.objects.select_related("community")}
    a1 = FundYear.objects.get(community__code="a1", year=2026)
    assert rows[("a1", 2026)]["settled"] == str(a1.settled) == "28500.00"
    assert rows[("a1", 2026)]["available"] == str(a1.available)
    assert rows[("a1", 2026)]["projects"] == 2  # 路灯维修 and 健身器材, both put to a notice
    assert rows[("b1", 2025)]["allocated"] == "50000.00" and rows[("b1", 2025)]["projects"] == 0
    assert rows[("a1", 2026)]["json"] == reverse("public:community-year-json", args=["a1", 2026])
    # The CSV: a BOM, the header as a JSON comment, the columns, the same rows.
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text[1:])))
    assert json.loads(lines[0][0][2:])["schema"] == "fund-city/1"
    records = [dict(zip(lines[1], line)) for line in lines[2:]]
    assert [(r["community_code"], int(r["year"])) for r in records] == [
        (r["community_code"], r["year"]) for r in city["fund_years"]]
    assert {k: str(v) for k, v in city["fund_years"][0].items()} == records[0]


@pytest.mark.django_db
def test_the_feeds_hold_only_published_notices_newest_first(year_with_everything, client):
    org = year_with_everything["org"]
    meeting_passed(org, draft(org, title="未公示的项目"))  # passed by the meeting, never put to a notice
    # A notice taken down (withdrawn) is no longer before residents.
    taken_down = year_with_everything["notice"]
    Notice.objects.filter(pk=taken_down.pk).update(status=Notice.Status.WITHDRAWN)
    with travel(D(2026, 11, 17)):
        city = client.get(reverse("public:city-feed"))
        community = client.get(reverse("public:community-feed", args=["a1"]))
        other = client.get(reverse("public:community-feed", args=["b1"]))
        assert client.get(reverse("public:community-feed", args=["nowhere"])).status_code == 404
    assert city["Content-Type"].startswith("application/atom+xml") and city["Cache-Control"] == "public, max-age=60"
    entries = ET.fromstring(city.content).findall(f"{ATOM}entry")
    published = Notice.objects.filter(status__in=["running", "ended"]).order_by("-posted_on", "-pk")
    assert [e.find(f"{ATOM}link").get("href").rsplit("#notice-", 1)[1] for e in entries] == [
        str(n.pk) for n in published]
    assert len(entries) == 2  # the plan and voucher notices of 路灯维修 — not 健身器材's, taken down
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert all("路灯维修" in t for t in titles) and not any("未公示" in t or "健身器材" in t for t in titles)
    updated = [e.find(f"{ATOM}updated").text for e in entries]
    assert updated == sorted(updated, reverse=True)
    assert len(ET.fromstring(community.content).findall(f"{ATOM}entry")) == 2
    assert ET.fromstring(other.content).findall(f"{ATOM}entry") == []


@pytest.mark.django_db
def test_a_feed_is_cached_until_the_next_act(year_with_everything, client, django_assert_num_queries):
    org = year_with_everything["org"]
    url = reverse("public:community-feed", args=["a1"])
    with travel(D(2026, 11, 17)):
        first = client.get(url)
        with django_assert_num_queries(0):
            assert client.get(url).content == first.content
        proposal = meeting_passed(org, draft(org, title="楼道扶手加装"), day=D(2026, 11, 17))
        from approvals import services as chain
        from fundapp.models import Role

        chain.notice_post(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY), posted_on=D(2026, 11, 17))
        entries = ET.fromstring(client.get(url).content).findall(f"{ATOM}entry")
    assert "楼道扶手加装" in entries[0].find(f"{ATOM}title").text  # the newest first
