"""Every date and time a person sees is Asia/Shanghai, never UTC.

1. Acts recorded at 01:30 on 2 December in Beijing — 17:30 on 1 December in UTC — read "2026-12-02" (or
   "12-02 01:30") on the secretary's proposal page, the work queue, the supervisor's full record, the public
   page, its JSON and CSV and the application-form PDF, and never "2026-12-01".
2. A static check over the project's sources: a datetime (a model's DateTimeField, or `now()`) turned into a
   date or text without `timezone.localtime`/`localdate` fails here, so a new UTC slip fails CI before it reaches
   a page. See PATTERNS and ALLOWED below.
"""
import ast
import csv
import datetime
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.urls import reverse

from approvals import services as chain
from approvals.models import Document, Objection
from audit.models import AuditRecord
from fundapp.models import Role
from tests.chain import draft, settleable
from tests.files import PDF, png_bytes

# 17:30 UTC on 1 December is 01:30 on 2 December in Beijing.
MOMENT = datetime.datetime(2026, 12, 1, 17, 30, tzinfo=datetime.UTC)
LOCAL_DAY = datetime.date(2026, 12, 2)
UTC_DATES = ("2026-12-01", "2026年12月1日", "12-01 17:30", "2026/12/01")
ROOT = Path(__file__).resolve().parent.parent




def pdftotext(data, tmp_path):
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext missing: apt-get install poppler-utils")
    path = tmp_path / "form.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture
def acts_after_utc_midnight(org, settings, tmp_path):
    """Proposal A taken from draft to a running notice with objections, and B's invoice settled, all at
    MOMENT; with minutes and a notice photo uploaded and a supervision opinion."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    paid, invoice = settleable(org)
    with time_machine.travel(datetime.datetime(2026, 11, 20, 10, tzinfo=datetime.UTC), tick=False):
        proposal = draft(org, budget="9000.00", title="社区食堂")
    secretary = org.person(Role.COMMUNITY_SECRETARY)
    with time_machine.travel(MOMENT, tick=False):
        chain.proposal_submit_for_consent(proposal=proposal, by=secretary)
        chain.consent_decide(proposal=proposal, by=org.person(Role.SUBDISTRICT_SECRETARY), consented=True)
        chain.meeting_record(proposal=proposal, by=secretary, held_on=LOCAL_DAY, place="社区会议室", attendance=9,
                             votes_for=9, votes_against=0, votes_abstain=0, minutes="通过",
                             documents=[("minutes", SimpleUploadedFile("minutes.pdf", PDF))])
        notice = chain.notice_post(proposal=proposal, by=secretary, posted_on=LOCAL_DAY, working_days=3,
                                   documents=[("notice_photo", SimpleUploadedFile("board.png", png_bytes()))])
        answered = chain.objection_record(notice=notice, channel=Objection.Channel.ONLINE, resident_name="欧阳明远",
                                          text="选址太吵")
        chain.objection_answer(objection=answered, by=secretary, answer="已调整")
        chain.objection_record(notice=notice, channel=Objection.Channel.PAPER, by=secretary,
                               resident_name="司马慧琳", text="时间不合适")
        chain.supervision_opinion_record(proposal=proposal, by=org.person(Role.SUPERVISOR), text="程序合规")
        chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER), paid_on=LOCAL_DAY,
                             method="transfer", reference="R-1202")
    # What was recorded is UTC in the database, 2 December in Beijing.
    assert Document.objects.filter(proposal=proposal).count() == 2
    assert AuditRecord.objects.filter(recorded_at=MOMENT).count() >= 8
    return {"proposal": proposal, "paid": paid}


def login(org, role):
    client = Client()
    client.force_login(org.person(role))
    return client


def assert_local(name, text, expected=("2026-12-02",)):
    for local in expected:
        assert local in text, f"{name}: {local} missing"
    for utc in UTC_DATES:
        assert utc not in text, f"{name}: shows the UTC date {utc}"


@pytest.mark.django_db
def test_acts_recorded_after_utc_midnight_show_the_beijing_date_everywhere(org, acts_after_utc_midnight, tmp_path):
    proposal, paid = acts_after_utc_midnight["proposal"], acts_after_utc_midnight["paid"]
    secretary, supervisor = login(org, Role.COMMUNITY_SECRETARY), login(org, Role.SUPERVISOR)
    with time_machine.travel(MOMENT + datetime.timedelta(minutes=5), tick=False):
        page = secretary.get(reverse("approvals:proposal", args=[proposal.pk])).content.decode()
        # the objection's date, the action label naming the open objection (Objection.__str__), the timeline
        # (the timeline shows the date an act took effect, 2026年12月2日, and the time it was recorded)
        assert_local("proposal page", page, ("司*** 2026年12月2日", "2026年12月2日", "01:30"))
        assert_local("paid proposal page", secretary.get(reverse("approvals:proposal", args=[paid.pk])).content.decode(),
                     ("2026年12月2日", "01:30"))
        assert_local("work queue", secretary.get("/").content.decode(), ("2026年12月2日", "01:30"))
        assert_local("supervisor's record", supervisor.get(reverse("community-record", args=["a1"])).content.decode(),
                     ("2026年12月2日", "01:30"))
        assert_local("ledger", login(org, Role.FINANCE_OFFICER).get(reverse("ledger", args=["a1", 2026]))
                     .content.decode(), ("2026年12月2日",))

        resident = Client()
        public = resident.get(reverse("public:community-year", args=["a1", 2026])).content.decode()
        assert_local("public page", public, ("2026年12月2日",))
        data = resident.get(reverse("public:community-year-json", args=["a1", 2026])).json()
        notice = next(n for p in data["projects"] for n in p["notices"] if p["title"] == "社区食堂")
        assert [o["received_on"] for o in notice["objections"]] == ["2026-12-02", "2026-12-02"]
        assert notice["objections"][0]["answered_on"] == "2026-12-02"
        assert [d["uploaded_on"] for p in data["projects"] for d in p["documents"]] == ["2026-12-02"]
        assert data["generated_at"] == "2026-12-02T01:35:00+08:00" and data["as_of"] == "2026-12-02"
        assert_local("public JSON", str(data))
        rows = list(csv.reader(io.StringIO(resident.get(reverse("public:community-year-csv", args=["a1", 2026]))
                                           .content.decode("utf-8-sig"))))
        assert_local("public CSV", "\n".join(",".join(r) for r in rows))

        response = secretary.get(reverse("approvals:proposal-pdf", args=[proposal.pk]))
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
        text = re.sub(r"\s+", "", pdftotext(response.content, tmp_path))
        # the consent's signature date, the meeting and the notice
        assert_local("application form PDF", text, ("2026年12月2日",))  # papers write 年月日
        assert text.count("2026年12月2日") >= 3, text

    # Model labels (used on action buttons and in the admin) too.
    objection = Objection.objects.get(resident_name="司马慧琳")
    assert str(objection).endswith("2026年12月2日")


# --- the static check ---------------------------------------------------------------------------------------
#
# PATTERNS, in Python (by the syntax tree, so strings and comments never match) — on an expression known to be a
# datetime, i.e. a model DateTimeField attribute (`x.received_at`), a call of `now()` (timezone/clock/datetime),
# `.astimezone(UTC)`, or a local name assigned from one of these in the same function:
#   - `.date()`, `.time()`, `.strftime(…)`, `.isoformat(…)`, `.year`, `.month`, `.day`, `.hour`
#   - an f-string format spec with `%` (`f"{x.at:%Y-%m-%d}"`)
# and anywhere: `datetime.utcnow()`, `date.today()`, `datetime.now()` without a time zone (the domain's today is
# `fundapp.clock.today()`). The fix is `timezone.localdate(x)` / `timezone.localtime(x)` first.
# In templates: `{{ x.received_at.date }}` and the like (`|date` is fine: Django localises before filtering).

SKIP_DIRS = {".venv", "venv", "var", "node_modules", "migrations", "tests", ".git", "__pycache__", "media",
             "static", "locale"}
DATETIME_ATTRS = {"date", "time", "strftime", "isoformat", "year", "month", "day", "hour"}

# (path, the line's code) — each a justified exception.
ALLOWED = {
    # The audit chain's hash input: one canonical instant in UTC, never shown to anybody (tamper evidence).
    ("audit/services.py", 'return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")'),
    # seed_scale writes audit rows with COPY: an ISO instant with its offset, read back by the database.
    ("desk/management/commands/seed_scale.py",
     'records.append((str(rid), chain, "1", now.isoformat(), NULL, "", NULL, "", str(cid), record.action,'),
    # The benchmark's console progress lines and its default year (a developer's tool, never a page).
    ("bench/bench.py", 'print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", flush=True)'),
    ("bench/bench.py", "year = datetime.date.today().year"),
    ("bench/bench.py", '"date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),'),  # says UTC
}


def datetime_field_names():
    names = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.DateTimeField):
                names.add(field.name)
    return names


def sources(suffix):
    for path in sorted(ROOT.rglob(f"*{suffix}")):
        parts = path.relative_to(ROOT).parts
        if not SKIP_DIRS.intersection(parts) and not parts[-1].startswith("test_") and parts[-1] != "conftest.py":
            yield path


def _is_now_call(node):
    """timezone.now(), clock.now(), datetime.now() / datetime.datetime.now() / utcnow() (any arguments)."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"now", "utcnow"}
            and isinstance(node.func.value, ast.Name | ast.Attribute))


def _is_utc(node):
    return "UTC" in ast.unparse(node) or "utc" in ast.unparse(node)


class _Finder(ast.NodeVisitor):
    def __init__(self, fields):
        self.fields = fields
        self.found = []  # line numbers
        self.scopes = [set()]

    def is_datetime(self, node):
        if isinstance(node, ast.Attribute) and node.attr in self.fields:
            return True
        if isinstance(node, ast.Name) and node.id in self.scopes[-1]:
            return True
        if _is_now_call(node):
            if _clockish(node) or node.func.attr == "utcnow":
                return True  # an aware instant in UTC
            # datetime.now(tz) is local time in that zone (naive datetime.now() is reported by visit_Call).
            zones = list(node.args) + [k.value for k in node.keywords]
            return any(_is_utc(zone) for zone in zones)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "astimezone":
                return bool(node.args) and _is_utc(node.args[0])
            if node.func.attr == "replace":  # keeps the instant's zone
                return self.is_datetime(node.func.value)
        return False

    def visit_FunctionDef(self, node):
        self.scopes.append(set())
        self.generic_visit(node)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Assign(self, node):
        self.generic_visit(node)
        if self.is_datetime(node.value):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.scopes[-1].add(target.id)

    def visit_Attribute(self, node):
        if node.attr in DATETIME_ATTRS and self.is_datetime(node.value):
            self.found.append(node.lineno)
        self.generic_visit(node)

    def visit_FormattedValue(self, node):
        spec = ast.unparse(node.format_spec) if node.format_spec else ""
        if "%" in spec and self.is_datetime(node.value):
            self.found.append(node.lineno)
        self.generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute):
            root = ast.unparse(func.value)
            if func.attr == "utcnow" or (func.attr == "today" and root in {"date", "datetime.date"}) \
                    or (func.attr == "now" and root in {"datetime", "datetime.datetime"} and not node.args
                        and not node.keywords):
                self.found.append(node.lineno)
        self.generic_visit(node)


def _clockish(node):
    return ast.unparse(node.func.value) in {"timezone", "clock", "django.utils.timezone"}


def _name(path):
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def python_slips(path, fields):
    text = path.read_text(encoding="utf-8")
    finder = _Finder(fields)
    finder.visit(ast.parse(text, str(path)))
    lines = text.splitlines()
    return {(_name(path), lines[n - 1].strip()) for n in finder.found}


def template_slips(path, fields):
    pattern = re.compile(r"\.(?:%s)\.(?:%s)\b" % ("|".join(sorted(fields)), "|".join(sorted(DATETIME_ATTRS))))
    slips = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        for tag in re.findall(r"\{\{.*?\}\}|\{%.*?%\}", line):
            if pattern.search(tag):
                slips.add((_name(path), line.strip()))
    return slips


def test_no_source_turns_a_datetime_into_a_utc_date():
    fields = datetime_field_names()
    assert {"at", "received_at", "uploaded_at", "recorded_at"} <= fields
    slips = set()
    for path in sources(".py"):
        slips |= python_slips(path, fields)
    for path in sources(".html"):
        slips |= template_slips(path, fields)
    assert slips - ALLOWED == set(), "use timezone.localdate()/localtime() before formatting a datetime"
    assert ALLOWED - slips == set(), "an allowed exception is gone: remove it from ALLOWED"


@pytest.mark.parametrize("code, slip", [
    ("x = o.received_at.date()", True),
    ("x = f'{self.received_at:%Y-%m-%d}'", True),
    ("x = consent.at.strftime('%Y')", True),
    ("x = timezone.now().date()", True),
    ("x = clock.now().year", True),
    ("def f():\n    now = clock.now()\n    return now.isoformat()", True),
    ("x = datetime.datetime.utcnow()", True),
    ("x = datetime.date.today()", True),
    ("x = datetime.datetime.now()", True),
    ("x = value.astimezone(datetime.UTC).date()", True),
    ("x = timezone.localdate(o.received_at).isoformat()", False),
    ("x = timezone.localtime(o.at).date()", False),
    ("x = f'{timezone.localdate(self.received_at):%Y-%m-%d}'", False),
    ("x = f'{self.posted_on:%Y-%m-%d}'", False),
    ("x = notice.last_day.isoformat()", False),
    ("x = datetime.datetime.now(ZoneInfo('Asia/Shanghai')).date()", False),
    ("x = datetime.datetime.now(datetime.UTC).date()", True),
])
def test_the_static_check_catches_each_pattern(tmp_path, code, slip):
    path = tmp_path / "probe.py"
    path.write_text(code + "\n", encoding="utf-8")
    assert bool(python_slips(path, datetime_field_names())) == slip, code


def test_the_template_check_catches_a_utc_date(tmp_path):
    fields = datetime_field_names()
    path = tmp_path / "probe.html"
    path.write_text('{{ o.received_at.date }} {{ o.received_at|date:"Y-m-d" }}\n', encoding="utf-8")
    assert len(template_slips(path, fields)) == 1
    path.write_text('{{ o.received_at|date:"Y-m-d" }} {{ n.posted_on }} {{ n.posted_on.year }}\n', encoding="utf-8")
    assert template_slips(path, fields) == set()
