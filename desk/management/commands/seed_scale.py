"""Realistic data at scale for the benchmark (docs/performance.md): subdistricts of 20-30 communities, a fund
year per community-year with its allocation, carry-overs and expenditures in the ledger, and proposals in a
realistic mix of states with the records each state implies (consent, meeting, notices, reviews, acceptance,
invoice with three signatures, payment, objections with residents' names that the public pages mask).

It writes with PostgreSQL COPY (plain multi-row inserts on SQLite), not through the services: 1,000,000
proposals through `perform` would take days. What the services would guarantee is built in instead, and the
database checks it as the rows go in: the CheckConstraints, the foreign keys, and the ledger triggers — the
ledger rows of a year are inserted while the year is still open, and the past years are closed afterwards,
exactly as `fund_year_close` leaves them (carry-out on 31 December, carry-in on 1 January). FundYear's
running totals equal the ledger sums (`desk.finance_selectors.reconcile` agrees), and one audit record per
community (a chain of its own) records the import, so `verify_audit` passes.

It refuses a database that already holds communities, unless they are this command's own data of the same
size (then it says so and does nothing), so `bench/run` can call it every time.
"""
import datetime
import functools
import random
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from approvals.models import (Acceptance, BudgetLine, Category, ConsentDecision, Invoice, Meeting, Need, Notice,
                              Objection, Payment, Proposal, ReviewDecision, Signature)
from audit.models import GENESIS_HASH, AuditChainHead, AuditRecord
from audit import keys
from audit.services import canonical_json, compute_hash
from fundapp import clock
from fundapp.models import Community, FundYear, LedgerEntry, Post, Role, SearchEntry, Subdistrict
from fundapp.publicurls import new_public_id
from fundapp.rights import ROLE_PERMISSIONS, sync_user_permissions
from fundapp.services.search import search_forms

NULL = "\\N"
PASSWORD = "fund-scale-2026"
SD_PREFIX = "sd"
WORDS = "幸福和平光明友谊团结春晖阳光文化建设胜利新华振兴东风红旗向阳长青金桥丰收兴业"
TITLES = ["楼道照明改造", "独居老人助餐服务", "社区健身器材更新", "便民雨伞借用点", "失业人员技能培训",
          "老旧小区绿化补植", "重阳节文艺汇演", "困难家庭助学", "小区道路修补", "社区志愿服务表彰",
          "停车棚维修", "便民理发服务", "广场舞音响购置", "儿童托管服务", "楼顶防水修缮", "垃圾分类宣传",
          "电动车充电桩安装", "四点半课堂", "适老化扶手加装", "社区读书角"]
CATEGORIES = [Category.PROPERTY, Category.HARDSHIP, Category.CULTURE_SPORTS, Category.CONVENIENCE,
              Category.EMPLOYMENT, Category.PROPERTY, Category.CULTURE_SPORTS, Category.HARDSHIP,
              Category.PROPERTY, Category.OTHER]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"

# How far along the chain each state is (rank), and the mix of states. Past years are finished; the current
# year (the seed runs late in it, like the benchmark's "today") has work at every step.
RANK = {"draft": 0, "withdrawn": 0, "consent_pending": 1, "consented": 2, "meeting_passed": 3, "notice": 4,
        "under_review": 5, "rejected": 5, "approved": 6, "in_progress": 7, "accepted": 8, "settled": 9,
        "completion_notice": 10, "completed": 11}
CURRENT_MIX = (["completed"] * 6 + ["completion_notice", "settled", "accepted"] + ["in_progress"] * 3
               + ["approved"] * 2 + ["under_review"] * 2
               + ["notice", "meeting_passed", "consented", "consent_pending", "draft", "rejected", "withdrawn"])
PAST_MIX = ["completed"] * 18 + ["rejected", "withdrawn"]

SUBDISTRICT_ROLES = [("secretary", Role.SUBDISTRICT_SECRETARY), ("director", Role.CONSTRUCTION_DIRECTOR),
                     ("staff", Role.SUBDISTRICT_STAFF), ("finance", Role.FINANCE_OFFICER)]
COMMUNITY_ROLES = [("secretary", Role.COMMUNITY_SECRETARY), ("staff", Role.COMMUNITY_STAFF),
                   ("supervisor", Role.SUPERVISOR)]

D = datetime.timedelta


def _d(day):
    return day.isoformat()


def _t(day, hour=10):
    # 10:00 in Asia/Shanghai, written in UTC with its offset (PostgreSQL and Django's SQLite both read it).
    return f"{day.isoformat()} {hour - 8:02d}:00:00+00:00"


def _yuan(amount):
    return f"{amount}.00"


class Tables:
    """Rows per model, each a tuple of strings (NULL for None), in the order of `columns`."""

    def __init__(self):
        self.rows = {}
        self.columns = {}

    def add(self, model, columns, row):
        if model not in self.rows:
            self.rows[model], self.columns[model] = [], columns
        self.rows[model].append(row)

    def flush(self, order, write):
        count = 0
        for model in order:
            rows = self.rows.pop(model, None)
            if rows:
                write(model, self.columns[model], rows)
                count += len(rows)
        return count


def _writer():
    if connection.vendor == "postgresql":
        def write(model, columns, rows):
            text = "\n".join("\t".join(row) for row in rows) + "\n"
            table = connection.ops.quote_name(model._meta.db_table)
            cols = ", ".join(connection.ops.quote_name(c) for c in columns)
            with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                copy.write(text)  # psycopg 3's COPY: the rows in PostgreSQL's text format
    else:
        def write(model, columns, rows):
            table = connection.ops.quote_name(model._meta.db_table)
            cols = ", ".join(connection.ops.quote_name(c) for c in columns)
            sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"
            with connection.cursor() as cursor:
                cursor.executemany(sql, [tuple(None if v == NULL else v for v in row) for row in rows])
    return write


class Ids:
    def __init__(self, models):
        self.next = {m: (m.objects.aggregate(m=Max("pk"))["m"] or 0) + 1 for m in models}

    def take(self, model):
        value = self.next[model]
        self.next[model] = value + 1
        return value


WRITE_ORDER = [get_user_model(), Subdistrict, Community, SearchEntry, Post, "uop", FundYear, LedgerEntry, Need, Proposal,
               BudgetLine, ConsentDecision, Meeting, Notice, Objection, ReviewDecision, Acceptance, Invoice,
               Signature, Payment]


# Project titles repeat across communities: their pinyin is computed once each.
_forms = functools.lru_cache(maxsize=4096)(search_forms)


class Command(BaseCommand):
    help = ("Seed realistic data at scale (bulk COPY): --communities N --years Y --projects P per community-year. "
            "Refuses a database with other communities in it; does nothing if this size is already seeded.")

    def add_arguments(self, parser):
        parser.add_argument("--communities", type=int, default=10_000)
        parser.add_argument("--years", type=int, default=5)
        parser.add_argument("--projects", type=int, default=20, help="proposals per community and year")
        parser.add_argument("--big-subdistrict", type=int, default=50,
                            help="communities in the first subdistrict (the benchmark's B2 logs in there)")
        parser.add_argument("--chunk", type=int, default=250, help="communities per transaction")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--password", default=PASSWORD, help="password of every seeded login")

    def handle(self, *args, communities, years, projects, big_subdistrict, chunk, seed, password, **options):
        if communities < 1 or years < 1 or projects < 1 or chunk < 1:
            raise CommandError("--communities, --years, --projects and --chunk must be at least 1.")
        existing = Community.objects.count()
        if existing:
            # Its own data is recognised by the codes it gives; what the benchmarks add next to it (B3, B4 make
            # their own communities) does not make it seed again.
            own = Community.objects.filter(code__regex=r"^c[0-9]{5}$", subdistrict__code__regex=r"^sd[0-9]{4}$")
            seeded = own.count()
            proposals = Proposal.objects.filter(community__in=own).count()
            if seeded == communities and proposals == communities * years * projects:
                self.stdout.write(f"Already seeded: {communities} communities, {proposals} proposals. Nothing to do.")
                return
            raise CommandError(
                f"The database already holds {existing} communities ({seeded} of them seeded, with {proposals} "
                f"proposals), not this command's {communities} x {years} x {projects}. Seed an empty database "
                "(drop and migrate it first)."
            )
        self.started = time.monotonic()
        self.rng = random.Random(seed)
        self.write = _writer()
        self.today = clock.today()
        self.end_year = self.today.year
        self.years = list(range(self.end_year - years + 1, self.end_year + 1))
        self.projects = projects
        self.allocation = max(200_000, projects * 11_000)
        self.password_hash = make_password(password)
        self.subdistrict_of = {}
        self.ids = Ids([m for m in WRITE_ORDER if m != "uop"] + [AuditRecord])
        ct = ContentType.objects.get_for_model(Community)
        self.ct_id = str(ct.pk)
        self.perm_ids = {p.codename: str(p.pk) for p in Permission.objects.filter(content_type=ct)}
        self.uop_id = 0
        self.n_communities = communities

        sizes = self._subdistrict_sizes(communities, big_subdistrict)
        self.stdout.write(f"Seeding {communities} communities in {len(sizes)} subdistricts x {years} years "
                          f"({self.years[0]}-{self.end_year}) x {projects} projects = "
                          f"{communities * years * projects:,} proposals on {connection.vendor}.")
        plan = []  # (subdistrict index, community index) in order
        ci = 0
        for si, size in enumerate(sizes, start=1):
            for _ in range(size):
                ci += 1
                plan.append((si, ci))
        subdistricts = {}
        total_rows = 0
        for start in range(0, len(plan), chunk):
            tables = Tables()
            part = plan[start:start + chunk]
            for si, ci in part:
                if si not in subdistricts:
                    subdistricts[si] = self._subdistrict(tables, si)
                self._community(tables, subdistricts[si], ci)
            with transaction.atomic():
                total_rows += tables.flush(WRITE_ORDER, self._write)
            done = start + len(part)
            elapsed = time.monotonic() - self.started
            self.stdout.write(f"  {done:>6}/{communities} communities, {total_rows:,} rows, {elapsed:,.1f} s "
                              f"({total_rows / max(elapsed, 1e-9):,.0f} rows/s)")
        with transaction.atomic():
            self._close_past_years()
            self._audit()
            self._reset_sequences()
            self._city_admin()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        elapsed = time.monotonic() - self.started
        self.stdout.write(self.style.SUCCESS(
            f"Done: {communities} communities, {Proposal.objects.count():,} proposals, {total_rows:,} rows "
            f"in {elapsed:,.1f} s. Logins: sd0001-secretary, sd0001-finance, c00001-secretary, scale-city-admin "
            f"(password {password!r})."))

    # --- organisation -------------------------------------------------------------------------------------

    @staticmethod
    def _subdistrict_sizes(n, big):
        sizes, left = [], n
        first = min(big, n)
        sizes.append(first)
        left -= first
        i = 0
        while left > 0:
            size = min(20 + (i * 7) % 11, left)  # 20..30
            sizes.append(size)
            left -= size
            i += 1
        return sizes

    def _user(self, tables, username, full_name):
        uid = self.ids.take(get_user_model())
        tables.add(get_user_model(), ["id", "password", "last_login", "is_superuser", "username", "first_name",
                                      "last_name", "email", "is_staff", "is_active", "date_joined"],
                   (str(uid), self.password_hash, NULL, "0", username, full_name, "", "", "0", "1",
                    _t(datetime.date(self.years[0], 1, 1))))
        return uid

    def _person(self):
        return SURNAMES[self.rng.randrange(len(SURNAMES))] + "".join(
            GIVEN[self.rng.randrange(len(GIVEN))] for _ in range(self.rng.choice((1, 2))))

    def _post(self, tables, uid, role, *, subdistrict=NULL, community=NULL):
        pid = self.ids.take(Post)
        tables.add(Post, ["id", "user_id", "role", "subdistrict_id", "community_id", "start_date", "end_date"],
                   (str(pid), str(uid), str(role), subdistrict, community, _d(datetime.date(self.years[0], 1, 1)),
                    NULL))
        return pid

    def _grant(self, tables, uid, role, community_id):
        for codename in sorted(ROLE_PERMISSIONS[role]):
            tables.add("uop", ["permission_id", "content_type_id", "object_pk", "user_id"],
                       (self.perm_ids[codename], self.ct_id, community_id, str(uid)))

    def _subdistrict(self, tables, si):
        sid = self.ids.take(Subdistrict)
        code = f"{SD_PREFIX}{si:04d}"
        name = f"{WORDS[si % len(WORDS)]}街道{si:04d}"
        tables.add(Subdistrict, ["id", "name", "code", "party_committee_name", "construction_committee_name"],
                   (str(sid), name, code, f"{name}党工委", f"{name}建管委"))
        people = {}
        for suffix, role in SUBDISTRICT_ROLES:
            uid = self._user(tables, f"{code}-{suffix}", self._person())
            people[role] = (uid, self._post(tables, uid, role, subdistrict=str(sid)))
        self._search_entry(tables, "subdistrict", sid, name, sid)
        return {"id": sid, "people": people}

    def _search_entry(self, tables, kind, object_id, name, subdistrict_id, community_id=NULL):
        """What fundapp.services.search writes when a subdistrict or community is created or a project is
        put to a notice."""
        forms = _forms(name)
        tables.add(SearchEntry, ["id", "kind", "object_id", "subdistrict_id", "community_id", "name", "key", "pinyin",
                                 "initials", "grams"],
                   (str(self.ids.take(SearchEntry)), kind, str(object_id), str(subdistrict_id), str(community_id),
                    name, forms["key"], forms["pinyin"], forms["initials"], forms["grams"]))

    def _community(self, tables, sd, ci):
        cid = self.ids.take(Community)
        code = f"c{ci:05d}"
        name = f"{WORDS[ci % len(WORDS)]}社区{ci:05d}"
        tables.add(Community, ["id", "subdistrict_id", "name", "code"], (str(cid), str(sd["id"]), name, code))
        self._search_entry(tables, "community", cid, name, sd["id"], cid)
        self.subdistrict_of[cid] = sd["id"]
        scid = str(cid)
        for role, (uid, _) in sd["people"].items():
            self._grant(tables, uid, role, scid)
        people = dict(sd["people"])
        for suffix, role in COMMUNITY_ROLES:
            uid = self._user(tables, f"{code}-{suffix}", self._person())
            people[role] = (uid, self._post(tables, uid, role, community=scid))
            self._grant(tables, uid, role, scid)
        carried_in = 0
        for year in self.years:
            carried_in = self._fund_year(tables, cid, ci, year, carried_in, people)

    # --- money and proposals ------------------------------------------------------------------------------

    def _fund_year(self, tables, cid, ci, year, carried_in, people):
        fy = self.ids.take(FundYear)
        current = year == self.end_year
        first_day = datetime.date(year, 1, 10)
        last_day = self.today if current else datetime.date(year, 12, 20)
        span = max((last_day - first_day).days - 75, 1)
        totals = {"settled": 0, "reserved": 0, "small": 0}
        ledger_cols = ["id", "fund_year_id", "kind", "amount", "entry_date", "description", "reverses_id", "source",
                       "created_by_id", "created_at"]
        finance_uid = str(people[Role.FINANCE_OFFICER][0])
        self._ledger(tables, ledger_cols, fy, "allocation", self.allocation, first_day, f"{year}年度专项经费拨款", "",
                     NULL)
        if carried_in:
            day = datetime.date(year, 1, 1)
            self._ledger(tables, ledger_cols, fy, "carry_in", carried_in, day, f"{year - 1}年度结余结转",
                         f"close:{year - 1}", NULL)
        mix = CURRENT_MIX if current else PAST_MIX
        for k in range(self.projects):
            state = mix[(k * 7 + ci) % len(mix)]
            start = first_day + D(days=(k * span) // self.projects)
            if state in ("notice", "completion_notice"):
                # A notice running today: started long enough ago for the steps before it.
                start = self.today - D(days=48 if state == "completion_notice" else 8)
            elif state in ("draft", "consent_pending", "consented", "meeting_passed"):
                start = self.today - D(days=4 + (ci + k) % 10)  # recent: waiting for the next step
            elif state == "under_review":
                start = self.today - D(days=12 + (ci + k) % 12)  # received in the last two weeks
            self._proposal(tables, cid, ci, fy, year, k, state, start, people, totals, ledger_cols, finance_uid)
        for q in range(self.projects // 4):
            nid = self.ids.take(Need)
            tables.add(Need, ["id", "community_id", "year", "quarter", "channel", "description", "resident_name",
                              "resident_contact", "recorded_by_id", "recorded_at"],
                       (str(nid), str(cid), str(year), str(q % 4 + 1), ("door", "hall", "platform", "online")[q % 4],
                        f"希望{TITLES[(q + ci) % len(TITLES)]}", self._person(), f"1380000{q % 10000:04d}",
                        str(people[Role.COMMUNITY_STAFF][0]), _t(first_day + D(days=q))))
        total = self.allocation + carried_in
        carried_out = 0
        closed = not current
        if closed:
            carried_out = total - totals["settled"] - totals["reserved"]
            if carried_out:
                self._ledger(tables, ledger_cols, fy, "carry_out", carried_out, datetime.date(year, 12, 31),
                             f"结转至{year + 1}年度", f"close:{year}", NULL)
        tables.add(FundYear, ["id", "community_id", "year", "status", "allocated", "carried_in", "settled", "reserved",
                              "carried_out", "small_group_committed", "closed_at"],
                   # Open for now: the ledger trigger accepts the year's allocation only while it is open.
                   (str(fy), str(cid), str(year), "open", _yuan(self.allocation), _yuan(carried_in),
                    _yuan(totals["settled"]), _yuan(totals["reserved"]), _yuan(carried_out), _yuan(totals["small"]),
                    NULL))
        return carried_out

    def _ledger(self, tables, cols, fy, kind, amount, day, description, source, by):
        lid = self.ids.take(LedgerEntry)
        tables.add(LedgerEntry, cols, (str(lid), str(fy), kind, _yuan(amount), _d(day), description, NULL, source, by,
                                       _t(day, 11)))
        return lid

    def _act(self, model, columns, tables, values, by, day):
        rid = self.ids.take(model)
        uid, post = by
        tables.add(model, ["id", "by_id", "post_id", "at", *columns], (str(rid), str(uid), str(post), _t(day),
                                                                        *values))
        return rid

    def _proposal(self, tables, cid, ci, fy, year, k, state, start, people, totals, ledger_cols, finance_uid):
        rank = RANK[state]
        pid = self.ids.take(Proposal)
        spid = str(pid)
        small = k % 10 == 3
        budget = 2000 + ((ci * 31 + k * 7919 + year) % 10) * 1000
        approved = budget if rank >= 6 and state != "rejected" else 0
        settled = budget - (k % 3) * 500 if rank >= 9 else 0
        reserved = approved if 6 <= rank < 9 else 0
        totals["settled"] += settled
        totals["reserved"] += reserved
        if small:
            totals["small"] += settled + reserved
        csec, cstaff = people[Role.COMMUNITY_SECRETARY], people[Role.COMMUNITY_STAFF]
        sdsec, director = people[Role.SUBDISTRICT_SECRETARY], people[Role.CONSTRUCTION_DIRECTOR]
        sdstaff, finance = people[Role.SUBDISTRICT_STAFF], people[Role.FINANCE_OFFICER]
        title = f"{TITLES[(k + ci) % len(TITLES)]}（{year}-{k + 1:02d}）"
        contractor = f"{WORDS[(ci + k) % len(WORDS)]}服务社{(ci * 7 + k) % 97:02d}号"
        consent_day, meeting_day = start + D(days=2), start + D(days=4)
        notice_day = start + D(days=5)
        notice_last, notice_next = notice_day + D(days=6), notice_day + D(days=7)
        review_day = notice_next
        reviewed_day = review_day + D(days=3)
        accepted_day, invoice_day = start + D(days=40), start + D(days=41)
        paid_day, completion_day = start + D(days=45), start + D(days=46)
        completion_last = completion_day + D(days=6)
        in_review = rank >= 5
        tables.add(Proposal, ["id", "community_id", "fund_year_id", "title", "category", "content", "beneficiaries",
                              "beneficiary_count", "planned_start", "planned_end", "contractor", "art4_declaration",
                              "state", "budget", "approved_budget", "settled_amount", "reserved_amount", "review_round",
                              "review_received_on", "review_deadline", "review_deadline_confirmed",
                              "review_overdue_round", "created_by_id", "created_at", "updated_at", "public_id"],
                   (spid, str(cid), str(fy), title, str(int(CATEGORIES[(k + ci) % len(CATEGORIES)])),
                    f"{title}：按居民需求实施，预算{budget}元", "small_group" if small else "broad",
                    str(15 + k if small else 300 + (ci * 13 + k * 17) % 2000), _d(start + D(days=20)),
                    _d(start + D(days=40)), contractor, "1", state, _yuan(budget), _yuan(approved), _yuan(settled),
                    _yuan(reserved), "1" if in_review else "0", _d(review_day) if in_review else NULL,
                    _d(review_day + D(days=14)) if in_review else NULL, "1", "0", str(cstaff[0]), _t(start),
                    _t(min(start + D(days=50), self.today)), new_public_id()))
        tables.add(BudgetLine, ["id", "proposal_id", "item", "amount", "in_procurement_catalogue"],
                   (str(self.ids.take(BudgetLine)), spid, "材料及人工", _yuan(budget), "1"))
        if rank >= 2:
            self._act(ConsentDecision, ["proposal_id", "consented", "comments"], tables, (spid, "1", "同意提交联席会议讨论"),
                      sdsec, consent_day)
        if rank >= 3:
            self._act(Meeting, ["proposal_id", "held_on", "place", "attendance", "attendees", "votes_for",
                                "votes_against", "votes_abstain", "minutes", "passed"], tables,
                      (spid, _d(meeting_day), "社区党群服务中心会议室", "23", "社区两委成员9人，居民代表14人", "19", "2", "2",
                       "与会人员讨论了项目方案和预算，表决通过。", "1"), csec, meeting_day)
        notice_cols = ["proposal_id", "kind", "status", "posted_on", "working_days", "last_day", "next_step_day",
                       "calendar_confirmed", "text", "public_id"]
        if rank >= 4:
            self._search_entry(tables, "project", pid, title, self.subdistrict_of[cid], cid)
            nid = self._act(Notice, notice_cols, tables,
                            (spid, "plan", "running" if rank == 4 else "ended", _d(notice_day), "5", _d(notice_last),
                             _d(notice_next), "1", f"{title}项目方案公示", new_public_id()), csec, notice_day)
            if (ci + k) % 20 == 0:
                resident = self._person()
                tables.add(Objection, ["id", "notice_id", "channel", "resident_name", "resident_contact", "text",
                                       "received_at", "recorded_by_id", "answer", "answered_at", "answered_by_id",
                                       "answered_post_id"],
                           (str(self.ids.take(Objection)), str(nid), "online", resident, "13912345678",
                            "施工时间请避开午休", _t(notice_day + D(days=1)), NULL, "已调整为上午施工",
                            _t(notice_day + D(days=2)), str(csec[0]), str(csec[1])))
        review_cols = ["proposal_id", "round", "role", "decision", "reason", "late"]
        if state == "rejected":
            self._act(ReviewDecision, review_cols, tables,
                      (spid, "1", Role.SUBDISTRICT_SECRETARY.value, "reject", "与已有资金安排重复", "0"), sdsec, reviewed_day)
        elif rank >= 6:
            for person, role in ((sdsec, Role.SUBDISTRICT_SECRETARY), (director, Role.CONSTRUCTION_DIRECTOR)):
                self._act(ReviewDecision, review_cols, tables, (spid, "1", role.value, "approve", "", "0"), person,
                          reviewed_day)
        if rank >= 8:
            self._act(Acceptance, ["proposal_id", "inspected_on", "quality", "satisfaction_method", "asked_count",
                                   "satisfied_count", "passed"], tables,
                      (spid, _d(accepted_day), "按方案完成，质量良好", "入户问卷", "40", str(34 + k % 7), "1"),
                      sdstaff, accepted_day)
        if rank >= 9:
            inv = self.ids.take(Invoice)
            tables.add(Invoice, ["id", "proposal_id", "contractor", "number", "amount", "issued_on", "status",
                                 "registered_by_id", "registered_at"],
                       (str(inv), spid, contractor, f"F{inv:010d}", _yuan(settled), _d(invoice_day), "settled",
                        str(cstaff[0]), _t(invoice_day)))
            for order, (person, role) in enumerate(((csec, Role.COMMUNITY_SECRETARY),
                                                    (director, Role.CONSTRUCTION_DIRECTOR),
                                                    (sdsec, Role.SUBDISTRICT_SECRETARY)), start=1):
                self._act(Signature, ["invoice_id", "order", "role"], tables, (str(inv), str(order), role.value),
                          person, invoice_day + D(days=order))
            entry = self._ledger(tables, ledger_cols, fy, "expenditure", settled, paid_day,
                                 f"结算发票 F{inv:010d}（{title}）"[:200], f"approvals.proposal:{pid}", finance_uid)
            self._act(Payment, ["proposal_id", "invoice_id", "amount", "paid_on", "method", "reference",
                                "ledger_entry_id", "meeting_id", "recipient_name", "receipt_reference", "after_notice_id",
                                "idempotency_key"], tables,
                      (spid, str(inv), _yuan(settled), _d(paid_day), "transfer", f"ZZ{inv:010d}", str(entry), NULL, "",
                       "", NULL, f"invoice-{inv}"), finance, paid_day)
        if rank >= 10:
            self._act(Notice, notice_cols, tables,
                      (spid, "completion", "running" if rank == 10 else "ended", _d(completion_day), "5",
                       _d(completion_last), _d(completion_last + D(days=1)), "1", f"{title}完成公示", new_public_id()), csec,
                      completion_day)

    def _write(self, model, columns, rows):
        if model == "uop":
            from guardian.models import UserObjectPermission
            self.write(UserObjectPermission, columns, rows)
        else:
            self.write(model, columns, rows)

    # --- after the rows ---------------------------------------------------------------------------------

    def _close_past_years(self):
        """Close the past years as fund_year_close leaves them, now that their ledger rows are in."""
        self.stdout.write("  closing past years ...")
        for year in self.years[:-1]:
            closed_at = datetime.datetime(year + 1, 1, 1, 0, 5, tzinfo=datetime.UTC)
            FundYear.objects.filter(year=year, community__code__startswith="c").update(status="closed",
                                                                                     closed_at=closed_at)

    def _audit(self):
        self.stdout.write("  audit records ...")
        now = timezone.now().replace(microsecond=0)
        records, heads = [], []
        for cid, code in Community.objects.filter(code__startswith="c").values_list("pk", "code").iterator():
            chain = f"community:{cid}"
            record = AuditRecord(chain=chain, seq=1, recorded_at=now, actor=None, actor_name="", post_id=None,
                                 post_label="", community_id=cid, action="seed_scale.import",
                                 target_type="fundapp.community", target_id=str(cid), before=None,
                                 after={"code": code, "years": self.years, "projects_per_year": self.projects},
                                 note="seed_scale", prev_hash=GENESIS_HASH, algorithm=keys.current_algorithm(),
                                 key_id=keys.current_key_id())
            record.hash = compute_hash(record)
            rid = self.ids.take(AuditRecord)
            records.append((str(rid), chain, "1", now.isoformat(), NULL, "", NULL, "", str(cid), record.action,
                            record.target_type, record.target_id, NULL, canonical_json(record.after), record.note,
                            GENESIS_HASH, record.hash, record.algorithm, record.key_id))
            heads.append((chain, "1", record.hash))
        self.write(AuditRecord, ["id", "chain", "seq", "recorded_at", "actor_id", "actor_name", "post_id",
                                 "post_label", "community_id", "action", "target_type", "target_id", "before",
                                 "after", "note", "prev_hash", "hash", "algorithm", "key_id"], records)
        self.write(AuditChainHead, ["chain", "seq", "last_hash"], heads)

    def _city_admin(self):
        User = get_user_model()
        admin = User.objects.filter(username="scale-city-admin").first()
        if admin is None:
            admin = User.objects.create(username="scale-city-admin", first_name="市委组织部 管理员",
                                        password=self.password_hash)
            Post.objects.create(user=admin, role=Role.CITY_ADMIN, start_date=datetime.date(self.years[0], 1, 1))
        sync_user_permissions(admin)

    def _reset_sequences(self):
        from guardian.models import UserObjectPermission

        models = [m for m in WRITE_ORDER if m != "uop"] + [AuditRecord, AuditChainHead, UserObjectPermission]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
