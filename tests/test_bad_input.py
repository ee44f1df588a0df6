"""Bad input everywhere: generated input posted to every form and public endpoint never gives a 500, never
writes part of anything, always answers with a clear message; text that is accepted shows escaped wherever
it is displayed.

Hypothesis draws, for every field of every form, either a plausible value (whose text carries HTML/script
payloads, so that accepted input can be checked for escaping) or a nasty one: huge and negative numbers and
decimals as text, 10,000-character strings, control characters \\x00-\\x1f, HTML/script and SQL fragments,
template syntax, malformed dates, lists of values (the field sent two or three times, as a MultiValueDict
post), a file where text is expected, or the field left out.

For each example: the response is not a 500 and raised nothing (the test client re-raises a view's
exception); a refusal (200) carries a visible message (`role="alert"` or a field error) and changed nothing
(counts of every record kind, every proposal's state and money, invoices, objections, changes, fund years);
an acceptance is a redirect, and the pages that display the text (proposal page, the community's public page,
the community record) carry no raw payload.

Isolation: the demo city (`seed_demo`, a proposal in every state, plus an objection, a change, invoices and a
voucher payment so that every targeted action is offered) is built once per test inside pytest-django's
transaction; each example runs in a savepoint that is rolled back, with the cache (public pages, rate limits)
cleared, so every example starts from the same city. `database=None`: no .hypothesis/ directory.

The number of inputs generated is counted per endpoint and printed at the end of each test
("bad input: … inputs"); the configured numbers are the `EXAMPLES` constants below.
"""
import collections
import datetime
import re
import time
from decimal import Decimal

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from approvals import forms as approval_forms
from approvals import services as chain
from approvals.actions import ACTIONS, offers
from approvals.forms import AmountField
from approvals.models import (
    Acceptance,
    AnnualReport,
    BudgetLine,
    Change,
    ConsentDecision,
    Document,
    Feedback,
    FollowUp,
    Invoice,
    InvoiceRefusal,
    Meeting,
    Need,
    Notice,
    Objection,
    Payment,
    Proposal,
    ReviewDecision,
    Signature,
    State,
    SupervisionOpinion,
)
from audit.models import AuditRecord
from batches.models import BatchRun
from fundapp import clock
from fundapp.models import FundYear, LedgerEntry
from public import forms as public_forms

# Its subject does not depend on the database engine: bin/test runs it on PostgreSQL only (the production
# engine), or on SQLite when no PostgreSQL is reachable (docs/operations.md).
pytestmark = pytest.mark.one_database

User = get_user_model()

# Examples per endpoint (hypothesis max_examples). The staff actions are many, so fewer each.
EXAMPLES_ACTION = 18
EXAMPLES_PLAN = 40
EXAMPLES_PUBLIC = 40
EXAMPLES_SMALL = 25
EXAMPLES_QUERY = 40

GENERATED = collections.Counter()  # endpoint → inputs generated (reported at the end of each test)

# No shrinking: a failure is reported with the generated input as drawn (see the `note`), at once rather than
# after minutes of replays.
COMMON = dict(deadline=None, database=None, derandomize=False,
              phases=[Phase.explicit, Phase.reuse, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])

# ---- the input ------------------------------------------------------------------------------------

# Payloads whose raw form must never appear in a page (the escaped form may).
XSS = ["<script>alert('xss')</script>", '"><img src=x onerror=alert(1)>', "<svg/onload=alert(2)>",
       "</textarea><script>alert(3)</script>", "<a href=\"javascript:alert(4)\">x</a>"]
RAW_MARKERS = ["<script>alert(", "<img src=x onerror", "<svg/onload", '<a href="javascript:']
SQL = ["' OR '1'='1", "'; DROP TABLE approvals_proposal; --", "1; SELECT pg_sleep(10)--", "\" OR 1=1 --",
       "%' AND 1=0 UNION SELECT username, password FROM auth_user --"]
TEMPLATE = ["{{ settings.SECRET_KEY }}", "{% debug %}", "${7*7}", "%(title)s", "{0}", "%s%s%s%n"]
NUMBERS = ["", " ", "0", "-0", "-1", "-0.01", "0.001", "3.14159", "1e3", "1e999999", "-1e999999", "1E-999999",
           "NaN", "-nan", "sNaN", "Infinity", "-Infinity", "inf", "0x1F", "1_000", "１２３", "٣", "1,000.005",
           "99999999999999999999999999999999", "-99999999999999999999999999999999", "9" * 400, "1" + "0" * 25,
           "100000000.01", "2147483648", "-2147483649", "9223372036854775808", "+1", "1.", ".5", "00000001"]
DATES = ["2026-02-30", "2026-13-01", "2026-00-10", "0000-00-00", "0001-01-01", "9999-12-31", "10000-01-01",
         "-2026-01-01", "2026/09/30", "30.09.2026", "2026-9-3T25:61", "today", "２０２６-０９-３０", "2026-09",
         "20260930", "1970-01-01T00:00:00Z", "2026-09-30\x00", "2026-09-30' OR 1=1--"]
ODD = ["\x00", "a\x00b", "\ufeff", "\u202eevil", "𝕏𝕐ℤ", "null", "None", "true", "[]", "{}", "\r\n\r\n", " \t ",
       "👍" * 30, "ā" * 3]


def _safe_text(max_size):
    return st.text(st.characters(blacklist_categories=("Cs",)), max_size=max_size)


NASTY = st.one_of(
    st.sampled_from(XSS + SQL + TEMPLATE + NUMBERS + DATES + ODD),
    st.integers(min_value=-10 ** 40, max_value=10 ** 40).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x1F), min_size=1, max_size=12),
    st.sampled_from(["x", "字", "<", "'", "\x01", "<b>", "1"]).map(lambda c: (c * 10_000)[:10_000]),
    st.tuples(st.integers(-5, 100_000), st.integers(-1, 14), st.integers(-1, 33)).map(
        lambda t: f"{t[0]}-{t[1]:02d}-{t[2]:02d}"),
    _safe_text(40),
)

OMIT = object()
FILE_IN_TEXT = object()


def _payload_text(max_size=200):
    """Plausible text that an honest form accepts, carrying an HTML/script payload."""
    return st.tuples(st.sampled_from(XSS), _safe_text(20).filter(lambda s: s.strip() == s and "\x00" not in s),
                     st.sampled_from(["居民", "路灯", "Notice"])).map(
        lambda t: (t[2] + t[0] + t[1])[:max_size])


def valid_value(field, *, today):
    """A value this form field accepts (whether the service then agrees is its business)."""
    if isinstance(field, forms.ModelMultipleChoiceField):
        pks = [str(pk) for pk in field.queryset.values_list("pk", flat=True)]
        return st.lists(st.sampled_from(pks), max_size=2, unique=True) if pks else st.just([])
    if isinstance(field, forms.ModelChoiceField):
        pks = [str(pk) for pk in field.queryset.values_list("pk", flat=True)]
        return st.sampled_from(pks) if pks else st.just("")
    if isinstance(field, forms.ChoiceField):
        return st.sampled_from([str(c) for c, _ in field.choices if str(c) != ""])
    if isinstance(field, forms.DateField):
        return st.dates(today - datetime.timedelta(days=20), today).map(lambda d: d.isoformat())
    if isinstance(field, forms.IntegerField):
        low = field.min_value if field.min_value is not None else 0
        high = field.max_value if field.max_value is not None else 200
        return st.integers(low, max(low, min(high, 200))).map(str)
    if isinstance(field, forms.BooleanField):
        return st.sampled_from(["on", "1", ""])
    if isinstance(field, forms.FileField):
        return st.just(OMIT)
    if isinstance(field, AmountField):
        return st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500.00"), places=2).map(str)
    if field.widget.is_hidden:  # the idempotency key
        return st.uuids().map(lambda u: u.hex)
    return _payload_text(field.max_length or 400)


NUMERIC_NASTY = st.one_of(
    st.sampled_from(NUMBERS),
    st.integers(min_value=-10 ** 40, max_value=10 ** 40).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-30, 400).map(lambda e: f"1e{e}"),
    st.floats().map(repr),
)
DATE_NASTY = st.one_of(
    st.sampled_from(DATES),
    st.tuples(st.integers(-5, 100_000), st.integers(-1, 14), st.integers(-1, 33)).map(
        lambda t: f"{t[0]}-{t[1]:02d}-{t[2]:02d}"),
)
CHOICE_NASTY = st.sampled_from(["999", "-1", "0", "approve ", "APPROVE", "on", "true", "1.0", "None", "__all__"])


def bad_value(field, *, today):
    """Something this field should refuse (or, as one of a list, accept): type-aware and generic."""
    if isinstance(field, (forms.IntegerField, AmountField, forms.DecimalField)):
        specific = NUMERIC_NASTY
    elif isinstance(field, forms.DateField):
        specific = DATE_NASTY
    elif isinstance(field, forms.ChoiceField):
        specific = st.one_of(CHOICE_NASTY, NUMERIC_NASTY)
    else:
        specific = NASTY
    one = st.one_of(specific, NASTY, valid_value(field, today=today))
    return st.one_of(specific, NASTY, st.lists(one, min_size=2, max_size=3), st.just(OMIT), st.just(FILE_IN_TEXT))


def form_data(fields, *, today, extra=None):
    """A post for these {name: field}: all fields plausible, or each field plausible-or-nasty."""
    def build(valid):
        drawn = {}
        for name, field in fields.items():
            drawn[name] = valid_value(field, today=today) if valid else st.one_of(
                valid_value(field, today=today), bad_value(field, today=today))
        return st.fixed_dictionaries(drawn)

    extras = st.fixed_dictionaries(extra or {})
    return st.tuples(st.one_of(build(True), build(False)), extras).map(lambda de: _post_data({**de[0], **de[1]}))


def _post_data(drawn):
    data = {}
    for name, value in drawn.items():
        if value is OMIT:
            continue
        if value is FILE_IN_TEXT:
            data[name] = SimpleUploadedFile("a.txt", b"not text", content_type="text/plain")
        elif isinstance(value, list):
            data[name] = [SimpleUploadedFile("b.txt", b"x") if v is FILE_IN_TEXT else v
                          for v in value if v is not OMIT]
        else:
            data[name] = value
    return data


# ---- what must (not) change -----------------------------------------------------------------------

COUNTED = [Proposal, BudgetLine, Need, Notice, Objection, Feedback, AuditRecord, LedgerEntry, Payment, Document,
           Invoice, InvoiceRefusal, Signature, Meeting, Change, Acceptance, FollowUp, SupervisionOpinion,
           ReviewDecision, ConsentDecision, AnnualReport, BatchRun]


def snapshot():
    """Everything a refused post must leave as it was: one query for the counts, a few for the rows."""
    counts = ", ".join(f'(SELECT COUNT(*) FROM "{m._meta.db_table}")' for m in COUNTED)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")
        row = cursor.fetchone()
    return {
        "counts": dict(zip([m.__name__ for m in COUNTED], row)),
        "proposals": list(Proposal.objects.order_by("pk").values_list(
            "pk", "state", "title", "content", "budget", "approved_budget", "settled_amount", "reserved_amount",
            "contractor", "planned_end")),
        "invoices": list(Invoice.objects.order_by("pk").values_list("pk", "status")),
        "objections": list(Objection.objects.order_by("pk").values_list("pk", "answer", "answered_at")),
        "changes": list(Change.objects.order_by("pk").values_list("pk", "status")),
        "payments": list(Payment.objects.order_by("pk").values_list("pk", "after_notice")),
        "reports": list(AnnualReport.objects.order_by("pk").values_list("pk", "status", "narrative", "grade")),
        "fund_years": list(FundYear.objects.order_by("pk").values_list(
            "pk", "allocated", "settled", "reserved", "carried_out", "small_group_committed")),
    }


def post(client, url, data):
    """As a browser posts a form: always with the CSRF field (the test client does not check it), so that
    even a post whose fields are all missing is a bound form and not a first view."""
    return client.post(url, {"csrfmiddlewaretoken": "browser", **data})


def has_message(html):
    return 'role="alert"' in html or 'class="field-error"' in html


def assert_escaped(client, urls, where):
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (where, url, response.status_code)
        html = response.content.decode()
        for marker in RAW_MARKERS:
            assert marker not in html, (where, url, marker)


def carries_payload(data):
    """Could any posted value (text, or an uploaded file's name) show as markup: does it hold a "<" or a
    javascript: URL? (Every XSS payload does.)"""
    values = (v for value in data.values() for v in (value if isinstance(value, list) else [value]))
    return any("<" in text or "javascript:" in text.lower() for text in (str(getattr(v, "name", v)) for v in values))


def example(fn):
    """Run one example in a savepoint that is rolled back, with an empty cache."""
    with transaction.atomic():
        cache.clear()
        try:
            fn()
        finally:
            transaction.set_rollback(True)
    cache.clear()


def judge(response, before, where, *, may_change, preview=False):
    """No 500; a refusal shows a message and changed nothing; an acceptance redirects."""
    assert response.status_code != 500, where
    if response.status_code in (301, 302):
        assert may_change, (where, "accepted input that is never valid")
        return True
    assert response.status_code == 200, (where, response.status_code)
    html = response.content.decode()
    assert snapshot() == before, (where, "a refused post changed something")
    assert has_message(html) or (preview and 'class="preview"' in html), (where, "refused without a message")
    return False


def report(capsys, test):
    with capsys.disabled():
        total = sum(GENERATED.values())
        per = ", ".join(f"{k} {v}" for k, v in sorted(GENERATED.items()))
        print(f"\n[bad input] {test}: {total} inputs generated ({per})")
    return total


# ---- the demo city with something for every action -----------------------------------------------

def _user(name):
    return User.objects.get(username=name)


@pytest.fixture
def city(demo_city, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    today = clock.today()
    # Targets for the actions the demo does not leave open: an objection, a change, invoices, a voucher.
    notice = Notice.objects.filter(status=Notice.Status.RUNNING, kind=Notice.Kind.PLAN, last_day__gte=today).first()
    chain.objection_record(notice=notice, channel=Objection.Channel.PAPER, resident_name="李四", text="噪音太大",
                           by=_user("xingfu-staff"))
    chain.change_request(proposal=Proposal.objects.get(state=State.IN_PROGRESS, community__code="xingfu"),
                         by=_user("xingfu-secretary"), description="延期两周")
    accepted = Proposal.objects.get(state=State.ACCEPTED, community__code="guangming")
    secretary = _user("guangming-secretary")
    chain.invoice_register(proposal=accepted, by=secretary, contractor="甲", number="N-1", amount="100.00",
                           issued_on=today)
    second = chain.invoice_register(proposal=accepted, by=secretary, contractor="乙", number="N-2", amount="100.00",
                                    issued_on=today)
    for name in ("guangming-secretary", "dongcheng-director", "dongcheng-secretary"):
        chain.invoice_sign(invoice=second, by=_user(name))
    chain.voucher_pay(proposal=accepted, by=_user("dongcheng-finance"), meeting=accepted.meetings.filter(
        passed=True).first(), recipient_name="王五", receipt_reference="R-1", amount="50.00", paid_on=today,
        method=Payment.Method.TRANSFER, reference="T-1")
    return today


def action_cases():
    """(action, user, proposal, target) for every UI action, as the proposal page shows it to the person:
    available, or blocked by a guard (a POST then reaches the service, which refuses it)."""
    users = list(User.objects.filter(posts__isnull=False).distinct().order_by("username"))
    proposals = list(Proposal.objects.select_related("community").order_by("pk"))
    cases = {}
    for proposal in proposals:
        for user in users:
            for shown in offers(user, proposal):
                cases.setdefault(shown.action.name, (shown.action.name, user, proposal, shown.target))
    return cases


# ---- the staff actions ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_every_staff_action_survives_generated_input(city, client, capsys):
    today = city
    cases = action_cases()
    assert set(cases) == set(ACTIONS), f"actions never offered in the demo: {set(ACTIONS) - set(cases)}"
    GENERATED.clear()
    accepted = collections.Counter()
    for name, user, proposal, target in cases.values():
        ui = ACTIONS[name]
        client.force_login(user)
        form = ui.form(proposal=proposal) if name == "pay_voucher" else ui.form()
        url = reverse("approvals:proposal-action", args=[proposal.pk, name])
        if target is not None:
            url += f"?target={target.pk}"
        pages = [reverse("approvals:proposal", args=[proposal.pk]),
                 reverse("public:community-year", args=[proposal.community.code, proposal.fund_year.year]),
                 reverse("community-record", args=[proposal.community.code])]
        extra = {"confirm": st.sampled_from([OMIT, "1"])} if name in {
            "post_notice", "post_completion_notice", "post_voucher_notice"} else {}

        @settings(max_examples=EXAMPLES_ACTION, **COMMON)
        @given(data=form_data(form.fields, today=today).flatmap(
            lambda d: st.fixed_dictionaries(extra).map(lambda e: _post_data({**d, **e}))))
        def fuzz(data):
            GENERATED[f"action:{name}"] += 1
            note(f"input: {locals()!r}"[:3000])

            def run():
                before = snapshot()
                response = post(client, url, data)
                if judge(response, before, (name, data), may_change=True, preview=True):
                    accepted[name] += 1
                    # Every page that displays the step's text, when the accepted input carries a payload;
                    # otherwise the proposal page still shows (nothing of this input can be raw elsewhere).
                    assert_escaped(client, pages if carries_payload(data) else pages[:1], (name, data))

            example(run)

        fuzz()
    report(capsys, "staff actions")
    assert sum(accepted.values()) > 0  # the plausible half does get through somewhere


# ---- proposal create/edit, staff needs, annual reports -------------------------------------------

def _plan_fields(community):
    form = approval_forms.ProposalForm(community=community)
    return form.fields


def _lines(today):
    line = approval_forms.BudgetLineForm().fields
    row = st.fixed_dictionaries({k: st.one_of(valid_value(f, today=today), bad_value(f, today=today))
                                 for k, f in line.items()})
    valid_row = st.fixed_dictionaries({k: valid_value(f, today=today) for k, f in line.items()})
    management = st.one_of(
        st.just(None),  # consistent with the rows
        st.fixed_dictionaries({"lines-TOTAL_FORMS": NASTY, "lines-INITIAL_FORMS": NASTY,
                               "lines-MIN_NUM_FORMS": NASTY, "lines-MAX_NUM_FORMS": NASTY}),
        st.sampled_from([{"lines-TOTAL_FORMS": "100000"}, {"lines-TOTAL_FORMS": "51"},
                         {"lines-TOTAL_FORMS": "-1"}, {"lines-TOTAL_FORMS": "1e9"}]))

    def build(rows, mgmt):
        data = {"lines-TOTAL_FORMS": str(len(rows)), "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "1",
                "lines-MAX_NUM_FORMS": "50"}
        for i, row in enumerate(rows):
            data.update({f"lines-{i}-{k}": v for k, v in row.items()})
        data.update(mgmt or {})
        return data

    return st.builds(build, st.one_of(st.lists(valid_row, min_size=1, max_size=3),
                                      st.lists(row, min_size=0, max_size=3)), management)


@pytest.mark.django_db
def test_proposal_create_and_edit_survive_generated_input(city, client, capsys):
    today = city
    GENERATED.clear()
    user = _user("xingfu-staff")
    client.force_login(user)
    draft = Proposal.objects.get(state=State.DRAFT, community__code="xingfu")
    fields = _plan_fields(draft.community)
    targets = [("create", reverse("approvals:proposal-new") + "?community=xingfu"),
               ("edit", reverse("approvals:proposal-edit", args=[draft.pk]))]
    accepted = collections.Counter()
    for where, url in targets:
        @settings(max_examples=EXAMPLES_PLAN, **COMMON)
        @given(plan=form_data(fields, today=today), lines=_lines(today))
        def fuzz(plan, lines):
            GENERATED[f"proposal-{where}"] += 1
            note(f"input: {locals()!r}"[:3000])

            def run():
                before = snapshot()
                response = post(client, url, {**plan, **lines})
                if judge(response, before, (where, plan, lines), may_change=True):
                    accepted[where] += 1
                    pk = int(re.search(r"/proposals/(\d+)/", response["Location"]).group(1))
                    assert_escaped(client, [reverse("approvals:proposal", args=[pk]),
                                            reverse("approvals:proposals")], (where, plan))
                    # the plan's text is stored as typed; an accepted plan never has a line over the cap
                    p = Proposal.objects.get(pk=pk)
                    assert len(p.title) <= 200 and p.lines.count() <= 50

            example(run)

        fuzz()
    report(capsys, "proposal create/edit")
    assert accepted["create"] and accepted["edit"]


@pytest.mark.django_db
def test_staff_needs_and_annual_reports_survive_generated_input(city, client, capsys):
    today = city
    GENERATED.clear()
    # staff need register
    client.force_login(_user("xingfu-staff"))
    url = reverse("approvals:needs") + "?community=xingfu"

    @settings(max_examples=EXAMPLES_SMALL, **COMMON)
    @given(data=form_data(approval_forms.NeedForm().fields, today=today))
    def needs(data):
        GENERATED["needs"] += 1
        note(f"input: {locals()!r}"[:3000])

        def run():
            before = snapshot()
            response = post(client, url, data)
            if judge(response, before, ("needs", data), may_change=True):
                assert_escaped(client, [url], ("needs", data))

        example(run)

    needs()

    # annual reports: a draft to submit (community secretary), a submitted one to evaluate (subdistrict)
    # annual reports (the demo leaves heping's a draft and youyi's submitted, not yet evaluated)
    draft_report = AnnualReport.objects.get(community__code="heping", year=today.year)
    submitted = AnnualReport.objects.get(community__code="youyi", year=today.year)
    assert (draft_report.status, submitted.status) == (AnnualReport.Status.DRAFT, AnnualReport.Status.SUBMITTED)
    for who, report_obj, form_class in [("heping-secretary", draft_report, approval_forms.ReportSubmitForm),
                                        ("xicheng-staff", submitted, approval_forms.ReportEvaluateForm)]:
        client.force_login(_user(who))
        report_url = reverse("approvals:report", args=[report_obj.pk])

        @settings(max_examples=EXAMPLES_SMALL, **COMMON)
        @given(data=form_data(form_class().fields, today=today))
        def fuzz(data):
            GENERATED[f"report:{form_class.__name__}"] += 1
            note(f"input: {locals()!r}"[:3000])

            def run():
                before = snapshot()
                response = post(client, report_url, data)
                if judge(response, before, (who, data), may_change=True):
                    assert_escaped(client, [report_url], (who, data))

            example(run)

        fuzz()
    report(capsys, "needs + annual reports")


# ---- the residents' forms -------------------------------------------------------------------------

def _aged_stamp(seconds=60):
    """The signed 'shown at' stamp of a form shown `seconds` ago (the forms refuse quicker posts)."""
    return signing.dumps(time.time() - seconds, salt="public-form")


def _public_data(form_class, today):
    fields = {k: f for k, f in form_class().fields.items() if k not in ("website", "shown")}
    stamp = st.one_of(st.builds(_aged_stamp), st.builds(_aged_stamp), NASTY,
                      st.just(signing.dumps(time.time() + 10 ** 6, salt="public-form")),
                      st.just(signing.dumps("x", salt="public-form")), st.just(OMIT))
    honeypot = st.one_of(st.just(OMIT), st.just(""), st.just(OMIT), NASTY)
    return form_data(fields, today=today).flatmap(
        lambda d: st.fixed_dictionaries({"shown": stamp, "website": honeypot}).map(lambda e: _post_data(
            {**d, **e})))


@pytest.mark.django_db
def test_public_forms_survive_generated_input(city, client, capsys):
    today = city
    GENERATED.clear()
    notice = Notice.objects.filter(status=Notice.Status.RUNNING, kind=Notice.Kind.PLAN, last_day__gte=today).select_related(
        "proposal__community", "proposal__fund_year").first()
    community = notice.proposal.community
    completed = Proposal.objects.filter(community=community, state=State.COMPLETED).first() or notice.proposal
    public_page = reverse("public:community-year", args=[community.code, notice.proposal.fund_year.year])
    endpoints = [
        ("objection", reverse("public:object", args=[community.code, notice.public_id]), public_forms.ObjectionForm),
        ("need", reverse("public:need", args=[community.code]), public_forms.NeedForm),
        ("feedback", reverse("public:feedback", args=[community.code, completed.public_id]), public_forms.FeedbackForm),
    ]
    accepted = collections.Counter()
    for where, url, form_class in endpoints:
        @settings(max_examples=EXAMPLES_PUBLIC, **COMMON)
        @given(data=_public_data(form_class, today))
        def fuzz(data):
            GENERATED[f"public:{where}"] += 1
            note(f"input: {locals()!r}"[:3000])

            def run():
                before = snapshot()
                response = post(client, url, data)
                assert response.status_code != 500
                html = response.content.decode()
                if response.status_code == 200 and snapshot() != before:
                    accepted[where] += 1  # the thank-you page (need, feedback)
                    assert "<form" not in html or where == "objection", where
                    assert_escaped(client, [public_page, url], (where, data))
                    return
                if judge(response, before, (where, data), may_change=True):
                    accepted[where] += 1
                    assert_escaped(client, [public_page], (where, data))

            example(run)

        fuzz()
    report(capsys, "public forms")
    assert all(accepted[w] for w, _, _ in endpoints), accepted


# ---- the rest: login, two factor, workday calculator, query strings, batches, raw bodies ----------

@pytest.mark.django_db
def test_login_two_factor_workdays_batches_and_query_strings_survive_generated_input(city, client, capsys,
                                                                                     settings):
    today = city
    GENERATED.clear()
    login = reverse("login")
    from fundapp.forms import LoginForm, WorkdayForm
    from fundapp.twofactor import TokenForm

    @settings_(EXAMPLES_SMALL)
    @given(data=form_data({"username": LoginForm.base_fields["username"],
                           "password": LoginForm.base_fields["password"]}, today=today,
                          extra={"next": st.one_of(NASTY, st.just("/"), st.just("https://evil.example/"))}))
    def logins(data):
        GENERATED["login"] += 1
        note(f"input: {locals()!r}"[:3000])

        def run():
            client.logout()
            before = snapshot()
            response = post(client, login, data)
            assert response.status_code in (200, 302, 403, 429), response.status_code
            if response.status_code == 302:  # never to another site
                assert not response["Location"].startswith(("http://", "https://", "//")), data
            assert snapshot() == before

        example(run)

    logins()

    settings.TWO_FACTOR_REQUIRED = True
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    # set-up by someone without an authenticator; verification by someone with a confirmed one, whose
    # right code is among the inputs (so that the redirect to a generated `next` is reached too)
    device = TOTPDevice.objects.create(user=_user("heping-secretary"), name="phone", confirmed=True)
    for where, who in (("two-factor-setup", "xingfu-secretary"), ("two-factor-verify", "heping-secretary")):
        client.force_login(_user(who))

        @settings_(EXAMPLES_SMALL)
        @given(data=form_data(dict(TokenForm.base_fields), today=today, extra={"next": st.one_of(
            NASTY, st.just("/ledgers/"), st.just("//evil.example/"), st.sampled_from(XSS))}),
            right_code=st.booleans())
        def token(data, right_code):
            GENERATED[where] += 1
            note(f"input: {locals()!r}"[:3000])
            if right_code and where == "two-factor-verify":
                data = {**data, "token": f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"}

            def run():
                response = post(client, reverse(where), data)
                assert response.status_code in (200, 302), response.status_code
                if response.status_code == 302:
                    assert not response["Location"].startswith(("http://", "https://", "//")), data
                else:
                    assert has_message(response.content.decode()) or "token" not in data, data

            example(run)

        token()
    settings.TWO_FACTOR_REQUIRED = False

    # GET forms and filters: the person who can see the most
    client.force_login(_user("dongcheng-secretary"))
    admin = Client()
    admin.force_login(_user("city-admin"))
    change = Change.objects.get(status=Change.Status.REQUESTED)  # offered to this secretary, by ?target=
    workday = reverse("workday-calculator")
    query_pages = [
        (workday, WorkdayForm.base_fields),
        (reverse("approvals:proposals"), {"state": forms.ChoiceField(choices=State.choices)}),
        (reverse("approvals:invoices"), {"status": forms.ChoiceField(choices=Invoice.Status.choices)}),
        (reverse("approvals:reports"), {"year": forms.IntegerField(min_value=2000, max_value=2100)}),
        (reverse("finance:reconcile"), {"year": forms.IntegerField(min_value=2000, max_value=2100),
                                        "subdistrict": forms.ChoiceField(choices=[("dongcheng", "")])}),
        (reverse("finance:summary"), {"year": forms.IntegerField(min_value=2000, max_value=2100),
                                      "subdistrict": forms.ChoiceField(choices=[("dongcheng", "")])}),
        (reverse("finance:summary-xlsx", args=[today.year]),
         {"subdistrict": forms.ChoiceField(choices=[("dongcheng", "")])}),
        (reverse("finance:ledger-csv", args=["xingfu", today.year]), {}),
        (reverse("public:index"), {"q": forms.CharField(max_length=50)}),
        (reverse("public:language"), {"to": forms.ChoiceField(choices=[("en", ""), ("zh-hans", "")]),
                                      "next": forms.CharField()}),
        (reverse("batches:runs"), {"year": forms.IntegerField(min_value=2000, max_value=2100)}),
        (reverse("approvals:proposal-new"), {"community": forms.ChoiceField(choices=[("xingfu", "")])}),
        (reverse("approvals:needs"), {"community": forms.ChoiceField(choices=[("xingfu", "")])}),
        (reverse("approvals:proposal-action", args=[change.proposal_id, "consent_change"]),
         {"target": forms.ChoiceField(choices=[(str(change.pk), "")])}),
    ]
    for url, fields in query_pages:
        @settings_(EXAMPLES_QUERY if fields else 5)
        @given(data=form_data(dict(fields), today=today, extra={"page": NASTY, "format": NASTY}))
        def query(data):
            GENERATED[f"GET {url}"] += 1
            note(f"input: {locals()!r}"[:3000])
            data = {k: v for k, v in data.items() if not isinstance(v, SimpleUploadedFile)
                    and not (isinstance(v, list) and any(isinstance(x, SimpleUploadedFile) for x in v))}

            def run():
                # (a login inside the example would be rolled back with it: the administrator has their own)
                who = admin if url.startswith("/batches/") else client
                before = snapshot()
                response = who.get(url, data)
                # 400: Django's refusal of a redirect over 16,384 characters (to the login page, say)
                assert response.status_code in (200, 302, 400, 404), (url, data, response.status_code,
                                                                   response.content[-3000:].decode(errors="replace"))
                if response.status_code == 302:
                    assert not response["Location"].startswith(("http://", "https://", "//")), data
                assert snapshot() == before
                if response.get("Content-Type", "").startswith("text/html"):
                    html = response.content.decode()
                    for marker in RAW_MARKERS:
                        assert marker not in html, (url, data)

            example(run)

        query()

    # URL path parameters: years and codes out of every range
    client.force_login(_user("dongcheng-secretary"))

    @settings_(EXAMPLES_QUERY)
    @given(year=st.one_of(st.integers(0, 10 ** 30), st.sampled_from([0, 1, 9999, 10000, 2 ** 31, 2 ** 63])),
           code=st.one_of(st.sampled_from(["xingfu", "zz", "a" * 300]), st.from_regex(r"\A[-a-zA-Z0-9_]{1,60}\Z")))
    def paths(year, code):
        GENERATED["paths"] += 1
        note(f"input: {locals()!r}"[:3000])

        def run():
            for name in ("public:community-year", "public:community-year-json", "public:community-year-csv",
                         "disclosure:summary", "disclosure:summary-pdf", "ledger", "finance:ledger-csv",
                         "finance:ledger-xlsx"):
                response = client.get(reverse(name, args=[code, year]))
                assert response.status_code in (200, 404), (name, code, year, response.status_code)

        example(run)

    paths()
    for year in (0, 1, 1999, 9999, 10 ** 6, 2 ** 63):  # the summary files (each renders a PDF): a fixed few
        for name in ("finance:summary-pdf", "finance:summary-xlsx"):
            GENERATED["paths"] += 1
            response = client.get(reverse(name, args=[year]))
            assert response.status_code in (200, 404), (name, year, response.status_code)

    # batches: start a run with generated kind/year (city administrator)
    client.force_login(_user("city-admin"))
    start = reverse("batches:start")

    @settings_(EXAMPLES_SMALL)
    @given(data=form_data({"kind": forms.ChoiceField(choices=[("annual_reports", "")]),
                           "year": forms.IntegerField(min_value=2000, max_value=2100)}, today=today))
    def batch(data):
        GENERATED["batches:start"] += 1
        note(f"input: {locals()!r}"[:3000])

        def run():
            before = snapshot()
            response = post(client, start, data)
            assert response.status_code == 302, response.status_code
            if snapshot()["counts"]["BatchRun"] == before["counts"]["BatchRun"]:
                assert snapshot() == before
                follow = client.get(response["Location"])
                assert "请选择任务类型和年度" in follow.content.decode() or follow.status_code == 200

        example(run)

    batch()
    report(capsys, "login/2FA/workdays/query strings/paths/batches")


def settings_(n):
    return settings(max_examples=n, **COMMON)


@pytest.mark.django_db
def test_bodies_that_are_not_valid_form_encoding_get_an_answer_not_a_500(city, client):
    """Bytes that are not UTF-8, a truncated multipart body, a JSON body where a form is expected."""
    client.force_login(_user("xingfu-staff"))
    url = reverse("approvals:proposal-new") + "?community=xingfu"
    before = snapshot()
    for body, content_type in [
        (b"title=%FF%FE%00&content=\xff\xfe", "application/x-www-form-urlencoded"),
        (b"--xx\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nabc", "multipart/form-data; boundary=xx"),
        (b'{"title": "x"}', "application/json"),
        (b"title=" + b"A" * 200_000, "application/x-www-form-urlencoded"),
        (b"&".join(b"f%d=1" % i for i in range(1200)), "application/x-www-form-urlencoded"),
    ]:
        response = client.generic("POST", url, body, content_type=content_type)
        assert response.status_code in (200, 400), (body[:40], response.status_code)
    assert snapshot() == before


# ---- the bugs the generated input found, pinned ---------------------------------------------------

@pytest.mark.django_db
def test_an_amount_beyond_decimal_precision_is_refused_with_a_message(city, client):
    """parse_amount raised decimal.InvalidOperation (a 500) for 1e26 and up: quantize() overflowed."""
    name, user, proposal, _target = action_cases()["register_invoice"]
    client.force_login(user)
    before = snapshot()
    for amount in ("1e26", "1e999999", "1" + "0" * 19, "-1e30"):
        response = post(client, reverse("approvals:proposal-action", args=[proposal.pk, name]), {
            "contractor": "甲", "number": f"X-{amount[:5]}", "amount": amount, "issued_on": city.isoformat()})
        assert response.status_code == 200 and has_message(response.content.decode()), amount
    assert snapshot() == before


@pytest.mark.django_db
def test_a_year_out_of_range_on_the_reports_page_shows_this_year(city, client):
    """/reports/?year=99999 raised ValueError (date out of range), 10**30 OverflowError: both 500s."""
    client.force_login(_user("dongcheng-secretary"))
    for year in ("99999", str(10 ** 30), "0", "-5"):
        response = client.get(reverse("approvals:reports"), {"year": year})
        assert response.status_code == 200 and response.context["year"] == city.year, year


@pytest.mark.django_db
def test_a_next_that_is_not_a_path_redirects_home_not_to_a_500(city, client, settings):
    """redirect() took a `next` like "x" for a view name and raised NoReverseMatch (public language switch,
    two-factor verification)."""
    for target in ("x", "居民", "javascript:alert(1)", "//evil.example/", "https://evil.example/"):
        response = client.get(reverse("public:language"), {"to": "en", "next": target})
        assert response.status_code == 302 and response["Location"] == reverse("public:index"), target
    response = client.get(reverse("public:language"), {"to": "en", "next": "/public/xingfu/2026/"})
    assert response["Location"] == "/public/xingfu/2026/"

    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.TWO_FACTOR_REQUIRED = True
    user = _user("heping-secretary")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.force_login(user)
    response = post(client, reverse("two-factor-verify"), {
        "token": f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}", "next": "x"})
    assert response.status_code == 302 and response["Location"] == reverse("home")


@pytest.mark.django_db
def test_a_signed_stamp_that_is_not_a_time_is_an_expired_page(city, client):
    """The residents' forms subtracted a signed non-number from the time (TypeError, a 500)."""
    before = snapshot()
    response = post(client, reverse("public:need", args=["xingfu"]), {
        "description": "路灯", "shown": signing.dumps("soon", salt="public-form")})
    assert response.status_code == 200 and "页面已过期" in response.content.decode()
    assert snapshot() == before


@pytest.mark.django_db
def test_query_parameters_that_cannot_be_codes_or_ids_answer_404_not_500(city, client):
    """?target=abc raised ValueError (int field lookup), and on PostgreSQL a NUL byte in ?community=,
    ?subdistrict= or ?q= raised ValueError ("A string literal cannot contain NUL"), and ?target= of 10,000
    digits raised ValueError (int() refuses over 4,300 digits) — 500s."""
    change = Change.objects.get(status=Change.Status.REQUESTED)
    client.force_login(_user("dongcheng-secretary"))
    action = reverse("approvals:proposal-action", args=[change.proposal_id, "consent_change"])
    assert client.get(action, {"target": str(change.pk)}).status_code == 200
    for bad in ("abc", "\x00", "1\x00", "-1", "9" * 40, "1" * 10_000, "١", " 1", "1.0"):
        assert client.get(action, {"target": bad}).status_code == 404, bad
        assert post(client, action, {"target": bad}).status_code == 404, bad
        for url, key in ((reverse("finance:summary"), "subdistrict"), (reverse("finance:reconcile"), "subdistrict"),
                         (reverse("approvals:needs"), "community"), (reverse("approvals:proposal-new"), "community")):
            assert client.get(url, {key: bad}).status_code == 404, (url, bad)
    response = client.get(reverse("public:index"), {"q": "幸\x00福"})
    assert response.status_code == 200 and response.context["query"] == "幸福"


@pytest.mark.django_db
def test_a_record_id_beyond_64_bits_is_an_invalid_choice(city, client):
    """On SQLite, needs=-999…9 (proposal form) or meeting=999…9 (voucher form) raised OverflowError: a 500."""
    client.force_login(_user("xingfu-staff"))
    before = snapshot()
    for value in ("-99999999999999999999999999999999", "9" * 30, "1e3", "١"):
        response = post(client, reverse("approvals:proposal-new") + "?community=xingfu", {
            "title": "路灯", "needs": value, "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0"})
        assert response.status_code == 200 and has_message(response.content.decode()), value
    name, user, proposal, _target = action_cases()["pay_voucher"]
    client.force_login(user)
    response = post(client, reverse("approvals:proposal-action", args=[proposal.pk, name]), {"meeting": "9" * 30})
    assert response.status_code == 200 and has_message(response.content.decode())
    assert snapshot() == before


@pytest.mark.django_db
def test_a_username_over_the_cap_is_refused_before_authentication(city, client):
    """Django's login form does not enforce the username's max_length (set after the field is made): a
    10,000-character name reached django-axes, whose varchar(255) refused it — a 500 on PostgreSQL."""
    from axes.models import AccessAttempt

    response = post(client, reverse("login"), {"username": "x" * 10_000, "password": "whatever"})
    assert response.status_code == 200 and has_message(response.content.decode())
    assert not AccessAttempt.objects.exists()
    response = post(client, reverse("login"), {"username": "x" * 150, "password": "whatever"})
    assert response.status_code == 200 and AccessAttempt.objects.count() == 1  # still counted as a failure
