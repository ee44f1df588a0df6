"""The year close as a batch (kind "year_close") and the city administrator's page that previews and starts it.

Eager mode here (no broker, as in test_batches.py); the same run on a real Celery worker is in
batches/tests/test_year_close_worker.py.
"""
import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditRecord
from batches import registry, services
from batches.models import BatchRun
from fundapp.models import FundYear, LedgerEntry, Role
from tests.chain import allocate, approve, draft, to_review, travel

D = datetime.date
YEAR = 2026
IN_2027 = D(2027, 1, 4)


@pytest.fixture
def city_2026(org):
    """a1: 200,000 allocated, one approved project reserving 20,000 and one draft; b1: 50,000; a2, b2: nothing."""
    allocate(org, "a1")
    allocate(org, "b1", amount=Decimal("50000.00"))
    approve(org, to_review(org, draft(org, budget="20000.00", title="在建项目")))
    draft(org, budget="5000.00", title="草稿项目")
    return org


def carried_in(code, year=YEAR + 1):
    return FundYear.objects.filter(community__code=code, year=year).values_list("carried_in", flat=True).first()


@pytest.mark.django_db
def test_year_close_is_a_registered_kind_started_from_its_own_page():
    assert registry.handler_for("year_close").__name__ == "year_close_batch_item"
    # Both are started by a person, who is named on what they make (the close; every poster version).
    assert registry.wants_requester("year_close") and registry.wants_requester("disclosures")
    assert registry.start_page("year_close") == "batches:year-close"
    assert "year_close" not in dict(registry.choices())  # not in the generic form, which has no preview


@pytest.mark.django_db
def test_the_batch_closes_every_community_once_in_the_administrators_name(city_2026):
    org = city_2026
    with travel(IN_2027):
        run = services.batch_run_inline(services.batch_start("year_close", YEAR, by=org.city_admin,
                                                             dispatch=False))
        assert (run.status, run.total, run.done_count, run.failed_count) == ("done", 4, 4, 0)
        assert set(FundYear.objects.filter(year=YEAR).values_list("status", flat=True)) == {"closed"}
        entries = LedgerEntry.objects.filter(kind__in=("carry_out", "carry_in")).count()
        closes = AuditRecord.objects.filter(action="fund.close_year")
        assert closes.count() == 4
        # The audit records name the administrator who started the run, though a task did the work.
        assert set(closes.values_list("actor", flat=True)) == {org.city_admin.pk}
        assert {r.actor_name for r in closes} == {"city (city)"}
        assert all("市委组织部管理员" in r.post_label for r in closes)  # acting in their post
        moved = AuditRecord.objects.filter(action="proposal.carried_over")  # a1's two unfinished projects
        assert moved.count() == 2 and set(moved.values_list("actor", flat=True)) == {org.city_admin.pk}

        again = services.batch_run_inline(services.batch_start("year_close", YEAR, by=org.city_admin,
                                                               dispatch=False))
        assert (again.status, again.done_count) == ("done", 4)
    # Run twice: nothing carried twice, no second close recorded.
    assert LedgerEntry.objects.filter(kind__in=("carry_out", "carry_in")).count() == entries
    assert AuditRecord.objects.filter(action="fund.close_year").count() == 4
    assert AuditRecord.objects.filter(action="proposal.carried_over").count() == 2
    assert carried_in("a1") == Decimal("200000.00")  # 180,000 available + 20,000 reserved
    assert carried_in("b1") == Decimal("50000.00")


@pytest.mark.django_db
def test_a_refusal_fails_that_community_only_with_its_message_and_the_rerun_completes(
        city_2026, django_capture_on_commit_callbacks):
    org = city_2026
    # b1's next year was closed by mistake: it cannot take the carry-over; the others go on.
    FundYear.objects.create(community=org.community("b1"), year=YEAR + 1, status=FundYear.Status.CLOSED)
    with travel(IN_2027):
        run = services.batch_run_inline(services.batch_start("year_close", YEAR, by=org.city_admin,
                                                             dispatch=False))
        assert (run.status, run.done_count, run.failed_count) == ("failed", 3, 1)
        failed = run.items.get(status="failed")
        assert failed.community.code == "b1"
        assert "Traceback" not in failed.error and "2027年度已结转" in failed.error_summary
        assert FundYear.objects.get(community__code="a1", year=YEAR).is_closed
        assert not FundYear.objects.get(community__code="b1", year=YEAR).is_closed

        FundYear.objects.filter(community__code="b1", year=YEAR + 1).update(status=FundYear.Status.OPEN)
        with django_capture_on_commit_callbacks(execute=True):
            assert services.batch_rerun_failures(run, by=org.city_admin) == 1
    run.refresh_from_db()
    assert (run.status, run.done_count, run.failed_count) == ("done", 4, 0)
    assert FundYear.objects.get(community__code="b1", year=YEAR).is_closed
    assert carried_in("b1") == Decimal("50000.00")


@pytest.mark.django_db
def test_the_current_year_fails_every_item_with_the_reason(city_2026):
    with travel(D(2026, 12, 1)):
        run = services.batch_run_inline(services.batch_start("year_close", YEAR, by=city_2026.city_admin,
                                                             dispatch=False))
    assert (run.status, run.failed_count) == ("failed", 4)
    assert "尚未结束" in run.items.first().error
    assert not FundYear.objects.filter(year=YEAR, status="closed").exists()


# ----------------------------------------------------------------------------------------------- the page

def page(client, year=None):
    url = reverse("batches:year-close") + (f"?year={year}" if year else "")
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_page_is_for_the_city_administrator_in_office(org, client):
    url = reverse("batches:year-close")
    start = reverse("batches:year-close-start")
    assert client.get(url).status_code == 302  # to the login page
    for role in (Role.SUBDISTRICT_SECRETARY, Role.FINANCE_OFFICER, Role.COMMUNITY_SECRETARY):
        client.force_login(org.person(role))
        assert client.get(url).status_code == 403
        assert client.post(start, {"year": "2025", "confirm": "1"}).status_code == 403
    assert not BatchRun.objects.exists()
    client.force_login(org.city_admin)
    assert client.get(url).status_code == 200
    assert client.get(reverse("batches:runs")).status_code == 200
    home = client.get(reverse("home")).content.decode()
    assert url in home  # the way in, from the administrator's desk


@pytest.mark.django_db
def test_the_preview_shows_each_communitys_carry_over_by_subdistrict(city_2026, client):
    org = city_2026
    with travel(IN_2027):
        client.force_login(org.city_admin)
        html = page(client, YEAR)
    # a1: 180,000 available + 20,000 reserved carried; two unfinished projects move; b1: 50,000.
    assert "东城街道" in html and "西城街道" in html and "东城街道1号社区" in html
    assert "¥180,000.00" in html and "¥20,000.00" in html and "¥200,000.00" in html and "¥50,000.00" in html
    assert "将结转 4 个社区，合计 ¥250,000.00；2 个项目转入下一年度；已结转的 0 个社区不受影响。" in html
    assert 'name="confirm"' in html and reverse("batches:year-close-start") in html
    assert "<script" not in html.split("</head>")[1]  # no inline script (CSP)


@pytest.mark.django_db
def test_the_current_year_is_not_offered_and_says_from_when(city_2026, client):
    with travel(D(2026, 12, 1)):
        client.force_login(city_2026.city_admin)
        html = page(client, YEAR)
        assert "2026年度 2027年1月1日起可结转。" in html
        assert reverse("batches:year-close-start") not in html
        response = client.post(reverse("batches:year-close-start"),
                               {"year": "2026", "confirm": "1", "to_close": "4", "carry": "250000.00"})
        assert response.status_code == 302
        assert not BatchRun.objects.exists()
        assert "2027年1月1日起可结转" in client.get(response["Location"]).content.decode()
        assert "2026" in page(client)  # the default is last year, 2025, whose preview it shows
        assert 'value="2025" selected' in page(client)


@pytest.mark.django_db
def test_confirming_starts_a_run_over_the_open_communities(city_2026, client, django_capture_on_commit_callbacks):
    org = city_2026
    start = reverse("batches:year-close-start")
    with travel(IN_2027):
        client.force_login(org.city_admin)
        from approvals.year_close import fund_year_close

        fund_year_close(community=org.community("b2"), year=YEAR, by=org.city_admin)  # closed already
        html = page(client, YEAR)
        assert "将结转 3 个社区，合计 ¥250,000.00；2 个项目转入下一年度；已结转的 1 个社区不受影响。" in html
        posted = {"year": str(YEAR), "to_close": "3", "carry": "250000.00"}
        # Without the confirmation box, or with figures that changed since the preview: nothing starts.
        assert client.post(start, posted).status_code == 302
        assert client.post(start, {**posted, "confirm": "1", "carry": "240000.00"}).status_code == 302
        assert not BatchRun.objects.exists()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(start, {**posted, "confirm": "1"})
        run = BatchRun.objects.get(kind="year_close")
        assert response["Location"] == reverse("batches:run", args=[run.pk])
        assert run.requested_by == org.city_admin and run.year == YEAR
        assert sorted(run.items.values_list("community__code", flat=True)) == ["a1", "a2", "b1"]
        run.refresh_from_db()
        assert (run.status, run.done_count) == ("done", 3)
        detail = client.get(response["Location"]).content.decode()
        assert "年度结转（第十三条）" in detail
        after = page(client, YEAR)
        assert "各社区均已结转" in after and start not in after and f"#{run.pk}" in after
        # The generic form cannot start it behind the preview's back.
        assert client.post(reverse("batches:start"), {"kind": "year_close", "year": "2026"})["Location"] == \
            reverse("batches:year-close")
    assert BatchRun.objects.filter(kind="year_close").count() == 1
    assert set(AuditRecord.objects.filter(action="fund.close_year").values_list("actor", flat=True)) == {
        org.city_admin.pk}


@pytest.mark.django_db
def test_the_page_in_english(city_2026, client, settings):
    with travel(D(2026, 12, 1)):
        client.force_login(city_2026.city_admin)
        client.cookies["django_language"] = "en"
        html = client.get(reverse("batches:year-close") + "?year=2026").content.decode()
    assert "Year-end carry-over 2026" in html and "2026 can be carried over from 1 January 2027." in html


# ------------------------------------------------------------------------------------------ query counts

# Session and user, the post in office, the years offered, the preview (communities; fund years with their
# moving projects), the runs for the year, the unread notifications (the badge), and the session's refresh
# (savepoint, update, release).
PREVIEW_QUERIES = 11


@pytest.mark.parametrize("extra", [0, 12], ids=["4 communities", "16 communities"])
def test_the_preview_costs_a_fixed_number_of_queries(org, extra, client):
    """The page reads the whole city in the same number of queries, whatever its size: the four
    communities of `org` with projects, plus `extra` communities with an allocation each, in a third
    subdistrict; one community closed already."""
    from fundapp.services import org as org_services
    from approvals.year_close import fund_year_close
    from fundapp.services.ledger import fund_year_allocate

    with travel(D(2025, 3, 1)):
        allocate(org, "a1", year=2025)
        allocate(org, "b1", year=2025, amount=Decimal("80000.00"))
        draft(org, "a1", budget="5000.00", title="草稿项目", year=2025)
        draft(org, "b1", budget="8000.00", title="另一个草稿", year=2025)
        c = org_services.subdistrict_create(name="南城街道", code="c")
        for n in range(extra):
            community = org_services.community_create(subdistrict=c, name=f"南城{n:02d}号社区", code=f"c{n:02d}")
            fund_year_allocate(community=community, year=2025, amount="10000.00", entry_date=D(2025, 3, 1))
    with travel(D(2026, 11, 20)):
        fund_year_close(community=org.community("b2"), year=2025, by=org.city_admin)
        client.force_login(org.city_admin)
        page(client, 2025)  # warm the per-process caches (content types, translations)
        with CaptureQueriesContext(connection) as queries:
            html = page(client, 2025)
    groups = 3 if extra else 2
    assert html.count('<td class="name">') == 4 + extra + groups + 1  # rows, subtotals, the city total
    assert f"将结转 {3 + extra} 个社区" in html and "2 个项目转入下一年度" in html
    assert len(queries.captured_queries) == PREVIEW_QUERIES, "\n".join(q["sql"] for q in queries.captured_queries)
