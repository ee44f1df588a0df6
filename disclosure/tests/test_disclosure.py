"""The year-end disclosure (Art. 15) in eager mode: figures, idempotency, lateness, the poster, the page."""
import datetime
import shutil
import socket
import subprocess
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from approvals import services as chain
from audit.models import AuditRecord
from batches.models import BatchRun
from fundapp import pdf as disclosure_pdf
from disclosure.charts import bar_chart
from disclosure.models import DisclosurePoster, YearEndDisclosure
from disclosure.selectors import not_posted_in_time
from disclosure.services import disclosure_generate
from fundapp.models import Role
from tests.chain import travel
from tests.snapshot import org_snapshot_fixtures

from .seed import EXPECTED, YEAR, seed_year

POSTED = datetime.date(YEAR, 12, 10)  # Thursday; the beat runs that morning


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def build_seeded(org):
    org.proposals = seed_year(org)
    return org


seeded_snapshot, seeded = org_snapshot_fixtures(build_seeded)


def run_pdftool(tool, *args):
    if not shutil.which(tool):
        pytest.fail(f"{tool} missing: apt-get install poppler-utils")
    return subprocess.run([tool, *map(str, args)], capture_output=True, text=True, check=True).stdout


@pytest.mark.django_db
def test_generating_twice_gives_one_disclosure_per_community_with_the_right_totals(seeded, media):
    with travel(POSTED):
        call_command("generate_disclosures", "--year", str(YEAR))
        first = {d.community.code: (d.pk, d.sha256) for d in YearEndDisclosure.objects.select_related("community")}
        call_command("generate_disclosures", "--year", str(YEAR))
    disclosures = YearEndDisclosure.objects.select_related("community")
    assert disclosures.count() == 4
    assert {d.community.code: (d.pk, d.sha256) for d in disclosures} == first  # nothing re-rendered
    for d in disclosures:
        money = d.figures["money"]
        assert {k: money[k] for k in EXPECTED[d.community.code]} == EXPECTED[d.community.code], d.community.code
        assert d.posted_on == POSTED and d.last_day == datetime.date(YEAR, 12, 16) and d.working_days == 5
        assert not d.late and d.has_pdf
    # exactly one poster file per community, under a stable name
    files = sorted(p.name for p in (media / "disclosures" / str(YEAR)).iterdir() if p.is_file())
    assert files == [f"{code}-{YEAR}.pdf" for code in ("a1", "a2", "b1", "b2")]
    # and its archived version, once (the second run rendered nothing)
    assert DisclosurePoster.objects.count() == 4
    assert len(list((media / "disclosures" / str(YEAR) / "archive").iterdir())) == 4
    runs = BatchRun.objects.filter(kind="disclosures", year=YEAR)
    assert [(r.status, r.done_count, r.failed_count, r.total) for r in runs] == [("done", 4, 0, 4)] * 2
    assert AuditRecord.objects.filter(action="disclosure.post").count() == 4


@pytest.mark.django_db
def test_figures_by_category_and_projects(seeded):
    with travel(POSTED):
        d = disclosure_generate(seeded.community("a1").pk, YEAR)
    by_category = {row["category"]: row for row in d.figures["by_category"]}
    assert by_category[4] == {"category": 4, "count": 1, "approved": "30000.00", "settled": "28000.00"}
    assert by_category[1] == {"category": 1, "count": 1, "approved": "12000.00", "settled": "0.00"}
    assert by_category[5]["count"] == 0
    assert [(p["title"], p["state"], p["settled"], p["accepted"]) for p in d.figures["projects"]] == [
        ("老旧小区路灯维修", "settled", "28000.00", True), ("困难老人助餐服务", "approved", "0.00", None)]
    assert d.figures["projects_total"] == {"count": 2, "approved": "42000.00", "settled": "28000.00"}
    assert "张三" not in str(d.figures)  # residents' names never reach the public figures


@pytest.mark.django_db
def test_changed_figures_rerender_the_poster_but_keep_the_posting(seeded):
    with travel(POSTED):
        call_command("generate_disclosures", "--year", str(YEAR))
    before = {d.community.code: d for d in YearEndDisclosure.objects.select_related("community")}
    approve(seeded, seeded.proposals["concerts"], "b1")
    with travel(datetime.date(YEAR, 12, 14)):
        call_command("generate_disclosures", "--year", str(YEAR))
    after = {d.community.code: d for d in YearEndDisclosure.objects.select_related("community")}
    assert {c: d.pk for c, d in after.items()} == {c: d.pk for c, d in before.items()}
    b1 = after["b1"]
    assert b1.figures["money"]["reserved"] == "20000.00"
    assert b1.posted_on == POSTED  # the notice already on the board keeps its dates
    assert b1.sha256 != before["b1"].sha256 and b1.generated_at > before["b1"].generated_at
    assert after["a2"].sha256 == before["a2"].sha256 and after["a2"].generated_at == before["a2"].generated_at
    assert AuditRecord.objects.filter(action="disclosure.refresh").count() == 1


def approve(org, proposal, code):
    with travel(datetime.date(YEAR, 12, 11)):
        chain.review_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY, code), decision="approve")
        chain.review_decide(proposal=proposal, by=org.person(Role.CONSTRUCTION_DIRECTOR, code), decision="approve")


@pytest.mark.django_db
def test_a_late_posting_is_still_made_and_flagged(org, media):
    a1, a2 = org.community("a1"), org.community("a2")
    with travel(datetime.date(YEAR, 12, 18)):
        assert disclosure_generate(a2.pk, YEAR).late is False
        assert set(not_posted_in_time(YEAR).values_list("code", flat=True)) == {"a1", "b1", "b2"}
    with travel(datetime.date(YEAR, 12, 21)):
        late = disclosure_generate(a1.pk, YEAR)
    assert late.late and late.posted_on == datetime.date(YEAR, 12, 21) and late.last_day == datetime.date(YEAR, 12, 25)
    assert set(not_posted_in_time(YEAR).values_list("code", flat=True)) == {"a1", "b1", "b2"}


@pytest.mark.django_db
def test_a_missing_poster_is_rendered_again_without_a_second_row(seeded, media):
    with travel(POSTED):
        d = disclosure_generate(seeded.community("a2").pk, YEAR)
        (media / d.pdf.name).unlink()
        again = disclosure_generate(seeded.community("a2").pk, YEAR)
    assert again.pk == d.pk and (media / again.pdf.name).exists() and again.pdf.name == d.pdf.name
    assert YearEndDisclosure.objects.count() == 1


@pytest.mark.django_db
def test_the_poster_pdf_has_the_text_the_fonts_and_the_qr_link(seeded, media, tmp_path, settings):
    settings.SITE_URL = "https://fund.example.gov.cn"
    with travel(POSTED):
        d = disclosure_generate(seeded.community("a1").pk, YEAR)
    path = media / d.pdf.name
    assert path.read_bytes().startswith(b"%PDF")
    text = run_pdftool("pdftotext", "-layout", path, "-")
    flat = "".join(text.split())
    assert "东城街道1号社区" in text and "2026年度" in text
    assert "服务群众专项经费使用情况公示" in flat
    for amount in ("¥200,000.00", "¥28,000.00", "¥12,000.00", "¥160,000.00"):
        assert amount in text, amount
    assert "老旧小区路灯维修" in text and "困难老人助餐服务" in text
    assert "特困群体服务" in text and "物业管理服务" in text  # the chart's labels are real text
    assert "2026年12月10日" in flat and "2026年12月16日" in flat and "5个工作日" in flat
    assert "如有异议请向社区党委反映" in flat
    assert "https://fund.example.gov.cn/public/a1/2026/summary/" in flat
    assert "张三" not in text
    info = run_pdftool("pdfinfo", path)
    assert "A4" in info or "595.276 x 841.89" in info, info
    fonts = run_pdftool("pdffonts", path)
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts  # embedded (subset) CJK fonts


@pytest.mark.django_db
def test_public_page_and_pdf_need_no_login(seeded, client):
    with travel(POSTED):
        d = disclosure_generate(seeded.community("a1").pk, YEAR)
    response = client.get(reverse("disclosure:summary", args=["a1", YEAR]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "东城街道1号社区" in page and "服务群众专项经费使用情况公示" in page
    assert "¥200,000.00" in page and "¥28,000.00" in page and "¥160,000.00" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in page and "特困群体服务" in page
    # How to object: no online form for the year-end summary (only plan notices take them, Art. 10), always
    # the service hall (here the community records no phone or address yet: its name).
    assert "书面向社区党委反映" in page and "东城街道1号社区党群服务中心" in page and "张三" not in page
    assert "我有异议" not in page
    pdf = client.get(reverse("disclosure:summary-pdf", args=["a1", YEAR]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    body = b"".join(pdf.streaming_content)
    import hashlib

    assert hashlib.sha256(body).hexdigest() == d.sha256
    assert client.get(reverse("disclosure:summary", args=["a2", YEAR])).status_code == 404
    assert client.get(reverse("disclosure:summary", args=["zz", YEAR])).status_code == 404
    assert client.get(reverse("disclosure:summary-pdf", args=["a1", YEAR - 1])).status_code == 404
    # in English at the English address, same numbers
    with translation.override("en"):
        english = client.get(reverse("disclosure:summary", args=["a1", YEAR])).content.decode()
    assert "¥200,000.00" in english and '<html lang="en">' in english


def test_the_pdf_renderer_fetches_nothing_but_data_urls_and_static_files(monkeypatch, settings):
    fetcher = disclosure_pdf.LocalOnlyFetcher()
    for url in ("http://example.com/logo.png", "https://example.com/x.css", "ftp://example.com/x",
                "file:///etc/passwd", f"file://{settings.BASE_DIR}/fundapp/settings.py",
                f"file://{settings.BASE_DIR}/static/../fundapp/settings.py", "file://evil.example.com/static/x"):
        with pytest.raises(disclosure_pdf.FetchRefused):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
    css = (settings.BASE_DIR / "static" / "css" / "app.css")
    assert fetcher.fetch(css.resolve().as_uri()).read() == css.read_bytes()

    # End to end: a template naming remote and local resources renders without opening a single socket.
    connections = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connections.append(a) or 1 / 0)
    monkeypatch.setattr(socket.socket, "connect", lambda self, *a: connections.append(a) or 1 / 0)
    html = ('<html><head><link rel="stylesheet" href="http://127.0.0.1:9/x.css"></head><body>'
            '<img src="https://example.com/logo.png"><img src="file:///etc/hostname">'
            '<p style="font-family: \'Noto Serif CJK SC\'">公示</p></body></html>')
    from weasyprint import HTML

    refused = []
    original = disclosure_pdf.LocalOnlyFetcher.fetch

    def spy(self, url, headers=None):
        try:
            return original(self, url, headers)
        except disclosure_pdf.FetchRefused:
            refused.append(url)
            raise

    monkeypatch.setattr(disclosure_pdf.LocalOnlyFetcher, "fetch", spy)
    out = HTML(string=html, base_url=disclosure_pdf.static_base_url(),
               url_fetcher=disclosure_pdf.LocalOnlyFetcher()).write_pdf()
    assert out.startswith(b"%PDF") and connections == []
    assert sorted(refused) == ["file:///etc/hostname", "http://127.0.0.1:9/x.css", "https://example.com/logo.png"]


def test_bar_chart_is_proportional_and_escapes_labels():
    svg = str(bar_chart([("<b>甲</b>", Decimal("100.00")), ("乙", Decimal("50.00")), ("丙", 0)], title="t"))
    assert "<b>" not in svg and "&lt;b&gt;甲&lt;/b&gt;" in svg
    assert 'width="360.0"' in svg and 'width="180.0"' in svg  # track 640-150-130 = 360
    assert "¥100.00" in svg and "¥0.00" in svg


@pytest.mark.django_db
def test_every_poster_made_is_archived_with_its_checksum_time_and_who_started_it(seeded, media,
                                                                                 django_capture_on_commit_callbacks):
    """Art. 17: the current poster is replaced when the figures change; each version made is kept."""
    import hashlib

    from batches.services import batch_start

    admin = seeded.city_admin
    with travel(POSTED), django_capture_on_commit_callbacks(execute=True):
        batch_start("disclosures", YEAR, by=admin)
    b1 = YearEndDisclosure.objects.get(community__code="b1")
    [first] = b1.posters.all()
    assert first.generated_by == admin and b1.generated_by == admin and first.sha256 == b1.sha256
    approve(seeded, seeded.proposals["concerts"], "b1")
    with travel(datetime.date(YEAR, 12, 14)):
        disclosure_generate(seeded.community("b1").pk, YEAR)  # the schedule: no one
    b1.refresh_from_db()
    versions = list(b1.posters.order_by("pk"))
    assert len(versions) == 2 and versions[0].pk == first.pk and versions[1].generated_by is None
    assert b1.sha256 == versions[1].sha256 != first.sha256 and b1.generated_by is None
    for poster in versions:
        data = (media / poster.file.name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == poster.sha256 and poster.size == len(data)
    assert (media / versions[0].file.name).read_bytes() != (media / b1.pdf.name).read_bytes()
    records = AuditRecord.objects.filter(action="disclosure.poster_archived", community_id=b1.community_id)
    assert [r.after["sha256"] for r in records.order_by("seq")] == [first.sha256, versions[1].sha256]
    assert records.order_by("seq").first().actor == admin
