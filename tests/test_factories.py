"""The factories reach what they promise, through the services: each state of the chain, with the money the
rules say (tests/factories.py)."""
from decimal import Decimal

import pytest

from approvals.models import Invoice, Proposal, State
from audit.models import AuditRecord
from audit.services import verify_chain
from fundapp.models import FundYear
from tests.factories import MAIN_LINE, InvoiceFactory, ProposalFactory, walk

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = [pytest.mark.django_db, pytest.mark.one_database]

ZERO = Decimal("0.00")
RESERVING = {State.APPROVED, State.IN_PROGRESS, State.ACCEPTED}
SETTLED = {State.SETTLED, State.COMPLETION_NOTICE, State.COMPLETED}


def _money(org, code="a1"):
    fund = FundYear.objects.get(community=org.community(code), year=2026)
    return fund.allocated, fund.reserved, fund.settled


def test_one_proposal_walks_the_main_line_state_by_state_through_the_services(org):
    proposal = ProposalFactory(org=org, budget="30000.00")
    assert proposal.state == State.DRAFT
    for state, _step in MAIN_LINE:
        proposal = walk(org, proposal, state)
        assert proposal.state == state
        reserved = Decimal("30000.00") if state in RESERVING else ZERO
        settled = Decimal("30000.00") if state in SETTLED else ZERO
        assert _money(org) == (Decimal("200000.00"), reserved, settled), state
    # Every step went through a service: each left its audit record, and the community's chain verifies.
    acts = AuditRecord.objects.filter(target_type="approvals.proposal", target_id=str(proposal.pk))
    assert acts.count() >= len(MAIN_LINE)
    assert verify_chain(f"community:{org.community('a1').pk}") == []


@pytest.mark.parametrize("state", [State.ON_HOLD, State.REJECTED, State.WITHDRAWN, State.APPROVED])
def test_the_factory_takes_a_new_proposal_straight_to_a_state(org, state):
    proposal = ProposalFactory(org=org, code="b1", state=state)
    assert proposal.state == state
    assert _money(org, "b1")[1] == (Decimal("30000.00") if state in RESERVING else ZERO)


def test_invoices_are_registered_and_signed_in_order(org):
    proposal = ProposalFactory(org=org, state=State.ACCEPTED, code="b2")
    unsigned = InvoiceFactory(org=org, proposal=proposal, code="b2", signers=0, amount="1000.00")
    signed = InvoiceFactory(org=org, proposal=proposal, code="b2", amount="2000.00")
    assert unsigned.signatures.count() == 0
    assert signed.signatures.count() == 3
    assert {i.proposal_id for i in Invoice.objects.all()} == {proposal.pk}


def test_a_proposal_is_never_built_beside_the_services(org):
    with pytest.raises(TypeError):
        ProposalFactory.build(org=org)
    assert not Proposal.objects.exists()
