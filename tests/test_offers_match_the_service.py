"""A queue that never lies: what a page offers is exactly what the service accepts.

One set of proposals holds every state of the chain, and the cases inside a state that decide what can be
done (a notice still running or ended, an objection open, one leader decided, an invoice at each signature,
a voucher payment without its notice, a change pending, a completion notice running or ended…). For every
proposal, every person (each role of community a1 and its subdistrict, the city administrator, and people of
another community and subdistrict) and every action of `approvals.actions.ACTIONS` on every object it could
be about, the action is performed through its form and its service with valid input, in a savepoint that
is rolled back. The test asserts, cell by cell:

- every action offered as available is accepted by the service (nothing offered is refused on confirming);
- every action the service accepts is offered as available (nothing one may do is hidden);
- an action offered as blocked is refused, with the blocked reason; a blocked notice step says the day it opens.
"""
import datetime
import itertools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from approvals import services as chain
from approvals.actions import ACTIONS, offers
from approvals.models import Change, Invoice, Objection, Proposal, State
from approvals.workflow import TRANSITIONS
from fundapp.errors import DomainError
from fundapp.models import Role

from .chain import approve, draft, meeting_passed, signed_invoice, to_accepted, to_review, travel
from .files import png_bytes
from fundapp.services import ledger as ledger_services

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

D = datetime.date
TODAY = D(2026, 11, 20)  # a Friday; a notice posted on Wed 18 November for 3 working days ends today


def _secretary(org):
    return org.person(Role.COMMUNITY_SECRETARY, "a1")


def build(org):
    """{case: proposal} — every state, and the cases within a state that change what may be done."""
    ledger_services.fund_year_allocate(community=org.community("a1"), year=2026, amount="2000000.00",
                                       entry_date=D(2026, 1, 10))
    c, s, d = _secretary(org), org.person(Role.SUBDISTRICT_SECRETARY), org.person(Role.CONSTRUCTION_DIRECTOR)
    t, f = org.person(Role.SUBDISTRICT_STAFF), org.person(Role.FINANCE_OFFICER)
    cases = {}

    def new(case, **kw):
        cases[case] = draft(org, budget="10000.00", title=case, **kw)
        return cases[case]

    new("draft")
    chain.proposal_update(proposal=new("draft without the Art. 4 declaration"), by=c, art4_declaration=False)
    with travel(D(2026, 9, 28)):
        chain.proposal_submit_for_consent(proposal=new("consent pending"), by=c)
        p = new("consented")
        chain.proposal_submit_for_consent(proposal=p, by=c)
        chain.consent_decide(proposal=p, by=s, consented=True)
    meeting_passed(org, new("meeting passed"))
    p = meeting_passed(org, new("notice ended"))
    objected = meeting_passed(org, new("notice ended, an objection open"))
    with travel(D(2026, 9, 30)):
        chain.notice_post(proposal=p, by=c, posted_on=D(2026, 9, 30), working_days=3)
        notice = chain.notice_post(proposal=objected, by=c, posted_on=D(2026, 9, 30), working_days=3)
        chain.objection_record(notice=notice, by=org.person(Role.COMMUNITY_STAFF), channel=Objection.Channel.PAPER,
                               resident_name="李四", text="担心施工噪音")
    running = meeting_passed(org, new("notice running"))
    held = meeting_passed(org, new("on hold"))
    with travel(D(2026, 11, 18)):
        chain.notice_post(proposal=running, by=c, posted_on=D(2026, 11, 18), working_days=3)
        chain.notice_post(proposal=held, by=c, posted_on=D(2026, 11, 18), working_days=3)
        chain.proposal_hold(proposal=held, by=c, reason="等待居民协商")
    to_review(org, new("under review"))
    p = to_review(org, new("under review, the 党工委 secretary approved"))
    with travel(D(2026, 10, 12)):
        chain.review_decide(proposal=p, by=s, decision="approve")
        chain.review_decide(proposal=to_review(org, new("rejected")), by=d, decision="reject", reason="不符合条件")
    approve(org, to_review(org, new("approved")))
    for case in ("in progress", "in progress, a change pending"):
        p = approve(org, to_review(org, new(case)))
        with travel(D(2026, 10, 15)):
            chain.proposal_start(proposal=p, by=c)
    with travel(D(2026, 10, 16)):
        chain.change_request(proposal=p, by=c, description="延期两周", new_planned_end=D(2026, 12, 15))

    def accepted(case):
        return to_accepted(org, approve(org, to_review(org, new(case))))

    accepted("accepted, no invoice")
    p = accepted("accepted, an invoice signed once")
    with travel(D(2026, 11, 3)):
        invoice = chain.invoice_register(proposal=p, by=c, contractor="光明电器维修部", number="S-1",
                                         amount="3000.00", issued_on=D(2026, 11, 3))
        chain.invoice_sign(invoice=invoice, by=c)
    p = accepted("accepted, an invoice signed twice, another returned")
    with travel(D(2026, 11, 3)):
        for number in ("S-2", "S-3"):
            invoice = chain.invoice_register(proposal=p, by=c, contractor="光明电器维修部", number=number,
                                             amount="3000.00", issued_on=D(2026, 11, 3))
            chain.invoice_sign(invoice=invoice, by=c)
        chain.invoice_sign(invoice=invoice, by=d)
        chain.invoice_refuse(invoice=Invoice.objects.get(number="S-2"), by=d, reason="金额有误")
    signed_invoice(org, accepted("accepted, an invoice signed"), amount="9000.00", number="S-4")
    p = accepted("accepted, the budget used up by invoices")
    signed_invoice(org, p, amount="10000.00", number="S-5")
    voucher = accepted("accepted, a voucher payment without its notice")
    paid = accepted("accepted, all paid")
    invoice = signed_invoice(org, paid, amount="9000.00", number="S-6")
    done = [accepted(case) for case in ("settled", "completion notice running", "completion notice ended",
                                        "completed")]
    invoices = [signed_invoice(org, p, amount="9000.00", number=f"S-{7 + k}") for k, p in enumerate(done)]
    with travel(D(2026, 11, 4)):
        chain.voucher_pay(proposal=voucher, by=f, meeting=voucher.meetings.get(passed=True), recipient_name="王五",
                          receipt_reference="R-1", amount="500.00", paid_on=D(2026, 11, 4), method="cash",
                          reference="V-1")
        for k, inv in enumerate([invoice, *invoices]):
            chain.invoice_settle(invoice=inv, by=f, paid_on=D(2026, 11, 4), method="transfer", reference=f"T-{k}")
    with travel(D(2026, 11, 5)):
        for p in done:
            chain.settlement_finish(proposal=p, by=c)
        for p in done[2:]:
            chain.completion_notice_post(proposal=p, by=c, posted_on=D(2026, 11, 5), working_days=3)
    with travel(D(2026, 11, 18)):
        chain.completion_notice_post(proposal=done[1], by=c, posted_on=D(2026, 11, 18), working_days=3)
    with travel(D(2026, 11, 19)):
        chain.proposal_complete(proposal=done[3], by=c)
        chain.proposal_withdraw(proposal=new("withdrawn"), by=c, reason="居民意见变化")
    # "Withdrawn during its notice, an objection still open": the secretary may still answer the resident.
    p = meeting_passed(org, new("withdrawn during its notice, an objection open"))
    with travel(D(2026, 11, 18)):
        notice = chain.notice_post(proposal=p, by=c, posted_on=D(2026, 11, 18), working_days=3)
        chain.objection_record(notice=notice, by=c, channel=Objection.Channel.PAPER, resident_name="赵六",
                               text="反对")
        chain.proposal_withdraw(proposal=p, by=c, reason="另行安排")
    return cases


def people(org):
    return {
        "community secretary": _secretary(org), "community staff": org.person(Role.COMMUNITY_STAFF),
        "supervisor": org.person(Role.SUPERVISOR), "党工委 secretary": org.person(Role.SUBDISTRICT_SECRETARY),
        "construction director": org.person(Role.CONSTRUCTION_DIRECTOR),
        "subdistrict staff": org.person(Role.SUBDISTRICT_STAFF), "finance officer": org.person(Role.FINANCE_OFFICER),
        "city administrator": org.city_admin,
        "secretary of another community": org.person(Role.COMMUNITY_SECRETARY, "a2"),
        "党工委 secretary of another subdistrict": org.person(Role.SUBDISTRICT_SECRETARY, "b1"),
    }


_numbers = itertools.count(1)


def inputs(action, proposal):
    """Valid input for the action's form: one POST, or several where the input chooses the transition (a file
    is sent as the form's upload)."""
    day = TODAY.isoformat()
    reason = {"reason": "理由充分"}
    meeting = proposal.meetings.filter(passed=True).order_by("pk").first()
    n = next(_numbers)
    return {
        "consent": [{"comments": "同意"}],
        "meeting": [{"held_on": day, "place": "会议室", "attendance": "25", "votes_for": "20", "votes_against": "3",
                     "votes_abstain": "2", "minutes": "同意实施"},
                    {"held_on": day, "place": "会议室", "attendance": "25", "votes_for": "5", "votes_against": "18",
                     "votes_abstain": "2", "minutes": "未通过"}],
        "post_notice": [{"posted_on": day, "working_days": "3", "text": "公示"}],
        "record_objection": [{"resident_name": "钱七", "text": "有意见"}],
        "attach_notice_photo": [{"photo": SimpleUploadedFile("公示栏.png", png_bytes(), content_type="image/png")}],
        "answer_objection": [{"answer": "已电话答复", "channel": "phone"}],
        "review": [{"decision": "approve"}, {"decision": "return", "reason": "请补充材料"}],
        "request_change": [{"description": "延期"}],
        "consent_change": [{"comments": "同意"}],
        "follow_up": [{"visited_on": day, "notes": "施工正常"}],
        "acceptance": [{"inspected_on": day, "quality": "合格", "satisfaction_method": "问卷", "asked_count": "10",
                        "satisfied_count": "9", "passed": p} for p in ("1", "0")],
        "register_invoice": [{"contractor": "光明电器维修部", "number": f"N-{n}", "amount": "100.00",
                              "issued_on": day}],
        "settle_invoice": [{"paid_on": day, "method": "transfer", "reference": f"T-{n}", "request_key": f"k-{n}"}],
        "pay_voucher": [{"meeting": str(meeting.pk) if meeting else "", "recipient_name": "王五",
                         "receipt_reference": f"R-{n}", "amount": "50.00", "paid_on": day, "method": "cash",
                         "reference": f"V-{n}", "request_key": f"v-{n}"}],
        "post_voucher_notice": [{"posted_on": day, "working_days": "3", "text": "公示"}],
        "post_completion_notice": [{"posted_on": day, "working_days": "3", "text": "公示"}],
        "opinion": [{"text": "请加快进度"}],
    }.get(action.name, [reason] if "reason" in action.form.base_fields else [{}])


def candidates(action, proposal):
    """Every object of the action's kind on the proposal, whatever its status ([None]: not targeted)."""
    model = action.target
    if model is None:
        return [None]
    if model is Objection:
        return list(Objection.objects.filter(notice__proposal=proposal))
    return list(model.objects.filter(proposal=proposal).order_by("pk"))


# Where the amount typed decides: blocked when no room is left in the budget at all, which the service says
# with the amount tried.
AMOUNT_ENTERED = {"register_invoice", "pay_voucher"}


def opens_from(action, state):
    """Does some transition of the action leave from `state` (an act beside the chain: any state)?"""
    return not action.transitions or any(state in TRANSITIONS[t].sources for t in action.transitions)


class RolledBack(Exception):
    pass


def attempt(action, person, proposal_pk, target, data):
    """(accepted, the refusal's message): the action done through its form and service, then rolled back."""
    proposal = Proposal.objects.select_related("community", "fund_year").get(pk=proposal_pk)
    files = {name: value for name, value in data.items() if isinstance(value, SimpleUploadedFile)}
    data = {name: value for name, value in data.items() if name not in files}
    form = (action.form(data, files, proposal=proposal) if action.name == "pay_voucher"
            else action.form(data, files))
    if not form.is_valid():
        return False, f"no valid input here: {form.errors.as_text()}"
    fresh = type(target).objects.get(pk=target.pk) if target is not None else None
    try:
        with transaction.atomic():
            action.run(form, proposal=proposal, by=person, target=fresh)
            raise RolledBack
    except RolledBack:
        return True, ""
    except DomainError as exc:
        return False, str(exc)


@pytest.mark.django_db
def test_every_offered_action_is_accepted_and_every_accepted_action_is_offered(org, client):
    cases = build(org)  # built once for both halves: the walk below, then the examples of the issue
    walk_every_state_role_and_action(org, cases)
    what_blocks_a_step_is_said_with_the_day_it_opens(org, cases, client)


def walk_every_state_role_and_action(org, cases):
    who = people(org)
    wrong, accepted_cells, blocked_cells, tries = [], 0, 0, 0
    first = next(iter(who.values()))
    with travel(TODAY):
        for case, proposal in cases.items():
            for name, person in who.items():
                with chain.rights_of(person):
                    shown = offers(person, Proposal.objects.select_related("community", "fund_year").get(pk=proposal.pk))
                    available = {(o.action.name, getattr(o.target, "pk", None)) for o in shown if o.available}
                    blocked = {(o.action.name, getattr(o.target, "pk", None)): o for o in shown if not o.available}
                    for action in ACTIONS.values():
                        if first is not person and not opens_from(action, proposal.state):
                            # perform's first check refuses a step from another state, whoever asks: tried
                            # once per proposal (by the first person), then only "not offered" is asserted.
                            assert not any(a == action.name for a, _ in [*available, *blocked]), (case, name, action)
                            continue
                        for target in candidates(action, proposal):
                            # A change is decided on the proposal (the one pending), whichever change is named.
                            key = (action.name, None if action.target in (None, Change) else target.pk)
                            results = [attempt(action, person, proposal.pk, target, data)
                                       for data in inputs(action, proposal)]
                            tries += len(results)
                            accepted = any(ok for ok, _ in results)
                            offered = key in available or (action.target is Change and any(
                                a == action.name for a, _ in available))
                            cell = (case, name, action.name, getattr(target, "pk", None))
                            if offered and not accepted:
                                wrong.append((*cell, "offered, but the service refused", [m for _, m in results]))
                            if accepted and not offered:
                                wrong.append((*cell, "accepted by the service, but not offered"))
                            accepted_cells += accepted
                            if key in blocked:
                                blocked_cells += 1
                                if accepted:
                                    wrong.append((*cell, "shown blocked, but the service accepts it"))
                                elif (blocked[key].reason not in [m for _, m in results]
                                      and action.name not in AMOUNT_ENTERED):
                                    wrong.append((*cell, "blocked for another reason than the service's",
                                                  blocked[key].reason, [m for _, m in results]))
    assert wrong == [], "\n".join(map(str, wrong))
    assert {p.state for p in Proposal.objects.all()} == set(State.values)  # every state was walked
    assert accepted_cells > 60 and blocked_cells >= 8 and tries > 1500, (accepted_cells, blocked_cells, tries)


def what_blocks_a_step_is_said_with_the_day_it_opens(org, cases, client):
    """The examples of the issue: the review during the notice, settling before the invoices are done, a
    leader who already approved; and the work queue: what can be done now, what opens later, and an item
    that leaves the queue once acted on."""
    c, s = _secretary(org), org.person(Role.SUBDISTRICT_SECRETARY)
    with travel(TODAY):
        def offer_of(person, case, name):
            found = [o for o in offers(person, cases[case]) if o.action.name == name]
            assert len(found) == 1, (case, name, found)
            return found[0]

        review = offer_of(c, "notice running", "submit_for_review")
        assert not review.available and review.opens_on == D(2026, 11, 21)
        assert "11-20" in review.reason or "11月20日" in review.reason
        assert offer_of(c, "notice ended", "submit_for_review").available
        assert "异议" in offer_of(c, "notice ended, an objection open", "submit_for_review").reason
        finish = offer_of(c, "accepted, no invoice", "finish_settlement")
        assert not finish.available and finish.opens_on is None
        assert not offer_of(c, "accepted, an invoice signed once", "finish_settlement").available
        assert offer_of(c, "accepted, all paid", "finish_settlement").available
        decided = offer_of(s, "under review, the 党工委 secretary approved", "review")
        assert not decided.available and "已作出决定" in decided.reason
        assert offer_of(org.person(Role.CONSTRUCTION_DIRECTOR), "under review, the 党工委 secretary approved",
                        "review").available
        assert offer_of(c, "completion notice running", "complete").opens_on == D(2026, 11, 21)

        # The pages: the blocked step is shown with its day, not as a button; its own page says why.
        client.force_login(c)
        page = client.get(f"/proposals/{cases['notice running'].pk}/").content.decode()
        assert 'data-blocked="submit_for_review"' in page and "2026年11月21日起可办理" in page
        assert 'data-action="submit_for_review"' not in page
        page = client.get(f"/proposals/{cases['notice running'].pk}/do/submit_for_review/")
        assert page.status_code == 200 and "现在还不能办理" in page.content.decode()

        # The secretary's queue: the ended notice's review now, the running one's later with its day.
        home = client.get("/")
        queue = {item.proposal.title: item.actions for item in home.context["queue"]}
        later = {item.proposal.title: [o.opens_on for o in item.later] for item in home.context["later"]}
        assert "submit_for_review" in queue["notice ended"]
        assert "notice running" not in queue and later["notice running"] == [D(2026, 11, 21)]
        # Accepted with nothing invoiced: the invoice is what waits (not the settlement, refused until paid).
        assert queue["accepted, no invoice"] == ["register_invoice"]
        assert "finish_settlement" in queue["accepted, all paid"]
        assert "2026年11月21日起可报街道党工委审批" in home.content.decode()

        # A leader's item leaves their queue as soon as they act.
        client.force_login(s)
        titles = [item.proposal.title for item in client.get("/").context["queue"]]
        assert "under review" in titles and "under review, the 党工委 secretary approved" not in titles
        with CaptureQueriesContext(connection) as queries:
            response = client.post(f"/proposals/{cases['under review'].pk}/do/review/", {"decision": "approve"})
        assert response.status_code == 302
        # Rights once per request: one look at the person's posts (and one at their grants) answers seeing
        # the proposal, the offer and the service's own check.
        # (The hand-offs then look up who else must be told: the posts of others, not this person's rights.)
        posts = [q["sql"] for q in queries.captured_queries
                 if 'FROM "fundapp_post"' in q["sql"] and f'"fundapp_post"."user_id" = {s.pk}' in q["sql"]]
        grants = [q["sql"] for q in queries.captured_queries if "guardian_userobjectpermission" in q["sql"]]
        assert len(posts) == 1 and len(grants) == 1, (posts, grants)
        titles = [item.proposal.title for item in client.get("/").context["queue"]]
        assert "under review" not in titles
