"""Access control, fail-closed: one table of who may do what where, asserted at three levels.

MATRIX below is the whole policy: for each role (a person posted to community a1, or to a1's subdistrict
"a"), each permission codename, and each scope — their own community a1, another community a2 of the same
subdistrict, a community b1 of the other subdistrict — allowed (Y) or denied (-). It is written out by hand,
not derived from `fundapp.rights`, so a change to the rights that the table does not also make fails here.

Every cell is asserted at three levels:
1. `rights.check(...)` (and `rights.communities_for`, which list pages use) give the cell's answer;
2. HTTP: the staff URLs that read or write that community's objects under that codename answer 200 for an
   allowed cell, and 403/404 with none of the community's data in the body for a denied one — writes
   POSTed in a denied cell change nothing;
3. list pages (home, proposals, ledgers, invoices, needs, reports, finance, batches) show each person the
   rows of the communities their view_fund cells allow, and never a row of any other community.

Also: a codename or action that is not in the matrix is denied; and no user holds any model-wide (global)
permission — which would let django-guardian return every object — after `seed_demo` and with the test
organisation, except the back office's own permissions of a city administrator in office (not a superuser),
and the operator's superuser who holds no post.

The HTTP surface of each codename is in `probes()`: view_fund — proposal pages, documents, ledgers and
their exports, the community record, annual reports, the other subdistrict's finance pages, and (for a
community out of sight) a POST of every action; manage_fund — the Django admin (a denied person is sent to
its login page) and the batch runs (403); the others — the actions and forms that need them. Not probed:
the public pages under /public/ (including disclosure/urls.py), which are for residents without login.
A denied person's request is answered 403/404 whatever the state; an allowed one is probed on an object
in the state where the step is open (a proposal per state, invoices with 0–3 signatures).
"""
import datetime
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from guardian.shortcuts import get_objects_for_user

from approvals import reports as report_services
from approvals import services as chain
from approvals.actions import ACTIONS
from approvals.models import AnnualReport, Invoice, Need, Objection, Payment, Proposal
from approvals.workflow import OPERATIONS, TRANSITIONS
from audit.models import AuditRecord
from batches import services as batch_services
from batches.models import BatchRun
from fundapp import rights
from fundapp.models import Community, FundYear, Role

from .chain import allocate, approve, draft, to_accepted, to_review, travel

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

D = datetime.date

# ---- the matrix ----------------------------------------------------------------------------------------

# Each cell is three letters: own community (a1) · another community of the same subdistrict (a2) ·
# a community of the other subdistrict (b1). Y = allowed, - = denied.
MATRIX_TABLE = """
role                   view  manage_fund draft file  consent review project sign  settle supervise
city_admin             YYY   YYY         ---   ---   ---     ---    ---     ---   ---    ---
subdistrict_secretary  YY-   ---         ---   ---   YY-     YY-    ---     YY-   ---    ---
construction_director  YY-   ---         ---   ---   ---     YY-    ---     YY-   ---    ---
subdistrict_staff      YY-   ---         ---   ---   ---     ---    YY-     ---   ---    ---
finance_officer        YY-   ---         ---   ---   ---     ---    ---     ---   YY-    ---
community_secretary    Y--   ---         Y--   Y--   ---     ---    ---     Y--   ---    ---
community_staff        Y--   ---         Y--   ---   ---     ---    ---     ---   ---    ---
supervisor             Y--   ---         ---   ---   ---     ---    ---     ---   ---    Y--
"""
COLUMNS = {"view": "view_fund", "manage_fund": "manage_fund", "draft": "draft_proposal", "file": "file_proposal",
           "consent": "consent_proposal", "review": "review_proposal", "project": "manage_project",
           "sign": "sign_invoice", "settle": "settle_invoice", "supervise": "supervise"}
SCOPES = ("own", "same_subdistrict", "other_subdistrict")
SCOPE_CODE = {"own": "a1", "same_subdistrict": "a2", "other_subdistrict": "b1"}


def _parse(table):
    lines = [line.split() for line in table.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    codenames = [COLUMNS[h] for h in header[1:]]
    cells = {}
    for role, *marks in rows:
        assert len(marks) == len(codenames), role
        for codename, mark in zip(codenames, marks):
            assert len(mark) == len(SCOPES) and set(mark) <= {"Y", "-"}, (role, codename, mark)
            for scope, letter in zip(SCOPES, mark):
                cells[(Role(role), codename, scope)] = letter == "Y"
    return tuple(Role(row[0]) for row in rows), tuple(codenames), cells


ROLES, CODENAMES, MATRIX = _parse(MATRIX_TABLE)
CELLS = len(MATRIX)  # quoted in docs/security.md as "cells in the matrix"
assert CELLS == len(ROLES) * len(CODENAMES) * len(SCOPES) == 240


def scope_of(code):
    """Where community `code` lies for a person posted to a1 or to subdistrict a."""
    return "own" if code == "a1" else "same_subdistrict" if code.startswith("a") else "other_subdistrict"


def visible_codes(role):
    return {code for code in ALL_CODES if MATRIX[(role, "view_fund", scope_of(code))]}


# What each act needs: the codename (a column above) and the roles that may take it — written out by hand
# from the fund rules (Art. 6, 9–16), like the matrix, and compared with the production tables
# (approvals.workflow TRANSITIONS and OPERATIONS) by test_the_production_tables_agree_with_this_one.
# The first block are the UI actions of a proposal's page; the second the acts of other pages.
NEEDS_TABLE = """
act                      codename  roles
submit_for_consent       file      community_secretary
consent                  consent   subdistrict_secretary
return_consent           consent   subdistrict_secretary
meeting                  file      community_secretary
post_notice              file      community_secretary
record_objection         draft     community_secretary community_staff
attach_notice_photo      file      community_secretary
answer_objection         file      community_secretary
hold                     file      community_secretary
replan                   file      community_secretary
submit_for_review        file      community_secretary
review                   review    subdistrict_secretary construction_director
start                    file      community_secretary
request_change           file      community_secretary
consent_change           consent   subdistrict_secretary
refuse_change            consent   subdistrict_secretary
follow_up                project   subdistrict_staff
acceptance               project   subdistrict_staff
register_invoice         file      community_secretary
sign_invoice             sign      community_secretary construction_director subdistrict_secretary
refuse_invoice           sign      community_secretary construction_director subdistrict_secretary
settle_invoice           settle    finance_officer
pay_voucher              settle    finance_officer
post_voucher_notice      file      community_secretary
finish_settlement        file      community_secretary
post_completion_notice   file      community_secretary
complete                 file      community_secretary
withdraw                 file      community_secretary
opinion                  supervise supervisor
need_record              draft     community_secretary community_staff
proposal_create          draft     community_secretary community_staff
proposal_update          draft     community_secretary community_staff
annual_report_submit     file      community_secretary
annual_report_evaluate   project   subdistrict_staff
objection_contact_view   file      community_secretary
resident_text_publish    file      community_secretary
"""


def _parse_needs(table):
    rows = [line.split() for line in table.strip().splitlines()][1:]
    return {act: (COLUMNS[codename], frozenset(Role(r) for r in roles)) for act, codename, *roles in rows}


NEEDS = _parse_needs(NEEDS_TABLE)
# The UI action's name where the service's operation is named otherwise.
OPERATION_OF = {"record_objection": "objection_record", "answer_objection": "objection_answer",
                "opinion": "supervision_opinion", "attach_notice_photo": "notice_photo_attach"}


def action_codename(name):
    return NEEDS[name][0]


def production_needs(name):
    """(codename, roles) that approvals.workflow gives the act `name`: the union over a UI action's
    transitions (which must agree on the codename), or its row of OPERATIONS."""
    action = ACTIONS.get(name)
    rows = ([TRANSITIONS[t] for t in action.transitions] if action is not None and action.transitions
            else [OPERATIONS[OPERATION_OF.get(name, name)]])
    codenames = {row.permission for row in rows}
    return (codenames.pop() if len(codenames) == 1 else codenames), frozenset().union(*(row.roles for row in rows))


# ---- the world: the same objects in a1, a2 and b1 (and a little in b2) --------------------------------

ALL_CODES = ("a1", "a2", "b1", "b2")
BUDGET = {"a1": "31111.11", "a2": "32222.22", "b1": "33333.33", "b2": "34444.44"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SIGNERS = (Role.COMMUNITY_SECRETARY, Role.CONSTRUCTION_DIRECTOR, Role.SUBDISTRICT_SECRETARY)


def marker(code):
    """Text carried by every title, need, invoice number and contractor of community `code`."""
    return f"标记{code.upper()}"


@dataclass
class Place:
    community: Community
    proposals: dict = field(default_factory=dict)  # slot → Proposal
    invoices: list = field(default_factory=list)  # invoices[k] carries k signatures; [3] is signed
    document: object = None
    notice: object = None
    report: object = None  # this year's draft annual report
    submitted_report: object = None  # last year's report, submitted and awaiting evaluation
    run: object = None  # a city-wide batch run, which includes this community

    @property
    def name(self):
        return self.community.name

    def secrets(self, code):
        """Strings that must never reach someone outside the community: its name, marker and budget."""
        amount = BUDGET[code]
        whole, fen = amount.split(".")
        return [self.name, marker(code), amount, f"{int(whole):,}.{fen}"]


def _draft(org, code, slot):
    return draft(org, code, budget=BUDGET[code], title=f"{marker(code)}-{slot}")


def build_world(org):
    world = {}
    for code in ALL_CODES:
        allocate(org, code)
        community = org.community(code)
        place = world[code] = Place(community)
        chain.need_record(community=community, by=org.person(Role.COMMUNITY_STAFF, code), channel="door",
                          description=f"{marker(code)}需求：希望加装扶手", on=D(2026, 3, 2))
        place.proposals["draft"] = _draft(org, code, "草稿")
        if code == "b2":
            continue
        secretary = org.person(Role.COMMUNITY_SECRETARY, code)
        consent = place.proposals["consent"] = _draft(org, code, "待初步同意")
        notice = place.proposals["notice"] = _draft(org, code, "公示中")
        with travel(D(2026, 9, 28)):
            chain.proposal_submit_for_consent(proposal=consent, by=secretary)
            chain.proposal_submit_for_consent(proposal=notice, by=secretary)
            chain.consent_decide(proposal=notice, by=org.person(Role.SUBDISTRICT_SECRETARY, code), consented=True)
            chain.meeting_record(proposal=notice, by=secretary, held_on=D(2026, 9, 28), place="社区会议室",
                                 attendance=25, votes_for=20, votes_against=3, votes_abstain=2, minutes="同意实施",
                                 documents=[("minutes", SimpleUploadedFile(f"{marker(code)}纪要.pdf", PDF))])
        # Running on the day of the probes (Fri 2026-11-20 is its last day): a paper objection can be recorded.
        with travel(D(2026, 11, 18)):
            place.notice = chain.notice_post(proposal=notice, by=secretary, posted_on=D(2026, 11, 18),
                                             working_days=3)
        place.notice = notice.notices.get()
        place.document = notice.documents.get()
        place.proposals["review"] = to_review(org, _draft(org, code, "审批中"), code)
        progress = place.proposals["progress"] = approve(org, to_review(org, _draft(org, code, "实施中"), code),
                                                         code)
        with travel(D(2026, 10, 15)):
            chain.proposal_start(proposal=progress, by=secretary)
        accepted = place.proposals["accepted"] = to_accepted(
            org, approve(org, to_review(org, _draft(org, code, "已验收"), code), code), code)
        with travel(D(2026, 11, 3)):
            for k in range(4):
                invoice = chain.invoice_register(proposal=accepted, by=secretary, contractor=f"{marker(code)}承包商",
                                                 number=f"{marker(code)}-发票{k}", amount="5000.00",
                                                 issued_on=D(2026, 11, 3))
                for role in SIGNERS[:k]:
                    chain.invoice_sign(invoice=invoice, by=org.person(role, code))
                place.invoices.append(Invoice.objects.get(pk=invoice.pk))
        assert place.invoices[3].status == Invoice.Status.SIGNED
        with travel(D(2026, 11, 20)):
            last_year, _ = report_services.annual_report_draft(community=community, year=2025)
            place.submitted_report = report_services.annual_report_submit(
                report=last_year, by=secretary, narrative=f"{marker(code)}年度小结")
    report_services.annual_reports_generate(year=2026)
    run = batch_services.batch_start("annual_reports", 2026, by=org.city_admin, dispatch=False)
    for code, place in world.items():
        place.report = AnnualReport.objects.get(community=place.community, year=2026)
        place.run = run
        for slot, proposal in place.proposals.items():
            place.proposals[slot] = Proposal.objects.get(pk=proposal.pk)
    return world


# ---- level 2: the URLs behind each codename --------------------------------------------------------

@dataclass(frozen=True)
class Probe:
    what: str
    url: str
    method: str = "get"
    data: dict | None = None
    allowed_status: int | None = 200  # None: tried only in a denied cell (a write, or too slow to render)
    admin: bool = False  # Django admin: a denied person is sent to the admin login page
    check: object = None  # check(response) → bool, must hold in an allowed cell
    offers: object = None  # offers(response) → bool: a page readable by both, offering the form only if allowed


def _action(proposal, name, target=None):
    url = reverse("approvals:proposal-action", args=[proposal.pk, name])
    return f"{url}?target={target.pk}" if target is not None else url


POST_DATA = {"confirm": "1", "reason": "x", "comments": "x", "decision": "approve", "text": "x", "answer": "x",
             "resident_name": "x", "narrative": "x", "grade": "good", "channel": "door", "description": "x",
             "visited_on": "2026-11-20", "notes": "x", "paid_on": "2026-11-20", "method": "transfer",
             "reference": "x", "request_key": "probe"}


def _get_and_post(what, url, allowed_status=200, check=None):
    return [Probe(what, url, allowed_status=allowed_status, check=check),
            Probe(f"POST {what}", url, method="post", data=POST_DATA, allowed_status=None)]


# Where each action would be offered, for the sweep of every action over a community out of sight.
SWEEP_SLOT = {"consent": "consent", "return_consent": "consent", "meeting": "consent", "post_notice": "notice",
              "record_objection": "notice", "attach_notice_photo": "notice", "answer_objection": "notice",
              "hold": "notice", "replan": "notice", "submit_for_review": "notice", "review": "review",
              "start": "progress", "request_change": "progress", "consent_change": "progress",
              "refuse_change": "progress", "follow_up": "progress", "acceptance": "progress"}


def _sweep_target(place, name):
    target = ACTIONS[name].target
    if target is Invoice:
        return place.invoices[3] if name == "settle_invoice" else place.invoices[0]
    if target is not None and target.__name__ == "Notice":
        return place.notice
    return None


def probes(codename, place, role):
    """The HTTP requests that exercise `codename` on `place`'s community, as `role` would make them."""
    p = place.proposals
    if codename == "view_fund":
        code, fund_year = place.community.code, FundYear.objects.get(community=place.community, year=2026)
        found = [Probe(f"proposal {slot}", reverse("approvals:proposal", args=[p[slot].pk]))
                 for slot in ("draft", "accepted")]
        found += [
            Probe("application form PDF", reverse("approvals:proposal-pdf", args=[p["draft"].pk]), allowed_status=None),
            Probe("document", reverse("approvals:document", args=[place.document.pk])),
            Probe("ledger", reverse("ledger", args=[code, 2026])),
            Probe("ledger csv", reverse("finance:ledger-csv", args=[code, fund_year.year])),
            Probe("ledger xlsx", reverse("finance:ledger-xlsx", args=[code, fund_year.year])),
            Probe("community record", reverse("community-record", args=[code])),
            Probe("annual report", reverse("approvals:report", args=[place.report.pk])),
            Probe("submitted annual report", reverse("approvals:report", args=[place.submitted_report.pk])),
        ]
        if code.startswith("b"):  # the subdistrict-wide finance pages of the other subdistrict
            found += [
                Probe("finance summary of subdistrict b", reverse("finance:summary") + "?subdistrict=b&year=2026"),
                Probe("reconciliation of subdistrict b", reverse("finance:reconcile") + "?subdistrict=b&year=2026"),
                Probe("summary xlsx of subdistrict b", reverse("finance:summary-xlsx", args=[2026]) + "?subdistrict=b",
                      allowed_status=None),
                Probe("summary PDF of subdistrict b", reverse("finance:summary-pdf", args=[2026]) + "?subdistrict=b",
                      allowed_status=None),
            ]
        # Every action, written by hand into the address bar: never more than the view allows.
        for name in ACTIONS:
            slot = SWEEP_SLOT.get(name, "accepted" if action_codename(name) in {"sign_invoice", "settle_invoice"}
                                  or name in {"register_invoice", "post_voucher_notice", "finish_settlement"}
                                  else "draft")
            found.append(Probe(f"POST action {name}", _action(p[slot], name, _sweep_target(place, name)),
                               method="post", data=POST_DATA, allowed_status=None))
        found += _get_and_post("edit", reverse("approvals:proposal-edit", args=[p["draft"].pk]), allowed_status=None)
        return found
    if codename == "manage_fund":
        fund_year = FundYear.objects.get(community=place.community, year=2026)
        # The city's back office (Django admin) and its city-wide batch runs.
        return [
            Probe("admin: fund year", reverse("admin:fundapp_fundyear_change", args=[fund_year.pk]), admin=True),
            Probe("POST admin: fund year", reverse("admin:fundapp_fundyear_change", args=[fund_year.pk]),
                  method="post", data={"allocated": "1.00"}, admin=True, allowed_status=None),
            Probe("POST start a batch", reverse("batches:start"), method="post",
                  data={"kind": "annual_reports", "year": "2026"}, allowed_status=None),
            Probe("POST re-run a batch", reverse("batches:rerun", args=[place.run.pk]), method="post",
                  allowed_status=None),
        ]
    if codename == "draft_proposal":
        code = place.community.code
        return [
            *_get_and_post("edit", reverse("approvals:proposal-edit", args=[p["draft"].pk])),
            Probe("new proposal", reverse("approvals:proposal-new") + f"?community={code}"),
            Probe("needs form", reverse("approvals:needs") + f"?community={code}",
                  check=lambda r: r.context["form"] is not None and r.context["community"].code == code),
            Probe("POST need", reverse("approvals:needs"), method="post", allowed_status=None,
                  data={"community": code, "channel": "door", "description": "探针需求"}),
            *_get_and_post("action record_objection", _action(p["notice"], "record_objection", place.notice)),
        ]
    if codename == "file_proposal":
        report = reverse("approvals:report", args=[place.report.pk])
        return [
            *_get_and_post("action submit_for_consent", _action(p["draft"], "submit_for_consent")),
            *_get_and_post("action attach_notice_photo",
                           _action(p["notice"], "attach_notice_photo", place.notice)),
            *_get_and_post("action withdraw", _action(p["draft"], "withdraw")),
            *_get_and_post("action register_invoice", _action(p["accepted"], "register_invoice")),
            *_get_and_post("action request_change", _action(p["progress"], "request_change")),
            Probe("annual report: submit form", report, offers=lambda r: r.context["can_submit"]),
            Probe("POST annual report", report, method="post", data={"narrative": "探针"}, allowed_status=None),
        ]
    if codename == "consent_proposal":
        return [*_get_and_post("action consent", _action(p["consent"], "consent")),
                *_get_and_post("action return_consent", _action(p["consent"], "return_consent"))]
    if codename == "review_proposal":
        return _get_and_post("action review", _action(p["review"], "review"))
    if codename == "manage_project":
        report = reverse("approvals:report", args=[place.submitted_report.pk])
        return [
            *_get_and_post("action follow_up", _action(p["progress"], "follow_up")),
            *_get_and_post("action acceptance", _action(p["progress"], "acceptance")),
            Probe("annual report: evaluation form", report, offers=lambda r: r.context["can_evaluate"]),
            Probe("POST evaluation", report, method="post", data={"grade": "good", "comments": "x"},
                  allowed_status=None),
        ]
    if codename == "sign_invoice":
        found = []
        for k in range(3):
            mine = role in SIGNERS and SIGNERS.index(role) == k  # offered to the next signer only
            found += _get_and_post(f"action sign_invoice on invoice {k}",
                                   _action(p["accepted"], "sign_invoice", place.invoices[k]),
                                   allowed_status=200 if mine else None)
            if mine:
                found.append(Probe(f"action refuse_invoice on invoice {k}",
                                   _action(p["accepted"], "refuse_invoice", place.invoices[k])))
        found.append(Probe("POST action refuse_invoice", _action(p["accepted"], "refuse_invoice", place.invoices[0]),
                           method="post", data=POST_DATA, allowed_status=None))
        return found
    if codename == "settle_invoice":
        return [*_get_and_post("action settle_invoice", _action(p["accepted"], "settle_invoice", place.invoices[3])),
                *_get_and_post("action pay_voucher", _action(p["accepted"], "pay_voucher"))]
    if codename == "supervise":
        return _get_and_post("action opinion", _action(p["draft"], "opinion"))
    raise AssertionError(f"no HTTP probes for {codename}: add them")


def body_of(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def snapshot():
    """What a refused request must leave untouched."""
    return {
        "audit": AuditRecord.objects.count(),
        "needs": Need.objects.count(),
        "states": dict(Proposal.objects.values_list("pk", "state")),
        "invoices": dict(Invoice.objects.values_list("pk", "status")),
        "reports": dict(AnnualReport.objects.values_list("pk", "status")),
        "payments": Payment.objects.count(),
        "objections": Objection.objects.count(),
        "batch runs": list(BatchRun.objects.values_list("pk", "status")),
        "fund years": list(FundYear.objects.order_by("pk").values_list("pk", "allocated", "settled", "reserved")),
    }


# ---- level 1 -----------------------------------------------------------------------------------------

def test_the_matrix_covers_every_role_codename_and_action():
    assert set(ROLES) == set(Role) and len(ROLES) == len(Role)
    assert set(CODENAMES) == rights.ALL_PERMISSIONS and len(CODENAMES) == len(rights.ALL_PERMISSIONS)
    # Every action a page can offer, and every other act, is a row of NEEDS; every transition is an action's.
    assert set(ACTIONS) <= set(NEEDS)
    others = set(OPERATIONS) - set(OPERATION_OF.values()) - {"invoice_settle", "voucher_pay"}  # not UI actions
    assert set(NEEDS) == set(ACTIONS) | others
    assert {t for a in ACTIONS.values() for t in a.transitions} == set(TRANSITIONS) - {"approve"}


def test_the_production_tables_agree_with_this_one():
    """TRANSITIONS and OPERATIONS give each act the codename and roles of NEEDS; the roles hold the codename
    in the matrix (own community); and the payments' own rows agree with their transitions."""
    wrong = []
    for name, (codename, roles) in NEEDS.items():
        if production_needs(name) != (codename, roles):
            wrong.append((name, "table", (codename, sorted(roles)), "production", production_needs(name)))
        holders = {role for role in ROLES if MATRIX[(role, codename, "own")]}
        if not roles <= holders:
            wrong.append((name, "roles without the codename in the matrix", sorted(roles - holders)))
    assert wrong == [], "\n".join(map(str, wrong))
    assert production_needs("invoice_settle") == NEEDS["settle_invoice"]
    assert production_needs("voucher_pay") == NEEDS["pay_voucher"]
    # The second approval is the same right as the first.
    assert (TRANSITIONS["approve"].permission, TRANSITIONS["approve"].roles) == production_needs("review")


@pytest.mark.django_db
def test_level_1_rights_check_answers_every_cell(org):
    checked = 0
    wrong = []
    for role in ROLES:
        user = org.person(role, "a1")
        for codename in CODENAMES:
            listed = set(rights.communities_for(user, codename).values_list("code", flat=True))
            for scope in SCOPES:
                expected = MATRIX[(role, codename, scope)]
                community = org.community(SCOPE_CODE[scope])
                decision = rights.check(user, codename, community)
                if bool(decision) != expected or (SCOPE_CODE[scope] in listed) != expected:
                    wrong.append((role.value, codename, scope, bool(decision), sorted(listed)))
                if not decision and not decision.reason:
                    wrong.append((role.value, codename, scope, "a refusal without a reason"))
                if decision and decision.post.user_id != user.pk:
                    wrong.append((role.value, codename, scope, "acted in someone else's post"))
                checked += 1
    assert wrong == []
    assert checked == CELLS


# ---- levels 2 and 3 ----------------------------------------------------------------------------------

# (name, url, what each visible community must show there — None when the rows depend on the role)
LIST_PAGES = [
    ("home", "/", None),
    ("proposals", "/proposals/", "marker"),
    ("proposals awaiting consent", "/proposals/?state=consent_pending", None),
    ("ledgers", "/ledgers/", "name"),
    ("invoices", "/invoices/", "invoice"),
    ("invoices awaiting settlement", "/invoices/?status=signed", "invoice"),
    ("needs", "/needs/", "need"),
    ("annual reports", "/reports/?year=2026", "name"),
    ("annual reports of last year", "/reports/?year=2025", "name"),
    ("finance summary", "/finance/summary/?year=2026", "name"),
    ("reconciliation", "/finance/reconcile/?year=2026", "name"),
    ("finance summary of subdistrict a", "/finance/summary/?year=2026&subdistrict=a", "name"),
    ("batches", "/batches/", "name"),
    ("batch run", None, "name"),
]


@pytest.mark.django_db
def test_levels_2_and_3_http_answers_and_list_pages_follow_the_matrix(org, client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    world = build_world(org)
    run = world["a1"].run
    before = snapshot()
    wrong = []
    cells = requests = 0

    with travel(D(2026, 11, 20)):
        # Level 2: every cell, over HTTP.
        for role in ROLES:
            client.force_login(org.person(role, "a1"))
            for codename in CODENAMES:
                for scope in SCOPES:
                    code = SCOPE_CODE[scope]
                    place, allowed = world[code], MATRIX[(role, codename, scope)]
                    cells += 1
                    for probe in probes(codename, place, role):
                        if allowed and probe.allowed_status is None:
                            continue
                        response = getattr(client, probe.method)(probe.url, probe.data or {})
                        requests += 1
                        where = (role.value, codename, scope, probe.what, response.status_code)
                        if allowed:
                            if response.status_code != probe.allowed_status:
                                wrong.append((*where, "expected", probe.allowed_status))
                            elif not all(f(response) for f in (probe.check, probe.offers) if f is not None):
                                wrong.append((*where, "the page does not offer it"))
                            continue
                        if probe.admin:
                            refused = response.status_code == 302 and response["Location"].startswith("/admin/login/")
                        elif probe.offers is not None and response.status_code == 200:
                            refused = not probe.offers(response)  # readable, but the form is not offered
                        else:
                            refused = response.status_code in (403, 404)
                        if not refused:
                            wrong.append((*where, "expected 403 or 404"))
                        body = body_of(response)
                        leaked = [s for s in place.secrets(code) if s in body]
                        if leaked and not MATRIX[(role, "view_fund", scope)]:
                            wrong.append((*where, "leaks", leaked))

        # Level 3: list pages show exactly the communities of the person's view_fund cells.
        shown = {"marker": marker, "name": lambda code: world[code].name,
                 "invoice": lambda code: f"{marker(code)}-发票", "need": lambda code: f"{marker(code)}需求"}
        pages = 0
        for role in ROLES:
            client.force_login(org.person(role, "a1"))
            visible = visible_codes(role)
            city = role == Role.CITY_ADMIN
            for name, url, expect in LIST_PAGES:
                url = url or reverse("batches:run", args=[run.pk])
                response = client.get(url)
                requests += 1
                pages += 1
                body = body_of(response)
                if name.startswith("batch") and not city:
                    if response.status_code != 403:
                        wrong.append((role.value, name, response.status_code, "expected 403"))
                    expect, visible_here = None, set()
                elif response.status_code != 200:
                    wrong.append((role.value, name, response.status_code, "expected 200"))
                    continue
                else:
                    visible_here = {c for c in visible if c.startswith("a")} if "subdistrict a" in name else visible
                for code in ALL_CODES:
                    if code in visible_here:
                        if expect and not (expect == "invoice" and code == "b2") and shown[expect](code) not in body:
                            wrong.append((role.value, name, code, "missing", shown[expect](code)))
                    else:
                        leaked = [s for s in world[code].secrets(code) if s in body]
                        if leaked:
                            wrong.append((role.value, name, code, "shows another community", leaked))

    assert wrong == [], "\n".join(map(str, wrong))
    assert cells == CELLS
    assert snapshot() == before, "a refused request changed something"
    print(f"\naccess matrix: {CELLS} cells (roles {len(ROLES)} × codenames {len(CODENAMES)} × scopes {len(SCOPES)}), "
          f"{pages} list pages, {requests} HTTP requests")


# ---- what is not in the matrix is denied -------------------------------------------------------------

NOT_IN_MATRIX = ["delete_everything", "", "view_community", "change_community", "add_post", "change_fundyear",
                 "delete_ledgerentry", "fundapp.view_fund", "VIEW_FUND", "view_fund "]


@pytest.mark.django_db
def test_codenames_and_actions_not_in_the_matrix_are_denied(org, client):
    allocate(org)
    proposal = draft(org, title=f"{marker('a1')}-草稿")
    before = snapshot()
    for role in ROLES:
        user = org.person(role, "a1")
        for codename in NOT_IN_MATRIX:
            for code in ("a1", "b1"):
                decision = rights.check(user, codename, org.community(code))
                assert not decision and decision.reason, (role, codename, code)
            assert not rights.communities_for(user, codename).exists(), (role, codename)
        client.force_login(user)
        for name in ["approve", "review_approve", "delete", "settle", "sign", "edit", "transition", "state",
                     "admin", "__init__", "ACTIONS"]:
            assert name not in ACTIONS
            url = reverse("approvals:proposal-action", args=[proposal.pk, name])
            for method in ("get", "post"):
                response = getattr(client, method)(url, POST_DATA)
                assert response.status_code == 404, (role, name, method, response.status_code)
    assert snapshot() == before


# ---- no model-wide permissions -----------------------------------------------------------------------

# What a city administrator in office may do in the back office, written out here, not read from the code.
CITY_ADMIN_BACK_OFFICE_WRITES = {
    "fundapp.add_subdistrict", "fundapp.change_subdistrict", "fundapp.add_community", "fundapp.change_community",
    "fundapp.add_post", "fundapp.change_post", "fundapp.add_ledgerentry",
}


def _assert_no_model_wide_permissions():
    users = list(get_user_model().objects.all())
    assert users
    for user in users:
        assert not user.is_superuser or not user.posts.exists(), user.username  # only the operator's own
        if user.is_superuser:
            continue
        direct = Permission.objects.filter(user=user)
        via_groups = Permission.objects.filter(group__user=user)
        assert not direct.exists() and not via_groups.exists(), (user.username, list(direct), list(via_groups))
        assert user.get_group_permissions() == set(), user.username
        held = user.get_all_permissions()  # what the backends grant model-wide
        if rights.is_city_admin(user):
            assert user.is_staff, user.username
            writes = {p for p in held if not p.split(".")[1].startswith("view_")}
            assert writes == CITY_ADMIN_BACK_OFFICE_WRITES, (user.username, writes)
            views = {p for p in held if p.split(".")[1].startswith("view_")}
            assert "auth.view_user" in views and "approvals.view_proposal" in views, views
            assert not {p for p in views if p.split(".")[0] in {"otp_totp", "axes"}} | (
                views & {"auth.view_group", "auth.view_permission"}), views
            assert not any(p.split(".")[1] in rights.ALL_PERMISSIONS for p in held), held
        else:
            assert not user.is_staff, user.username
            assert held == set(), user.username
        # Even when guardian is told to honour global permissions, it returns only the person's own scope.
        with_globals = set(get_objects_for_user(user, "fundapp.view_fund", klass=Community,
                                                accept_global_perms=True).values_list("pk", flat=True))
        scope = set(rights.communities_for(user, "view_fund").values_list("pk", flat=True))
        assert with_globals == scope, user.username
    assert not Group.objects.filter(permissions__isnull=False).exists()


@pytest.mark.django_db
def test_no_user_but_a_superuser_holds_a_model_wide_permission_with_the_test_organisation(org):
    _assert_no_model_wide_permissions()


@pytest.mark.django_db
def test_no_user_but_a_superuser_holds_a_model_wide_permission_after_seed_demo(demo_city):
    assert get_user_model().objects.count() > 20
    _assert_no_model_wide_permissions()
