"""Writes to a community's fund: allocations, and the money moves of the approval chain and the year close
(the ledger primitives; the close itself, which moves the chain's proposals, is `approvals.year_close`).

Every ledger entry goes through `ledger_entry_add`, which keeps the ledger in order in time (SPEC §2, §9,
Art. 13): an entry's date lies inside its fund year (1 January–31 December); an allocation, expenditure or
reversal is not dated after today; a closed year takes no entries at all; a reversal is not dated before
the entry it reverses; and the fund year's running balance in date order — inflows (allocation, carry_in)
minus outflows (expenditure, carry_out, reversal), all entries of a day together — never goes below zero at
the end of any day. The triggers of migration fundapp 0005 hold the same rules in the database.
"""
import datetime

from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from audit.services import audit_record, audit_records

from .. import clock, rights
from ..db import retry_on_conflict
from ..errors import DomainError, NotAllowed
from ..i18n import record_language
from ..models import FundYear, LedgerEntry, Role
from ..models.funds import ZERO
from ..amounts import format_yuan, parse_amount

KIND = LedgerEntry.Kind
INFLOWS = frozenset({KIND.ALLOCATION, KIND.CARRY_IN})
# Entries a person dates: never ahead of today. Carry entries are dated at the fund-year boundary.
NOT_AFTER_TODAY = frozenset({KIND.ALLOCATION, KIND.EXPENDITURE, KIND.REVERSAL})


def fund_year_for_update(*, community, year):
    """The community's fund year, created if new, locked (FOR UPDATE, that row only) for the rest of the
    transaction. In the one lock order it comes after the proposal and its invoices."""
    FundYear.objects.get_or_create(community=community, year=year)
    return FundYear.objects.select_for_update(of=("self",)).get(community=community, year=year)


def fund_year_for_share(*, community, year):
    """The community's fund year (None if it has none), share-locked (FOR SHARE) for the rest of the
    transaction: taken by whatever attaches something new to a year (a proposal), so that it either commits
    before a year close marks the year closing (and the close then sees and carries it), or waits for that
    mark and reads it (and refuses). Share locks do not wait for each other: drafts do not queue up. Takes no
    other lock, so it cannot close a cycle with the proposal → fund year order. (SQLite: a plain read —
    its writers are serialised anyway.)"""
    if connection.features.has_select_for_update:
        table = connection.ops.quote_name(FundYear._meta.db_table)
        rows = list(FundYear.objects.raw(f"SELECT * FROM {table} WHERE community_id = %s AND year = %s FOR SHARE",
                                         [community.pk, year]))
        return rows[0] if rows else None
    return FundYear.objects.filter(community=community, year=year).first()


def fund_year_new_work_error(fund_year, *, what):
    """Why nothing new (`what`: "proposal" or "entry") may be attached to `fund_year`, or "": its close has
    begun (closing) or is done (closed). The year to use instead is named."""
    values = {"year": fund_year.year, "next": fund_year.year + 1}
    if fund_year.is_closed:
        if what == "proposal":
            return _("%(year)s年度已结转，不能再在该年度新建项目；请在%(next)s年度新建。") % values
        return _("%(year)s年度已结转，不能再记账。") % values
    if fund_year.is_closing:
        if what == "proposal":
            return _("%(year)s年度正在结转，不能再在该年度新建项目；请在%(next)s年度新建。") % values
        return _("%(year)s年度正在结转，不能再记账。") % values
    return ""


def fund_year_closed_error(community, year):
    """The message refusing entries in a year whose close has begun or is done, or "" (the rule the
    services enforce; the back office's allocation form asks it first)."""
    fund_year = FundYear.objects.filter(community=community, year=year).first()
    return fund_year_new_work_error(fund_year, what="entry") if fund_year is not None else ""


# ---- the one way into the ledger ---------------------------------------------------------------------

def _as_date(value):
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise DomainError(_("请填写有效的记账日期。"))
    return value


def _balance_shortfall(fund_year, kind, amount, entry_date):
    """(day, balance) of the first day whose end-of-day running balance would be negative once this entry
    is added, or None. Only outflows can make a balance negative, and only from their own date on."""
    if kind in INFLOWS:
        return None
    rows = LedgerEntry.objects.filter(fund_year=fund_year).values_list("entry_date", "kind", "amount")
    net = {}
    for day, row_kind, row_amount in [*rows, (entry_date, kind, amount)]:
        net[day] = net.get(day, ZERO) + (row_amount if row_kind in INFLOWS else -row_amount)
    balance = ZERO
    for day in sorted(net):
        balance += net[day]
        if day >= entry_date and balance < 0:
            return day, balance
    return None


def ledger_date_error(fund_year, kind, amount, entry_date, *, reverses=None):
    """Why an entry of `kind` dated `entry_date` may not go into `fund_year`'s ledger, or "" (no query is
    made for a date that fails the simple rules)."""
    year = fund_year.year
    if fund_year.is_closed:
        return _("%(year)s年度已结转，不再记账（第十三条）。") % {"year": year}
    if entry_date.year != year:
        return (_("记账日期 %(date)s 不在%(year)s年度内（%(year)s年1月1日至12月31日）；每笔分录须记在其所属年度内（第十三条）。")
                % {"date": entry_date.isoformat(), "year": year})
    today = clock.today()
    if kind in NOT_AFTER_TODAY and entry_date > today:
        return (_("记账日期 %(date)s 晚于今天（%(today)s），不能预先记账。")
                % {"date": entry_date.isoformat(), "today": today.isoformat()})
    if reverses is not None and entry_date < reverses.entry_date:
        return (_("冲销日期 %(date)s 早于被冲销分录的记账日期 %(original)s。")
                % {"date": entry_date.isoformat(), "original": reverses.entry_date.isoformat()})
    shortfall = _balance_shortfall(fund_year, kind, amount, entry_date)
    if shortfall:
        day, balance = shortfall
        return (_("按日期顺序，%(date)s 的余额将为负数（%(balance)s）：该日期之前的拨款或结转不足以支付这笔款项。")
                % {"date": day.isoformat(), "balance": format_yuan(balance)})
    return ""


def ledger_entry_add(fund_year, kind, amount, entry_date, *, description, by=None, source="", reverses=None):
    """Append one entry to a locked fund year's ledger after checking the time rules (module docstring).
    The caller updates the FundYear running totals in the same transaction."""
    entry_date = _as_date(entry_date)
    error = ledger_date_error(fund_year, kind, amount, entry_date, reverses=reverses)
    if error:
        raise DomainError(error)
    return LedgerEntry.objects.create(fund_year=fund_year, kind=kind, amount=amount, entry_date=entry_date,
                                      description=description[:200], source=source, reverses=reverses,
                                      created_by=by)


# ---- allocations and their corrections -----------------------------------------------------------------

def fund_manager_post(by, community):
    """The post in which `by` manages the community's fund (allocations, reversals, the year close), None
    for a system act (`by` None); NotAllowed for anyone else."""
    if by is None:
        return None
    decision = rights.check(by, "manage_fund", community)
    if not decision:
        raise NotAllowed(decision.reason)
    return decision.post


@retry_on_conflict
@transaction.atomic
def fund_year_allocate(*, community, year, amount, entry_date, by=None):
    """Record the city's allocation for a community's year (Art. 5), dated inside the year, not after today."""
    post = fund_manager_post(by, community)
    amount = parse_amount(amount)
    fund_year = fund_year_for_update(community=community, year=year)
    if not fund_year.takes_new_work:
        raise DomainError(fund_year_new_work_error(fund_year, what="entry"))
    before = {"allocated": fund_year.allocated}
    with record_language():
        description = _("%(year)s年度专项经费拨款") % {"year": year}
    entry = ledger_entry_add(fund_year, KIND.ALLOCATION, amount, entry_date, description=description, by=by)
    fund_year.allocated += amount
    fund_year.save(update_fields=["allocated"])
    audit_record(
        actor=by, post=post, action="fund.allocate", target=entry, community_id=community.pk,
        before=before, after={"allocated": fund_year.allocated, "amount": amount}, effective_on=entry_date,
    )
    return entry


def fund_years_for_update(*, community_ids, year):
    """Many communities' fund years for `year` ({community id: fund year}), created where new, locked (FOR
    UPDATE, those rows only) in the order of their ids — the one order, so two such acts queue rather than
    deadlock. A missing year is inserted with ON CONFLICT DO NOTHING (a concurrent act inserting the same
    one waits for it)."""
    ids = sorted(set(community_ids))
    FundYear.objects.bulk_create([FundYear(community_id=c, year=year) for c in ids], ignore_conflicts=True,
                                 batch_size=1000)
    locked = FundYear.objects.select_for_update(of=("self",)).filter(year=year, community_id__in=ids)
    return {fy.community_id: fy for fy in locked.order_by("pk")}


def fund_years_allocate(*, fund_years, amounts, year, entry_date, by, post):
    """Record the city's allocation for many communities' locked fund years at once (Art. 5): the rules of
    `fund_year_allocate` for each — the year open, the entry dated inside it and not after today — then one
    ledger entry and one `fund.allocate` audit record per community, written in bulk. `amounts`: {community
    id: Decimal}. The caller holds the transaction and the locks (`fund_years_for_update`) and has decided
    which communities are due. Returns the entries."""
    entry_date = _as_date(entry_date)
    with record_language():
        description = _("%(year)s年度专项经费拨款") % {"year": year}
    entries, audited = [], []
    for community_id, amount in amounts.items():
        fund_year = fund_years[community_id]
        if not fund_year.takes_new_work:
            raise DomainError(fund_year_new_work_error(fund_year, what="entry"))
        error = ledger_date_error(fund_year, KIND.ALLOCATION, amount, entry_date)
        if error:
            raise DomainError(error)
        entries.append(LedgerEntry(fund_year=fund_year, kind=KIND.ALLOCATION, amount=amount, entry_date=entry_date,
                                   description=description[:200], created_by=by))
    LedgerEntry.objects.bulk_create(entries, batch_size=1000)
    for entry in entries:
        fund_year = entry.fund_year
        before = {"allocated": fund_year.allocated}
        fund_year.allocated += entry.amount
        audited.append({"actor": by, "post": post, "action": "fund.allocate", "effective_on": entry_date,
                        "target": entry, "community_id": fund_year.community_id, "before": before,
                        "after": {"allocated": fund_year.allocated, "amount": entry.amount}})
    # One UPDATE per distinct amount (Art. 5: usually one), a thousand rows at a time; the rows are locked.
    by_amount = {}
    for entry in entries:
        by_amount.setdefault(entry.amount, []).append(entry.fund_year.pk)
    for amount, ids in by_amount.items():
        for start in range(0, len(ids), 1000):
            FundYear.objects.filter(pk__in=ids[start:start + 1000]).update(allocated=F("allocated") + amount)
    audit_records(audited)
    return entries


# Who corrects a community's ledger by a reversing entry: the finance officer who keeps its separate account
# (Art. 17), and the city administrator who manages the fund and records its allocations — (permission, roles).
LEDGER_KEEPERS = (("settle_invoice", frozenset({Role.FINANCE_OFFICER})), ("manage_fund", frozenset({Role.CITY_ADMIN})))


def ledger_keeper_post(by, community):
    """The post in which `by` corrects the community's ledger (LEDGER_KEEPERS), None for a system act (`by`
    None); NotAllowed for anyone else."""
    if by is None:
        return None
    refusal = None
    for codename, roles in LEDGER_KEEPERS:
        decision = rights.check(by, codename, community, roles=roles)
        if decision:
            return decision.post
        refusal = refusal or decision
    raise NotAllowed(refusal.reason)


def reversal_refusal(entry, fund_year, *, reversed_ids=None):
    """Why `entry` cannot be reversed now, whatever reason and date are entered, or "": only an allocation,
    once, in an open year, and not more than the year's available money. `reversed_ids` (the ids of the
    year's reversed entries) spares a query per entry on a ledger page."""
    if entry.kind != KIND.ALLOCATION:
        return _("只有拨款分录可以在此冲销；支出的更正请通过结算办理。")
    if not fund_year.takes_new_work:
        return fund_year_new_work_error(fund_year, what="entry")
    reversed_already = (entry.pk in reversed_ids if reversed_ids is not None
                        else LedgerEntry.objects.filter(reverses=entry).exists())
    if reversed_already:
        return _("该分录已经冲销过。")
    if entry.amount > fund_year.available:
        return (_("冲销后可用经费将为负数（可用 %(available)s），请先处理已预留或已结算的项目。")
                % {"available": format_yuan(fund_year.available)})
    limit_after = fund_year.small_group_limit_with_total(fund_year.total - entry.amount)
    if fund_year.small_group_committed > limit_after:
        # Art. 7(2): the small groups' 20% is of the year's total, so taking money out lowers their ceiling.
        return (_("冲销后受益群体较小的项目合计将超过年度经费总额的20%%（上限 %(limit)s，已占用 %(committed)s，"
                  "第七条），请先处理这些项目的预留。")
                % {"committed": format_yuan(fund_year.small_group_committed), "limit": format_yuan(limit_after)})
    return ""


def ledger_entry_reverse_check(*, entry, by):
    """The dry run of `ledger_entry_reverse` before a reason and a date are entered, as the finance pages
    offer it: NotAllowed if `by` does not keep this ledger; else why the entry cannot be reversed, or ""."""
    ledger_keeper_post(by, entry.fund_year.community)
    return reversal_refusal(entry, entry.fund_year)


def reversible_entries(*, fund_year, by):
    """The ids of `fund_year`'s entries `by` may reverse now (the ledger page's "reverse" links): two queries."""
    try:
        ledger_keeper_post(by, fund_year.community)
    except NotAllowed:
        return set()
    entries = list(fund_year.entries.all())
    reversed_ids = {e.reverses_id for e in entries if e.reverses_id}
    return {e.pk for e in entries if not reversal_refusal(e, fund_year, reversed_ids=reversed_ids)}


@retry_on_conflict
@transaction.atomic
def ledger_entry_reverse(*, entry, reason, entry_date, by=None):
    """Correct a wrong allocation by a reversing entry; the original stays in the ledger, reversed once.
    The reversal is dated in the same year, not before the entry, not after today, and may not leave the
    year's running balance negative on any day from its date on. By the community's finance officer or the
    city administrator (LEDGER_KEEPERS)."""
    if not str(reason).strip():
        raise DomainError(_("请填写冲销理由。"))
    entry = LedgerEntry.objects.select_related("fund_year__community").get(pk=entry.pk)
    community = entry.fund_year.community
    post = ledger_keeper_post(by, community)
    fund_year = fund_year_for_update(community=community, year=entry.fund_year.year)
    refusal = reversal_refusal(entry, fund_year)
    if refusal:
        raise DomainError(refusal)
    with record_language():
        description = _("冲销：%(description)s（%(reason)s）") % {"description": entry.description, "reason": reason}
    reversal = ledger_entry_add(fund_year, KIND.REVERSAL, entry.amount, entry_date, description=description,
                                 by=by, reverses=entry)
    before = {"allocated": fund_year.allocated}
    fund_year.allocated -= entry.amount
    fund_year.save(update_fields=["allocated"])
    audit_record(actor=by, post=post, action="ledger.reverse", target=reversal, community_id=community.pk,
                 before=before, after={"allocated": fund_year.allocated, "reverses": entry.pk}, note=reason,
                 effective_on=entry_date)
    return reversal


# ---- the approval chain's money ----------------------------------------------------------------------
# The approval chain moves money through these, always on a FundYear locked by fund_year_for_update().
# The CheckConstraints on FundYear and the ledger triggers are the backstop: a bug here fails the
# transaction, it cannot make a balance negative, date an entry outside its year or breach the cap.

def fund_year_reserve(fund_year, amount, *, small_group):
    if fund_year.is_closed:
        raise DomainError(_("%(year)s年度已结转，不能再批准或追加预算。") % {"year": fund_year.year})
    fund_year.reserved += amount
    if small_group:
        fund_year.small_group_committed += amount
    fund_year.save(update_fields=["reserved", "small_group_committed"])


def fund_year_release(fund_year, amount, *, small_group, carried_share=ZERO, by=None):
    """Give back `amount` of a reservation (finished under budget, withdrawn, budget cut). For a
    small-group project carried in at a year close, the release reduces the year's `small_group_carried`
    first, up to the project's own `carried_share`, so it never adds to the year's own 20% room (Art. 7(2)).
    Returns the part of the carried share released: the caller deducts it from the proposal's."""
    if fund_year.is_closed:
        # The close moves every reservation to the next year: a closed year has none to give back.
        raise DomainError(_("%(year)s年度已结转，不再记账（第十三条）。") % {"year": fund_year.year})
    fund_year.reserved -= amount
    released_carried = ZERO
    if small_group:
        fund_year.small_group_committed -= amount
        released_carried = min(amount, carried_share, fund_year.small_group_carried)
        fund_year.small_group_carried -= released_carried
    fund_year.save(update_fields=["reserved", "small_group_committed", "small_group_carried"])
    return released_carried


def payment_date_error(fund_year, paid_on):
    """Why a payment dated `paid_on` cannot be booked in `fund_year` (the proposal's), saying where it
    must go, or "" (Art. 13: a payment lies within an open fund year)."""
    paid_on = _as_date(paid_on)
    year = fund_year.year
    values = {"date": paid_on.isoformat(), "year": year, "next": year + 1, "prev": year - 1}
    if fund_year.is_closed:
        return _("%(year)s年度已结转，不再记账（第十三条）；付款不能记入%(year)s年度。") % values
    if paid_on.year > year:
        return _("付款日期 %(date)s 不在%(year)s年度内；%(year)s年度的支出须在当年记账（第十三条）。"
                 "跨年度的付款须待%(year)s年度结转、项目随之转入%(next)s年度后，记入%(next)s年度。") % values
    if paid_on.year < year:
        previous = FundYear.objects.filter(community_id=fund_year.community_id, year=paid_on.year).first()
        if previous is not None and previous.is_closed:
            return _("付款日期 %(date)s 不在%(year)s年度内：%(date)s 所在年度已结转，不再记账（第十三条）；"
                     "本项目的款项记入%(year)s年度，付款日期须在%(year)s年内。") % values
        return _("付款日期 %(date)s 不在%(year)s年度内；本项目的款项记入%(year)s年度，付款日期须在%(year)s年内（第十三条）。") % values
    return ""


def fund_year_spend(fund_year, amount, *, by, entry_date, description, source):
    """Turn reserved money into an expenditure entry (a settlement or voucher payment).

    The payment date lies within the project's fund year, which is open (Art. 13): a closed year takes no
    entries — its unfinished projects went to the next year at the close, and are paid there. It is not
    after today, and the year's running balance in date order stays ≥ 0 (no payment before the allocation
    or carry-over that funds it).
    """
    error = payment_date_error(fund_year, entry_date)
    if error:
        raise DomainError(error)
    entry = ledger_entry_add(fund_year, KIND.EXPENDITURE, amount, entry_date, description=description, by=by,
                              source=source)
    fund_year.reserved -= amount
    fund_year.settled += amount
    fund_year.save(update_fields=["reserved", "settled"])
    return entry
