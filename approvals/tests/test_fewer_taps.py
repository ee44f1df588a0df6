"""What the measured walk (tests/browser/test_walk_taps.py) relies on, checked without a browser: the work queue's
items are buttons to the step's form; an accepted project with nothing invoiced waits in the secretary's queue
for its invoice, and leaves it once one is registered; registering an invoice leads to signing it, finishing the
settlement to the completion notice; a need of the register opens a new proposal with that need ticked; the
review's decision is the button pressed."""
import datetime
import re

import pytest
from django.urls import reverse

from approvals import services as chain
from approvals.models import Invoice, Need, Payment, State
from approvals.selectors import work_queue
from fundapp.models import Role
from tests.chain import allocate, draft, funded_and_accepted, reload, to_review, travel

D = datetime.date
# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = [pytest.mark.django_db, pytest.mark.one_database]


@pytest.fixture
def accepted(org):
    return funded_and_accepted(org)


def _queue_names(user, proposal):
    item = next((i for i in work_queue(user) if i.proposal.pk == proposal.pk), None)
    return item and [(o.action.name, o.target) for o in item.now]


def test_the_accepted_project_waits_for_its_invoice_then_for_its_signature(org, accepted, client):
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(D(2026, 11, 3)):
        assert _queue_names(secretary, accepted) == [("register_invoice", None)]
        client.force_login(secretary)
        home = client.get(reverse("home")).content.decode()
        form_url = reverse("approvals:proposal-action", args=[accepted.pk, "register_invoice"])
        assert re.search(rf'data-action="register_invoice" href="{re.escape(form_url)}"', home)

        response = client.post(form_url, {"contractor": "光明电器维修部", "number": "No.1", "amount": "28000.00",
                                          "issued_on": "2026-11-03"})
        invoice = Invoice.objects.get(proposal=accepted)
        sign_url = reverse("approvals:proposal-action", args=[accepted.pk, "sign_invoice"])
        assert response.status_code == 302 and response.url == f"{sign_url}?target={invoice.pk}"
        # Something is invoiced now: registering is still possible (on the page), but no longer waiting.
        assert _queue_names(secretary, accepted) == [("sign_invoice", invoice), ("refuse_invoice", invoice)]
        response = client.post(f"{sign_url}?target={invoice.pk}", {"target": invoice.pk})
        assert response.status_code == 302 and response.url == reverse("approvals:proposal", args=[accepted.pk])
        assert _queue_names(secretary, accepted) is None  # signed: it left the queue at once


def test_a_returned_invoice_makes_the_project_wait_for_an_invoice_again(org, accepted):
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(D(2026, 11, 3)):
        invoice = chain.invoice_register(proposal=accepted, by=secretary, contractor="光明电器维修部", number="No.1",
                                         amount="28000.00", issued_on=D(2026, 11, 3))
        chain.invoice_refuse(invoice=invoice, by=secretary, reason="金额有误")
        assert ("register_invoice", None) in _queue_names(secretary, accepted)


def test_finishing_the_settlement_leads_to_the_completion_notice(org, accepted, client):
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with travel(D(2026, 11, 3)):
        invoice = chain.invoice_register(proposal=accepted, by=secretary, contractor="光明电器维修部", number="No.1",
                                         amount="28000.00", issued_on=D(2026, 11, 3))
        for role in (Role.COMMUNITY_SECRETARY, Role.CONSTRUCTION_DIRECTOR, Role.SUBDISTRICT_SECRETARY):
            chain.invoice_sign(invoice=invoice, by=org.person(role))
        chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER), paid_on=D(2026, 11, 3),
                             method=Payment.Method.TRANSFER, reference="ZZ-1")
        client.force_login(secretary)
        response = client.post(reverse("approvals:proposal-action", args=[accepted.pk, "finish_settlement"]),
                               {"confirm": "1"})  # a browser always sends a field (the CSRF token)
    assert reload(accepted).state == State.SETTLED
    assert response.status_code == 302
    assert response.url == reverse("approvals:proposal-action", args=[accepted.pk, "post_completion_notice"])


def test_a_need_opens_a_new_proposal_with_it_ticked(org, client):
    staff = org.person(Role.COMMUNITY_STAFF)
    need = chain.need_record(community=org.community("a1"), by=staff, channel="door", description="单元门禁损坏",
                             resident_name="李秀英", on=D(2026, 9, 28))
    client.force_login(staff)
    register = client.get(reverse("approvals:needs")).content.decode()
    link = f'{reverse("approvals:proposal-new")}?community=a1&amp;need={need.pk}'
    assert link in register and "据此起草项目" in register
    form = client.get(link.replace("&amp;", "&")).content.decode()
    box = re.search(rf'<input[^>]*name="needs"[^>]*value="{need.pk}"[^>]*>', form).group(0)
    assert "checked" in box
    # Nobody can draft there: no offer.
    client.force_login(org.person(Role.SUPERVISOR))
    assert "据此起草项目" not in client.get(reverse("approvals:needs")).content.decode()
    assert Need.objects.count() == 1


def test_the_review_decision_is_the_button_pressed(org, client):
    allocate(org)
    proposal = to_review(org, draft(org))
    leader = org.person(Role.SUBDISTRICT_SECRETARY)
    url = reverse("approvals:proposal-action", args=[proposal.pk, "review"])
    client.force_login(leader)
    with travel(D(2026, 10, 12)):
        page = client.get(url).content.decode()
        assert 'type="radio"' not in page
        for value in ("approve", "return", "reject"):
            assert f'name="decision" value="{value}"' in page
        refused = client.post(url, {"decision": "reject"})  # no reason given
        assert refused.status_code == 200 and "请填写理由" in refused.content.decode()
        assert reload(proposal).state == State.UNDER_REVIEW
        assert client.post(url, {"decision": "approve"}).status_code == 302
    assert proposal.reviews.filter(by=leader).exists()
