"""The records of the approval chain (SPEC §4). Only approvals.services writes them; the proposal's
`state` is set by `approvals.services.perform` alone."""
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fundapp import clock
from fundapp.i18n import long_date
from fundapp.models import Community, FundYear, Post
from fundapp.models.funds import MONEY, ZERO
from fundapp.amounts import FEN
from fundapp.publicurls import new_public_id

USER = settings.AUTH_USER_MODEL


class Category(models.IntegerChoices):
    """Art. 8."""

    HARDSHIP = 1, _("特困群体服务")
    CONVENIENCE = 2, _("便民利民服务")
    EMPLOYMENT = 3, _("就业创业服务")
    PROPERTY = 4, _("物业管理服务")
    CULTURE_SPORTS = 5, _("文体活动服务")
    OTHER = 6, _("其他服务")


class State(models.TextChoices):
    DRAFT = "draft", _("起草中")
    CONSENT_PENDING = "consent_pending", _("待初步同意")
    CONSENTED = "consented", _("已初步同意")
    MEETING_PASSED = "meeting_passed", _("联席会议已通过")
    NOTICE = "notice", _("公示中")
    ON_HOLD = "on_hold", _("暂时搁置")
    UNDER_REVIEW = "under_review", _("审核中")
    APPROVED = "approved", _("已批准")
    IN_PROGRESS = "in_progress", _("实施中")
    ACCEPTED = "accepted", _("已验收")
    SETTLED = "settled", _("已结算")
    COMPLETION_NOTICE = "completion_notice", _("完成公示中")
    COMPLETED = "completed", _("已完成")
    REJECTED = "rejected", _("不予批准")
    WITHDRAWN = "withdrawn", _("已撤回")


# ---- named sets of states: each concept once, imported wherever it is needed ---------------------------
# Before approval: what a community can still withdraw (with APPROVED) and nothing is reserved yet.
PRE_APPROVAL = frozenset({State.DRAFT, State.CONSENT_PENDING, State.CONSENTED, State.MEETING_PASSED, State.NOTICE,
                          State.ON_HOLD})
# The plan may be edited (Art. 9, 10: before the meeting; after a consent with comments).
EDITABLE = frozenset({State.DRAFT, State.CONSENTED})
# No step leaves these.
TERMINAL = frozenset({State.COMPLETED, State.REJECTED, State.WITHDRAWN})
# Turned down or given up: they count towards nothing a category was given or spent.
DROPPED = frozenset({State.REJECTED, State.WITHDRAWN})
# The approved budget is reserved in the fund year until settled, released or withdrawn.
RESERVING = frozenset({State.APPROVED, State.IN_PROGRESS, State.ACCEPTED})
# Reached only after paying the contractor (settlement finished).
AFTER_SETTLEMENT = frozenset({State.SETTLED, State.COMPLETION_NOTICE, State.COMPLETED})
# Finished, one way or another: at a year close these stay in their year; every other proposal moves on with
# its reservation (approvals.year_close).
FINISHED = AFTER_SETTLEMENT | DROPPED
# Being delivered or done: residents may give satisfaction feedback (Art. 12).
DELIVERING = frozenset({State.IN_PROGRESS, State.ACCEPTED}) | AFTER_SETTLEMENT
# Already seen by the public on a notice: from the plan notice on, except those turned down or withdrawn
# (drafts and proposals still awaiting consent are the community's working papers).
PUBLIC_STATES = frozenset(State) - {State.DRAFT, State.CONSENT_PENDING, State.CONSENTED, State.MEETING_PASSED} - DROPPED


class Act(models.Model):
    """Who did it, in which post, when — shared by every step record."""

    by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("经办人"))
    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="+", null=True,
                             verbose_name=_("经办职务"))
    at = models.DateTimeField(_("时间"), default=clock.now)

    class Meta:
        abstract = True

    def __str__(self):
        # What a person reads in a drop-down or the back office: the step and its date, never "X object (6)".
        return _("%(act)s（%(date)s）") % {"act": self._meta.verbose_name, "date": long_date(self.at)}


class ResidentText(models.Model):
    """A text a resident wrote (an objection, a need), with the version the public reads.

    Until the community's secretary reviews it, the public reads the automatically redacted text (the
    publishing step, fundapp.privacy); the secretary may then set the published version
    (approvals.services.resident_text_publish, audited), which passes through the same step again. The
    original stays as written, for staff only (`ORIGINAL`)."""

    ORIGINAL = ""  # the field the resident wrote

    public_text = models.TextField(_("公开版本"), blank=True, default="", db_default="")
    public_text_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    public_text_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                       verbose_name=_("审核人"))

    class Meta:
        abstract = True

    @property
    def original_text(self):
        return getattr(self, self.ORIGINAL)

    @property
    def reviewed(self):
        return self.public_text_at is not None

    def published(self, publisher):
        """What the public reads: the reviewed version, else the original, through the publishing step."""
        return publisher.text(self.public_text if self.reviewed else self.original_text)


class Need(ResidentText):
    """A resident need in the community's register (Art. 6, 9)."""

    ORIGINAL = "description"

    class Channel(models.TextChoices):
        DOOR_TO_DOOR = "door", _("入户走访")
        SERVICE_HALL = "hall", _("便民服务大厅")
        PLATFORM = "platform", _("议事平台")
        ONLINE = "online", _("网上提交")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="needs",
                                  verbose_name=_("社区"))
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    channel = models.CharField(_("收集渠道"), max_length=10, choices=Channel.choices)
    description = models.TextField(_("需求内容"))
    resident_name = models.CharField(_("提出人"), max_length=50, blank=True)
    resident_contact = models.CharField(_("联系方式（不公开）"), max_length=50, blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("录入人"))
    recorded_at = models.DateTimeField(_("录入时间"), default=clock.now)

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name = _("居民需求")
        verbose_name_plural = _("居民需求")
        constraints = [models.CheckConstraint(name="need_quarter_1_4", condition=Q(quarter__gte=1, quarter__lte=4))]

    def __str__(self):
        return self.description[:40]


class Proposal(models.Model):
    """One matter (一事一议): the project, its plan and where it stands in the chain."""

    class Beneficiaries(models.TextChoices):
        BROAD = "broad", _("广大居民")
        SMALL_GROUP = "small_group", _("较小受益群体")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="proposals",
                                  verbose_name=_("社区"))
    fund_year = models.ForeignKey(FundYear, on_delete=models.PROTECT, related_name="proposals",
                                  verbose_name=_("年度经费"))
    # On public addresses instead of the sequential pk (fundapp.publicurls): not guessable, not walkable.
    public_id = models.CharField(_("公开编号"), max_length=16, unique=True, default=new_public_id, editable=False)
    title = models.CharField(_("项目名称"), max_length=200)
    category = models.PositiveSmallIntegerField(_("使用范围"), choices=Category.choices)
    content = models.TextField(_("项目内容"))
    beneficiaries = models.CharField(_("受益群体"), max_length=12, choices=Beneficiaries.choices)
    beneficiary_count = models.PositiveIntegerField(_("受益人数"))
    planned_start = models.DateField(_("计划开始日期"))
    planned_end = models.DateField(_("计划完成日期"))
    contractor = models.CharField(_("承办方"), max_length=200, blank=True)
    art4_declaration = models.BooleanField(
        _("不属于第四条禁止的支出"),
        help_text=_("本项目不用于社区办公开支、社区工作者工资补贴、政府公共服务支出、市委市政府已有资金安排的服务项目或应由物业单位承担的费用。"),
    )
    needs = models.ManyToManyField(Need, related_name="proposals", blank=True, verbose_name=_("回应的居民需求"))
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.DRAFT)
    budget = models.DecimalField(_("预算"), default=ZERO, **MONEY)
    # Set on approval (and by approved changes); what settlements may never exceed.
    approved_budget = models.DecimalField(_("批准预算"), default=ZERO, **MONEY)
    settled_amount = models.DecimalField(_("已结算金额"), default=ZERO, **MONEY)
    reserved_amount = models.DecimalField(_("预留金额"), default=ZERO, **MONEY)
    # The part of the reservation carried in at a year close that counts against its fund year's
    # small_group_carried rather than the year's own 20% (Art. 7(2)); a release reduces it first.
    small_group_carried = models.DecimalField(_("上年转入的小群体预留"), default=ZERO, db_default=ZERO, **MONEY)
    review_round = models.PositiveSmallIntegerField(_("报审次数"), default=0)
    review_received_on = models.DateField(_("收到申请日期"), null=True, blank=True)
    review_deadline = models.DateField(_("审批期限"), null=True, blank=True)
    review_deadline_confirmed = models.BooleanField(_("审批期限按已确认的日历计算"), default=True)
    # The review round already escalated as overdue (so the nightly task flags each round once).
    review_overdue_round = models.PositiveSmallIntegerField(_("已上报超期的轮次"), default=0)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("起草人"))
    created_at = models.DateTimeField(_("创建时间"), default=clock.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("项目")
        verbose_name_plural = _("项目")
        constraints = [
            models.CheckConstraint(name="proposal_dates_ordered", condition=Q(planned_end__gte=F("planned_start"))),
            models.CheckConstraint(name="proposal_money_non_negative",
                                   condition=Q(budget__gte=0, approved_budget__gte=0, settled_amount__gte=0,
                                               reserved_amount__gte=0, small_group_carried__gte=0)),
            models.CheckConstraint(name="proposal_settled_within_approved",
                                   condition=Q(settled_amount__lte=F("approved_budget"))),
            # Rounded to the fen: SQLite computes the difference in binary floating point.
            models.CheckConstraint(name="proposal_reserved_within_approved",
                                   condition=LessThanOrEqual(Round(F("reserved_amount"), 2),
                                                             Round(F("approved_budget") - F("settled_amount"), 2))),
            models.CheckConstraint(name="proposal_category_known", condition=Q(category__gte=1, category__lte=6)),
            models.CheckConstraint(name="proposal_state_known", condition=Q(state__in=State.values)),
        ]
        indexes = [models.Index(fields=["community", "state"]), models.Index(fields=["state", "review_deadline"])]

    def __str__(self):
        return self.title

    @property
    def is_small_group(self):
        return self.beneficiaries == self.Beneficiaries.SMALL_GROUP


class BudgetLine(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="lines",
                                 verbose_name=_("项目"))
    item = models.CharField(_("支出项目"), max_length=200)
    amount = models.DecimalField(_("金额"), **MONEY)
    # Asked on every line, never assumed: None on lines recorded before the question was asked.
    in_procurement_catalogue = models.BooleanField(_("属于政府采购目录"), null=True, default=None)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("预算明细")
        verbose_name_plural = _("预算明细")
        constraints = [models.CheckConstraint(name="budget_line_positive", condition=Q(amount__gt=0))]

    def __str__(self):
        return f"{self.item} {self.amount}"


class ConsentDecision(Act):
    """Preliminary consent (Art. 10) or its return with comments."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="consents", verbose_name=_("项目"))
    consented = models.BooleanField(_("同意"))
    comments = models.TextField(_("意见"), blank=True)

    class Meta:
        ordering = ["at"]
        verbose_name = _("初步意见")
        verbose_name_plural = _("初步意见")


class Meeting(Act):
    """The joint meeting of the two committees and resident representatives (Art. 10)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("项目"))
    held_on = models.DateField(_("会议日期"))
    place = models.CharField(_("地点"), max_length=200)
    attendance = models.PositiveIntegerField(_("到会人数"))
    attendees = models.TextField(_("参会人员"), blank=True)
    votes_for = models.PositiveIntegerField(_("赞成"))
    votes_against = models.PositiveIntegerField(_("反对"))
    votes_abstain = models.PositiveIntegerField(_("弃权"))
    minutes = models.TextField(_("会议纪要"))
    passed = models.BooleanField(_("通过"))

    class Meta:
        ordering = ["held_on", "pk"]
        verbose_name = _("联席会议")
        verbose_name_plural = _("联席会议")
        constraints = [
            models.CheckConstraint(
                name="meeting_votes_within_attendance",
                condition=Q(attendance__gte=F("votes_for") + F("votes_against") + F("votes_abstain")),
            ),
            models.CheckConstraint(name="meeting_has_attendance", condition=Q(attendance__gt=0)),
        ]

    def __str__(self):
        return _("%(date)s联席会议") % {"date": long_date(self.held_on)}


class NoticeQuerySet(models.QuerySet):
    def running_on(self, today):
        """Notices running on `today` (local date): the one definition, as `Notice.is_running`."""
        return self.filter(status=Notice.Status.RUNNING, posted_on__lte=today, last_day__gte=today)


class Notice(Act):
    """A public notice on the community board and the public page (Art. 10, 13, 15).

    The stored `status` changes only by acts (running until the next step closes it, or withdrawn); whether a
    notice *runs now* also depends on the day: it runs until the end of its last day (Asia/Shanghai) and has
    ended from 00:00 the next day, with no act. Ask `is_running(today)` / `status_on(today)` /
    `Notice.objects.running_on(today)`, never `status == RUNNING`, for "running now".
    """

    class Kind(models.TextChoices):
        PLAN = "plan", _("项目方案公示")
        VOUCHER = "voucher", _("无发票支付公示")
        COMPLETION = "completion", _("项目完成公示")

    class Status(models.TextChoices):
        RUNNING = "running", _("公示中")
        ENDED = "ended", _("已结束")
        WITHDRAWN = "withdrawn", _("已撤下")

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="notices", verbose_name=_("项目"))
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    posted_on = models.DateField(_("张贴日期"))
    working_days = models.PositiveSmallIntegerField(_("公示工作日数"))
    last_day = models.DateField(_("公示最后一天"))
    next_step_day = models.DateField(_("可办理下一步日期"))
    calendar_confirmed = models.BooleanField(_("按已确认的日历计算"), default=True)
    text = models.TextField(_("公示内容"), blank=True)
    # On public addresses instead of the sequential pk (fundapp.publicurls): not guessable, not walkable.
    public_id = models.CharField(_("公开编号"), max_length=16, unique=True, default=new_public_id, editable=False)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["posted_on", "pk"]
        verbose_name = _("公示")
        verbose_name_plural = _("公示")
        constraints = [
            models.CheckConstraint(name="notice_at_least_3_days", condition=Q(working_days__gte=3)),
            models.CheckConstraint(name="notice_last_day_after_posting", condition=Q(last_day__gte=F("posted_on"))),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {long_date(self.posted_on)}"

    def is_running(self, today=None):
        """Posted, not closed or withdrawn by an act, and `today` (default: clock.today()) within its period."""
        today = clock.today() if today is None else today
        return self.status == self.Status.RUNNING and self.posted_on <= today <= self.last_day

    def status_on(self, today=None):
        """The status as it stands on `today`: a running notice whose last day has passed has ended."""
        today = clock.today() if today is None else today
        if self.status == self.Status.RUNNING and today > self.last_day:
            return self.Status.ENDED
        return self.Status(self.status)

    @property
    def status_now(self):
        return self.status_on()

    @property
    def status_now_display(self):
        return self.status_now.label

    @property
    def running_now(self):
        return self.is_running()

class Objection(ResidentText):
    """A resident's objection to a running notice, online or on paper; open ones block the chain."""

    ORIGINAL = "text"

    class Channel(models.TextChoices):
        ONLINE = "online", _("网上")
        PAPER = "paper", _("书面")

    class AnswerChannel(models.TextChoices):
        """How the community answered the resident (Art. 10): the answer is recorded whichever way it went."""

        PHONE = "phone", _("电话")
        PAPER = "paper", _("书面")
        IN_PERSON = "in_person", _("当面")

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="objections", verbose_name=_("公示"))
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    resident_name = models.CharField(_("姓名"), max_length=50)
    resident_contact = models.CharField(_("联系方式（不公开）"), max_length=50, blank=True)
    text = models.TextField(_("异议内容"))
    received_at = models.DateTimeField(_("收到时间"), default=clock.now)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("登记人"))
    answer = models.TextField(_("答复"), blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    answered_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("答复人"))
    answered_post = models.ForeignKey(Post, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                      verbose_name=_("答复职务"))
    # Blank for answers recorded before the channel was asked.
    answer_channel = models.CharField(_("答复方式"), max_length=10, choices=AnswerChannel.choices, blank=True,
                                      default="", db_default="")

    class Meta:
        ordering = ["received_at"]
        verbose_name = _("异议")
        verbose_name_plural = _("异议")

    @property
    def is_open(self):
        return self.answered_at is None

    def __str__(self):
        from fundapp.privacy import mask_name

        from django.utils import timezone

        return f"{mask_name(self.resident_name)} {long_date(timezone.localdate(self.received_at))}"

class ReviewDecision(Act):
    """One leader's decision in a review round (Art. 11): the 党工委 secretary's or the 建管委 director's."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("同意")
        REJECT = "reject", _("不予批准")
        RETURN = "return", _("退回修改")

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("项目"))
    round = models.PositiveSmallIntegerField(_("报审轮次"))
    role = models.CharField(_("审批职务"), max_length=32)
    decision = models.CharField(_("决定"), max_length=10, choices=Decision.choices)
    reason = models.TextField(_("理由"), blank=True)
    late = models.BooleanField(_("超期审批"), default=False)

    class Meta:
        ordering = ["at"]
        verbose_name = _("审批意见")
        verbose_name_plural = _("审批意见")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "round", "role"], name="review_one_per_leader_per_round"),
            models.UniqueConstraint(fields=["proposal", "round", "by"], name="review_two_different_people"),
        ]


class Change(Act):
    """A change during execution (Art. 11): requested by the community, consented and filed by the subdistrict."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("待同意")
        CONSENTED = "consented", _("已同意并备案")
        REFUSED = "refused", _("不同意")

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="changes", verbose_name=_("项目"))
    description = models.TextField(_("变更内容"))
    new_budget = models.DecimalField(_("变更后预算"), null=True, blank=True, **MONEY)
    new_planned_end = models.DateField(_("变更后完成日期"), null=True, blank=True)
    new_contractor = models.CharField(_("变更后承办方"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.REQUESTED)
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("决定人"))
    decided_post = models.ForeignKey(Post, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("决定职务"))
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    decision_comments = models.TextField(_("意见"), blank=True)

    class Meta:
        ordering = ["at"]
        verbose_name = _("项目变更")
        verbose_name_plural = _("项目变更")

    def __str__(self):
        return self.description[:30]

class FollowUp(Act):
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="follow_ups", verbose_name=_("项目"))
    visited_on = models.DateField(_("跟进日期"))
    notes = models.TextField(_("跟进情况"))

    class Meta:
        ordering = ["visited_on", "pk"]
        verbose_name = _("项目跟进")
        verbose_name_plural = _("项目跟进")


class Acceptance(Act):
    """The subdistrict's inspection on completion (Art. 12)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="acceptances", verbose_name=_("项目"))
    inspected_on = models.DateField(_("验收日期"))
    quality = models.TextField(_("项目质量"))
    satisfaction_method = models.CharField(_("满意度调查方式"), max_length=200)
    asked_count = models.PositiveIntegerField(_("调查人数"))
    satisfied_count = models.PositiveIntegerField(_("满意人数"))
    passed = models.BooleanField(_("验收合格"))

    class Meta:
        ordering = ["inspected_on", "pk"]
        verbose_name = _("综合验收")
        verbose_name_plural = _("综合验收")
        constraints = [
            models.CheckConstraint(name="acceptance_satisfied_within_asked",
                                   condition=Q(satisfied_count__lte=F("asked_count"))),
        ]


class Invoice(models.Model):
    """A contractor's invoice: three ordered signatures (Art. 13), then settlement once."""

    class Status(models.TextChoices):
        SIGNING = "signing", _("签字中")
        SIGNED = "signed", _("待结算")
        SETTLED = "settled", _("已结算")
        RETURNED = "returned", _("已退回")

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("项目"))
    contractor = models.CharField(_("开票单位"), max_length=200)
    number = models.CharField(_("发票号码"), max_length=50)
    amount = models.DecimalField(_("金额"), **MONEY)
    issued_on = models.DateField(_("开票日期"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.SIGNING)
    registered_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("登记人"))
    registered_at = models.DateTimeField(_("登记时间"), default=clock.now)

    class Meta:
        ordering = ["registered_at", "pk"]
        verbose_name = _("发票")
        verbose_name_plural = _("发票")
        constraints = [
            models.CheckConstraint(name="invoice_amount_positive", condition=Q(amount__gt=0)),
            # A returned invoice may be registered again; a live one only once.
            models.UniqueConstraint(fields=["contractor", "number"], condition=~Q(status="returned"),
                                    name="invoice_number_unique_while_live"),
        ]

    def __str__(self):
        return f"{self.contractor} {self.number}"


class Signature(Act):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="signatures", verbose_name=_("发票"))
    order = models.PositiveSmallIntegerField(_("签字顺序"))
    role = models.CharField(_("签字职务"), max_length=32)

    class Meta:
        ordering = ["order"]
        verbose_name = _("发票签字")
        verbose_name_plural = _("发票签字")
        constraints = [
            models.UniqueConstraint(fields=["invoice", "order"], name="signature_one_per_step"),
            models.UniqueConstraint(fields=["invoice", "by"], name="signature_three_different_people"),
            models.CheckConstraint(name="signature_order_1_3", condition=Q(order__gte=1, order__lte=3)),
        ]


class InvoiceRefusal(Act):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="refusals", verbose_name=_("发票"))
    reason = models.TextField(_("退回理由"))

    class Meta:
        verbose_name = _("发票退回")
        verbose_name_plural = _("发票退回")


class PaymentQuerySet(models.QuerySet):
    def paid_by_category(self, *, year, community_ids):
        """{(community id, category): amount} paid out of the communities' funds for `year`: payments whose
        ledger entry lies in that fund year. A project carried into the next year at the close keeps its
        earlier payments in the year that made them, so a year's figures by category add up to its ledger."""
        rows = (self.filter(ledger_entry__fund_year__year=year, ledger_entry__fund_year__community_id__in=community_ids)
                .order_by().values_list("ledger_entry__fund_year__community_id", "proposal__category")
                .annotate(total=models.Sum("amount")))
        # SQLite hands sums back without their two decimals; amounts compare and print to the fen.
        return {(community_id, category): Decimal(total).quantize(FEN) for community_id, category, total in rows}


class Payment(Act):
    """Money paid out for a project: an invoice settlement or a no-invoice voucher (Art. 13)."""

    class Method(models.TextChoices):
        TRANSFER = "transfer", _("银行转账")
        CHEQUE = "cheque", _("支票")
        CASH = "cash", _("现金")

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="payments", verbose_name=_("项目"))
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="payment", verbose_name=_("发票"))
    amount = models.DecimalField(_("金额"), **MONEY)
    paid_on = models.DateField(_("支付日期"))
    method = models.CharField(_("支付方式"), max_length=10, choices=Method.choices)
    reference = models.CharField(_("凭证号"), max_length=100)
    ledger_entry = models.OneToOneField("fundapp.LedgerEntry", on_delete=models.PROTECT, related_name="payment",
                                        verbose_name=_("分录"))
    # Without an invoice: the prior collective decision, the recipient and their signed receipt.
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("事前集体决定"))
    recipient_name = models.CharField(_("收款人"), max_length=50, blank=True)
    receipt_reference = models.CharField(_("收款人签字凭证"), max_length=200, blank=True)
    after_notice = models.ForeignKey(Notice, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("事后公示"))
    # A retried or double-clicked request carries the same key and pays once.
    idempotency_key = models.CharField(_("请求编号"), max_length=64, unique=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["paid_on", "pk"]
        verbose_name = _("支付")
        verbose_name_plural = _("支付")
        constraints = [
            models.CheckConstraint(name="payment_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="payment_invoice_or_voucher",
                condition=Q(invoice__isnull=False, meeting__isnull=True)
                | Q(invoice__isnull=True, meeting__isnull=False) & ~Q(recipient_name="") & ~Q(receipt_reference=""),
            ),
        ]

    @property
    def is_voucher(self):
        return self.invoice_id is None

    def __str__(self):
        from fundapp.amounts import format_yuan
        from fundapp.privacy import mask_name

        who = self.invoice.number if self.invoice_id else mask_name(self.recipient_name)
        return f"{who} {format_yuan(self.amount)}"

class SupervisionOpinion(Act):
    """The supervision committee's opinion on any step (Art. 14)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="opinions", verbose_name=_("项目"))
    text = models.TextField(_("监督意见"))

    class Meta:
        ordering = ["at"]
        verbose_name = _("监督意见")
        verbose_name_plural = _("监督意见")


class Document(models.Model):
    """A stored file (minutes, invoice scan, receipt, photo) with its checksum; served only to people with the
    right to see the proposal (approvals.views.document_download)."""

    class Kind(models.TextChoices):
        MINUTES = "minutes", _("会议纪要")
        NOTICE_PHOTO = "notice_photo", _("公示照片")
        INVOICE = "invoice", _("发票")
        RECEIPT = "receipt", _("收款人签字凭证")
        ACCEPTANCE = "acceptance", _("验收材料")
        PHOTO = "photo", _("照片")
        OTHER = "other", _("其他材料")

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="documents",
                                 verbose_name=_("项目"))
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    action = models.CharField(_("所属步骤"), max_length=40, blank=True)
    file = models.FileField(_("文件"), upload_to="documents/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256 校验值"), max_length=64)
    uploaded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"), default=clock.now)
    # On public addresses instead of the sequential pk (fundapp.publicurls): not guessable, not walkable.
    public_id = models.CharField(_("公开编号"), max_length=16, unique=True, default=new_public_id, editable=False)

    # Made to be seen by residents: the photo of the notice board itself. Everything else (minutes with
    # signatures, invoices, receipts) stays with the people who have rights on the community.
    PUBLIC_KINDS = frozenset({Kind.NOTICE_PHOTO})

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("材料")
        verbose_name_plural = _("材料")

    def __str__(self):
        return self.original_name


class AnnualReport(models.Model):
    """A community's report on the year's use of the fund (Art. 16), and the subdistrict's evaluation."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("待报送")
        SUBMITTED = "submitted", _("已报送")
        EVALUATED = "evaluated", _("已评议")

    class Grade(models.TextChoices):
        EXCELLENT = "excellent", _("优秀")
        GOOD = "good", _("良好")
        PASS = "pass", _("合格")
        FAIL = "fail", _("不合格")

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="annual_reports",
                                  verbose_name=_("社区"))
    year = models.PositiveSmallIntegerField(_("年度"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    figures = models.JSONField(_("经费与项目数据"), default=dict)
    narrative = models.TextField(_("使用情况与服务效果"), blank=True)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("报送人"))
    submitted_post = models.ForeignKey(Post, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                       verbose_name=_("报送职务"))
    grade = models.CharField(_("考核评议结果"), max_length=10, choices=Grade.choices, blank=True)
    evaluation = models.TextField(_("评议意见"), blank=True)
    evaluated_at = models.DateTimeField(_("评议时间"), null=True, blank=True)
    evaluated_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("评议人"))
    evaluated_post = models.ForeignKey(Post, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                       verbose_name=_("评议职务"))
    created_at = models.DateTimeField(_("生成时间"), default=clock.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-year", "community__name"]
        verbose_name = _("年度报告")
        verbose_name_plural = _("年度报告")
        constraints = [models.UniqueConstraint(fields=["community", "year"], name="annual_report_once_a_year")]

    def __str__(self):
        return f"{self.community} {self.year}"

    @property
    def due_date(self):
        import datetime

        return datetime.date(self.year, 11, 30)

    @property
    def is_late(self):
        from django.utils import timezone

        return bool(self.submitted_at and timezone.localdate(self.submitted_at) > self.due_date)


class Feedback(models.Model):
    """A resident's satisfaction with a project being delivered or done; the acceptance inspection (Art. 12)
    sees the tally."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="feedback",
                                 verbose_name=_("项目"))
    satisfied = models.BooleanField(_("满意"))
    comment = models.TextField(_("意见"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), default=clock.now)

    class Meta:
        ordering = ["submitted_at"]
        verbose_name = _("居民满意度反馈")
        verbose_name_plural = _("居民满意度反馈")

    def __str__(self):
        return _("%(proposal)s · %(answer)s") % {"proposal": self.proposal, "answer": _("满意") if self.satisfied
                                                   else _("不满意")}


class PendingUpload(models.Model):
    """A file chosen on a form that was then refused (a missing field, a rule): kept on the server for its
    uploader so that the next submit uses it without choosing it again (approvals.uploads). Bounded: checked
    like any document (approvals.documents.inspect_upload), a few per person, purged after a day."""

    owner = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+", verbose_name=_("上传人"))
    token = models.CharField(_("凭据"), max_length=64, unique=True)
    file = models.FileField(_("文件"), upload_to="pending/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256 校验值"), max_length=64)
    created_at = models.DateTimeField(_("上传时间"), default=clock.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("暂存的上传文件")
        verbose_name_plural = _("暂存的上传文件")

    def __str__(self):
        return self.original_name


def notice_paper_path(instance, filename):
    return f"papers/{instance.notice.posted_on.year}/{instance.notice.proposal.community.code}/{filename}"


class ArchivedPaper(models.Model):
    """What every archived paper keeps beside its file (Art. 17): the checksum and size taken when it was made,
    when, by whom and in which post. The archive (approvals.paper_archive) checks the checksum before it
    serves a file; the latest version is served."""

    sha256 = models.CharField(_("SHA-256 校验值"), max_length=64)
    size = models.PositiveIntegerField(_("大小（字节）"))
    generated_at = models.DateTimeField(_("生成时间"), default=clock.now)
    generated_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("生成人"))
    generated_post = models.ForeignKey(Post, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                       verbose_name=_("生成人职务"))

    class Meta:
        abstract = True
        ordering = ["generated_at", "pk"]


class NoticePaper(ArchivedPaper):
    """The PDF of a notice exactly as it was posted (Art. 17): rendered and archived when the notice is posted
    (approvals.paper_archive), in the same transaction, and served ever after — to the staff and, masked as
    every public paper is, to residents. A later change of the project or the community never changes it.
    A calendar change that moves a running notice's last day adds a new version (reason "recalculated",
    with an audit record); every version is kept, the latest is served."""

    class Reason(models.TextChoices):
        POSTED = "posted", _("张贴时生成")
        RECALCULATED = "recalculated", _("节假日调整后重新生成")

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="papers", verbose_name=_("公示"))
    reason = models.CharField(_("生成原因"), max_length=14, choices=Reason.choices, default=Reason.POSTED)
    file = models.FileField(_("文件"), upload_to=notice_paper_path)
    # The notice's text as plain data (approvals.notice_content), taken with the PDF: the public page shows it.
    content = models.JSONField(_("公示内容"), default=dict)

    class Meta(ArchivedPaper.Meta):
        verbose_name = _("公示存档")
        verbose_name_plural = _("公示存档")
        constraints = [models.UniqueConstraint(fields=["notice"], condition=Q(reason="posted"),
                                               name="notice_paper_posted_once")]

    def __str__(self):
        return f"{self.notice} · {self.sha256[:12]}"


def filed_paper_path(instance, filename):
    return f"papers/{timezone.localdate(instance.generated_at).year}/{instance.community.code}/{filename}"


class FiledPaper(ArchivedPaper):
    """A paper the community files and signs, exactly as it was printed when it was filed (Art. 17): the
    application form when the proposal is submitted for consent and again for review, the meeting minutes
    when the meeting is recorded, the acceptance sheet when the acceptance is recorded, the annual report
    when it is submitted and again when it is evaluated. Rendered and archived in the act's own transaction
    (approvals.paper_archive), never changed afterwards; each act adds a version, the latest is served.

    Kept apart from NoticePaper (a notice's paper, with the text the public page shows and its own
    recalculated versions): one model for every filed paper, keyed by kind and the record's id."""

    class Kind(models.TextChoices):
        APPLICATION_FORM = "application_form", _("申请审批表")
        MEETING_MINUTES = "meeting_minutes", _("联席会议纪要")
        ACCEPTANCE_SHEET = "acceptance_sheet", _("验收单")
        ANNUAL_REPORT = "annual_report", _("年度报告")

    class Reason(models.TextChoices):
        SUBMITTED_FOR_CONSENT = "submit_for_consent", _("报送街道党工委书记同意时生成")
        SUBMITTED_FOR_REVIEW = "submit_for_review", _("报送街道审核时生成")
        MEETING_RECORDED = "meeting_recorded", _("登记联席会议时生成")
        ACCEPTANCE_RECORDED = "acceptance_recorded", _("登记验收时生成")
        REPORT_SUBMITTED = "report_submitted", _("报送年度报告时生成")
        REPORT_EVALUATED = "report_evaluated", _("评议年度报告时生成")

    kind = models.CharField(_("文书"), max_length=20, choices=Kind.choices)
    reason = models.CharField(_("生成原因"), max_length=20, choices=Reason.choices)
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("社区"))
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="filed_papers", verbose_name=_("项目"))
    report = models.ForeignKey(AnnualReport, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="filed_papers", verbose_name=_("年度报告"))
    # The record the paper prints: the proposal's, the meeting's, the acceptance's or the report's id.
    record_id = models.PositiveBigIntegerField(_("记录编号"))
    file = models.FileField(_("文件"), upload_to=filed_paper_path)

    class Meta(ArchivedPaper.Meta):
        verbose_name = _("文书存档")
        verbose_name_plural = _("文书存档")
        indexes = [models.Index(fields=["kind", "record_id"], name="filed_paper_record")]
        constraints = [models.CheckConstraint(
            condition=(Q(kind="annual_report", report__isnull=False, proposal__isnull=True)
                       | (~Q(kind="annual_report") & Q(proposal__isnull=False, report__isnull=True))),
            name="filed_paper_of_a_proposal_or_a_report")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.record_id} · {self.sha256[:12]}"
