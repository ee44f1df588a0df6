"""Privacy by construction, end to end: a resident's name and numbers typed into needs, objections, the
project's plan and the notice, in many written forms, never reach any public output — the public page, its
JSON and CSV, the objection page, the archived notice PDF, the year-end summary and its poster PDF. Built
through the real services (tests/chain.py), read through the real URLs; PDFs read with pdftotext.

Slow for this suite (a few seconds an example: each walks a proposal to a posted notice, which renders and
archives its PDF), so only a handful of examples; the publishing step itself is property-tested with many
more in fundapp/tests/test_privacy.py."""
import datetime
import html
import re
import shutil
import subprocess
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from django.urls import reverse

from approvals import services as chain
from approvals.models import Category, Notice, Objection
from disclosure.services import disclosure_generate
from fundapp.models import Role
from fundapp.privacy import mask_name
from tests.chain import allocate, meeting_passed, travel
from tests.written_numbers import digits, grouped

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

D = datetime.date
FULL_WIDTH = str.maketrans("0123456789+-()Xx ", "０１２３４５６７８９＋－（）ＸＸ\u3000")

# Names no page says by itself (surname + given name), so finding one means it leaked.
names = st.builds(lambda surname, given: surname + given, st.sampled_from(["欧阳", "司马", "诸葛", "上官", "钮", "禤"]),
                  st.sampled_from(["晓梅", "子涵", "浩然", "雨桐", "沁"]))


separators = st.sampled_from(["", " ", "-"])
mobiles = st.builds(lambda prefix, rest, sep: prefix + grouped("13" + rest, [3, 4, 4], sep),
                    st.sampled_from(["", "+86 ", "86-"]), digits(9), separators)
ids = st.builds(lambda body, last: body + last, digits(17), st.sampled_from(list("0123456789X")))
cards = st.builds(lambda rest, sep: grouped("62" + rest, [4, 4, 4, 4], sep), digits(15), separators)
numbers = st.one_of(mobiles, ids, cards)


def written(number, wide):
    return number.translate(FULL_WIDTH) if wide else number


def squeezed(text):
    """Text as a detector reads it: NFKC (full-width → ASCII), HTML entities decoded, and every space and
    separator gone, so a number or name split over lines by pdftotext or grouped in any way is whole."""
    text = unicodedata.normalize("NFKC", html.unescape(text))
    return re.sub(r"[\s\-.()+'\"]", "", text)


def pdf_text(content, tmp_path):
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext missing: apt-get install poppler-utils")
    path = tmp_path / "paper.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def assert_nothing_leaks(outputs, secret_names, secret_numbers):
    for where, text in outputs.items():
        plain = squeezed(text)
        for name in secret_names:
            assert name not in plain, f"{name} in {where}"
        for number in secret_numbers:
            digits = squeezed(number).upper()
            assert digits not in plain.upper(), f"{number} in {where}"


def walk_to_a_posted_notice(org, *, name, objector, numbers_, wide, n):
    """A resident's need (online) names `name` and a number; the project's content and the notice's remark
    name them too; the notice is posted, and `objector` objects online with another number."""
    need_number, content_number, objection_number = (written(x, wide) for x in numbers_)
    community = org.community("a1")
    staff = org.person(Role.COMMUNITY_STAFF, "a1")
    need = chain.need_record(community=community, by=None, channel="online", resident_name=name,
                             resident_contact=need_number, on=D(2026, 1, 5),
                             description=f"我叫{name}，电话{need_number}，楼道路灯不亮，住幸福小区3栋2单元501室")
    proposal = chain.proposal_create(
        community=community, by=staff, year=2026, title=f"为{name}家门口修路灯（{n}）", category=Category.PROPERTY,
        content=f"回应{name}（{content_number}）的需求，更换楼道路灯", beneficiaries="broad", beneficiary_count=80,
        planned_start=D(2026, 10, 15), planned_end=D(2026, 11, 30), contractor="光明电器维修部",
        art4_declaration=True, lines=[(f"{name}家门口路灯", "1000.00")], needs=[need])
    meeting_passed(org, proposal)
    with travel(D(2026, 9, 30)):
        notice = chain.notice_post(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY, "a1"),
                                   posted_on=D(2026, 9, 30), working_days=3,
                                   text=f"请{name}（电话{content_number}）留意施工时间")
    with travel(D(2026, 10, 1)):
        chain.objection_record(notice=notice, channel=Objection.Channel.ONLINE, resident_name=objector,
                               resident_contact=objection_number,
                               text=f"我是{objector}，电话{objection_number}，反对购买器材，{name}也反对")
    return proposal, notice


def public_outputs(client, notice, tmp_path):
    with travel(D(2026, 10, 1)):
        return {
            "page": client.get(reverse("public:community-year", args=["a1", 2026])).content.decode(),
            "json": client.get(reverse("public:community-year-json", args=["a1", 2026])).content.decode(),
            "csv": client.get(reverse("public:community-year-csv", args=["a1", 2026])).content.decode(),
            "objection page": client.get(reverse("public:object", args=["a1", notice.public_id])).content.decode(),
            "notice pdf": pdf_text(client.get(reverse("public:notice-pdf", args=["a1", notice.public_id])).content,
                                   tmp_path),
        }


@pytest.mark.django_db
@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=names, objector=names, numbers_=st.tuples(numbers, numbers, numbers), wide=st.booleans())
def test_no_name_or_number_reaches_any_public_output(org, client, tmp_path, name, objector, numbers_, wide):
    if not Notice.objects.exists():
        allocate(org)
    n = Notice.objects.count()
    proposal, notice = walk_to_a_posted_notice(org, name=name, objector=objector, numbers_=numbers_, wide=wide, n=n)
    outputs = public_outputs(client, notice, tmp_path)
    # the texts are there, with the names masked (so the test reads what it means to)
    assert mask_name(name) in outputs["page"]
    assert "反对购买器材" in outputs["page"] and "更换楼道路灯" in outputs["notice pdf"].replace("\n", "")
    assert_nothing_leaks(outputs, {name, objector}, numbers_)


@pytest.mark.django_db
def test_the_year_end_summary_and_poster_mask_names_and_numbers(org, client, tmp_path):
    allocate(org)
    name, number = "欧阳晓梅", "13812345678"
    proposal, notice = walk_to_a_posted_notice(org, name=name, objector="司马浩然",
                                               numbers_=(number, "110105194912310020", "6222 0212 3456 7890"),
                                               wide=False, n=1)
    with travel(D(2026, 12, 10)):
        disclosure_generate(org.community("a1").pk, 2026)
        summary = client.get(reverse("disclosure:summary", args=["a1", 2026])).content.decode()
        poster = pdf_text(b"".join(client.get(reverse("disclosure:summary-pdf", args=["a1", 2026])).streaming_content),
                          tmp_path)
    assert f"为{mask_name(name)}家门口修路灯" in summary and mask_name(name) in poster.replace("\n", "")
    assert_nothing_leaks({"summary": summary, "poster": poster}, {name}, [number])


@pytest.mark.django_db
def test_the_secretary_reviews_an_objection_and_the_public_reads_the_reviewed_version(org, client):
    allocate(org)
    proposal, notice = walk_to_a_posted_notice(org, name="上官雨桐", objector="诸葛子涵",
                                               numbers_=("13812345678", "13912345678", "13712345678"),
                                               wide=False, n=1)
    objection = notice.objections.get()
    secretary = org.person(Role.COMMUNITY_SECRETARY, "a1")
    # before the review: the automatically redacted original, marked as not reviewed
    with travel(D(2026, 10, 1)):
        data = client.get(reverse("public:community-year-json", args=["a1", 2026])).json()
    published = data["projects"][0]["notices"][0]["objections"][0]
    assert published["reviewed"] is False
    assert published["text"] == "我是诸***，电话***，反对购买器材，上***也反对"
    # the secretary removes the third party's mention through the staff page
    client.force_login(secretary)
    url = reverse("approvals:resident-text", args=["objection", objection.pk])
    with travel(D(2026, 10, 2)):
        page = client.get(url).content.decode()
        assert "我是诸葛子涵，电话13712345678" in page and "原文" in page  # staff read the original, labelled
        response = client.post(url, {"text": "反对购买器材（13812345678）"})
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.text.startswith("我是诸葛子涵")  # the original is kept
    assert objection.public_text == "反对购买器材（13812345678）" and objection.public_text_by == secretary
    from audit.models import AuditRecord

    record = AuditRecord.objects.filter(action="objection.public_text").get()
    assert record.before == {"public_text": "我是诸***，电话***，反对购买器材，上***也反对"}
    assert record.after["public_text"] == "反对购买器材（***）"  # the step runs again on the reviewed version
    client.logout()
    with travel(D(2026, 10, 2)):
        data = client.get(reverse("public:community-year-json", args=["a1", 2026])).json()
    published = data["projects"][0]["notices"][0]["objections"][0]
    assert published == {**published, "text": "反对购买器材（***）", "reviewed": True}


@pytest.mark.django_db
def test_only_the_communitys_secretary_sets_a_published_version(org, client):
    allocate(org)
    community = org.community("a1")
    need = chain.need_record(community=community, by=None, channel="online", description="我叫钮沁，楼道灯坏了",
                             resident_name="钮沁")
    url = reverse("approvals:resident-text", args=["need", need.pk])
    client.force_login(org.person(Role.COMMUNITY_STAFF, "a1"))
    assert "保存公开版本" not in client.get(url).content.decode()
    assert client.post(url, {"text": "楼道灯坏了"}).status_code == 404
    client.force_login(org.person(Role.COMMUNITY_SECRETARY, "b1"))
    assert client.get(url).status_code == 404  # another community's: as if missing
    client.force_login(org.person(Role.COMMUNITY_SECRETARY, "a1"))
    assert client.post(url, {"text": "楼道灯坏了"}).status_code == 302
    need.refresh_from_db()
    assert need.reviewed and need.public_text == "楼道灯坏了" and need.description == "我叫钮沁，楼道灯坏了"
    client.cookies["django_language"] = "en"
    page = client.get(url).content.decode()
    assert "Original (staff only, not published)" in page and "我叫钮沁，楼道灯坏了" in page
    assert "Reviewed by" in page
