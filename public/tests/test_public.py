"""The residents' side: numbers that agree everywhere, names masked, phones never, cheap to serve."""
import csv
import datetime
import io
import json
import re
import time
from decimal import Decimal

import pytest
from django.core import signing
from django.core.cache import cache
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals import services as chain
from approvals.models import Notice, Objection, Proposal, State
from fundapp.client_ip import parse_networks
from fundapp.models import FundYear, LedgerEntry, Role
from tests.chain import allocate, approve, draft, signed_invoice, to_accepted, to_review, travel
from tests.snapshot import org_snapshot_fixtures

D = datetime.date
OBJECTOR, OBJECTOR_PHONE = "欧阳明远", "13912345678"
RECIPIENT, RECIPIENT_PHONE = "司马慧琳", "13787654321"


def build_year_with_everything(org):
    """a1 in 2026: a settled project, a voucher to a private person, a notice with an objection."""
    allocate(org)
    secretary, finance = org.person(Role.COMMUNITY_SECRETARY), org.person(Role.FINANCE_OFFICER)
    paid = to_accepted(org, approve(org, to_review(org, draft(org, budget="30000.00", title="路灯维修"))))
    invoice = signed_invoice(org, paid, amount="28000.00")
    with travel(D(2026, 11, 4)):
        chain.invoice_settle(invoice=invoice, by=finance, paid_on=D(2026, 11, 4), method="transfer", reference="R1")
        payment = chain.voucher_pay(proposal=paid, by=finance, meeting=paid.meetings.get(), amount="500.00",
                                    recipient_name=RECIPIENT, receipt_reference=f"签收 {RECIPIENT_PHONE}",
                                    paid_on=D(2026, 11, 4), method="cash", reference="V1")
        chain.voucher_notice_post(payment=payment, by=secretary, posted_on=D(2026, 11, 4),
                                  text=f"向{RECIPIENT}支付帮扶款")
    running = draft(org, budget="8000.00", title="健身器材")
    with travel(D(2026, 11, 16)):
        chain.proposal_submit_for_consent(proposal=running, by=secretary)
        chain.consent_decide(proposal=running, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)
        chain.meeting_record(proposal=running, by=secretary, held_on=D(2026, 11, 16), place="室", attendance=9,
                             votes_for=9, votes_against=0, votes_abstain=0, minutes="通过")
        notice = chain.notice_post(proposal=running, by=secretary, posted_on=D(2026, 11, 16))
        chain.objection_record(notice=notice, channel="online", resident_name=OBJECTOR,
                               resident_contact=OBJECTOR_PHONE, text=f"请回电 {OBJECTOR_PHONE}，选址太吵")
    return {"org": org, "paid": paid, "running": running, "notice": notice}


year_with_everything_snapshot, year_with_everything = org_snapshot_fixtures(build_year_with_everything)


def public_urls(org, year=2026):
    urls = [reverse("public:index")]
    for code in org.communities:
        urls += [reverse("public:community-year", args=[code, year]),
                 reverse("public:community-year-json", args=[code, year]),
                 reverse("public:community-year-csv", args=[code, year]),
                 reverse("disclosure:summary", args=[code, year])]
    return urls


@pytest.mark.django_db
def test_json_totals_equal_the_ledger_and_the_page_equals_the_json(year_with_everything, client):
    org = year_with_everything["org"]
    with travel(D(2026, 11, 17)):
        data = client.get(reverse("public:community-year-json", args=["a1", 2026])).json()
        page = client.get(reverse("public:community-year", args=["a1", 2026])).content.decode()
    fund_year = FundYear.objects.get(community__code="a1", year=2026)
    spent = LedgerEntry.objects.filter(fund_year=fund_year, kind="expenditure").aggregate(s=Sum("amount"))["s"]
    assert Decimal(data["totals"]["settled"]) == spent == Decimal("28500.00")
    assert Decimal(data["totals"]["available"]) == fund_year.available
    assert sum(Decimal(r["settled"]) for r in data["by_category"]) == spent
    from fundapp.amounts import format_yuan

    for name in ("total", "settled", "reserved", "available"):
        shown = re.search(rf'data-total="{name}">([^<]+)<', page).group(1)
        assert shown == format_yuan(Decimal(data["totals"][name])), name
    rows = list(csv.reader(io.StringIO(client.get(reverse("public:community-year-csv", args=["a1", 2026]))
                                       .content.decode("utf-8-sig"))))
    header = json.loads(rows[0][0][2:])
    assert header["totals"] == data["totals"]
    projects = [dict(zip(rows[1], row)) for row in rows[2:]]
    assert sum(Decimal(p["settled"]) for p in projects) == spent
    assert {p["title"] for p in projects} == {"路灯维修", "健身器材"}


@pytest.mark.django_db
def test_names_only_masked_and_phone_numbers_never_on_any_public_url(year_with_everything, client):
    org = year_with_everything["org"]
    from disclosure.services import disclosure_generate

    with travel(D(2026, 11, 17)):
        bodies = {url: client.get(url) for url in public_urls(org) if "summary" not in url}
    with travel(D(2026, 12, 10)):
        for community in org.communities.values():
            disclosure_generate(community.pk, 2026)
        bodies.update({url: client.get(url) for url in public_urls(org) if "summary" in url})
    for url, response in bodies.items():
        assert response.status_code == 200, url
        text = response.content.decode("utf-8-sig")
        text = text.encode().decode("unicode_escape") if url.endswith(".json") and "\\u" in text else text
        for secret in (OBJECTOR, RECIPIENT, OBJECTOR_PHONE, RECIPIENT_PHONE):
            assert secret not in text, (url, secret)
    page = bodies[reverse("public:community-year", args=["a1", 2026])].content.decode()
    assert "欧***" in page and "选址太吵" in page
    # and the text of the public PDF poster
    import subprocess
    import tempfile

    with travel(D(2026, 12, 10)):
        pdf = client.get(reverse("disclosure:summary-pdf", args=["a1", 2026]))
    assert pdf.status_code == 200
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(b"".join(pdf.streaming_content) if pdf.streaming else pdf.content)
        handle.flush()
        text = subprocess.run(["pdftotext", handle.name, "-"], capture_output=True, text=True, check=True).stdout
    assert "路灯维修" in text
    for secret in (OBJECTOR, RECIPIENT, OBJECTOR_PHONE, RECIPIENT_PHONE):
        assert secret not in text, secret


@pytest.mark.django_db
def test_query_count_is_constant_in_the_number_of_projects(org, client):
    allocate(org)
    staff = org.person(Role.COMMUNITY_STAFF)

    def add_projects(n):
        fund_year = FundYear.objects.get(community__code="a1", year=2026)
        template = Proposal.objects.filter(fund_year=fund_year).first() or draft(org)
        created = Proposal.objects.bulk_create([
            Proposal(community=template.community, fund_year=fund_year, title=f"项目{i}", category=1 + i % 6,
                     content="x", beneficiaries="broad", beneficiary_count=10, planned_start=D(2026, 10, 1),
                     planned_end=D(2026, 11, 1), art4_declaration=True, created_by=staff, state=State.NOTICE,
                     budget=Decimal("100.00")) for i in range(n)])
        Notice.objects.bulk_create([
            Notice(proposal=p, kind="plan", posted_on=D(2026, 11, 16), working_days=3, last_day=D(2026, 11, 18),
                   next_step_day=D(2026, 11, 19), by=staff) for p in created])

    def count():
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("public:community-year", args=["a1", 2026])).status_code == 200
        return len(queries)

    add_projects(5)
    few = count()
    add_projects(495)
    assert count() == few


@pytest.mark.django_db
def test_a_new_notice_is_on_the_cached_page_at_once(org, client):
    allocate(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    proposal = draft(org, title="新公示项目")
    url = reverse("public:community-year", args=["a1", 2026])
    with travel(D(2026, 11, 16)):
        assert "新公示项目" not in client.get(url).content.decode()
        with CaptureQueriesContext(connection) as cached:
            client.get(url)
        assert len(cached) <= 3  # served from the cache
        chain.proposal_submit_for_consent(proposal=proposal, by=secretary)
        chain.consent_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)
        chain.meeting_record(proposal=proposal, by=secretary, held_on=D(2026, 11, 16), place="室", attendance=9,
                             votes_for=9, votes_against=0, votes_abstain=0, minutes="通过")
        chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 11, 16))
        assert "新公示项目" in client.get(url).content.decode()


def objection_post(client, code, notice, **overrides):
    data = {"resident_name": "赵大海", "resident_contact": "13600000000", "text": "噪音问题", "website": "",
            "shown": signing.dumps(time.time() - 10, salt="public-form"), **overrides}
    return client.post(reverse("public:object", args=[code, notice.public_id]), data)


@pytest.mark.django_db
def test_online_objection_blocks_submission_until_answered_and_the_answer_is_public(year_with_everything,
                                                                                      client):
    org = year_with_everything["org"]
    notice, proposal = year_with_everything["notice"], year_with_everything["running"]
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(D(2026, 11, 18)):
        response = objection_post(client, "a1", notice)
        assert response.status_code == 302
    new = Objection.objects.get(resident_name="赵大海")
    assert new.channel == "online" and new.resident_contact == "13600000000"
    with travel(D(2026, 11, 20)):
        with pytest.raises(chain.DomainError):
            chain.proposal_submit_for_review(proposal=proposal, by=secretary)
        for objection in Objection.objects.filter(answered_at__isnull=True):
            chain.objection_answer(objection=objection, by=secretary, answer="已调整到白天施工")
        page = client.get(reverse("public:community-year", args=["a1", 2026])).content.decode()
        chain.proposal_submit_for_review(proposal=proposal, by=secretary)
    assert "已调整到白天施工" in page and "赵**" in page and "13600000000" not in page
    assert Proposal.objects.get(pk=proposal.pk).state == State.UNDER_REVIEW


@pytest.mark.django_db
def test_objection_defences(year_with_everything, client):
    org = year_with_everything["org"]
    notice = year_with_everything["notice"]
    before = Objection.objects.count()
    with travel(D(2026, 11, 17)):
        assert "提交未通过检查" in objection_post(client, "a1", notice, website="http://spam").content.decode()
        fast = signing.dumps(time.time(), salt="public-form")
        assert "提交太快" in objection_post(client, "a1", notice, shown=fast).content.decode()
        assert "页面已过期" in objection_post(client, "a1", notice, shown="forged").content.decode()
        for _ in range(3):
            assert objection_post(client, "a1", notice).status_code == 302
        assert "提交次数过多" in objection_post(client, "a1", notice).content.decode()
        # another community's notice is not reachable through this community's address
        assert objection_post(client, "b1", notice).status_code == 404
    assert Objection.objects.count() == before + 3
    with travel(D(2026, 11, 25)):
        assert "不在公示期内" in objection_post(client, "a1", notice, resident_name="钱多多").content.decode()


def _object_via(client, notice, remote, forwarded):
    data = {"resident_name": "赵大海", "resident_contact": "13600000000", "text": "噪音问题", "website": "",
            "shown": signing.dumps(time.time() - 10, salt="public-form")}
    return client.post(reverse("public:object", args=["a1", notice.public_id]), data,
                       REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)


@pytest.mark.django_db
def test_objection_rate_limit_per_real_client(year_with_everything, client, settings):
    # the resident behind the proxy is counted, not the proxy (fundapp.client_ip)
    settings.TRUSTED_PROXY_NETWORKS = parse_networks(["127.0.0.1"])
    notice = year_with_everything["notice"]
    before = Objection.objects.count()
    with travel(D(2026, 11, 17)):
        for _ in range(3):
            assert _object_via(client, notice, "127.0.0.1", "203.0.113.5").status_code == 302
        assert "提交次数过多" in _object_via(client, notice, "127.0.0.1", "203.0.113.5").content.decode()
        # another resident behind the same nginx is not stopped by the first one
        assert _object_via(client, notice, "127.0.0.1", "198.51.100.7").status_code == 302
        # a peer that is not the proxy cannot get round the limit with a forged header
        for n in range(3):
            assert _object_via(client, notice, "192.0.2.1", f"203.0.113.{n}").status_code == 302
        assert "提交次数过多" in _object_via(client, notice, "192.0.2.1", "203.0.113.200").content.decode()
    assert Objection.objects.count() == before + 7


@pytest.mark.django_db
def test_residents_submit_needs_online(org, client):
    data = {"description": "希望增加助老餐桌", "resident_name": "孙阿姨", "resident_contact": "", "website": "",
            "shown": signing.dumps(time.time() - 10, salt="public-form")}
    response = client.post(reverse("public:need", args=["a2"]), data)
    assert response.status_code == 200 and "已登记" in response.content.decode()
    from approvals.models import Need

    need = Need.objects.get()
    assert need.community.code == "a2" and need.channel == "online" and need.recorded_by is None


@pytest.mark.django_db
def test_satisfaction_feedback_feeds_the_acceptance_inspection(org, client):
    allocate(org)
    proposal = approve(org, to_review(org, draft(org)))
    url = reverse("public:feedback", args=["a1", proposal.public_id])
    form = {"satisfied": "1", "comment": "", "website": "", "shown": signing.dumps(time.time() - 10, salt="public-form")}
    assert "尚未实施" in client.post(url, form).content.decode()  # approved, not started yet
    with travel(D(2026, 10, 15)):
        chain.proposal_start(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY))
    client.post(url, form)
    client.post(url, {**form, "satisfied": "0"})
    staff = org.person(Role.SUBDISTRICT_STAFF)
    client.force_login(staff)
    page = client.get(reverse("approvals:proposal-action", args=[proposal.pk, "acceptance"])).content.decode()
    assert "2 人参与，其中 1 人满意" in page


@pytest.mark.django_db
def test_only_documents_meant_for_the_public_are_published(org, client, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from approvals.models import Document
    from tests.chain import meeting_passed

    settings.MEDIA_ROOT = str(tmp_path)
    allocate(org)
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
           b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
    proposal = meeting_passed(org, draft(org, title="公示照片项目"))
    with travel(D(2026, 9, 30)):
        chain.notice_post(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY), posted_on=D(2026, 9, 30),
                          documents=[("notice_photo", SimpleUploadedFile("board.png", png))])
        data = client.get(reverse("public:community-year-json", args=["a1", 2026])).json()
    photo = Document.objects.get(kind="notice_photo")
    minutes = Document.objects.create(proposal=proposal, kind="minutes", file=photo.file.name, original_name="m.pdf",
                                      content_type="application/pdf", size=1, sha256="x", uploaded_by=photo.uploaded_by)
    [project] = data["projects"]
    assert [d["id"] for d in project["documents"]] == [photo.public_id]
    response = client.get(reverse("public:document", args=["a1", photo.public_id]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == png
    assert client.get(reverse("public:document", args=["a1", minutes.public_id])).status_code == 404
    assert client.get(reverse("public:document", args=["b1", photo.public_id])).status_code == 404
