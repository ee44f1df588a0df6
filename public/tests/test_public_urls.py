"""Public addresses: the language in the URL, random public ids, nothing before it is public, printed
addresses that keep working, and every notice answerable (docs/open-data.md, "Addresses")."""
import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation

from approvals import pdf as papers
from approvals.models import Document, Notice, Proposal
from fundapp.publicurls import PUBLIC_ID_LENGTH, bare, in_language, new_public_id
from fundapp.services.org import community_update
from public import selectors
from public.tests.test_public import D, objection_post, year_with_everything, year_with_everything_snapshot  # noqa: F401
from tests.chain import travel
from tests.public_walk import broken, links_of, walk

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

ABSENT = "zzzzzzzzzzzz"  # a well-formed public id no record has


def _same(body):
    """A page as it would be for anyone: without its per-request CSRF token."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", body)


def _feedback(code, public_id, language="zh-hans"):
    with translation.override(language):
        return reverse("public:feedback", args=[code, public_id])


@pytest.mark.django_db
def test_nothing_is_public_before_its_notice_and_not_found_looks_the_same(demo_city, client):
    public = set(selectors.public_proposals().values_list("pk", flat=True))
    hidden = Proposal.objects.exclude(pk__in=public).select_related("community")
    states = {p.state for p in hidden}
    # Drafts, proposals awaiting consent and ones withdrawn before any notice are among the demo's hidden ones.
    assert {"draft", "consent_pending", "withdrawn"} <= states, states
    for p in Proposal.objects.select_related("community"):
        response = client.get(_feedback(p.community.code, p.public_id))
        if p.pk in public:
            assert response.status_code == 200 and p.title in response.content.decode()
        else:
            absent = client.get(_feedback(p.community.code, ABSENT))
            assert response.status_code == absent.status_code == 404, p.state
            # Nothing tells "exists" from "does not" (the page names the address asked for, nothing more).
            assert _same(response.content.replace(p.public_id.encode(), ABSENT.encode())) == _same(absent.content)
            assert p.title not in response.content.decode()
        # The sequential pk leads nowhere, with or without a language, public or not.
        for path in (f"/public/zh/{p.community.code}/projects/{p.pk}/feedback/",
                     f"/public/{p.community.code}/projects/{p.pk}/feedback/"):
            assert client.get(path).status_code == 404, path
    # A notice taken down, or any notice of a hidden project: no objection form, no paper.
    for notice in Notice.objects.exclude(pk__in=selectors.public_notices()).select_related("proposal__community"):
        code = notice.proposal.community.code
        assert client.get(reverse("public:object", args=[code, notice.public_id])).status_code == 404
        assert client.get(reverse("public:notice-pdf", args=[code, notice.public_id])).status_code == 404
    for document in Document.objects.exclude(kind__in=Document.PUBLIC_KINDS).select_related("proposal__community"):
        assert client.get(reverse("public:document", args=[document.proposal.community.code,
                                                            document.public_id])).status_code == 404


@pytest.mark.django_db
def test_public_ids_are_random_and_unguessable(demo_city):
    ids = list(Proposal.objects.order_by("pk").values_list("public_id", flat=True))
    ids += list(Notice.objects.values_list("public_id", flat=True))
    ids += list(Document.objects.values_list("public_id", flat=True))
    assert len(ids) == len(set(ids)) > 20
    assert all(re.fullmatch(r"[a-z2-9]{%d}" % PUBLIC_ID_LENGTH, i) for i in ids)
    assert len({new_public_id() for _ in range(1000)}) == 1000
    # Records made one after another share no prefix a walker could count on.
    first = Proposal.objects.order_by("pk").values_list("public_id", flat=True)[:5]
    assert len({i[:4] for i in first}) == 5


@pytest.mark.django_db
def test_the_bare_address_redirects_to_the_readers_language_and_the_language_address_to_nothing_else(org):
    plain = Client()
    response = plain.get("/public/a1/2026/?objected=1")
    assert response.status_code == 302 and response["Location"] == "/public/zh/a1/2026/?objected=1"
    # Only the redirect depends on the reader: a shared cache must not give it to everyone.
    assert "Cookie" in response["Vary"] and "Accept-Language" in response["Vary"]
    assert "private" in response["Cache-Control"]
    assert Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").get("/public/a1/2026/")["Location"] == "/public/en/a1/2026/"
    chose = Client(HTTP_ACCEPT_LANGUAGE="en")
    chose.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"  # the switch's choice wins over the browser
    assert chose.get("/public/")["Location"] == "/public/zh/"
    assert plain.get("/public/en")["Location"] == "/public/en/"
    assert plain.get("/public/no/such/page/").status_code == 404  # no redirect to a page that is not there
    # A language address is the same for everyone, whatever the cookie: public, no Vary on the cookie.
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for client in (plain, english):
        page = client.get("/public/zh/a1/2026/")
        assert page.status_code == 200 and '<html lang="zh-hans">' in page.content.decode()
        assert page["Cache-Control"].startswith("public") and "Cookie" not in page.get("Vary", "")
        assert page["Content-Language"] == "zh-hans"
    assert '<html lang="en">' in plain.get("/public/en/a1/2026/").content.decode()


@pytest.mark.django_db
def test_the_language_switch_leads_to_the_same_page_in_the_other_language_and_is_remembered(org):
    client = Client()
    page = client.get("/public/zh/a1/2026/").content.decode()
    switch = [link for link in links_of(page) if "/language/" in link]
    assert switch == ["/public/zh/language/?to=en&next=%2Fpublic%2Fen%2Fa1%2F2026%2F"]
    assert 'hreflang="en" href="/public/en/a1/2026/"' in page
    response = client.get(switch[0])
    assert response.status_code == 302 and response["Location"] == "/public/en/a1/2026/"
    assert client.get("/public/")["Location"] == "/public/en/"  # remembered for the bare address
    assert in_language("/public/en/a1/2026.json", "zh-hans") == "/public/zh/a1/2026.json"
    assert bare("/public/en/a1/2026/summary/") == "/public/a1/2026/summary/"


@pytest.mark.django_db
def test_printed_addresses_are_bare_and_keep_working(year_with_everything):  # noqa: F811
    notice = year_with_everything["notice"]  # a plan notice posted on 16 November 2026
    proposal = notice.proposal
    site = settings.SITE_URL.rstrip("/")
    printed = papers.objection_url(proposal, notice)
    assert printed == f"{site}/public/a1/notices/{notice.public_id}/object/"
    assert papers.public_url(proposal, notice) == f"{site}/public/a1/2026/#notice-{notice.public_id}"
    target = f"/public/zh/a1/notices/{notice.public_id}/object/"
    client = Client()
    with travel(D(2026, 11, 17)):
        assert client.get(printed.removeprefix(site))["Location"] == target
        # Papers printed before public ids carry the notice's pk: one redirect to the form, as before.
        legacy = client.get(f"/public/a1/notices/{notice.pk}/object/")
        assert legacy.status_code == 302 and legacy["Location"] == target
        assert client.get(target).status_code == 200
        # …for a plan notice residents were shown only; never for another community's address or a guess.
        assert client.get(f"/public/b1/notices/{notice.pk}/object/").status_code == 404
        # A notice after payment takes no online objection: its printed address leads to the notice on the
        # community's page (with the service hall's phone and address), now and for papers already posted.
        voucher = Notice.objects.get(kind=Notice.Kind.VOUCHER)
        assert client.get(f"/public/a1/notices/{voucher.pk}/object/")["Location"] \
            == f"/public/zh/a1/2026/#project-{voucher.proposal.public_id}"
        assert papers.objection_url(voucher.proposal, voucher) != papers._notice_context(voucher.proposal, voucher)[
            "objection_url"] == papers.public_url(voucher.proposal, voucher)
        assert client.get(f"/public/zh/a1/notices/{notice.pk}/object/").status_code == 404


def _article(page, notice):
    match = re.search(rf'<article class="notice" id="notice-{notice.public_id}">(.*?)</article>', page, re.S)
    assert match, f"notice {notice.kind} not shown as running"
    return match.group(1)


@pytest.mark.django_db
def test_every_notice_says_how_to_object_and_every_link_answers(year_with_everything):  # noqa: F811
    org = year_with_everything["org"]
    community_update(community=org.community("a1"), by=org.city_admin, phone="0431-8562 3001",
                     address="东城街道1号社区党群服务中心一楼")
    voucher = Notice.objects.get(kind=Notice.Kind.VOUCHER)
    plan = year_with_everything["notice"]
    for day, notice, online in ((D(2026, 11, 5), voucher, False), (D(2026, 11, 17), plan, True)):
        with travel(day):
            cache.clear()
            for language, words in (("zh-hans", "我有异议"), ("en", "Raise an objection")):
                with translation.override(language):
                    page = Client().get(reverse("public:community-year", args=["a1", 2026])).content.decode()
                article = _article(page, notice)
                # Online only where the rules allow it (a plan notice, Art. 10); the service hall always.
                assert (words in article) is online, (notice.kind, language)
                assert 'href="tel:043185623001"' in article and "0431-8562 3001" in article
                assert "东城街道1号社区党群服务中心一楼" in article
            seen = walk(Client(), ["/public/zh/a1/2026/", "/public/en/a1/2026/"])
            assert not broken(seen), broken(seen)
            assert any("/object/" in url for url in seen) is online


@pytest.mark.django_db
def test_a_community_code_cannot_be_a_language_of_the_public_addresses(org):
    from fundapp.errors import DomainError
    from fundapp.services.org import community_create

    for code in ("en", "zh", "ZH"):
        with pytest.raises(DomainError, match="语言"):
            community_create(subdistrict=org.a, name=f"{code}社区", code=code, by=org.city_admin)
    community_create(subdistrict=org.a, name="英才社区", code="english", by=org.city_admin)
    assert Client().get("/public/english/2026/")["Location"] == "/public/zh/english/2026/"


@pytest.mark.django_db
def test_the_objection_received_note_is_for_the_objector_alone(year_with_everything):  # noqa: F811
    resident, neighbour = Client(), Client()
    with travel(D(2026, 11, 17)):
        assert "您的异议已收到" not in neighbour.get("/public/zh/a1/2026/").content.decode()
        response = objection_post(resident, "a1", year_with_everything["notice"])
        assert response.status_code == 302 and "?objected=1" in response["Location"]
        mine = resident.get(response["Location"])
        assert "您的异议已收到" in mine.content.decode() and mine["Cache-Control"] == "private, no-store"
        # The next reader (after the objection made the cached page stale) is not told it.
        theirs = neighbour.get("/public/zh/a1/2026/")
        assert "您的异议已收到" not in theirs.content.decode() and theirs["Cache-Control"].startswith("public")


@pytest.mark.django_db
def test_the_open_data_is_in_its_addresss_language_whichever_was_asked_first(year_with_everything):  # noqa: F811
    client = Client()
    with travel(D(2026, 11, 17)):
        english = client.get("/public/en/a1/2026.json").json()
        chinese = client.get("/public/zh/a1/2026.json").json()
    assert english["by_category"][0]["name"] == "Services for people in extreme hardship"
    assert chinese["by_category"][0]["name"] == "特困群体服务"
    pdfs = [n["pdf"] for p in chinese["projects"] for n in p["notices"] if n["pdf"]]
    assert pdfs and all(pdf.startswith("/public/zh/a1/notices/") for pdf in pdfs)
    assert all(n["pdf"].startswith("/public/en/") for p in english["projects"] for n in p["notices"] if n["pdf"])
