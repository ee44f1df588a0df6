"""Writes to a community's fund: allocations (and, with the approval chain, everything else)."""
import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record

from .. import clock, rights
from ..errors import DomainError, NotAllowed
from ..i18n import record_language
from ..models import FundYear, LedgerEntry
from ..money import format_yuan, parse_amount


def fund_year_for_update(*, community, year):
    """The community's fund year, created if new, locked for the rest of the transaction."""
    FundYear.objects.get_or_create(community=community, year=year)
    return FundYear.objects.select_for_update().get(community=community, year=year)


def fund_year_closed_error(community, year):
    """The message refusing entries in a closed year, or "" (the rule the services enforce)."""
    if FundYear.objects.filter(community=community, year=year, status=FundYear.Status.CLOSED).exists():
        return _("%(year)s年度已结转，不能再记账。") % {"year": year}
    return ""


@transaction.atomic
def fund_year_allocate(*, community, year, amount, entry_date, by=None):
    """Record the city's allocation for a community's year (Art. 5)."""
    post = None
    if by is not None:
        decision = rights.check(by, "manage_fund", community)
        if not decision:
            raise NotAllowed(decision.reason)
        post = decision.post
    amount = parse_amount(amount)
    fund_year = fund_year_for_update(community=community, year=year)
    if fund_year.is_closed:
        raise DomainError(fund_year_closed_error(community, year))
    before = {"allocated": fund_year.allocated}
    with record_language():
        description = _("%(year)s年度专项经费拨款") % {"year": year}
    entry = LedgerEntry.objects.create(
        fund_year=fund_year, kind=LedgerEntry.Kind.ALLOCATION, amount=amount, entry_date=entry_date,
        description=description, created_by=by,
    )
    fund_year.allocated += amount
    fund_year.save(update_fields=["allocated"])
    audit_record(
        actor=by, post=post, action="fund.allocate", target=entry, community_id=community.pk,
        before=before, after={"allocated": fund_year.allocated, "amount": amount}, effective_on=entry_date,
    )
    return entry


# The approval chain moves money through these, always on a FundYear locked by fund_year_for_update().
# The CheckConstraints on FundYear are the backstop: a bug here fails the transaction, it cannot
# make the balance negative or breach the small-group cap.

def fund_year_reserve(fund_year, amount, *, small_group):
    if fund_year.is_closed:
        raise DomainError(_("%(year)s年度已结转，不能再批准或追加预算。") % {"year": fund_year.year})
    fund_year.reserved += amount
    if small_group:
        fund_year.small_group_committed += amount
    fund_year.save(update_fields=["reserved", "small_group_committed"])


def fund_year_release(fund_year, amount, *, small_group, by=None):
    fund_year.reserved -= amount
    if small_group:
        fund_year.small_group_committed -= amount
    fund_year.save(update_fields=["reserved", "small_group_committed"])
    if fund_year.is_closed:
        # A closed year keeps nothing available: money released after the close follows the carry-over.
        _carry_forward(fund_year, amount, by=by, entry_date=clock.today())


def fund_year_spend(fund_year, amount, *, by, entry_date, description, source):
    """Turn reserved money into an expenditure entry (a settlement or voucher payment).

    Allowed in a closed year too: it pays a project approved in that year out of its own reservation,
    so the year's available money (carried over at the close) does not change.
    """
    entry = LedgerEntry.objects.create(
        fund_year=fund_year, kind=LedgerEntry.Kind.EXPENDITURE, amount=amount, entry_date=entry_date,
        description=description, source=source, created_by=by,
    )
    fund_year.reserved -= amount
    fund_year.settled += amount
    fund_year.save(update_fields=["reserved", "settled"])
    return entry


@transaction.atomic
def ledger_entry_reverse(*, entry, reason, entry_date, by=None):
    """Correct a wrong allocation by a reversing entry; the original stays in the ledger, reversed once."""
    if not str(reason).strip():
        raise DomainError(_("请填写冲销理由。"))
    entry = LedgerEntry.objects.select_related("fund_year__community").get(pk=entry.pk)
    community = entry.fund_year.community
    post = None
    if by is not None:
        decision = rights.check(by, "manage_fund", community)
        if not decision:
            raise NotAllowed(decision.reason)
        post = decision.post
    if entry.kind != LedgerEntry.Kind.ALLOCATION:
        raise DomainError(_("只有拨款分录可以在此冲销；支出的更正请通过结算办理。"))
    fund_year = fund_year_for_update(community=community, year=entry.fund_year.year)
    if fund_year.is_closed:
        raise DomainError(fund_year_closed_error(community, fund_year.year))
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise DomainError(_("该分录已经冲销过。"))
    if entry.amount > fund_year.available:
        raise DomainError(_("冲销后可用经费将为负数（可用 %(available)s），请先处理已预留或已结算的项目。")
                          % {"available": format_yuan(fund_year.available)})
    with record_language():
        description = _("冲销：%(description)s（%(reason)s）") % {"description": entry.description, "reason": reason}
    reversal = LedgerEntry.objects.create(
        fund_year=fund_year, kind=LedgerEntry.Kind.REVERSAL, amount=entry.amount, entry_date=entry_date,
        description=description[:200], reverses=entry, created_by=by,
    )
    before = {"allocated": fund_year.allocated}
    fund_year.allocated -= entry.amount
    fund_year.save(update_fields=["allocated"])
    audit_record(actor=by, post=post, action="ledger.reverse", target=reversal, community_id=community.pk,
                 before=before, after={"allocated": fund_year.allocated, "reverses": entry.pk}, note=reason,
                 effective_on=entry_date)
    return reversal


def _carry_forward(fund_year, amount, *, by, entry_date):
    """Move `amount` of a closing (or closed) year's available money into the next year, on both sides."""
    if amount <= 0:
        return None
    next_year = fund_year_for_update(community=fund_year.community, year=fund_year.year + 1)
    if next_year.is_closed:
        raise DomainError(_("%(year)s年度已结转，无法接收上年结余。") % {"year": next_year.year})
    source = f"close:{fund_year.year}"
    with record_language():
        out_text = _("结转至%(year)s年度") % {"year": next_year.year}
        in_text = _("%(year)s年度结余结转") % {"year": fund_year.year}
    LedgerEntry.objects.create(fund_year=fund_year, kind=LedgerEntry.Kind.CARRY_OUT, amount=amount,
                               entry_date=entry_date, description=out_text, source=source, created_by=by)
    carry_in = LedgerEntry.objects.create(fund_year=next_year, kind=LedgerEntry.Kind.CARRY_IN, amount=amount,
                                          entry_date=entry_date, description=in_text, source=source,
                                          created_by=by)
    fund_year.carried_out += amount
    fund_year.save(update_fields=["carried_out"])
    next_year.carried_in += amount
    next_year.save(update_fields=["carried_in"])
    return carry_in


@transaction.atomic
def fund_year_close(*, community, year, by=None):
    """Close a community's year (Art. 13): carry what is unspent and unreserved into the next year, move
    proposals not yet approved to the next year, and lock the year against new allocations and
    commitments. Closing a closed year does nothing, so a re-run (or a run after a crash) never carries
    twice. Returns the carried amount, or None if the year was already closed."""
    from approvals.models import Proposal
    from approvals.workflow import RESERVING, TERMINAL

    post = None
    if by is not None:
        decision = rights.check(by, "manage_fund", community)
        if not decision:
            raise NotAllowed(decision.reason)
        post = decision.post
    fund_year = fund_year_for_update(community=community, year=year)
    if fund_year.is_closed:
        return None
    if year >= clock.today().year:
        raise DomainError(_("%(year)s年度尚未结束，不能结转。") % {"year": year})
    # Proposals still on their way to approval go on in the next year; their money was never committed.
    pending = Proposal.objects.select_for_update().filter(fund_year=fund_year).exclude(
        state__in=[*RESERVING, *TERMINAL, "settled", "completion_notice"])
    moved = list(pending.values_list("pk", flat=True))
    amount = fund_year.available
    entry_date = clock.today()
    _carry_forward(fund_year, amount, by=by, entry_date=entry_date)
    if moved:
        next_year = fund_year_for_update(community=community, year=year + 1)
        Proposal.objects.filter(pk__in=moved).update(fund_year=next_year)
    fund_year.status = FundYear.Status.CLOSED
    fund_year.closed_at = clock.now()
    fund_year.save(update_fields=["status", "closed_at"])
    audit_record(actor=by, post=post, action="fund.close_year", target=fund_year, community_id=community.pk,
                 after={"year": year, "carried": amount, "moved_proposals": moved,
                        "reserved_stays": fund_year.reserved},
                 effective_on=datetime.date(year, 12, 31))
    return amount


def fund_years_close(*, year, by=None):
    """Close `year` for every community, each in its own transaction; re-runnable after a failure."""
    from ..models import Community

    results = {"closed": 0, "already": 0, "failed": []}
    for community in Community.objects.order_by("pk").iterator():
        try:
            carried = fund_year_close(community=community, year=year, by=by)
        except DomainError as exc:
            results["failed"].append((community.code, str(exc)))
            continue
        results["closed" if carried is not None else "already"] += 1
    return results
