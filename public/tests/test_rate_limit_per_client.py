"""The residents' rate limit counts each resident behind the proxy, not the proxy (fundapp.client_ip)."""
import datetime
import time

import pytest
from django.core import signing
from django.urls import reverse

from approvals.models import Objection
from fundapp.client_ip import parse_networks
from public.tests.test_public import year_with_everything, year_with_everything_snapshot  # noqa: F401
from tests.chain import travel


def _object(client, notice, remote, forwarded):
    data = {"resident_name": "赵大海", "resident_contact": "13600000000", "text": "噪音问题", "website": "",
            "shown": signing.dumps(time.time() - 10, salt="public-form")}
    return client.post(reverse("public:object", args=["a1", notice.public_id]), data,
                       REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)


@pytest.mark.django_db
def test_objection_rate_limit_per_real_client(year_with_everything, client, settings):  # noqa: F811
    settings.TRUSTED_PROXY_NETWORKS = parse_networks(["127.0.0.1"])
    notice = year_with_everything["notice"]
    before = Objection.objects.count()
    with travel(datetime.date(2026, 11, 17)):
        for _ in range(3):
            assert _object(client, notice, "127.0.0.1", "203.0.113.5").status_code == 302
        assert "提交次数过多" in _object(client, notice, "127.0.0.1", "203.0.113.5").content.decode()
        # another resident behind the same nginx is not stopped by the first one
        assert _object(client, notice, "127.0.0.1", "198.51.100.7").status_code == 302
        # a peer that is not the proxy cannot get round the limit with a forged header
        for n in range(3):
            assert _object(client, notice, "192.0.2.1", f"203.0.113.{n}").status_code == 302
        assert "提交次数过多" in _object(client, notice, "192.0.2.1", "203.0.113.200").content.decode()
    assert Objection.objects.count() == before + 7
