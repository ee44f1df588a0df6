"""Who may see and do what, tried in the browser the way a curious or careless user would: editing the
address bar, looking for buttons that are not theirs, posting straight to a later step."""
import datetime

import pytest
from playwright.sync_api import expect

from approvals import services as chain
from approvals.models import Proposal, State
from audit.models import AuditRecord
from fundapp.models import Role
from tests.chain import allocate, approve, draft, to_accepted, to_review, travel

from .test_full_chain import session, sign_in, sign_out, url_of

pytestmark = pytest.mark.browser

D = datetime.date


def status_of(page, live_server, path):
    response = page.goto(url_of(live_server, path))
    return response.status


def accepted_with_invoice(org, code, *, number, signers=()):
    """A proposal of `code` accepted on 2026-11-02, with one invoice registered and signed by `signers`."""
    proposal = draft(org, code, title=f"{code} 路灯维修（已验收）")
    to_accepted(org, approve(org, to_review(org, proposal, code), code), code)
    with travel(D(2026, 11, 3)):
        invoice = chain.invoice_register(proposal=proposal, by=org.person(Role.COMMUNITY_SECRETARY, code),
                                         contractor="光明电器维修部", number=number, amount="28000.00",
                                         issued_on=D(2026, 11, 3))
        for role in signers:
            chain.invoice_sign(invoice=invoice, by=org.person(role, code))
    return proposal, invoice


def test_a1_secretary_editing_the_address_gets_404_for_b1_and_never_sees_b1_listed(live_server, org, page):
    allocate(org)
    allocate(org, "b1")
    mine = draft(org, "a1", title="东城 a1 楼道路灯")
    b1_draft = draft(org, "b1", title="西城 b1 凉亭修缮")
    b1_accepted, b1_invoice = accepted_with_invoice(org, "b1", number="B1-0001")
    chain.need_record(community=org.community("b1"), by=org.person(Role.COMMUNITY_STAFF, "b1"), channel="hall",
                      description="西城 b1 居民：希望修缮凉亭", on=D(2026, 3, 2))

    with session(page, live_server, org.person(Role.COMMUNITY_SECRETARY, "a1"), "/proposals/"):
        # The same kinds of address for a1's own proposal answer: the 404s below are about whose it is.
        for path in (f"/proposals/{mine.pk}/", f"/proposals/{mine.pk}/edit/",
                     f"/proposals/{mine.pk}/do/submit_for_consent/", f"/proposals/{mine.pk}/do/withdraw/"):
            assert status_of(page, live_server, path) == 200, path
        own_pdf = page.request.get(url_of(live_server, f"/proposals/{mine.pk}/application-form.pdf"))
        assert own_pdf.status == 200 and own_pdf.headers["content-type"] == "application/pdf"

        for path in (
            f"/proposals/{b1_draft.pk}/",
            f"/proposals/{b1_draft.pk}/edit/",
            f"/proposals/{b1_draft.pk}/application-form.pdf",
            f"/proposals/{b1_draft.pk}/do/submit_for_consent/",
            f"/proposals/{b1_draft.pk}/do/withdraw/",
            f"/proposals/{b1_accepted.pk}/",
            f"/proposals/{b1_accepted.pk}/application-form.pdf",
            f"/proposals/{b1_accepted.pk}/do/register_invoice/",
            f"/proposals/{b1_accepted.pk}/do/sign_invoice/?target={b1_invoice.pk}",
            f"/proposals/{b1_accepted.pk}/do/finish_settlement/",
            # a1's own proposal with b1's invoice slipped in as the target
            f"/proposals/{mine.pk}/do/sign_invoice/?target={b1_invoice.pk}",
            "/ledgers/b1/2026/",
            "/record/b1/",
        ):
            assert status_of(page, live_server, path) == 404, path
            expect(page.locator("body")).not_to_contain_text("西城")

        # Nothing of b1 on any of a1's own pages (b1 belongs to the other subdistrict, 西城街道).
        for path, own in (("/", "东城"), ("/proposals/", mine.title), ("/proposals/?state=draft", mine.title),
                          ("/proposals/?state=accepted", None), ("/invoices/", None),
                          ("/needs/", "楼道路灯不亮"), ("/ledgers/", "东城街道1号社区"),
                          ("/ledgers/a1/2026/", "东城街道1号社区"), ("/record/a1/", None)):
            assert status_of(page, live_server, path) == 200, path
            main = page.locator("main")
            if own:
                expect(main).to_contain_text(own)
            for text in ("西城", b1_draft.title, b1_accepted.title, "B1-0001", "凉亭"):
                expect(main).not_to_contain_text(text)

    assert Proposal.objects.get(pk=b1_draft.pk).state == State.DRAFT


def test_an_action_is_offered_only_to_the_person_whose_job_it_is(live_server, org, page, phone_page):
    allocate(org)
    pending = draft(org, title="待初步同意的项目")
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=pending, by=org.person(Role.COMMUNITY_SECRETARY))
    # An invoice the community secretary has signed: the construction director signs next.
    accepted, invoice = accepted_with_invoice(org, "a1", number="A1-0002", signers=[Role.COMMUNITY_SECRETARY])

    consent_at = f"/proposals/{pending.pk}/"
    sign_at = f"/proposals/{accepted.pk}/"
    sign_url = f"/proposals/{accepted.pk}/do/sign_invoice/?target={invoice.pk}"
    cases = [  # role, may consent, may sign now
        (Role.COMMUNITY_SECRETARY, False, False),  # has signed already
        (Role.COMMUNITY_STAFF, False, False),
        (Role.SUPERVISOR, False, False),
        (Role.CONSTRUCTION_DIRECTOR, False, True),
        (Role.FINANCE_OFFICER, False, False),  # settles only after the third signature
        (Role.SUBDISTRICT_STAFF, False, False),
        (Role.SUBDISTRICT_SECRETARY, True, False),  # signs third, not second
    ]
    for i, (role, may_consent, may_sign) in enumerate(cases):
        p = phone_page if i % 2 else page
        sign_in(p, live_server, org.person(role), consent_at)
        expect(p.locator(".head-row .badge")).to_have_text("待初步同意")
        expect(p.locator("a[data-action=consent]"), str(role)).to_have_count(1 if may_consent else 0)
        expect(p.locator("a[data-action=return_consent]"), str(role)).to_have_count(1 if may_consent else 0)
        if may_consent:
            expect(p.locator("a[data-action]"), str(role)).to_have_count(2)
        assert status_of(p, live_server, f"{consent_at}do/consent/") == (200 if may_consent else 404), role

        assert status_of(p, live_server, sign_at) == 200, role
        expect(p.locator(".head-row .badge")).to_have_text("已验收")
        signs = p.locator("a[data-action=sign_invoice]")
        expect(signs, str(role)).to_have_count(1 if may_sign else 0)
        expect(p.locator("a[data-action=refuse_invoice]"), str(role)).to_have_count(1 if may_sign else 0)
        expect(p.locator("a[data-action=settle_invoice]"), str(role)).to_have_count(0)
        if may_sign:
            expect(signs).to_have_attribute("href", sign_url)
        assert status_of(p, live_server, sign_url) == (200 if may_sign else 404), role
        p.go_back()  # from the error page, back to the proposal, to log out from its top bar
        sign_out(p, live_server)

    # Nobody acted: looking changes nothing.
    assert Proposal.objects.get(pk=pending.pk).state == State.CONSENT_PENDING
    assert invoice.signatures.count() == 1


def test_posting_straight_to_a_later_step_is_refused_and_changes_nothing(live_server, org, page):
    allocate(org)
    proposal = draft(org)
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    sign_in(page, live_server, secretary, f"/proposals/{proposal.pk}/")
    expect(page.locator("a[data-action=submit_for_review]")).to_have_count(0)
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")

    def post(action, data=None, query=""):
        return page.request.post(url_of(live_server, f"/proposals/{proposal.pk}/do/{action}/{query}"),
                                 form={"csrfmiddlewaretoken": token, **(data or {})},
                                 headers={"X-CSRFToken": token}, max_redirects=0)

    later_steps = [
        ("submit_for_review", {}),
        ("consent", {"comments": "自己同意自己"}),
        ("meeting", {"held_on": "2026-09-28", "place": "会议室", "attendance": "5", "votes_for": "5",
                     "votes_against": "0", "votes_abstain": "0", "minutes": "通过"}),
        ("post_notice", {"posted_on": "2026-09-30", "working_days": "3", "confirm": "1"}),
        ("review", {"decision": "approve"}),
        ("start", {}),
        ("finish_settlement", {}),
        ("complete", {}),
        ("approve", {}),  # a transition name, not a page: no such action either
    ]
    records = AuditRecord.objects.count()
    for action, data in later_steps:
        assert post(action, data).status == 404, action
    proposal.refresh_from_db()
    assert proposal.state == State.DRAFT
    assert AuditRecord.objects.count() == records
    assert not proposal.meetings.exists() and not proposal.notices.exists()

    # The same kind of request for the step that is due goes through: the 404s were the rules, not the request.
    response = post("submit_for_consent")
    assert response.status == 302 and response.headers["location"] == f"/proposals/{proposal.pk}/"
    proposal.refresh_from_db()
    assert proposal.state == State.CONSENT_PENDING
    # …and the step after next is still refused from the new state.
    records = AuditRecord.objects.count()
    assert post("submit_for_review").status == 404
    assert post("meeting", dict(later_steps[2][1])).status == 404
    assert Proposal.objects.get(pk=proposal.pk).state == State.CONSENT_PENDING
    assert AuditRecord.objects.count() == records

    page.reload()
    expect(page.locator(".head-row .badge")).to_have_text("待初步同意")
    sign_out(page, live_server)
