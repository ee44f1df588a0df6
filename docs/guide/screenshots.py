#!/usr/bin/env python
"""Re-make the screenshots of the user guide (docs/guide/img/*.png) from a throwaway demo city.

    .venv/bin/python docs/guide/screenshots.py            # all roles
    .venv/bin/python docs/guide/screenshots.py --keep     # keep the temp dir (database, server log)
    .venv/bin/python docs/guide/screenshots.py --residents  # only the public pages (in December: with the
                                                            # year-end summary, posted from 1 December)

What it does, touching nothing outside a temp dir and docs/guide/img/:
1. creates a temp dir with a SQLite database, an uploads folder and the English messages compiled
   from locale/*.po (so the English pictures never depend on a stale .mo), and a two-line settings
   module that extends fundapp.settings with that locale folder;
2. runs `manage.py migrate` and `manage.py seed_demo` against it;
3. starts `manage.py runserver 127.0.0.1:<free port> --noreload` (DEBUG on, so static files are served)
   and waits until it answers;
4. drives Debian's Chromium (/usr/bin/chromium — never a downloaded browser) with Playwright: logs in
   as each role, opens the pages that role uses, in Chinese and in English (cookie django_language),
   at 375 px (phone) and, for the main pages, 1280 px (desktop); a few steps are really carried out
   through the forms (an invoice registered and signed three times, a review, a settlement) so that
   the later roles find work waiting for them;
5. saves viewport-height PNGs as img/<role>-<page>-<width>.<lang>.png, reduced to 128 colours so that
   the whole set stays small, and stops the server.

Names are stable: re-running replaces the files in place (old PNGs that are no longer made are removed).
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
IMG = Path(__file__).resolve().parent / "img"
PYTHON = sys.executable
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "fund-demo-2026"
LANGS = {"zh": "zh-hans", "en": "en"}
# The people using it are in China: the browser's clock says so too (else the admin's date widgets
# warn "you are 8 hours behind server time").
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 1, "is_mobile": True,
         "has_touch": True, "timezone_id": "Asia/Shanghai"}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1, "timezone_id": "Asia/Shanghai"}
TODAY = datetime.datetime.now(ZoneInfo("Asia/Shanghai")).date()

# Pictures made otherwise, kept when this script re-runs: the printed papers (from their PDFs), the preview of a
# pasted State Council holiday notice (example text typed by hand) and the roster import's pages (generated
# workbooks uploaded by hand).
MADE_APART = ("paper-", "city_admin-workday-notice-", "city_admin-roster-")
problems = []  # what looked wrong while shooting (sideways overflow, server errors), printed at the end


# --- the throwaway server -------------------------------------------------------------------------

def prepare_environment(tmp):
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": f"sqlite:///{tmp / 'guide.sqlite3'}",  # absolute path: sqlite:////tmp/...
        "MEDIA_ROOT": str(tmp / "media"),
        "DEBUG": "1",  # WhiteNoise serves static files straight from static/ in debug
        "FUND_ENV": "development",
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("REDIS_URL", None)  # Celery tasks run eagerly in-process
    settings = "fundapp.settings"
    if shutil.which("msgfmt"):
        for po in (ROOT / "locale").glob("*/LC_MESSAGES/*.po"):
            out = tmp / "locale" / po.relative_to(ROOT / "locale")
            out.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["msgfmt", "-o", str(out.with_suffix(".mo")), str(po)], check=True)
        (tmp / "guide_settings.py").write_text(
            "from fundapp.settings import *  # noqa: F401,F403\n"
            f"LOCALE_PATHS = [{str(tmp / 'locale')!r}]\n")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp), str(ROOT), env.get("PYTHONPATH")]))
        settings = "guide_settings"
    env["DJANGO_SETTINGS_MODULE"] = settings
    return env


def manage(env, *args, capture=False):
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True,
                            stdout=subprocess.PIPE if capture else subprocess.DEVNULL, text=True)
    return result.stdout


def query(env, code):
    """Run Python in the project (manage.py shell) and return the JSON it prints after `@@`."""
    out = manage(env, "shell", "-v", "0", "-c", "import json\n" + code, capture=True)
    return json.loads(out.split("@@", 1)[1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env, tmp):
    port = free_port()
    log = open(tmp / "server.log", "w")
    server = subprocess.Popen([PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (see {tmp / 'server.log'})")
        try:
            with urllib.request.urlopen(base + "/login/", timeout=2) as response:
                if response.status == 200:
                    return server, base
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    stop_server(server)
    raise SystemExit("the server did not answer within 60 s")


def stop_server(server):
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- the browser ----------------------------------------------------------------------------------

class Person:
    """One demo login, with a phone-sized and a desktop-sized browser context sharing its session."""

    def __init__(self, browser, base, role, username):
        self.base, self.role, self.username = base, role, username
        self.phone = browser.new_context(**PHONE)
        self.desktop = browser.new_context(**DESKTOP)
        for context in (self.phone, self.desktop):
            context.set_default_timeout(15_000)
        self.pages = {375: self.phone.new_page(), 1280: self.desktop.new_page()}
        if username:
            self.log_in()

    def log_in(self):
        page = self.pages[375]
        self.language("zh")
        page.goto(self.base + "/login/")
        page.fill("input[name=username]", self.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url(self.base + "/")
        self.desktop.add_cookies(self.phone.cookies())

    def language(self, lang):
        for context in (self.phone, self.desktop):
            context.add_cookies([{"name": "django_language", "value": LANGS[lang], "url": self.base}])

    def shot(self, name, path, widths=(375,), prepare=None, focus=None):
        """Screenshots of `path` at each width, in Chinese and English: img/<role>-<name>-<w>.<lang>.png.
        `path` is one address, or {lang: address} where the language is part of it.

        `prepare(page)` fills in or submits a form first; `focus` is a selector scrolled into view, to the
        top of the screen (or to the bottom when it starts with "end:").
        """
        for lang in LANGS:
            self.language(lang)
            for width in widths:
                page = self.pages[width]
                response = page.goto(self.base + (path[lang] if isinstance(path, dict) else path))
                if response is None or response.status >= 400:
                    problems.append(f"{path} answered {response and response.status} to {self.username}")
                if prepare:
                    prepare(page)
                    # No caret or highlighted field in the picture, and the page seen from its top.
                    page.evaluate("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
                if focus:
                    block, selector = ("end", focus[4:]) if focus.startswith("end:") else ("start", focus)
                    page.locator(selector).first.evaluate(f"e => e.scrollIntoView({{block: '{block}'}})")
                page.evaluate("document.fonts.ready")
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                if overflow > 0:
                    problems.append(f"{page.url} ({lang}, {width} px) is {overflow} px wider than the screen")
                save(page, f"{self.role}-{name}-{width}.{lang}.png")

    def submit(self, path, prepare=None, button="main form button[type=submit]"):
        """Really carry out an action through its form; stop if the system refuses it."""
        self.language("zh")
        page = self.pages[375]
        page.goto(self.base + path)
        if prepare:
            prepare(page)
        page.click(button)
        page.wait_for_load_state()
        if not page.locator(".msg-success").count():
            errors = page.locator(".errors, .field-error").all_inner_texts()
            raise SystemExit(f"{self.username}: {path} was refused: {errors or page.url}")

    def close(self):
        self.phone.close()
        self.desktop.close()


def save(page, filename):
    path = IMG / filename
    page.screenshot(path=str(path))
    made.add(filename)
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT,
                                              dither=Image.Dither.NONE)
    small.save(path, optimize=True)


made = set()


def fill(**values):
    """A `prepare` that types into fields by name; checkboxes and radios take ("check", value)."""
    def prepare(page):
        for name, value in values.items():
            if isinstance(value, tuple):
                page.check(f"[name={name}][value='{value[1]}']")
            else:
                page.fill(f"[name={name}]", str(value))
    return prepare


def press(selector):
    """A `prepare` that submits the form with one particular button (the review's decisions)."""
    def run(page):
        page.click(selector)
        page.wait_for_load_state()
    return run


def then_submit(prepare=None):
    def run(page):
        if prepare:
            prepare(page)
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
    return run


# --- what each role is shown doing -------------------------------------------------------------------

def demo_objects(env):
    """{"<community>:<state>": proposal pk, "report:<community>": annual report pk} of the demo city."""
    return query(env, """
from approvals.models import AnnualReport, Proposal
found = {f"{p.community.code}:{p.state}": p.pk for p in Proposal.objects.select_related("community")}
found.update({f"report:{r.community.code}": r.pk for r in AnnualReport.objects.select_related("community")})
print("@@" + json.dumps(found))
""")


def invoice_ids(env, pk):
    return query(env, f"""
from approvals.models import Invoice
print("@@" + json.dumps([i.pk for i in Invoice.objects.filter(proposal_id={pk}).order_by("pk")]))
""")


def resident_pages(env):
    """{name: {language: path}} of the pages residents read, found through the public data and reverse() in each
    language (no address typed here)."""
    found = query(env, """
from django.urls import reverse
from django.utils import translation
from fundapp import clock
from fundapp.models import Community
from disclosure.models import YearEndDisclosure
from public import selectors
c = Community.objects.select_related("subdistrict").get(code="xingfu")
year = clock.today().year
def pages_in(language):
    with translation.override(language):
        d = selectors.community_year(c, year)
        feedback = next(p["id"] for p in d["projects"] if p["feedback_open"])
        pages = {
            "index": reverse("public:index"),
            "search": reverse("public:index") + "?q=xingfu",
            "subdistrict": reverse("public:subdistrict", args=[c.subdistrict.code]),
            "community-year": reverse("public:community-year", args=[c.code, year]),
            "object": reverse("public:object", args=[c.code, d["running_notices"][0]["id"]]),
            "need": reverse("public:need", args=[c.code]),
            "feedback": reverse("public:feedback", args=[c.code, feedback]),
        }
        if YearEndDisclosure.objects.filter(community=c, year=year).exists():  # posted from 1 December
            pages["summary"] = reverse("disclosure:summary", args=[c.code, year])
        return pages
print("@@" + json.dumps({"zh": pages_in("zh-hans"), "en": pages_in("en")}))
""")
    return {name: {lang: found[lang][name] for lang in LANGS} for name in found["zh"]}


def residents(browser, base, env):
    """Residents (no login): every public page at 375 px in both languages, and one at 1280 px."""
    pages = resident_pages(env)
    resident = Person(browser, base, "resident", None)
    resident.shot("index", pages["index"], widths=(375, 1280))
    resident.shot("search", pages["search"])
    resident.shot("subdistrict", pages["subdistrict"])
    resident.shot("community-year", pages["community-year"], widths=(375, 1280))
    resident.shot("community-year-notice", pages["community-year"], focus=".notices-running")
    resident.shot("community-year-chart", pages["community-year"], focus="section.card:has(> h2) .chart-wrap")  # by category
    if "summary" in pages:
        resident.shot("summary", pages["summary"])
        resident.shot("summary-table", pages["summary"], focus=".disc-projects")
    else:
        problems.append("no year-end summary before 1 December: its screenshots were not re-made")
    resident.shot("object", pages["object"], prepare=fill(resident_name="周晓光", text="晚上音响太吵，希望限定使用时间"))
    resident.shot("need", pages["need"])
    resident.shot("feedback", pages["feedback"])
    # The thanks page answers a posted need; the form refuses what comes within seconds, as from a robot.
    resident.shot("thanks", pages["need"], prepare=then_submit(lambda page: (
        page.fill("[name=description]", "希望增加老年人助餐服务"), page.wait_for_timeout(3200))))
    # The "large text" switch, as a reader who chose it sees every page afterwards.
    resident.pages[375].goto(base + pages["index"]["zh"])
    resident.pages[375].click("[data-large-text]")
    resident.shot("community-year-large-text", pages["community-year"])
    resident.pages[375].click("[data-large-text]")
    resident.close()


def run(browser, base, env):
    residents(browser, base, env)
    p = demo_objects(env)
    today = TODAY.isoformat()
    draft, in_notice = p["xingfu:draft"], p["xingfu:notice"]
    in_progress = p["xingfu:in_progress"]
    consent_pending, under_review = p["heping:consent_pending"], p["heping:under_review"]
    consented, accepted = p["guangming:consented"], p["guangming:accepted"]
    meeting_passed = p["tuanjie:meeting_passed"]

    anonymous = Person(browser, base, "login", None)
    anonymous.shot("page", "/login/", widths=(375, 1280), prepare=fill(username="xingfu-secretary"))
    anonymous.close()

    # 社区党委书记: files, takes the proposal through meeting and notice, registers and first-signs invoices.
    sec = Person(browser, base, "community_secretary", "xingfu-secretary")
    sec.shot("home", "/", widths=(375, 1280))
    # The work queue: each step a button to its form; below, what opens later (greyed, with the reason and date).
    sec.shot("queue", "/", widths=(375, 1280), focus=".queue-card")
    sec.shot("queue-later", "/", widths=(375, 1280), focus=".later-card")
    sec.shot("proposals", "/proposals/")
    sec.shot("draft", f"/proposals/{draft}/", widths=(375, 1280))
    sec.shot("submit_for_consent", f"/proposals/{draft}/do/submit_for_consent/")
    # A step that cannot be taken yet is not a form: its page says why, and from which day (no button to refuse).
    sec.shot("refused-review-too-early", f"/proposals/{in_notice}/do/submit_for_review/")
    sec.shot("workdays", "/workdays/?start=2026-09-30&days=3")
    sec.close()
    sec = Person(browser, base, "community_secretary", "guangming-secretary")
    sec.shot("meeting", f"/proposals/{consented}/do/meeting/", prepare=fill(
        held_on=today, place="社区党群服务中心二楼会议室", attendance=21, votes_for=18, votes_against=1,
        votes_abstain=2))
    sec.shot("reports", "/reports/")
    sec.shot("annual_report", f"/reports/{p['report:guangming']}/", focus="main form")
    sec.close()
    sec = Person(browser, base, "community_secretary", "tuanjie-secretary")
    sec.shot("refused-notice-2-days", f"/proposals/{meeting_passed}/do/post_notice/",
             prepare=then_submit(fill(posted_on=today, working_days=2)))
    sec.shot("notice-preview", f"/proposals/{meeting_passed}/do/post_notice/",
             prepare=then_submit(fill(posted_on=today, working_days=3)))
    sec.close()
    sec = Person(browser, base, "community_secretary", "guangming-secretary")
    invoice = fill(contractor="本市惠民服务中心", number="GM-2026-001", amount="8000.00", issued_on=today)
    sec.shot("register_invoice", f"/proposals/{accepted}/do/register_invoice/", prepare=invoice)
    sec.submit(f"/proposals/{accepted}/do/register_invoice/", invoice)
    sec.submit(f"/proposals/{accepted}/do/register_invoice/",
               fill(contractor="本市惠民服务中心", number="GM-2026-002", amount="4000.00", issued_on=today))
    first, second = invoice_ids(env, accepted)
    sec.shot("sign_invoice", f"/proposals/{accepted}/do/sign_invoice/?target={first}")
    sec.submit(f"/proposals/{accepted}/do/sign_invoice/?target={first}")
    sec.submit(f"/proposals/{accepted}/do/sign_invoice/?target={second}")
    sec.close()

    # 社区建设管理委员会主任: second leader in the review, second signature on invoices.
    director = Person(browser, base, "construction_director", "dongcheng-director")
    director.shot("home", "/", widths=(375, 1280))
    director.shot("invoice-proposal", f"/proposals/{accepted}/")
    director.shot("sign_invoice", f"/proposals/{accepted}/do/sign_invoice/?target={first}")
    director.submit(f"/proposals/{accepted}/do/sign_invoice/?target={first}")

    # 社区党工委书记: preliminary consent, first leader in the review, third signature.
    sd_sec = Person(browser, base, "subdistrict_secretary", "dongcheng-secretary")
    sd_sec.shot("home", "/", widths=(375, 1280))
    sd_sec.shot("consent-proposal", f"/proposals/{consent_pending}/", widths=(375, 1280))
    sd_sec.shot("consent", f"/proposals/{consent_pending}/do/consent/",
                prepare=fill(comments="同意提交联席会议讨论。"))
    # The review: the basis above, the decision is the button tapped (同意 / 退回修改 / 不予批准).
    approve = "main form button[name=decision][value=approve]"
    sd_sec.shot("review", f"/proposals/{under_review}/do/review/", widths=(375, 1280))
    sd_sec.shot("review-buttons", f"/proposals/{under_review}/do/review/", widths=(375, 1280),
                focus="end:.decision-buttons")
    sd_sec.submit(f"/proposals/{under_review}/do/review/", button=approve)
    sd_sec.shot("sign_invoice", f"/proposals/{accepted}/do/sign_invoice/?target={first}")
    sd_sec.submit(f"/proposals/{accepted}/do/sign_invoice/?target={first}")
    # The inbox (the hand-offs of the steps above among them) and how the person is told.
    sd_sec.shot("inbox", "/notifications/", widths=(375, 1280))
    sd_sec.shot("notification-settings", "/notifications/settings/", widths=(375, 1280))
    sd_sec.shot("dashboard", "/dashboard/dongcheng/", widths=(375, 1280))
    sd_sec.close()

    director.shot("review-proposal", f"/proposals/{under_review}/", focus="end:.timeline li:last-child")
    director.shot("refused-reject-without-reason", f"/proposals/{under_review}/do/review/",
                  prepare=press("main form button[name=decision][value=reject]"), focus="main form")
    director.submit(f"/proposals/{under_review}/do/review/", button=approve)
    director.shot("approved-proposal", f"/proposals/{under_review}/", focus="end:.timeline li:last-child")
    director.close()

    # 党工委财务管理人员: settles signed invoices with the contractor; keeps the ledger.
    finance = Person(browser, base, "finance_officer", "dongcheng-finance")
    finance.shot("home", "/", widths=(375, 1280))
    finance.shot("invoices", "/invoices/", widths=(375, 1280))
    settle = fill(paid_on=today, reference="ZZ2026110001")
    finance.shot("settle_invoice", f"/proposals/{accepted}/do/settle_invoice/?target={first}", prepare=settle)
    finance.submit(f"/proposals/{accepted}/do/settle_invoice/?target={first}", settle)
    finance.shot("ledger", f"/ledgers/guangming/{TODAY.year}/", widths=(375, 1280))
    finance.shot("summary", "/finance/summary/", widths=(375, 1280))
    finance.shot("reconcile", "/finance/reconcile/", widths=(1280,))
    finance.close()

    # 党工委工作人员: follow-ups during execution, acceptance.
    staff = Person(browser, base, "subdistrict_staff", "dongcheng-staff")
    staff.shot("home", "/", widths=(375, 1280))
    staff.shot("in-progress-proposal", f"/proposals/{in_progress}/")
    staff.shot("follow_up", f"/proposals/{in_progress}/do/follow_up/",
               prepare=fill(visited_on=today, notes="入户走访 5 户，送餐准时，饭菜质量良好。"))
    staff.shot("acceptance", f"/proposals/{in_progress}/do/acceptance/", prepare=fill(
        inspected_on=today, quality="按方案完成，质量良好", satisfaction_method="入户问卷", asked_count=30,
        satisfied_count=28, passed=("check", "1")))
    staff.shot("reports", "/reports/")
    staff.close()
    staff = Person(browser, base, "subdistrict_staff", "xicheng-staff")  # 友谊社区 has reported: evaluate it
    staff.shot("evaluate_report", f"/reports/{p['report:youyi']}/", focus="main form",
               prepare=lambda page: page.locator("[name=grade]").first.check())
    staff.close()

    # 社区工作者: needs register and drafts; signs nothing.
    cstaff = Person(browser, base, "community_staff", "xingfu-staff")
    cstaff.shot("home", "/", widths=(375, 1280))
    cstaff.shot("needs", "/needs/", widths=(375, 1280))
    cstaff.shot("new-proposal", "/proposals/new/", widths=(375, 1280))
    cstaff.shot("draft", f"/proposals/{draft}/")
    cstaff.close()

    # 社区议事监督委员会成员: reads everything of the community, records opinions.
    sup = Person(browser, base, "supervisor", "xingfu-supervisor")
    sup.shot("home", "/", widths=(375, 1280))
    sup.shot("record", "/record/xingfu/", widths=(375, 1280))
    sup.shot("proposal", f"/proposals/{in_progress}/")
    sup.shot("opinion", f"/proposals/{in_progress}/do/opinion/",
             prepare=fill(text="建议在项目公示中列明每餐补贴标准。"))
    sup.close()

    # 市委组织部管理员: the back office.
    admin = Person(browser, base, "city_admin", "city-admin")
    admin.shot("home", "/", widths=(375, 1280))
    admin.shot("dashboard", "/dashboard/", widths=(375, 1280))
    admin.shot("dashboard-list", "/dashboard/?list=reports", widths=(375, 1280), focus="#list")
    admin.shot("admin", "/admin/", widths=(1280,))
    admin.shot("posts", "/admin/fundapp/post/", widths=(1280,))
    admin.shot("allocation", "/admin/fundapp/ledgerentry/add/", widths=(1280,))
    admin.shot("year-allocation", "/city/allocations/", widths=(375, 1280))
    admin.shot("year-allocation-preview", "/city/allocations/", widths=(1280,),
               prepare=then_submit(fill(amount="200000")), focus="#preview")
    admin.shot("city-posts", "/city/posts/?q=xingfu", widths=(375, 1280))
    secretary_post = query(env, """
from fundapp.models import Post
print("@@" + json.dumps(Post.objects.get(user__username="xingfu-secretary", end_date__isnull=True).pk))
""")
    admin.shot("hand-over", f"/city/posts/{secretary_post}/hand-over/", widths=(375, 1280))
    admin.shot("workday-calendar", "/workdays/calendar/", widths=(375, 1280))
    admin.shot("batches", "/batches/", widths=(1280,))
    admin.shot("year-close", f"/batches/year-close/?year={TODAY.year - 1}", widths=(375, 1280))
    admin.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, server log)")
    parser.add_argument("--residents", action="store_true",
                        help="only the residents' public pages (the other pictures are left as they are)")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"{CHROMIUM} not found: install Debian's Chromium (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="fund-guide-"))
    env = prepare_environment(tmp)
    print(f"demo city in {tmp} …", flush=True)
    manage(env, "migrate", "-v", "0")
    manage(env, "seed_demo")
    server, base = start_server(env, tmp)
    print(f"server at {base}; taking screenshots …", flush=True)
    IMG.mkdir(exist_ok=True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                (residents if args.residents else run)(browser, base, env)
            finally:
                browser.close()
    finally:
        stop_server(server)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    for old in IMG.glob("*.png") if not args.residents else ():
        if old.name not in made and not old.name.startswith(MADE_APART):
            old.unlink()
    total = sum(f.stat().st_size for f in IMG.glob("*.png"))
    print(f"{len(made)} screenshots in {IMG.relative_to(ROOT)}, {total / 1e6:.2f} MB in all")
    for problem in problems:
        print("  ! " + problem)


if __name__ == "__main__":
    main()
