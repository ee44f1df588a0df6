"""The year's allocation in one act: plan, confirm, idempotent, bad input refused, the table of amounts."""
import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from audit.models import AuditRecord
from audit.services import verify_chain
from fundapp.errors import DomainError, NotAllowed
from fundapp.models import FundYear, LedgerEntry, Role
from fundapp.services import allocations, ledger
from tests.chain import travel

D = datetime.date
TODAY = D(2026, 3, 2)


@pytest.fixture
def today():
    with travel(TODAY):
        yield TODAY


def _state():
    return (list(LedgerEntry.objects.order_by("pk").values_list("fund_year__community__code", "kind", "amount")),
            AuditRecord.objects.count())


def test_plan_then_confirm_allocates_every_community_once(org, today):
    admin = org.city_admin
    ledger.fund_year_allocate(community=org.community("a1"), year=2026, amount="200000", entry_date=today)
    ledger.fund_year_allocate(community=org.community("b2"), year=2026, amount="150000", entry_date=today)
    plan = allocations.year_allocation_plan(year=2026, entry_date=today, amount="200000", by=admin)
    assert [r.community.code for r in plan.due] == ["a2", "b1"]
    assert [r.community.code for r in plan.already] == ["a1"]
    assert [(r.community.code, r.allocated) for r in plan.different] == [("b2", Decimal("150000.00"))]
    assert plan.city.amount == Decimal("400000.00") and plan.city.due == 2 and plan.city.skipped == 2
    assert [(t.name, t.due, t.amount) for t in plan.subdistricts] == [
        ("东城街道", 1, Decimal("200000.00")), ("西城街道", 1, Decimal("200000.00"))]
    before = _state()
    assert before == _state()  # the plan wrote nothing

    done = allocations.year_allocation_confirm(year=2026, entry_date=today, amount="200000", by=admin,
                                               key=plan.key)
    assert [r.community.code for r in done.due] == ["a2", "b1"]
    allocated = dict(FundYear.objects.filter(year=2026).values_list("community__code", "allocated"))
    assert allocated == {"a1": Decimal("200000.00"), "a2": Decimal("200000.00"), "b1": Decimal("200000.00"),
                         "b2": Decimal("150000.00")}  # b2's other amount is not silently changed
    act = AuditRecord.objects.get(action="fund.year_allocate")
    assert act.after["count"] == 2 and act.after["total"] == "400000.00" and act.after["year"] == 2026
    assert act.after["key"] == plan.key and act.actor == admin and act.post_label
    per_community = AuditRecord.objects.filter(action="fund.allocate", actor=admin)
    assert sorted(r.community_id for r in per_community) == sorted(
        [org.community("a2").pk, org.community("b1").pk])
    assert verify_chain() == []

    # Confirming again (a double click, the same sheet re-uploaded) adds nothing at all.
    after = _state()
    again = allocations.year_allocation_confirm(year=2026, entry_date=today, amount="200000", by=admin,
                                                key=plan.key)
    assert again.due == [] and len(again.already) == 3 and _state() == after


def test_a_wrong_amount_is_corrected_by_a_reversal_then_the_act_again(org, today):
    admin = org.city_admin
    entry = ledger.fund_year_allocate(community=org.community("a1"), year=2026, amount="100000", entry_date=today,
                                      by=admin)
    plan = allocations.year_allocation_plan(year=2026, entry_date=today, amount="200000", by=admin)
    assert [r.community.code for r in plan.different] == ["a1"]
    ledger.ledger_entry_reverse(entry=entry, reason="金额有误", entry_date=today, by=admin)
    allocations.year_allocation_confirm(year=2026, entry_date=today, amount="200000", by=admin)
    assert FundYear.objects.get(community=org.community("a1"), year=2026).allocated == Decimal("200000.00")


def test_a_table_of_amounts_by_code(org, today):
    admin = org.city_admin
    plan = allocations.year_allocation_plan(year=2026, entry_date=today, amounts={"a1": "1,000.50", "b2": "3000"},
                                            by=admin)
    assert [(r.community.code, r.amount) for r in plan.due] == [("a1", Decimal("1000.50")), ("b2", Decimal("3000.00"))]
    allocations.year_allocation_confirm(year=2026, entry_date=today, amounts={"a1": "1,000.50", "b2": "3000"},
                                        by=admin, key=plan.key)
    assert FundYear.objects.filter(year=2026, allocated__gt=0).count() == 2


@pytest.mark.parametrize("kwargs, message", [
    ({"amount": "-5"}, "正负号"),
    ({"amount": "100.123"}, "两位小数"),
    ({"amount": "abc"}, "不是有效的金额"),
    ({"amount": "0"}, "大于零"),
    ({"amount": "1000", "year": 2027}, "年度须在"),
    ({"amount": "1000", "year": 1999}, "年度须在"),
    ({"amount": "1000", "entry_date": D(2026, 3, 3)}, "不能晚于今天"),
    ({"amount": "1000", "entry_date": D(2025, 12, 31)}, "2026年内"),
    ({"amounts": {"zz9": "1000"}}, "未知的社区代码"),
    ({"amount": "1000", "key": "not-the-preview"}, "重新预览"),
])
def test_bad_input_is_refused_and_changes_nothing(org, today, kwargs, message):
    args = {"year": 2026, "entry_date": today, **kwargs}
    before = _state()
    with pytest.raises(DomainError, match=message):
        allocations.year_allocation_confirm(by=org.city_admin, **args)
    assert _state() == before


def test_only_the_city_administrator(org, today):
    before = _state()
    for role in (Role.FINANCE_OFFICER, Role.SUBDISTRICT_SECRETARY, Role.COMMUNITY_SECRETARY):
        with pytest.raises(NotAllowed):
            allocations.year_allocation_plan(year=2026, entry_date=today, amount="1000", by=org.person(role))
        with pytest.raises(NotAllowed):
            allocations.year_allocation_confirm(year=2026, entry_date=today, amount="1000", by=org.person(role))
    assert _state() == before


def test_a_closed_year_is_shown_and_skipped(org, today):
    ledger.fund_year_allocate(community=org.community("a1"), year=2025, amount="1000", entry_date=D(2025, 1, 5))
    FundYear.objects.filter(community=org.community("a1"), year=2025).update(status=FundYear.Status.CLOSED)
    plan = allocations.year_allocation_confirm(year=2025, entry_date=D(2025, 12, 31), amount="1000",
                                               by=org.city_admin)
    assert [r.community.code for r in plan.closed] == ["a1"] and len(plan.due) == 3


def _sheet(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(["社区代码", "社区名称", "金额（元）"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_the_template_reads_back(org, today):
    data = allocations.allocation_template_xlsx()
    ws = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == ["社区代码", "社区名称", "金额（元）"]
    assert ws.cell(2, 1).value.startswith("示例")
    codes = [ws.cell(r, 1).value for r in range(3, ws.max_row + 1)]
    assert sorted(codes) == ["a1", "a2", "b1", "b2"]
    # Filled in: the example row is skipped, empty amounts refused with their row.
    for r in range(3, ws.max_row + 1):
        ws.cell(r, 3).value = 200000
    out = io.BytesIO()
    ws.parent.save(out)
    assert allocations.amounts_from_xlsx(out.getvalue()) == {c: Decimal("200000.00") for c in codes}


def test_a_sheet_with_errors_names_each_row_and_column(org):
    data = _sheet([["a1", "", 1000], ["a2", "", "=1000*2"], ["b1", "", "12.345"], ["zz", "", 5],
                   ["a1", "", 7], ["b2", "", -3], ["", "", ""], ["b2", "", 4.5]])
    with pytest.raises(allocations.SheetRefused) as refused:
        allocations.amounts_from_xlsx(data)
    errors = [(e.row, e.column) for e in refused.value.errors]
    assert errors == [(3, "C"), (4, "C"), (5, "A"), (6, "A"), (7, "C"), (9, "A")], [str(e) for e in refused.value.errors]
    assert "第 3 行 C 列" in str(refused.value.errors[0]) and "公式" in str(refused.value.errors[0])


def test_a_file_that_is_not_a_workbook(org):
    with pytest.raises(DomainError, match="无法读取"):
        allocations.amounts_from_xlsx(b"not a workbook")


def _city_of(n, sd):
    from fundapp.models import Community

    Community.objects.bulk_create([Community(subdistrict=sd, name=f"规模社区{i}", code=f"s{i}") for i in range(n)])


def _queries(fn):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_the_query_count_does_not_grow_with_the_city(org, today):
    """Bulk reads and writes: the plan and the act cost the same number of queries for 4 and for 304
    communities (measured at 10,000 by bench/year_allocation.py, docs/performance.md)."""
    admin = org.city_admin
    counts = []
    for year, extra in ((2025, 0), (2026, 300)):
        _city_of(extra, org.a)
        plan = lambda: allocations.year_allocation_plan(year=year, entry_date=D(year, 3, 2), amount="1000", by=admin)  # noqa: E731
        act = lambda: allocations.year_allocation_confirm(year=year, entry_date=D(year, 3, 2), amount="1000", by=admin)  # noqa: E731
        counts.append((_queries(plan), _queries(act)))
    from django.db import connection

    if connection.vendor == "postgresql":
        assert counts[0] == counts[1], counts
    else:  # SQLite's bound on parameters per statement makes inserts go in batches of a few dozen rows
        assert counts[0][0] == counts[1][0] and counts[1][1] - counts[0][1] <= 300 // 30 + 2, counts
    assert FundYear.objects.filter(year=2026, allocated=Decimal("1000.00")).count() == 304
    assert verify_chain() == []


def test_the_english_template_reads_back_too(org):
    from django.utils import translation

    with translation.override("en"):
        data = allocations.allocation_template_xlsx()
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.cell(1, 1).value == "Community code" and ws.cell(2, 1).value == "Example (delete this row)"
    ws.cell(3, 3).value = "1000"
    out = io.BytesIO()
    ws.parent.save(out)
    assert allocations.amounts_from_xlsx(out.getvalue()) == {ws.cell(3, 1).value: Decimal("1000.00")}


def test_the_communities_public_pages_go_stale(org, today):
    """The per-community records are written in bulk, and still tell the residents' page caches (public.signals)."""
    from public.selectors import version

    before = {code: version(c.pk) for code, c in org.communities.items()}
    allocations.year_allocation_confirm(year=2026, entry_date=today, amounts={"a1": "100", "b2": "100"},
                                        by=org.city_admin)
    after = {code: version(c.pk) for code, c in org.communities.items()}
    assert {code for code in before if after[code] != before[code]} == {"a1", "b2"}
