"""The city administrator's pages: the year's allocation (preview, confirm, upload) and a post handed over.
Only the city administrator (403 for everyone else); bad input gives a clear message and changes nothing."""
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import Workbook

from approvals import services as chain
from audit.models import AuditRecord
from fundapp.models import FundYear, LedgerEntry, Notification, Post, Role
from tests.chain import allocate, draft, travel

D = datetime.date
TODAY = D(2026, 3, 2)
ALLOCATE = reverse("city-allocations:allocate")


def _state():
    return (LedgerEntry.objects.count(), AuditRecord.objects.count(), Post.objects.count(),
            list(FundYear.objects.order_by("pk").values_list("allocated", flat=True)))


@pytest.fixture
def admin_client(org, client):
    client.force_login(org.city_admin)
    with travel(TODAY):
        yield client


@pytest.mark.parametrize("role", [Role.FINANCE_OFFICER, Role.SUBDISTRICT_SECRETARY, Role.COMMUNITY_SECRETARY])
def test_nobody_else_may_open_them(org, client, role):
    client.force_login(org.person(role))
    post = Post.objects.filter(role=Role.COMMUNITY_SECRETARY).first()
    before = _state()
    for url in (ALLOCATE, reverse("city-allocations:template"), reverse("city-posts:posts"),
                reverse("city-posts:hand-over", args=[post.pk])):
        assert client.get(url).status_code == 403
    assert client.post(ALLOCATE, {"year": 2026, "entry_date": "2026-03-02", "amount": "1000", "confirm": "1"}
                       ).status_code == 403
    assert client.post(reverse("city-posts:hand-over", args=[post.pk]),
                       {"successor": "city", "on": "2026-03-02"}).status_code == 403
    assert _state() == before


def test_preview_then_confirm_then_confirm_again(org, admin_client):
    ledger_first = allocate(org, code="b2", year=2026, amount="150000")
    assert ledger_first
    page = admin_client.get(ALLOCATE)
    assert page.status_code == 200 and "下载金额表模板" in page.content.decode()
    before = _state()
    preview = admin_client.post(ALLOCATE, {"year": 2026, "entry_date": "2026-03-02", "amount": "200,000"})
    html = preview.content.decode()
    assert preview.status_code == 200 and "¥600,000.00" in html and "东城街道" in html and "西城街道" in html
    assert "金额不同" in html and reverse("ledger", args=["b2", 2026]) in html  # correct by a reversal
    assert _state() == before
    key = preview.context["plan"].key
    confirm = {"year": 2026, "entry_date": "2026-03-02", "amount": "200,000", "key": key, "confirm": "1"}
    done = admin_client.post(ALLOCATE, confirm)
    assert done.status_code == 200 and "¥600,000.00" in done.content.decode()
    allocated = dict(FundYear.objects.filter(year=2026).values_list("community__code", "allocated"))
    assert allocated == {"a1": Decimal("200000.00"), "a2": Decimal("200000.00"), "b1": Decimal("200000.00"),
                         "b2": Decimal("150000.00")}
    after = _state()
    admin_client.post(ALLOCATE, confirm)  # a double click
    assert _state() == after


@pytest.mark.parametrize("data, message", [
    ({"amount": "-100"}, "正负号"),
    ({"amount": "100.555"}, "两位小数"),
    ({"amount": "1e5"}, "科学记数法"),
    ({"amount": "100", "year": "2031"}, "年度须在"),
    ({"amount": "100", "entry_date": "2026-13-01"}, "有效日期"),
    ({"amount": ""}, "请填写每个社区的金额"),
    ({"amount": "100", "confirm": "1", "key": "stale"}, "重新预览"),
])
def test_bad_input_says_what_is_wrong_and_changes_nothing(org, admin_client, data, message):
    before = _state()
    response = admin_client.post(ALLOCATE, {"year": "2026", "entry_date": "2026-03-02", **data})
    assert response.status_code == 200 and message in response.content.decode()
    assert _state() == before


def test_the_error_is_in_the_readers_language(org, admin_client):
    admin_client.cookies["django_language"] = "en"
    response = admin_client.post(ALLOCATE, {"year": "2031", "entry_date": "2026-03-02", "amount": "100"})
    assert "The year must be between" in response.content.decode()


def _sheet(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(["社区代码", "社区名称", "金额（元）"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "amounts.xlsx"
    return out


def test_an_uploaded_table_previews_then_confirms(org, admin_client):
    template = admin_client.get(reverse("city-allocations:template"))
    assert template.status_code == 200 and template["Content-Type"].startswith("application/vnd.openxml")
    bad = admin_client.post(ALLOCATE, {"year": 2026, "entry_date": "2026-03-02",
                                       "sheet": _sheet([["a1", "", 100], ["a2", "", "=1+1"], ["zz", "", 5]])})
    html = bad.content.decode()
    assert "第 3 行 C 列" in html and "第 4 行 A 列" in html and "zz" in html
    before = _state()
    preview = admin_client.post(ALLOCATE, {"year": 2026, "entry_date": "2026-03-02",
                                           "sheet": _sheet([["a1", "", 100], ["b1", "", "250.50"]])})
    assert "¥350.50" in preview.content.decode() and _state() == before
    key = preview.context["plan"].key
    admin_client.post(ALLOCATE, {"year": 2026, "entry_date": "2026-03-02", "key": key, "confirm": "1"})
    allocated = dict(FundYear.objects.filter(year=2026, allocated__gt=0).values_list("community__code", "allocated"))
    assert allocated == {"a1": Decimal("100.00"), "b1": Decimal("250.50")}


def test_hand_over_page_lists_what_waits_then_hands_over(org, client, make_user):
    allocate(org)
    p = draft(org)
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY))
    successor = make_user("zhang-new", "张新")
    post = Post.objects.get(user=org.person(Role.SUBDISTRICT_SECRETARY), role=Role.SUBDISTRICT_SECRETARY)
    client.force_login(org.city_admin)
    with travel(D(2026, 9, 29)):
        listing = client.get(reverse("city-posts:posts"), {"q": "东城"})
        assert reverse("city-posts:hand-over", args=[post.pk]) in listing.content.decode()
        url = reverse("city-posts:hand-over", args=[post.pk])
        page = client.get(url)
        assert p.title in page.content.decode() and "初步同意" in page.content.decode()
        before = _state()
        refused = client.post(url, {"successor": "nobody-here", "on": "2026-09-29"})
        assert "nobody-here" in refused.content.decode() and _state() == before
        done = client.post(url, {"successor": "zhang-new", "on": "2026-09-29"})
        assert done.status_code == 302
    new = Post.objects.get(user=successor, role=Role.SUBDISTRICT_SECRETARY)
    assert new.start_date == D(2026, 9, 29) and Post.objects.get(pk=post.pk).end_date == D(2026, 9, 29)
    assert Notification.objects.filter(user=successor, link=reverse("approvals:proposal", args=[p.pk])).exists()


def test_the_city_home_links_the_pages(org, admin_client):
    html = admin_client.get(reverse("home")).content.decode()
    assert ALLOCATE in html and reverse("city-posts:posts") in html


def test_the_posts_page_costs_the_same_however_many_posts(org, admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fundapp.services import org as org_services

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(reverse("city-posts:posts")).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    from django.contrib.auth import get_user_model

    for i in range(60):
        user = get_user_model().objects.create_user(username=f"staff-{i}")
        org_services.post_create(user=user, role=Role.COMMUNITY_STAFF, community=org.community("b2"),
                                 start_date=D(2021, 1, 1))
    assert count() == few
