"""Residents find a community, a subdistrict or a published project the way they search: by a part of its name,
by pinyin or by initials; best matches first; never a project that has not been put before them."""
import datetime

import pytest
from django.urls import reverse

from approvals import services as chain
from fundapp.models import Role, SearchEntry
from fundapp.services import org as org_services
from fundapp.services.search import search_forms
from public.city_selectors import SEARCH_LIMIT, search
from tests.chain import allocate, draft, meeting_passed, travel

D = datetime.date


def names(hits):
    return [h.name for h in hits]


def test_the_stored_forms_are_pinyin_initials_and_tripled_characters():
    forms = search_forms("幸福 社区")
    assert forms["key"] == "幸福社区" and forms["pinyin"] == "xingfushequ" and forms["initials"] == "xfsq"
    assert forms["grams"] == "幸幸幸福福福社社社区区区 xingfushequ xfsq"
    # Full-width letters and digits are plain; a run of Latin letters or digits stands as it is.
    assert search_forms("Ｋ２花园社区")["initials"] == "k2hysq"


@pytest.mark.django_db
def test_the_services_keep_the_entries_on_create_and_rename(org):
    sd = org_services.subdistrict_create(name="幸福街道", code="xf")
    community = org_services.community_create(subdistrict=sd, name="幸福里社区", code="xfl")
    assert SearchEntry.objects.get(kind="subdistrict", object_id=sd.pk).pinyin == "xingfujiedao"
    assert SearchEntry.objects.get(kind="community", object_id=community.pk).initials == "xflsq"
    org_services.community_update(community=community, name="光明里社区")
    org_services.subdistrict_update(subdistrict=sd, name="光明街道")
    assert names(search("xingfu", 2026)[0]) == []
    assert names(search("gmlsq", 2026)[0]) == ["光明里社区"]
    assert names(search("光明", 2026)[0]) == ["光明街道", "光明里社区"]
    assert SearchEntry.objects.count() == 2 + 4 + 2  # org's subdistricts and communities, and the two new


@pytest.mark.django_db
def test_ranked_exact_then_prefix_then_substring_subdistricts_communities_projects(org):
    sd = org_services.subdistrict_create(name="幸福街道", code="xf")
    for name, code in (("阳光幸福社区", "ygxf"), ("幸福里社区", "xfl"), ("幸福社区", "xfsq")):
        org_services.community_create(subdistrict=sd, name=name, code=code)
    hits, more = search("幸福", 2026)
    assert names(hits) == ["幸福街道", "幸福社区", "幸福里社区", "阳光幸福社区"] and not more
    assert [h.rank for h in hits] == [1, 1, 1, 2]
    # Initials and pinyin: the exact match first, then those that begin so.
    hits, _ = search("xfsq", 2026)
    assert names(hits) == ["幸福社区", "阳光幸福社区"] and [h.rank for h in hits] == [0, 2]  # ygxfsq holds it
    assert names(search("xingfu", 2026)[0]) == ["幸福街道", "幸福社区", "幸福里社区", "阳光幸福社区"]
    assert names(search("Xing Fu", 2026)[0]) == names(search("xingfu", 2026)[0])
    assert names(search("fushe", 2026)[0]) == ["幸福社区", "阳光幸福社区"]  # within the pinyin, three letters or more
    # One Chinese character is a substring query too; one or two Latin letters match by prefix only.
    assert names(search("阳", 2026)[0]) == ["阳光幸福社区"]
    assert names(search("fu", 2026)[0]) == []
    assert names(search("yg", 2026)[0]) == ["阳光幸福社区"]
    assert search("  ", 2026) == ([], False)


@pytest.mark.django_db
def test_a_project_is_found_only_once_it_is_before_residents(org, client):
    allocate(org)
    published = meeting_passed(org, draft(org, title="幸福广场路灯维修"))
    hidden = draft(org, title="幸福小院改造")  # a draft: internal
    assert names(search("幸福", 2026)[0]) == []
    with travel(D(2026, 9, 30)):
        chain.notice_post(proposal=published, by=org.person(Role.COMMUNITY_SECRETARY), posted_on=D(2026, 9, 30))
        hits, _ = search("幸福", 2026)
        assert names(hits) == ["幸福广场路灯维修"]
        assert hits[0].url == reverse("public:community-year", args=["a1", 2026]) + f"#project-{published.pk}"
        assert hits[0].where == "东城街道1号社区 · 2026"
        page = client.get(reverse("public:index"), {"q": "xfgc"}).content.decode()
    assert "幸福广场路灯维修" in page and "幸福小院" not in page
    assert not SearchEntry.objects.filter(object_id=hidden.pk, kind="project").exists()


@pytest.mark.django_db
def test_results_are_capped_and_say_so(org, client):
    for n in range(SEARCH_LIMIT + 3):
        org_services.community_create(subdistrict=org.a, name=f"和平{n:02d}社区", code=f"hp{n:02d}")
    hits, more = search("和平", 2026)
    assert len(hits) == SEARCH_LIMIT and more
    assert names(hits)[:2] == ["和平00社区", "和平01社区"]
    response = client.get(reverse("public:index"), {"q": "hp"})
    assert response.status_code == 200 and "请输入更完整的名称" in response.content.decode()
    assert response["Cache-Control"].startswith("public, max-age=")
    assert len(search("和平社区", 2026)[0]) == 0  # a substring, not a bag of characters


@pytest.mark.django_db
def test_a_published_project_retitled_is_found_by_its_new_title(org):
    allocate(org)
    proposal = meeting_passed(org, draft(org, title="幸福广场路灯维修"))
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(D(2026, 9, 30)):
        chain.notice_post(proposal=proposal, by=secretary, posted_on=D(2026, 9, 30))
        # Objections led to a new plan: back to the joint meeting, and the plan may be edited again.
        chain.proposal_replan(proposal=proposal, by=secretary, reason="居民意见较多，调整选址")
        chain.proposal_update(proposal=proposal, by=org.person(Role.COMMUNITY_STAFF), title="和平广场路灯维修")
        assert names(search("hpgc", 2026)[0]) == ["和平广场路灯维修"]
        assert names(search("幸福广场", 2026)[0]) == []


@pytest.mark.django_db
def test_a_resident_named_in_a_title_is_neither_shown_nor_found_in_search_or_feeds(org, client):
    """Search and the notices' feeds pass titles through the publishing step like every public page."""
    allocate(org)
    chain.need_record(community=org.community("a1"), by=None, channel="online", description="楼道灯坏了",
                      resident_name="王小明")
    published = meeting_passed(org, draft(org, title="王小明家门前路灯维修"))
    with travel(D(2026, 9, 30)):
        chain.notice_post(proposal=published, by=org.person(Role.COMMUNITY_SECRETARY), posted_on=D(2026, 9, 30))
        assert names(search("路灯", 2026)[0]) == ["王**家门前路灯维修"]
        assert names(search("王小明", 2026)[0]) == [] and names(search("wangxiaoming", 2026)[0]) == []
        for feed in (reverse("public:city-feed"), reverse("public:community-feed", args=["a1"])):
            body = client.get(feed).content.decode()
            assert "王**家门前路灯维修" in body and "王小明" not in body


@pytest.mark.django_db
def test_a_name_that_becomes_known_after_publication_is_no_longer_found(org, client):
    """A project titled with a resident's name before the records knew the name: once that resident registers
    a need (or objects), search neither shows nor finds the name any more."""
    allocate(org)
    published = meeting_passed(org, draft(org, title="李大山家门前路灯维修"))
    with travel(D(2026, 9, 30)):
        chain.notice_post(proposal=published, by=org.person(Role.COMMUNITY_SECRETARY), posted_on=D(2026, 9, 30))
        assert names(search("李大山", 2026)[0]) == ["李大山家门前路灯维修"]  # nobody knows it is a name yet
        chain.need_record(community=org.community("a1"), by=None, channel="online", description="楼道灯坏了",
                          resident_name="李大山")
        assert names(search("李大山", 2026)[0]) == [] and names(search("lidashan", 2026)[0]) == []
        assert names(search("路灯", 2026)[0]) == ["李**家门前路灯维修"]
