import pytest
from django.core.management import call_command

from approvals.models import Proposal, State
from audit.services import verify_chain
from fundapp import clock


@pytest.mark.django_db
def test_seed_demo_has_a_proposal_in_every_state_and_is_idempotent(demo_city):
    # demo_city: what the first `seed_demo` left (run once per test process); the second run is this test's.
    states = set(Proposal.objects.values_list("state", flat=True))
    assert states == set(State.values)
    count = Proposal.objects.count()
    call_command("seed_demo")
    assert Proposal.objects.count() == count
    # nothing in the demo history happens after today
    assert not Proposal.objects.filter(review_received_on__gt=clock.today()).exists()
    assert verify_chain() == []
