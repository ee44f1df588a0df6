"""The year close (Art. 13): a community's year is closed, what is not yet paid carried into the next year,
and the year's unfinished proposals moved there with their reservations, each with its own audit record.

It moves the chain's rows (proposals), so it belongs to the chain, above the ledger primitives it uses
(`fundapp.services.ledger`: `fund_year_for_update`, `ledger_entry_add`), which import nothing from here.
Lock order, as everywhere (docs/architecture.md): the year's proposals, then the closing fund year, then
the next one — after the year has been marked closing in a short transaction of its own, so that no new
proposal can join the year while it closes (see `fund_year_close`).
"""
import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from audit.services import audit_record
from fundapp import clock
from fundapp.db import retry_on_conflict
from fundapp.errors import DomainError
from fundapp.i18n import record_language
from fundapp.models import Community, FundYear
from fundapp.models.funds import ZERO
from fundapp.amounts import format_yuan
from fundapp.services.ledger import KIND, ledger_entry_add, fund_manager_post, fund_year_for_update

from .models import FINISHED, Proposal


def _moving_filter(prefix=""):
    """Proposals that move on at the close: all but the finished ones (models.FINISHED)."""
    return ~Q(**{f"{prefix}state__in": list(FINISHED)})


@retry_on_conflict
def fund_year_close(*, community, year, by=None):
    """Close a community's year (Art. 13). A closed year takes no entries at all, so everything not yet
    paid goes to the next year:

    - carry-out of the balance to carry (available + reserved = total − settled − carried out), dated
      31 December of the closing year — written while the year is still open —, and a carry-in of the
      same amount dated 1 January of the next year;
    - every proposal of the year that is not finished (all but completed, rejected, withdrawn, settled,
      completion notice) moves to the next fund year with its reservation (the next year's `reserved`
      grows by it), each with its own audit record "proposal.carried_over";
    - small-group reservations moved count in the next year's `small_group_carried`, not its own 20%
      (they were capped in the closing year; the proposal keeps its carried share so a later release
      reduces the carried figure);
    - the year is marked closed, with reserved = available = 0.

    For every community, allocations ever made = settled + reserved + available at every moment.

    Two transactions, and the locks in the one documented order (docs/architecture.md):

    1. `_mark_closing`: the year is marked closing (an UPDATE of its fund-year row, nothing else locked)
       and committed. From then on nothing new is attached to the year: `proposal_create` and the
       allocations read the mark under a lock of the same row (FOR SHARE / FOR UPDATE) and refuse; a draft
       that held its share lock first has committed before the mark, so the close sees it in step 2.
    2. `_close`: the year's unfinished proposals (FOR UPDATE of those rows only, by id), then the closing
       fund year, then the next one — the order of every act of the chain (a proposal, its invoices, its
       fund year), so an approval, a settlement or a payment of the year's proposals either finishes before
       the close locks its proposal (and the close carries the result) or waits for the close and then
       runs on the moved proposal, in the next year (a payment dated in the closed year is then refused
       with the reason). Nothing can be stranded in the closed year: no proposal can join it after step 1.

    Called outside any transaction (the 1 January task, `close_year`, the batch item), a deadlock or
    serialization failure that PostgreSQL still reports runs the whole close again (`retry_on_conflict`);
    called inside a caller's transaction (tests), both steps are that transaction. Closing a closed year
    does nothing, so a re-run (or a run after a crash) never carries twice; a close that failed leaves the
    year closing — it takes nothing new — until a re-run finishes it. Returns the carried amount, or None
    if the year was already closed."""
    post = fund_manager_post(by, community)
    if year >= clock.today().year:
        if FundYear.objects.filter(community=community, year=year, status=FundYear.Status.CLOSED).exists():
            return None
        raise DomainError(_("%(year)s年度尚未结束，不能结转。") % {"year": year})
    _refuse_before_marking(community, year)
    _mark_closing(community, year)
    return _close(community, year, by, post)


def _refuse_before_marking(community, year):
    """A close the next year cannot take (already closed, or closing) is refused before step 1 writes
    anything: a refusal leaves no trace, not even an empty fund year marked closing. `_close` checks the same
    again under its locks (the next year may close meanwhile)."""
    if FundYear.objects.filter(community=community, year=year, status=FundYear.Status.CLOSED).exists():
        return
    status = FundYear.objects.filter(community=community, year=year + 1).values_list("status", flat=True).first()
    if status == FundYear.Status.CLOSED:
        raise DomainError(_("%(year)s年度已结转，无法接收上年结余。") % {"year": year + 1})
    if status == FundYear.Status.CLOSING:
        raise DomainError(_("%(year)s年度正在结转，无法接收上年结余。") % {"year": year + 1})


def _mark_closing(community, year):
    """Step 1 of the close: the year's fund-year row (created empty if the community has none) is marked
    closing, in a transaction of its own when the close is the outermost one. Locks that row only, and
    holds nothing else while it waits for it."""
    with transaction.atomic():
        FundYear.objects.get_or_create(community=community, year=year)
        FundYear.objects.filter(community=community, year=year, status=FundYear.Status.OPEN).update(
            status=FundYear.Status.CLOSING)


@transaction.atomic
def _close(community, year, by, post):
    """Step 2 of the close (see fund_year_close): proposals, then the closing fund year, then the next."""
    fund_year_id = FundYear.objects.filter(community=community, year=year).values_list("pk", flat=True).get()
    moving = list(Proposal.objects.select_for_update(of=("self",))
                  .filter(_moving_filter(), fund_year_id=fund_year_id).order_by("pk"))
    fund_year = fund_year_for_update(community=community, year=year)
    if fund_year.is_closed:
        return None
    next_year = fund_year_for_update(community=community, year=year + 1)
    if next_year.is_closed:
        raise DomainError(_("%(year)s年度已结转，无法接收上年结余。") % {"year": next_year.year})
    if next_year.is_closing:
        raise DomainError(_("%(year)s年度正在结转，无法接收上年结余。") % {"year": next_year.year})
    reserved = sum((p.reserved_amount for p in moving), ZERO)
    if reserved != fund_year.reserved:
        raise DomainError(_("%(year)s年度已预留 %(reserved)s，与各项目预留合计 %(projects)s 不符，请先核对账目再结转。")
                          % {"year": year, "reserved": format_yuan(fund_year.reserved),
                             "projects": format_yuan(reserved)})
    small = sum((p.reserved_amount for p in moving if p.is_small_group), ZERO)
    available = fund_year.available
    amount = fund_year.balance_to_carry
    if amount > 0:
        source = f"close:{year}"
        with record_language():
            out_text = _("结转至%(year)s年度") % {"year": year + 1}
            in_text = _("%(year)s年度结余结转") % {"year": year}
        # Written while the closing year is open: a closed year takes no entries (Art. 13, the triggers).
        ledger_entry_add(fund_year, KIND.CARRY_OUT, amount, datetime.date(year, 12, 31), description=out_text,
                          by=by, source=source)
        ledger_entry_add(next_year, KIND.CARRY_IN, amount, datetime.date(year + 1, 1, 1), description=in_text,
                          by=by, source=source)
    fund_year.carried_out += amount
    fund_year.reserved -= reserved
    fund_year.small_group_committed -= small
    fund_year.status = FundYear.Status.CLOSED
    fund_year.closed_at = clock.now()
    fund_year.save(update_fields=["carried_out", "reserved", "small_group_committed", "status", "closed_at"])
    next_year.carried_in += amount
    next_year.reserved += reserved
    next_year.small_group_committed += small
    next_year.small_group_carried += small
    next_year.save(update_fields=["carried_in", "reserved", "small_group_committed", "small_group_carried"])
    for p in moving:
        before = {"fund_year": year, "reserved_amount": p.reserved_amount, "small_group_carried": p.small_group_carried}
        p.fund_year = next_year
        p.small_group_carried = p.reserved_amount if p.is_small_group else ZERO
        p.save(update_fields=["fund_year", "small_group_carried", "updated_at"])
        audit_record(actor=by, post=post, action="proposal.carried_over", target=p, community_id=community.pk,
                     before=before, after={"fund_year": year + 1, "state": p.state,
                                           "reserved_amount": p.reserved_amount,
                                           "small_group_carried": p.small_group_carried},
                     effective_on=datetime.date(year + 1, 1, 1))
    audit_record(actor=by, post=post, action="fund.close_year", target=fund_year, community_id=community.pk,
                 after={"year": year, "carried": amount, "available": available, "reserved_carried": reserved,
                        "small_group_carried": small, "moved_proposals": [p.pk for p in moving]},
                 effective_on=datetime.date(year, 12, 31))
    return amount


def fund_years_close(*, year, by=None):
    """Close `year` for every community, each in its own transaction; re-runnable after a failure."""
    results = {"closed": 0, "already": 0, "failed": []}
    for community in Community.objects.order_by("pk").iterator():
        try:
            carried = fund_year_close(community=community, year=year, by=by)
        except DomainError as exc:
            results["failed"].append((community.code, str(exc)))
            continue
        results["closed" if carried is not None else "already"] += 1
    return results


@dataclass(frozen=True)
class ClosePreview:
    """What `fund_year_close` would do for one community's year (or did, if `closed`)."""

    community: Community
    fund_year: FundYear | None  # None: the community has no fund year that year (closing creates it empty)
    closed: bool
    available: Decimal
    reserved: Decimal
    to_carry: Decimal  # available + reserved: the carry-out / carry-in amount (0 once closed)
    moving: int  # proposals that move to the next year
    moving_reserved: Decimal
    proposals: tuple | None  # ((pk, title, state, reserved_amount), …) when asked for, else None


def fund_year_close_preview(*, year, communities=None, with_proposals=None):
    """Per community (ordered by subdistrict and name): closed already?, available, reserved, the amount the
    close carries over and the proposals it moves — the close's own formula (`FundYear.balance_to_carry`,
    `models.FINISHED`). `communities`: None for the whole city, a queryset, a list or one Community.
    The moving proposals' ids and titles are listed when `with_proposals` (default: only when one
    community is asked for). Three queries at most, whatever the number of communities."""
    from approvals.models import Proposal

    if isinstance(communities, Community):
        communities = [communities]
    qs = Community.objects.select_related("subdistrict").order_by("subdistrict__name", "name", "pk")
    if communities is not None:
        qs = qs.filter(pk__in=[getattr(c, "pk", c) for c in communities]
                       if not hasattr(communities, "values") else communities.values("pk"))
    community_list = list(qs)
    if with_proposals is None:
        with_proposals = len(community_list) == 1
    ids = [c.pk for c in community_list]
    moving = _moving_filter("proposals__")
    fund_years = {fy.community_id: fy for fy in FundYear.objects.with_balance_to_carry().filter(
        year=year, community_id__in=ids).annotate(
            moving=Count("proposals", filter=moving),
            moving_reserved=Coalesce(Sum("proposals__reserved_amount", filter=moving), ZERO))}
    listed = {}
    if with_proposals:
        for row in (Proposal.objects.filter(_moving_filter(), fund_year__year=year, community_id__in=ids)
                    .order_by("pk").values_list("community_id", "pk", "title", "state", "reserved_amount")):
            listed.setdefault(row[0], []).append(row[1:])
    rows = []
    for community in community_list:
        fy = fund_years.get(community.pk)
        if fy is None:
            rows.append(ClosePreview(community, None, False, ZERO, ZERO, ZERO, 0, ZERO,
                                     () if with_proposals else None))
            continue
        closed = fy.is_closed
        rows.append(ClosePreview(
            community=community, fund_year=fy, closed=closed, available=fy.available, reserved=fy.reserved,
            to_carry=ZERO if closed else fy.to_carry, moving=0 if closed else fy.moving,
            moving_reserved=ZERO if closed else fy.moving_reserved,
            proposals=(tuple(listed.get(community.pk, ())) if not closed else ()) if with_proposals else None,
        ))
    return rows
