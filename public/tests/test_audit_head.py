"""Each community's audit chain head, as published daily (audit.services.publish_heads), on its public page
and in its open data — where anyone can keep a copy that a later rewrite of the trail would contradict."""
import pytest
from django.core.cache import cache
from django.urls import reverse

from audit.models import AuditChainHead
from audit.services import publish_heads
from tests.chain import allocate


@pytest.mark.django_db
def test_the_published_head_is_on_the_public_page_and_in_the_json(org, client):
    allocate(org)
    community = org.community("a1")
    cache.clear()
    page = reverse("public:community-year", args=["a1", 2026])
    data = reverse("public:community-year-json", args=["a1", 2026])
    assert "审计记录链头" not in client.get(page).content.decode()
    assert client.get(data).json()["audit_head"] is None  # nothing published yet

    publish_heads()
    head = AuditChainHead.objects.get(chain=f"community:{community.pk}")
    cache.clear()  # the day's cached copy (a publication lands at 00:10; the caches live 10 minutes at most)
    text = client.get(page).content.decode()
    assert "审计记录链头" in text and f"第 {head.seq} 条" in text and head.last_hash in text
    published = client.get(data).json()["audit_head"]
    assert (published["seq"], published["hash"]) == (head.seq, head.last_hash)
