"""Every (state × action) pair of the approval chain, tried over HTTP by a person in every role.

The demo holds a proposal in every state. Each role POSTs every action to every proposal it can see —
including jumps straight to later steps. A pair the page does not offer to that person answers 404 and
changes nothing; offered pairs are exercised by the lifecycle and browser tests.
"""
import pytest
from django.core.management import call_command
from django.urls import reverse

from approvals.actions import ACTIONS, applicable
from approvals.models import Proposal
from audit.models import AuditRecord
from fundapp import rights

PEOPLE = ["city-admin", "dongcheng-secretary", "dongcheng-director", "dongcheng-staff", "dongcheng-finance",
          "xingfu-secretary", "xingfu-staff", "xingfu-supervisor"]


@pytest.mark.django_db
def test_every_state_action_pair_not_offered_is_refused_and_changes_nothing(client, django_user_model):
    call_command("seed_demo")
    proposals = list(Proposal.objects.select_related("community"))
    assert len({p.state for p in proposals}) == 15
    before = {p.pk: p.state for p in proposals}
    records = AuditRecord.objects.count()
    tried = refused = 0
    for username in PEOPLE:
        user = django_user_model.objects.get(username=username)
        client.force_login(user)
        visible = set(rights.communities_for(user, "view_fund").values_list("pk", flat=True))
        outside = [p for p in proposals if p.community_id not in visible][:2]  # a sample is enough: 404 early
        for proposal in [p for p in proposals if p.community_id in visible] + outside:
            offered = applicable(user, proposal)
            for name in ACTIONS:
                if name in offered:
                    continue
                url = reverse("approvals:proposal-action", args=[proposal.pk, name])
                response = client.post(url, {"confirm": "1", "reason": "x", "comments": "x", "decision": "approve",
                                             "text": "x", "answer": "x", "target": "1"})
                tried += 1
                assert response.status_code == 404, (username, proposal.state, name, response.status_code)
                refused += 1
    assert tried == refused and tried > 1000
    print(f"\nstate x action matrix: {tried} (person, state, action) pairs tried over HTTP, all refused")
    assert {p.pk: p.state for p in Proposal.objects.all()} == before
    assert AuditRecord.objects.count() == records
