"""Building the year-end disclosure (Art. 15) of one community: figures, the posting period, the poster.

`disclosure_generate` is the batches' handler for kind "disclosures" and is idempotent: it creates the
(community, year) row once (a unique constraint backs the row lock), keeps its posting date, replaces the
figures when the records changed since, and renders the poster when the figures changed or the poster is
missing. It works in two steps, each committed on its own: the row and its figures, then the poster. A run
interrupted between them (a worker killed while rendering) leaves a row without a poster, which the next
run completes; it never leaves a second row or a second file.
"""
import hashlib
import json
import os
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from approvals import handoffs
from approvals.models import PUBLIC_STATES, Acceptance, Category, Payment, Proposal
from audit.services import audit_record
from fundapp import clock
from fundapp.publicurls import bare
from fundapp.models import Community, FundYear
from workdays.calendar import WorkCalendar

from .models import WORKING_DAYS, DisclosurePoster, YearEndDisclosure, deadline


MONEY_FIELDS = ("allocated", "carried_in", "settled", "reserved", "carried_out")
ZERO = Decimal("0.00")


def disclosure_figures(community, year):
    """The year's figures as plain JSON (amounts as strings with two decimals, lists rather than dicts
    keyed by numbers, so that what is stored compares equal to what is computed)."""
    fund_year = FundYear.objects.filter(community=community, year=year).order_by().first()
    money = {name: str(getattr(fund_year, name) if fund_year else ZERO) for name in MONEY_FIELDS}
    money["total"] = str(fund_year.total if fund_year else ZERO)
    money["available"] = str(fund_year.available if fund_year else ZERO)
    proposals = list(
        Proposal.objects.filter(community=community, fund_year__year=year, state__in=PUBLIC_STATES)
        .order_by("created_at", "pk")
        .prefetch_related(Prefetch("acceptances", queryset=Acceptance.objects.order_by("inspected_on", "pk")))
    )
    paid = Payment.objects.paid_by_category(year=year, community_ids=[community.pk])
    by_category = []
    for value in Category.values:
        mine = [p for p in proposals if p.category == value]
        by_category.append({
            "category": value,
            "count": len(mine),
            "approved": str(sum((p.approved_budget for p in mine), ZERO)),
            "settled": str(paid.get((community.pk, value), ZERO)),
        })
    projects = []
    for p in proposals:
        acceptance = p.acceptances.all()[len(p.acceptances.all()) - 1] if p.acceptances.all() else None
        projects.append({
            "id": p.pk,
            "title": p.title,
            "category": p.category,
            "state": p.state,
            "budget": str(p.budget),
            "approved": str(p.approved_budget),
            "settled": str(p.settled_amount),
            "beneficiaries": p.beneficiary_count,
            "accepted": None if acceptance is None else acceptance.passed,
            "asked": acceptance.asked_count if acceptance else 0,
            "satisfied": acceptance.satisfied_count if acceptance else 0,
        })
    projects_total = {
        "count": len(proposals),
        "approved": str(sum((p.approved_budget for p in proposals), ZERO)),
        "settled": str(sum(paid.values(), ZERO)),
    }
    return {"money": money, "by_category": by_category, "projects": projects, "projects_total": projects_total}


def _as_stored(data):
    return json.loads(json.dumps(data, ensure_ascii=False))


def disclosure_generate(community_id, year, by=None):
    """Create or bring up to date one community's disclosure for `year`; returns it. Idempotent. `by`: who
    started the batch run (None: the schedule), recorded with each poster made."""
    community = Community.objects.select_related("subdistrict").get(pk=community_id)
    figures = _as_stored(disclosure_figures(community, year))
    with transaction.atomic():
        disclosure, created = _locked_or_created(community, year, figures)
        changed = created or disclosure.figures != figures
        if changed and not created:
            before = disclosure.figures.get("money", {})
            disclosure.figures = figures
            disclosure.save(update_fields=["figures"])
            audit_record(actor=None, action="disclosure.refresh", target=disclosure, community_id=community.pk,
                         before={"money": before}, after={"year": year, "money": figures["money"]})
    if changed or not poster_intact(disclosure):
        # Rendering takes a moment and holds no lock; what it renders is this run's figures.
        pdf = poster_pdf(disclosure)
        with transaction.atomic():
            disclosure = (YearEndDisclosure.objects.select_for_update(of=("self",)).select_related("community")
                          .get(pk=disclosure.pk))  # the poster's file name needs the community's code
            disclosure.pdf.save(_poster_name(disclosure), ContentFile(pdf), save=False)
            disclosure.sha256 = hashlib.sha256(pdf).hexdigest()
            disclosure.generated_at = clock.now()
            disclosure.generated_by = by
            disclosure.save(update_fields=["pdf", "sha256", "generated_at", "generated_by"])
            _poster_archive(disclosure, pdf, by)
    return disclosure


def _poster_archive(disclosure, pdf, by):
    """Keep this poster as a version of its own (Art. 17): the current file is replaced when the figures
    change, the versions never are. The same poster rendered again (a lost file) is one version."""
    digest = hashlib.sha256(pdf).hexdigest()
    if disclosure.posters.filter(sha256=digest).exists():
        return None
    poster = DisclosurePoster(disclosure=disclosure, sha256=digest, size=len(pdf), generated_at=disclosure.generated_at,
                              generated_by=by)
    poster.file.save(f"{disclosure.community.code}-{disclosure.year}-{digest[:12]}.pdf", ContentFile(pdf), save=False)
    poster.save()
    audit_record(actor=by, action="disclosure.poster_archived", target=disclosure,
                 community_id=disclosure.community_id, after={"year": disclosure.year, "sha256": digest,
                                                             "size": len(pdf)})
    return poster


def disclosure_last_day(posted_on, working_days=WORKING_DAYS, cal=None):
    """The last day of the year-end disclosure's posting (Art. 15), as `cal` (default: the calendar as it is
    now) counts. Also what workdays' calendar changes recompute (disclosure.derived_dates)."""
    return (cal or WorkCalendar()).notice_last_day(posted_on, working_days)


def _locked_or_created(community, year, figures):
    # order_by(): the model's ordering would join the community and its subdistrict and lock their rows too,
    # making the batch's workers wait on each other for every community of the same subdistrict.
    existing = (YearEndDisclosure.objects.select_for_update().filter(community=community, year=year)
                .order_by().first())
    if existing is not None:
        return existing, False
    posted_on = clock.today()
    last = disclosure_last_day(posted_on)
    # get_or_create: a concurrent first run that inserted in the meantime is found, not duplicated.
    disclosure, created = YearEndDisclosure.objects.get_or_create(
        community=community, year=year,
        defaults=dict(posted_on=posted_on, working_days=WORKING_DAYS, last_day=last.day,
                      calendar_confirmed=last.confirmed, late=posted_on > deadline(year), figures=figures),
    )
    if created:
        record = audit_record(actor=None, action="disclosure.post", target=disclosure, community_id=community.pk,
                              after={"year": year, "posted_on": posted_on, "last_day": last.day,
                                     "late": disclosure.late, "money": figures["money"]})
        handoffs.act_announce("disclosure.post", record=record, community=community, result=disclosure)
    else:
        disclosure = YearEndDisclosure.objects.select_for_update().get(pk=disclosure.pk)
    return disclosure, created


def _poster_name(disclosure):
    return f"{disclosure.community.code}-{disclosure.year}.pdf"


# (path, size, mtime_ns, expected sha256) of posters this process has checked and found intact: the batches
# page, which refreshes itself every few seconds during a run, reads each file again only when it changed.
_INTACT = {}


def poster_intact(disclosure, *, remember=False):
    """The disclosure's poster file is there and its bytes match the stored checksum. remember=True (the
    batches page): a file whose size and modification time are those of a check that passed is not read
    again."""
    if not disclosure.pdf or not disclosure.sha256:
        return False
    try:
        key = None
        if remember:
            stat = os.stat(disclosure.pdf.path)
            key = (disclosure.pdf.path, stat.st_size, stat.st_mtime_ns, disclosure.sha256)
            if key in _INTACT:
                return True
        with disclosure.pdf.open("rb") as f:
            intact = hashlib.sha256(f.read()).hexdigest() == disclosure.sha256
    except (FileNotFoundError, OSError, NotImplementedError):
        return False
    if intact and key is not None:
        if len(_INTACT) > 5000:
            _INTACT.clear()
        _INTACT[key] = True
    return intact


def disclosure_missing(community_id, year):
    """What the year-end disclosure of the community still lacks ("" when complete): the batches' check that
    an item is done — the row, the poster file, its checksum matching."""
    disclosure = YearEndDisclosure.objects.filter(community_id=community_id, year=year).order_by().first()
    if disclosure is None:
        return str(_("年终公示记录不存在"))
    if not disclosure.pdf or not disclosure.sha256:
        return str(_("年终公示海报尚未生成"))
    if not poster_intact(disclosure):
        return str(_("年终公示海报文件缺失或校验值不符"))
    return ""


def public_url(disclosure):
    # Printed on the poster (QR code): the bare address, which redirects each reader to their language.
    return settings.SITE_URL.rstrip("/") + bare(reverse(
        "disclosure:summary", args=[disclosure.community.code, disclosure.year]))


def poster_pdf(disclosure):
    """The A4 poster for the notice board, always in the site's language (Chinese)."""
    from fundapp.pdf import render_pdf
    from .presentation import poster_context

    with translation.override(settings.LANGUAGE_CODE):
        return render_pdf("disclosure/poster.html", poster_context(disclosure, public_url(disclosure)))

