"""A handover confirmed twice at once on PostgreSQL (a double click, two administrators): one succeeds, the
other is refused with a message; one successor post, one end, the successor told once."""
import datetime

import pytest

from audit.models import AuditRecord
from audit.services import verify_chain
from fundapp.errors import DomainError
from fundapp.models import Notification, Post, Role
from fundapp.services import org as org_services

from .chain import allocate, draft, travel
from .test_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DAY = datetime.date(2026, 9, 29)


def test_a_double_confirmed_handover_happens_once(org, make_user):
    from approvals import services as chain

    allocate(org)
    p = draft(org)
    with travel(datetime.date(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=p, by=org.person(Role.COMMUNITY_SECRETARY))
    post = Post.objects.get(user=org.person(Role.SUBDISTRICT_SECRETARY), role=Role.SUBDISTRICT_SECRETARY)
    successor = make_user("successor")

    def confirm(i):
        with travel(DAY):
            return org_services.post_hand_over(post=post, successor=successor, on=DAY, by=org.city_admin)

    outcomes = race(6, confirm)
    done = [r for _i, r, e in outcomes if e is None]
    refused = [e for _i, _r, e in outcomes if e is not None]
    assert len(done) == 1 and all(isinstance(e, DomainError) for e in refused), refused
    assert Post.objects.filter(user=successor, role=Role.SUBDISTRICT_SECRETARY).count() == 1
    assert AuditRecord.objects.filter(action="post.hand_over").count() == 1
    assert Notification.objects.filter(user=successor).count() == 1
    assert verify_chain() == []
