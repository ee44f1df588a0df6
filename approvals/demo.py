"""Demo proposals standing in every state of the chain, recorded through the real services with the
domain clock moved back, so their history (dates, deadlines, notices) is believable."""
import datetime

from django.db import transaction

from fundapp import clock
from fundapp.demo import allocation_day
from fundapp.models import Community, Post, Role
from workdays import calendar

from . import services as chain
from .models import AFTER_SETTLEMENT, AnnualReport, Category, Proposal, State

D = datetime.timedelta

OBJECTED = "楼道扶手加装"
READY_TO_PAY = "社区食堂厨具更新"

# (community code, title, category, budget, small group, state it stands in, days ago it started)
EXAMPLES = [
    ("xingfu", "楼道照明改造", Category.PROPERTY, "36000.00", False, State.COMPLETED, 70),
    ("xingfu", "独居老人助餐服务", Category.HARDSHIP, "18000.00", True, State.IN_PROGRESS, 45),
    ("xingfu", "社区健身器材更新", Category.CULTURE_SPORTS, "25000.00", False, State.NOTICE, 1),
    ("xingfu", "便民雨伞借用点", Category.CONVENIENCE, "3000.00", False, State.DRAFT, 0),
    ("heping", "失业人员技能培训", Category.EMPLOYMENT, "22000.00", False, State.UNDER_REVIEW, 20),
    ("heping", "老旧小区绿化补植", Category.PROPERTY, "30000.00", False, State.APPROVED, 30),
    ("heping", "重阳节文艺汇演", Category.CULTURE_SPORTS, "8000.00", False, State.CONSENT_PENDING, 0),
    ("guangming", "困难家庭助学", Category.HARDSHIP, "12000.00", True, State.ACCEPTED, 50),
    ("guangming", "小区道路修补", Category.PROPERTY, "40000.00", False, State.CONSENTED, 3),
    ("youyi", "社区志愿服务表彰", Category.OTHER, "5000.00", False, State.SETTLED, 60),
    ("youyi", "停车棚维修", Category.PROPERTY, "26000.00", False, State.ON_HOLD, 10),
    ("tuanjie", "便民理发服务", Category.CONVENIENCE, "6000.00", False, State.MEETING_PASSED, 2),
    ("tuanjie", "广场舞音响购置", Category.CULTURE_SPORTS, "9000.00", False, State.REJECTED, 25),
    ("chunhui", "社区公益集市", Category.OTHER, "7000.00", False, State.WITHDRAWN, 15),
    ("chunhui", "楼顶防水修缮", Category.PROPERTY, "38000.00", False, State.COMPLETION_NOTICE, 60),
    ("chunhui", "儿童托管服务", Category.CONVENIENCE, "15000.00", False, State.UNDER_REVIEW, 8),
    # For the homes: a running notice with an open objection (团结社区's supervisor and secretary), and an
    # accepted project whose invoice carries its three signatures (东城街道's finance officer pays it).
    ("tuanjie", OBJECTED, Category.PROPERTY, "14000.00", False, State.NOTICE, 1),
    ("heping", READY_TO_PAY, Category.CONVENIENCE, "16000.00", False, State.ACCEPTED, 40),
]

# Ready for a tester to finish today, dated back from today (the domain's: FUND_AS_OF moves it) with the
# working-day calendar: a plan notice and a completion notice whose last day has just passed (README.md,
# "Demo logins").
# (community code, title, category, budget, state it stands in)
NOTICE_JUST_ENDED = [
    ("youyi", "小区路灯增设", Category.PROPERTY, "20000.00", State.NOTICE),
    ("xingfu", "社区图书室添置图书", Category.CULTURE_SPORTS, "12000.00", State.COMPLETION_NOTICE),
]
NOTICE_WORKING_DAYS = 3


def _person(role, community):
    scope = {"community": community} if Role.scope_of(role) == "community" else {"subdistrict": community.subdistrict}
    return Post.objects.filter(role=role, end_date__isnull=True, **scope).select_related("user").first().user


class Walker:
    """Moves one proposal forward a step at a time, each step on the first day it is allowed."""

    def __init__(self, proposal, day):
        self.p, self.day = proposal, day
        c = proposal.community
        self.secretary = _person(Role.COMMUNITY_SECRETARY, c)
        self.sd_secretary = _person(Role.SUBDISTRICT_SECRETARY, c)
        self.director = _person(Role.CONSTRUCTION_DIRECTOR, c)
        self.sd_staff = _person(Role.SUBDISTRICT_STAFF, c)
        self.finance = _person(Role.FINANCE_OFFICER, c)

    def on(self, day, fn, **kwargs):
        self.day = max(self.day, day)
        if self.day > clock.today():
            raise RuntimeError(f"demo step for {self.p.title} would happen in the future ({self.day})")
        with clock.as_of(self.day):
            return fn(**kwargs)

    def walk(self, until):
        p, today = self.p, clock.today()
        steps = [
            (State.CONSENT_PENDING, lambda: self.on(self.day, chain.proposal_submit_for_consent, proposal=p,
                                                by=self.secretary)),
            (State.CONSENTED, lambda: self.on(self.day, chain.consent_decide, proposal=p, by=self.sd_secretary,
                                          consented=True, comments="同意提交联席会议讨论")),
            (State.MEETING_PASSED, lambda: self.on(self.day, chain.meeting_record, proposal=p, by=self.secretary,
                                               held_on=self.day, place="社区党群服务中心二楼会议室", attendance=23,
                                               votes_for=19, votes_against=2, votes_abstain=2,
                                               attendees="社区“两委”成员 9 人，居民代表 14 人",
                                               minutes="与会人员讨论了项目方案和预算，表决通过。")),
            (State.NOTICE, lambda: self._notice(min(self.day + D(days=1), today))),
            (State.UNDER_REVIEW, lambda: self.on(p.notices.get().next_step_day, chain.proposal_submit_for_review,
                                             proposal=p, by=self.secretary)),
            (State.APPROVED, self._approve),
            (State.IN_PROGRESS, self._start),
            (State.ACCEPTED, lambda: self.on(self.day + D(days=7), chain.acceptance_record, proposal=p, by=self.sd_staff,
                                         inspected_on=self.day + D(days=7), quality="按方案完成，质量良好",
                                         satisfaction_method="入户问卷", asked_count=40, satisfied_count=37,
                                         passed=True)),
            (State.SETTLED, self._settle),
            (State.COMPLETION_NOTICE, lambda: self.on(self.day, chain.completion_notice_post, proposal=p,
                                                  by=self.secretary, posted_on=self.day)),
            (State.COMPLETED, lambda: self.on(p.notices.filter(kind="completion").get().next_step_day,
                                          chain.proposal_complete, proposal=p, by=self.secretary)),
        ]
        for state, step in steps:
            if p.state == until:
                return
            step()
            p.refresh_from_db()

    def _notice(self, day):
        self.on(day, chain.notice_post, proposal=self.p, by=self.secretary, posted_on=day,
                working_days=NOTICE_WORKING_DAYS, text="公示期内如有异议，请向社区党委书面或网上反映。")

    def _approve(self):
        self.on(self.day + D(days=1), chain.review_decide, proposal=self.p, by=self.sd_secretary, decision="approve")
        self.on(self.day, chain.review_decide, proposal=self.p, by=self.director, decision="approve")

    def _start(self):
        self.on(self.day + D(days=1), chain.proposal_start, proposal=self.p, by=self.secretary)
        self.on(self.day + D(days=3), chain.follow_up_record, proposal=self.p, by=self.sd_staff,
                visited_on=self.day + D(days=3), notes="已按计划实施，进度正常")

    def _settle(self):
        p, day = self.p, self.day + D(days=1)
        invoice = self.on(day, chain.invoice_register, proposal=p, by=self.secretary, contractor=p.contractor,
                          number=f"{p.pk:04d}-01", amount=p.budget, issued_on=day)
        for signer in (self.secretary, self.director, self.sd_secretary):
            self.on(day, chain.invoice_sign, invoice=invoice, by=signer)
        self.on(day, chain.invoice_settle, invoice=invoice, by=self.finance, paid_on=day, method="transfer",
                reference=f"ZZ{p.pk:06d}")
        self.on(day, chain.settlement_finish, proposal=p, by=self.secretary)


def posted_on_for_notice_ending_by(today, working_days=NOTICE_WORKING_DAYS):
    """The latest posting date whose notice is over by `today` (its next step allowed today or the latest day
    before), found by walking back with the working-day calendar: weekends, holidays and make-up days count
    as the calendar says, not as Monday–Friday."""
    posted = today
    while calendar.notice_next_step_day(posted, working_days).day > today:
        posted -= D(days=1)
    return posted


def _end_in(walker, state):
    p, w = walker.p, walker
    if state == State.ON_HOLD:
        w.walk(State.NOTICE)
        w.on(w.day + D(days=1), chain.proposal_hold, proposal=p, by=w.secretary, reason="居民对选址意见分歧较大")
    elif state == State.REJECTED:
        w.walk(State.UNDER_REVIEW)
        w.on(w.day + D(days=1), chain.review_decide, proposal=p, by=w.director, decision="reject",
             reason="属于应由物业单位承担的费用（第四条）")
    elif state == State.WITHDRAWN:
        w.walk(State.CONSENTED)
        w.on(w.day + D(days=2), chain.proposal_withdraw, proposal=p, by=w.secretary, reason="已由驻区单位捐助")
    else:
        w.walk(state)


def _end_with_notice_just_over(walker, state, posted):
    """Walk to the step before the notice, then post it on `posted` (its period over by today)."""
    p, w = walker.p, walker
    w.walk(State.MEETING_PASSED if state == State.NOTICE else State.SETTLED)
    if w.day > posted:
        raise RuntimeError(f"demo step for {p.title} would happen after its notice ({w.day})")
    if state == State.NOTICE:
        w._notice(posted)
        return
    w.on(posted, chain.completion_notice_post, proposal=p, by=w.secretary, posted_on=posted,
         working_days=NOTICE_WORKING_DAYS, text="项目已完成，公示期内如有异议，请向社区党委反映。")


@transaction.atomic
def seed_chain_examples():
    """Create the example proposals that are missing (by title); returns (created, skipped titles)."""
    today = clock.today()
    # A payment lies inside its fund year, after the money came: an example that pays starts no earlier than
    # this year's allocation (early in a year there may not be days enough for its walk: it is skipped).
    earliest = allocation_day(today)
    posted = posted_on_for_notice_ending_by(today)
    wanted = []
    for code, title, category, budget, small, state, days_ago in EXAMPLES:
        start = today - D(days=days_ago)
        wanted.append((code, title, category, budget, small, state,
                       max(start, earliest) if state in AFTER_SETTLEMENT else start, None))
    for code, title, category, budget, state in NOTICE_JUST_ENDED:
        # The plan notice: consent and meeting two days before it. The completion notice: the chain walked
        # from eight weeks before it (the longest walk, across a Spring Festival, takes about five).
        start = posted - D(days=2) if state == State.NOTICE else max(posted - D(days=56), earliest)
        wanted.append((code, title, category, budget, False, state, start, posted))
    created, skipped = 0, []
    for code, title, category, budget, small, state, start, notice_posted in wanted:
        community = Community.objects.get(code=code)
        if Proposal.objects.filter(community=community, title=title).exists():
            continue
        try:
            with transaction.atomic():
                _seed_example(community, title, category, budget, small, state, start, notice_posted, today)
        except RuntimeError:
            # Early in a year there are not enough days since the allocation for the whole walk.
            skipped.append(title)
            continue
        created += 1
    _seed_reports(today)
    _seed_open_objection()
    _seed_invoice_ready_to_pay(today)
    return created, skipped


def _seed_example(community, title, category, budget, small, state, start, notice_posted, today):
    staff = _person(Role.COMMUNITY_STAFF, community)
    with clock.as_of(start):
        need = chain.need_record(community=community, by=staff, channel="door",
                                 description=f"居民反映：希望开展“{title}”", resident_name="王秀兰",
                                 resident_contact="13800000000")
        proposal = chain.proposal_create(
            community=community, by=staff, year=today.year, title=title, category=category,
            content=f"{title}：由社区党委组织实施，服务本社区居民。",
            beneficiaries="small_group" if small else "broad", beneficiary_count=30 if small else 600,
            planned_start=start + D(days=30), planned_end=start + D(days=60), contractor="本市惠民服务中心",
            art4_declaration=True, lines=[("服务及材料费", budget, False)], needs=[need],
        )
    if notice_posted is None:
        _end_in(Walker(proposal, start), state)
    else:
        _end_with_notice_just_over(Walker(proposal, start), state, notice_posted)


def _seed_reports(today):
    """This year's drafts; one community has already reported, one has been evaluated too — in time, before
    30 November, when the demo runs in December (the others' reports are then overdue, as in a real city)."""
    from . import reports

    on = min(today, reports.due_date(today.year) - D(days=5))
    with clock.as_of(on):
        _seed_reports_on(today)


def _seed_reports_on(today):
    from . import reports

    reports.annual_reports_generate(year=today.year)
    for code, evaluate in [("xingfu", True), ("youyi", False)]:
        report = AnnualReport.objects.get(community__code=code, year=today.year)
        if report.status != AnnualReport.Status.DRAFT:
            continue
        community = report.community
        reports.annual_report_submit(report=report, by=_person(Role.COMMUNITY_SECRETARY, community),
                                     narrative=f"本年度{community.name}围绕入户走访收集的居民需求实施服务项目，"
                                               "项目均经联席会议讨论并公示，居民满意度较高。")
        if evaluate:
            reports.annual_report_evaluate(report=report, by=_person(Role.SUBDISTRICT_STAFF, community),
                                           grade=AnnualReport.Grade.GOOD, comments="项目规范，公示及时。")


def _seed_open_objection():
    """A resident's objection, online, to the running notice of OBJECTED; left for the secretary to answer."""
    proposal = Proposal.objects.filter(title=OBJECTED, state=State.NOTICE).first()
    notice = proposal and proposal.notices.filter(kind="plan").order_by("-pk").first()
    if notice is None or notice.objections.exists():
        return
    with clock.as_of(notice.posted_on):
        chain.objection_record(notice=notice, channel="online", resident_name="孙志强",
                               resident_contact="13700000000", text="扶手安装位置影响轮椅通行，建议调整到楼梯另一侧。")


def _seed_invoice_ready_to_pay(today):
    """READY_TO_PAY's invoice, registered and signed by the three leaders: waiting for the finance officer."""
    proposal = Proposal.objects.filter(title=READY_TO_PAY, state=State.ACCEPTED).first()
    if proposal is None or proposal.invoices.exists():
        return
    w = Walker(proposal, max(a.inspected_on for a in proposal.acceptances.all()))
    invoice = w.on(w.day, chain.invoice_register, proposal=proposal, by=w.secretary, contractor=proposal.contractor,
                   number=f"{proposal.pk:04d}-01", amount="15800.00", issued_on=w.day)
    for signer in (w.secretary, w.director, w.sd_secretary):
        w.on(w.day, chain.invoice_sign, invoice=invoice, by=signer)
