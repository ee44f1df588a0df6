"""seed_scale writes consistent data: what the services would have left, checked by the database and by the
app's own reconciliation, audit verification and pages."""
import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client

from approvals.models import Invoice, Notice, Objection, Payment, Proposal, State
from audit.services import verify_chain
from desk.finance_selectors import reconcile_many
from fundapp.models import Community, FundYear, LedgerEntry, Post, Subdistrict
from fundapp.privacy import mask_name
from fundapp.rights import check
from tests.chain import travel

TODAY = datetime.date(2026, 11, 20)
COMMUNITIES, YEARS, PROJECTS = 3, 2, 23


def _seed(**sizes):
    sizes = {"communities": COMMUNITIES, "years": YEARS, "projects": PROJECTS, "big_subdistrict": 2, **sizes}
    with open("/dev/null", "w") as out:
        call_command("seed_scale", stdout=out, **sizes)


@pytest.fixture
def seeded(db):
    with travel(TODAY):
        _seed()
        yield


def test_sizes_and_organisation(seeded):
    assert Subdistrict.objects.count() == 2  # the first holds --big-subdistrict communities
    assert Community.objects.filter(subdistrict__code="sd0001").count() == 2
    assert Proposal.objects.count() == COMMUNITIES * YEARS * PROJECTS
    assert FundYear.objects.count() == COMMUNITIES * YEARS
    # Every state of the chain is there in the current year, the past year is finished.
    assert set(Proposal.objects.filter(fund_year__year=2026).values_list("state", flat=True)) == set(State.values) - {
        State.ON_HOLD}
    assert set(Proposal.objects.filter(fund_year__year=2025).values_list("state", flat=True)) <= {
        State.COMPLETED, State.REJECTED, State.WITHDRAWN}
    # Posts give rights through the same rule as everywhere (guardian grant + post in force).
    secretary = get_user_model().objects.get(username="sd0001-secretary")
    assert check(secretary, "review_proposal", Community.objects.get(code="c00001"))
    assert not check(secretary, "review_proposal", Community.objects.get(code="c00003"))
    assert Post.objects.filter(community__code="c00003").count() == 3


def test_running_totals_equal_the_ledger_and_years_close_as_the_service_does(seeded):
    for year in (2025, 2026):
        results = reconcile_many(Community.objects.all(), year)
        assert len(results) == COMMUNITIES
        assert all(r.ok for r in results), [r.failures for r in results if not r.ok]
    for fy in FundYear.objects.all():
        assert fy.available >= 0
        assert fy.small_group_committed <= fy.small_group_limit
        if fy.year == 2025:
            assert fy.is_closed and fy.available == 0 and fy.carried_out > 0
            nxt = FundYear.objects.get(community=fy.community, year=2026)
            assert nxt.carried_in == fy.carried_out and not nxt.is_closed
    for model in (FundYear, Proposal, Notice, Invoice, Payment):
        for obj in model.objects.all():
            obj.validate_constraints()
    for p in Proposal.objects.filter(state__in=[State.SETTLED, State.COMPLETION_NOTICE, State.COMPLETED]):
        payment = p.payments.get()
        assert payment.amount == p.settled_amount and payment.ledger_entry.amount == p.settled_amount
        assert payment.invoice.signatures.count() == 3 and p.reserved_amount == 0


def test_the_database_triggers_were_respected(seeded):
    closed = FundYear.objects.filter(year=2025).first()
    with pytest.raises(Exception), transaction.atomic():
        LedgerEntry.objects.create(fund_year=closed, kind=LedgerEntry.Kind.ALLOCATION, amount=1,
                                   entry_date=TODAY, description="x")
    if connection.vendor == "postgresql":
        with pytest.raises(Exception), transaction.atomic():
            LedgerEntry.objects.filter(pk=LedgerEntry.objects.first().pk).update(description="changed")


def test_audit_trail_verifies(seeded):
    assert verify_chain() == []
    from audit.models import AuditRecord

    assert AuditRecord.objects.filter(action="seed_scale.import").count() == COMMUNITIES


def test_pages_render_for_a_seeded_community_and_mask_residents(seeded):
    objection = Objection.objects.select_related("notice__proposal__community", "notice__proposal__fund_year").first()
    p = objection.notice.proposal
    with travel(TODAY):
        page = Client().get(f"/public/zh/{p.community.code}/{p.fund_year.year}/")
        assert page.status_code == 200
        html = page.content.decode()
        assert p.title in html
        assert objection.resident_name not in html and mask_name(objection.resident_name) in html
        assert objection.resident_contact not in html
        staff = Client()
        staff.force_login(get_user_model().objects.get(username="sd0001-secretary"))
        home = staff.get("/")
        assert home.status_code == 200
        live = Proposal.objects.filter(community__code="c00001", state=State.UNDER_REVIEW).first()
        assert live.title in home.content.decode()


def test_same_size_again_does_nothing_and_other_data_is_refused(seeded):
    with travel(TODAY):
        _seed()
        assert Proposal.objects.count() == COMMUNITIES * YEARS * PROJECTS
        # What a benchmark adds next to the seeded data (B4 makes its own communities) is not "other data".
        Community.objects.create(subdistrict=Subdistrict.objects.create(name="基准街道", code="b4-sd"),
                                 name="基准社区", code="b4-c1")
        _seed()
        assert Proposal.objects.count() == COMMUNITIES * YEARS * PROJECTS
        with pytest.raises(CommandError, match="already holds"):
            _seed(communities=4)


def test_bad_sizes_are_refused(db):
    with pytest.raises(CommandError, match="at least 1"):
        _seed(projects=0)
    assert not Community.objects.exists()


def test_ids_continue_after_the_seed(seeded):
    # The sequences were moved past the copied ids: the next normal insert does not collide.
    try:
        with transaction.atomic():
            Subdistrict.objects.create(name="新街道", code="new-sd")
    except IntegrityError as exc:  # pragma: no cover - the failure this test is for
        pytest.fail(f"sequence not reset: {exc}")


def test_search_entries_as_the_services_write_them(seeded):
    """Subdistricts, communities and the projects put to a notice are findable (fundapp.services.search)."""
    from fundapp.models import SearchEntry
    from fundapp.services.search import search_forms
    from public.city_selectors import search

    assert SearchEntry.objects.filter(kind="subdistrict").count() == 2
    assert SearchEntry.objects.filter(kind="community").count() == COMMUNITIES
    published = Proposal.objects.filter(notices__kind="plan").distinct()
    assert set(SearchEntry.objects.filter(kind="project").values_list("object_id", flat=True)) == set(
        published.values_list("pk", flat=True))
    community = Community.objects.get(code="c00002")
    entry = SearchEntry.objects.get(kind="community", object_id=community.pk)
    assert {k: getattr(entry, k) for k in ("key", "pinyin", "initials", "grams")} == search_forms(community.name)
    assert [h.name for h in search(entry.pinyin, 2026)[0]][:1] == [community.name]
