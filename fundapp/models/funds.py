"""A community's fund by year and its append-only ledger (Art. 5, 13, 17).

FundYear keeps running totals that the services update in the same transaction as each ledger entry,
under a row lock; CheckConstraints make the database itself refuse a negative balance or a breach of the
small-group cap. The ledger stays the source of truth: `desk.finance_selectors.reconcile` recomputes
the totals from it. The ledger is also in order in time (SPEC §2, §9): every entry is dated inside its
fund year, a closed year takes no entries, and the running balance in date order never goes below zero —
checked by `fundapp.services.ledger.ledger_entry_add` and, from raw SQL too, by the triggers of migration
0005.

The small-group cap (Art. 7(2)). Small-group projects committed in a year (reserved + paid from that year)
stay within 20% of the year's total, plus what was carried in: a small-group project approved in 2025 and
carried into 2026 at the close was capped in 2025, and must not take (or, when 2026 is not yet allocated
on 1 January, exceed) 2026's own 20%. So `small_group_carried` is the small-group reservations carried in
(less what those projects released since: each proposal records its own carried share), and the limit
is one formula, `small_group_limit_expression()`, used by the guards (`FundYear.small_group_limit`) and by
the CheckConstraint alike.
"""
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils.translation import gettext_lazy as _

from .org import Community

MONEY = dict(max_digits=14, decimal_places=2)
ZERO = Decimal("0.00")
SMALL_GROUP_SHARE = Decimal("0.20")  # Art. 7(2)


def small_group_limit_expression(prefix=""):
    """Art. 7(2) as one expression: 20% of the total (to the fen) plus the small-group money carried in."""
    f = lambda name: F(prefix + name)  # noqa: E731
    return Round((f("allocated") + f("carried_in")) * SMALL_GROUP_SHARE, 2) + f("small_group_carried")


def balance_to_carry_expression(prefix=""):
    """What a year close carries into the next year: available + reserved = total − settled − carried out."""
    f = lambda name: F(prefix + name)  # noqa: E731
    return f("allocated") + f("carried_in") - f("settled") - f("carried_out")


class FundYearQuerySet(models.QuerySet):
    def with_balance_to_carry(self):
        """Annotate `to_carry`: the amount `fund_year_close` would carry over (same formula as the close)."""
        return self.annotate(to_carry=balance_to_carry_expression())


class MoneyFormula:
    """SPEC §2, once: total = allocated + carried in; available = total − settled − reserved − carried out.
    For a fund year and for sums of fund years (MoneySum) alike."""

    @property
    def total(self):
        return self.allocated + self.carried_in

    @property
    def available(self):
        return self.total - self.settled - self.reserved - self.carried_out


# A fund year's own amounts, the ones that add up over fund years (total and available follow from them).
AMOUNTS = ("allocated", "carried_in", "settled", "reserved", "carried_out")


@dataclass
class MoneySum(MoneyFormula):
    """Fund years' amounts added up (a subdistrict, the city, what a person sees), with the same formula as one
    fund year's. A subclass adds its own counters as fields and names them in COUNTERS."""

    allocated: Decimal = ZERO
    carried_in: Decimal = ZERO
    settled: Decimal = ZERO
    reserved: Decimal = ZERO
    carried_out: Decimal = ZERO
    COUNTERS = ()

    def add_fund_year(self, fy):
        for name in AMOUNTS:
            setattr(self, name, getattr(self, name) + getattr(fy, name))

    def add(self, other):
        for name in (*AMOUNTS, *self.COUNTERS):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class FundYear(MoneyFormula, models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("进行中")
        # The year close has begun (approvals.year_close): nothing new may be created into the year; its
        # existing proposals' acts still serialise with the close on their row locks.
        CLOSING = "closing", _("结转中")
        CLOSED = "closed", _("已结转")

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="fund_years", verbose_name=_("社区")
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    allocated = models.DecimalField(_("年度拨款"), default=ZERO, **MONEY)
    carried_in = models.DecimalField(_("上年结转"), default=ZERO, **MONEY)
    settled = models.DecimalField(_("已结算"), default=ZERO, **MONEY)
    reserved = models.DecimalField(_("已预留"), default=ZERO, **MONEY)
    carried_out = models.DecimalField(_("结转下年"), default=ZERO, **MONEY)
    # Budgets of small-group projects committed this year (reserved + settled), for the 20% cap.
    small_group_committed = models.DecimalField(_("小群体项目占用"), default=ZERO, **MONEY)
    # Reservations of small-group projects carried in from the year before (capped there), less what those
    # projects have released since: the cap is 20% of the total plus this (Art. 7(2)).
    small_group_carried = models.DecimalField(_("上年转入的小群体项目预留"), default=ZERO, db_default=ZERO, **MONEY)
    closed_at = models.DateTimeField(_("结转时间"), null=True, blank=True)

    objects = FundYearQuerySet.as_manager()

    class Meta:
        ordering = ["community__name", "-year"]
        verbose_name = _("年度经费")
        verbose_name_plural = _("年度经费")
        constraints = [
            models.UniqueConstraint(fields=["community", "year"], name="fund_year_unique"),
            models.CheckConstraint(
                name="fund_year_amounts_non_negative",
                condition=Q(allocated__gte=0, carried_in__gte=0, settled__gte=0, reserved__gte=0,
                            carried_out__gte=0, small_group_committed__gte=0, small_group_carried__gte=0),
            ),
            # Sums are rounded to the fen: SQLite evaluates decimals as binary floating point, where
            # 1.15 - 0.39 < 0.76; PostgreSQL's numeric is exact either way.
            models.CheckConstraint(
                name="fund_year_available_non_negative",
                condition=GreaterThanOrEqual(
                    Round(F("allocated") + F("carried_in") - F("settled") - F("reserved") - F("carried_out"), 2), 0),
            ),
            models.CheckConstraint(
                name="fund_year_small_group_cap",
                condition=LessThanOrEqual(Round(F("small_group_committed"), 2),
                                          Round(small_group_limit_expression(), 2)),
            ),
        ]

    def __str__(self):
        return f"{self.community} {self.year}"

    @property
    def balance_to_carry(self):
        """What closing the year carries over: available + reserved (see `balance_to_carry_expression`)."""
        return self.total - self.settled - self.carried_out

    @property
    def small_group_limit(self):
        """20% of the total plus small-group reservations carried in (`small_group_limit_expression`)."""
        return self.small_group_limit_with_total(self.total)

    def small_group_limit_with_total(self, total):
        """The small-group ceiling were the year's total `total` (a reversal lowers it)."""
        return (total * SMALL_GROUP_SHARE).quantize(Decimal("0.01")) + self.small_group_carried

    @property
    def small_group_room(self):
        return self.small_group_limit - self.small_group_committed

    @property
    def is_closed(self):
        return self.status == self.Status.CLOSED

    @property
    def is_closing(self):
        return self.status == self.Status.CLOSING

    @property
    def takes_new_work(self):
        """Open: new proposals and allocations may be attached to the year (not once its close has begun)."""
        return self.status == self.Status.OPEN


class LedgerEntry(models.Model):
    """One line of the 党组织服务群众专项经费 account. Never edited or deleted: corrected by a reversal."""

    class Kind(models.TextChoices):
        ALLOCATION = "allocation", _("年度拨款")
        CARRY_IN = "carry_in", _("上年结转")
        EXPENDITURE = "expenditure", _("支出")
        CARRY_OUT = "carry_out", _("结转下年")
        REVERSAL = "reversal", _("冲销")

    fund_year = models.ForeignKey(
        FundYear, on_delete=models.PROTECT, related_name="entries", verbose_name=_("年度经费")
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(_("金额"), **MONEY)
    entry_date = models.DateField(_("记账日期"))
    description = models.CharField(_("摘要"), max_length=200)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by",
        verbose_name=_("冲销的分录"),
    )
    # What the entry pays for, e.g. "approvals.settlement:12"; kept as text so the ledger app stays
    # independent of the workflow's models.
    source = models.CharField(_("来源"), max_length=80, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("记账人"),
    )
    created_at = models.DateTimeField(_("记账时间"), auto_now_add=True)

    class Meta:
        ordering = ["entry_date", "pk"]
        verbose_name = _("分录")
        verbose_name_plural = _("分录")
        constraints = [
            models.CheckConstraint(name="ledger_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="ledger_reversal_has_target",
                condition=Q(kind="reversal", reverses__isnull=False) | (~Q(kind="reversal") & Q(reverses__isnull=True)),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"
