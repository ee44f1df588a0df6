"""Every (person × state × action) cell of the approval chain, against a table written out by hand.

STATE_ACTIONS below says who may take each action of a proposal's page in which state, transcribed from the
fund rules (Art. 9–15) and SPEC §4 — not read from `approvals.workflow` or `approvals.actions`, so a change
to the production tables that this table does not also make fails here, naming the cell.

The demo holds a proposal in every state. For each person in the demo and each proposal they can see (and a
sample of those they cannot):
- an action the table allows is offered — available, or shown as blocked with the reason a guard gives (the
  notice still running, a leader who already decided…: tests/test_offers_match_the_service.py checks that
  exactly the available ones are accepted) — and one it does not allow is not (actions marked `*` act on an
  object that may or may not exist — an invoice whose turn it is, an open objection, a running notice, a
  pending change, a payment awaiting its notice — so for them only "offered ⇒ the table allows it" holds);
- every action not offered is refused to a POST: for every cell, the decision the action view takes on a POST
  (`approvals.actions.offer`, the rights, the state and the object only) is "not yours"; and over HTTP,
  through the whole middleware stack, for a cover of the refused cells — every action and every state at
  least once per person (jumps straight to later steps included) — the answer is 404; and nothing at all
  changed afterwards. (Every refused cell over HTTP would be some 2,700 requests through the same view
  for the same decision: the view's part is the same for every cell, so HTTP covers each action and state,
  and the decision itself is asked for each cell.)

One test per person, so that the run's workers share them.
"""
import pytest
from django.urls import reverse

from approvals.actions import ACTIONS, offer, offers
from approvals.models import Proposal
from audit.models import AuditRecord

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

# Who: C community secretary, W community staff (社区工作者), V supervisor (监督委员会成员) — on their own
# community; S 党工委 secretary, D 建管委 director, T subdistrict staff, F finance officer — on the
# communities of their subdistrict; the city administrator takes no step of a proposal. "." nobody.
# States: dr draft · cp consent_pending · cs consented · mp meeting_passed · no notice · oh on_hold ·
# ur under_review · ap approved · ip in_progress · ac accepted · se settled · cn completion_notice ·
# co completed · rj rejected · wd withdrawn. An objection left open when a proposal was withdrawn during its
# notice can still be answered (answer_objection in wd): the resident is owed an answer. The photo of the
# board is attached to any notice once posted (attach_notice_photo: every state a notice can have been posted
# in — before a hold or replan sent the plan back, to a project since completed, rejected or withdrawn —
# by whoever posts notices): evidence that it ran.
STATE_ACTIONS = """
action                   dr  cp  cs  mp  no  oh  ur  ap  ip  ac  se  cn  co  rj  wd
submit_for_consent       C   .   .   .   .   .   .   .   .   .   .   .   .   .   .
consent                  .   S   .   .   .   .   .   .   .   .   .   .   .   .   .
return_consent           .   S   .   .   .   .   .   .   .   .   .   .   .   .   .
meeting                  .   .   C   .   .   C   .   .   .   .   .   .   .   .   .
post_notice              .   .   .   C   .   .   .   .   .   .   .   .   .   .   .
record_objection*        .   .   .   .   CW  .   .   .   .   .   .   .   .   .   .
attach_notice_photo*     C   C   C   C   C   C   C   C   C   C   C   C   C   C   C
answer_objection*        C   C   C   C   C   C   .   .   .   .   .   .   .   .   C
hold                     .   .   .   .   C   .   .   .   .   .   .   .   .   .   .
replan                   .   .   .   .   C   .   .   .   .   .   .   .   .   .   .
submit_for_review        .   .   .   .   C   .   .   .   .   .   .   .   .   .   .
review                   .   .   .   .   .   .   SD  .   .   .   .   .   .   .   .
start                    .   .   .   .   .   .   .   C   .   .   .   .   .   .   .
request_change           .   .   .   .   .   .   .   C   C   .   .   .   .   .   .
consent_change*          .   .   .   .   .   .   .   S   S   .   .   .   .   .   .
refuse_change*           .   .   .   .   .   .   .   S   S   .   .   .   .   .   .
follow_up                .   .   .   .   .   .   .   .   T   .   .   .   .   .   .
acceptance               .   .   .   .   .   .   .   .   T   .   .   .   .   .   .
register_invoice         .   .   .   .   .   .   .   .   .   C   .   .   .   .   .
sign_invoice*            .   .   .   .   .   .   .   .   .   CDS .   .   .   .   .
refuse_invoice*          .   .   .   .   .   .   .   .   .   CDS .   .   .   .   .
settle_invoice*          .   .   .   .   .   .   .   .   .   F   .   .   .   .   .
pay_voucher              .   .   .   .   .   .   .   .   .   F   .   .   .   .   .
post_voucher_notice*     .   .   .   .   .   .   .   .   .   C   .   .   .   .   .
finish_settlement        .   .   .   .   .   .   .   .   .   C   .   .   .   .   .
post_completion_notice   .   .   .   .   .   .   .   .   .   .   C   .   .   .   .
complete                 .   .   .   .   .   .   .   .   .   .   .   C   .   .   .
withdraw                 C   C   C   C   C   C   .   C   .   .   .   .   .   .   .
opinion                  V   V   V   V   V   V   V   V   V   V   V   V   V   V   V
"""
STATE_CODES = {"dr": "draft", "cp": "consent_pending", "cs": "consented", "mp": "meeting_passed", "no": "notice",
               "oh": "on_hold", "ur": "under_review", "ap": "approved", "ip": "in_progress", "ac": "accepted",
               "se": "settled", "cn": "completion_notice", "co": "completed", "rj": "rejected", "wd": "withdrawn"}

# The demo's people: who they are (a letter above) and where (a community or a subdistrict code).
PEOPLE = {
    "city-admin": ("A", None),
    "dongcheng-secretary": ("S", "dongcheng"), "dongcheng-director": ("D", "dongcheng"),
    "dongcheng-staff": ("T", "dongcheng"), "dongcheng-finance": ("F", "dongcheng"),
    "xingfu-secretary": ("C", "xingfu"), "xingfu-staff": ("W", "xingfu"), "xingfu-supervisor": ("V", "xingfu"),
}
COMMUNITY_LETTERS = set("CWV")
POST_DATA = {"confirm": "1", "reason": "x", "comments": "x", "decision": "approve", "text": "x", "answer": "x",
             "target": "1"}


def _parse(table):
    header, *rows = [line.split() for line in table.strip().splitlines()]
    states = [STATE_CODES[code] for code in header[1:]]
    cells, targeted = {}, set()
    for name, *marks in rows:
        assert len(marks) == len(states), name
        if name.endswith("*"):
            name = name[:-1]
            targeted.add(name)
        for state, mark in zip(states, marks):
            cells[(name, state)] = set() if mark == "." else set(mark)
    return cells, targeted


ALLOWED, TARGETED = _parse(STATE_ACTIONS)


def table_allows(username, proposal, action):
    letter, where = PEOPLE[username]
    if letter in COMMUNITY_LETTERS:
        in_scope = proposal.community.code == where
    else:
        in_scope = where is not None and proposal.community.subdistrict.code == where
    return in_scope and letter in ALLOWED[(action, proposal.state)]


def test_the_table_names_every_action_and_state():
    assert {name for name, _ in ALLOWED} == set(ACTIONS)
    assert {state for _, state in ALLOWED} == set(STATE_CODES.values())
    assert TARGETED == {name for name, action in ACTIONS.items() if action.target is not None}


@pytest.mark.django_db
@pytest.mark.parametrize("username", PEOPLE)
def test_every_state_action_cell_follows_the_table_and_refusals_change_nothing(username, client, django_user_model,
                                                                             demo_city):
    proposals = list(Proposal.objects.select_related("community", "community__subdistrict"))
    assert {p.state for p in proposals} == set(STATE_CODES.values())
    before = {p.pk: p.state for p in proposals}
    records = AuditRecord.objects.count()
    wrong = []
    offered_cells = 0
    refused = []  # (proposal, action name): not offered, so a POST must be refused
    letter, where = PEOPLE[username]
    user = django_user_model.objects.get(username=username)
    client.force_login(user)
    mine = [p for p in proposals if where is None or where in (p.community.code, p.community.subdistrict.code)]
    outside = [p for p in proposals if p not in mine][:2]  # a sample is enough: 404 early
    for proposal in mine + outside:
        offered = {o.action.name for o in offers(user, proposal)}
        for name, action in ACTIONS.items():
            cell = (username, proposal.community.code, proposal.state, name)
            allowed = table_allows(username, proposal, name)
            if name in offered:
                offered_cells += 1
                if not allowed:
                    wrong.append((*cell, "offered, but the table does not allow it"))
                continue
            if allowed and name not in TARGETED:
                wrong.append((*cell, "the table allows it, but it is not offered"))
            # What the action view decides for a POST (it passes the posted target, "1": no such object).
            if offer(user, proposal, action, int(POST_DATA["target"]), guards=False) is not None:
                wrong.append((*cell, "not offered, but a POST would be taken"))
            refused.append((proposal, name))
    # Over HTTP: every action and every state at least once.
    actions_left = set(ACTIONS)
    states_left = {p.state for p, _ in refused}
    posted = 0
    for proposal, name in refused:
        if name not in actions_left and proposal.state not in states_left:
            continue
        actions_left.discard(name)
        states_left.discard(proposal.state)
        response = client.post(reverse("approvals:proposal-action", args=[proposal.pk, name]), POST_DATA)
        posted += 1
        if response.status_code != 404:
            wrong.append((username, proposal.community.code, proposal.state, name,
                          f"not offered, but POST answered {response.status_code}"))
    assert wrong == [], "\n".join(map(str, wrong))
    assert actions_left == set() and states_left == set()
    assert len(refused) > 100 and posted >= len(ACTIONS), (len(refused), posted)  # the demo did exercise the table
    if letter != "A":  # the city administrator takes no step of a proposal
        assert offered_cells >= 1, offered_cells
    print(f"\n{username}: {offered_cells} offered cells checked against the table, {len(refused)} not offered "
          f"and refused ({posted} of them over HTTP)")
    assert {p.pk: p.state for p in Proposal.objects.all()} == before
    assert AuditRecord.objects.count() == records
