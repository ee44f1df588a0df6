"""The batch framework in eager mode (no broker): fan-out after commit, progress, failures, re-runs, pages."""
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError
from django.urls import reverse

from approvals.models import AnnualReport
from batches import registry, services
from batches.models import BatchItem, BatchRun
from batches.tasks import run_batch_item
from fundapp.models import Role

CALLS = []


def flaky(community_id, year):
    """Fails on the first call for the community whose id was chosen, like a poster that crashed half-way."""
    CALLS.append(community_id)
    if community_id == flaky.fail_for and CALLS.count(community_id) == 1:
        raise RuntimeError("渲染中断（测试）")


def transient(community_id, year):
    CALLS.append(community_id)
    if CALLS.count(community_id) == 1:
        raise OperationalError("server closed the connection unexpectedly")


@pytest.fixture
def kinds(monkeypatch):
    CALLS.clear()
    monkeypatch.setitem(registry.KINDS, "test_flaky", registry.Kind("测试", flaky))
    monkeypatch.setitem(registry.KINDS, "test_transient", registry.Kind("测试", transient))
    return CALLS


@pytest.mark.django_db
def test_items_are_dispatched_only_after_the_transaction_commits(org, kinds, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = services.batch_start("test_flaky", 2026)
    flaky.fail_for = None
    assert kinds == [] and len(callbacks) == 1  # nothing ran inside the transaction
    assert set(run.items.values_list("status", flat=True)) == {"pending"}
    callbacks[0]()  # the commit: one eager task per community, as a group
    run.refresh_from_db()
    assert (run.status, run.total, run.done_count, run.failed_count) == ("done", 4, 4, 0)
    assert sorted(kinds) == sorted(org.community(c).pk for c in ("a1", "a2", "b1", "b2"))
    assert run.finished_at is not None


@pytest.mark.django_db
def test_a_failure_is_recorded_and_rerunning_just_the_failures_completes(org, kinds,
                                                                         django_capture_on_commit_callbacks):
    flaky.fail_for = org.community("a2").pk
    run = services.batch_run_inline(services.batch_start("test_flaky", 2026, dispatch=False))
    assert (run.status, run.done_count, run.failed_count) == ("failed", 3, 1)
    failed = run.items.get(status="failed")
    assert failed.community.code == "a2" and "渲染中断（测试）" in failed.error and failed.attempts == 1
    assert failed.error_summary == "RuntimeError: 渲染中断（测试）"
    with django_capture_on_commit_callbacks(execute=True):
        assert services.batch_rerun_failures(run) == 1
    run.refresh_from_db()
    failed.refresh_from_db()
    assert (run.status, run.done_count, run.failed_count) == ("done", 4, 0)
    assert failed.status == "done" and failed.attempts == 2 and failed.error == ""
    assert len(kinds) == 5  # four first runs, one re-run: the others were not run again
    assert services.batch_rerun_failures(run) == 0


@pytest.mark.django_db
def test_a_transient_error_is_retried_by_celery(org, kinds):
    run = services.batch_run_inline(services.batch_start("test_transient", 2026, dispatch=False))
    assert (run.status, run.done_count) == ("done", 4)
    assert set(run.items.values_list("attempts", flat=True)) == {2}


@pytest.mark.django_db
def test_a_redelivered_task_for_a_done_item_does_nothing(org, kinds):
    flaky.fail_for = None
    run = services.batch_run_inline(services.batch_start("test_flaky", 2026, dispatch=False))
    item = run.items.first()
    assert run_batch_item.apply(args=(item.pk,)).get() == "skipped"
    assert len(kinds) == 4
    item.refresh_from_db()
    assert item.attempts == 1


@pytest.mark.django_db
def test_broker_down_at_dispatch_fails_the_items_so_they_can_be_rerun(org, kinds, monkeypatch,
                                                                      django_capture_on_commit_callbacks):
    import celery

    def down(self, *args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(celery.group, "apply_async", down)
    monkeypatch.setattr(services, "_celery_eager", lambda: False)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.batch_start("test_flaky", 2026)
    run.refresh_from_db()
    assert (run.status, run.failed_count) == ("failed", 4)
    assert "Connection refused" in run.items.first().error


def test_an_unknown_kind_is_refused_before_anything_is_created():
    with pytest.raises(registry.UnknownKind):
        services.batch_start("no_such_kind", 2026)


@pytest.mark.django_db
def test_generate_annual_reports_goes_through_the_batches_and_is_idempotent(org):
    call_command("generate_annual_reports", "--year", "2026")
    call_command("generate_annual_reports", "--year", "2026")
    assert AnnualReport.objects.filter(year=2026).count() == 4
    runs = BatchRun.objects.filter(kind="annual_reports", year=2026)
    assert [(r.status, r.done_count) for r in runs] == [("done", 4), ("done", 4)]


@pytest.mark.django_db
def test_a_command_with_failures_says_so_and_exits_nonzero(org, kinds):
    flaky.fail_for = org.community("b1").pk
    from batches.commands import BatchCommand

    class Command(BatchCommand):
        kind, what = "test_flaky", "Test"

    with pytest.raises(CommandError, match="3 of 4 communities done, 1 failed"):
        call_command(Command(), "--year", "2026")
    call_command(Command(), "--year", "2026", "--community", "b1")  # the failure alone, again
    with pytest.raises(CommandError, match="unknown community"):
        call_command(Command(), "--year", "2026", "--community", "zz")


@pytest.mark.django_db
def test_the_batches_pages_are_for_the_city_administrator(org, kinds, client, django_capture_on_commit_callbacks):
    flaky.fail_for = org.community("a2").pk
    run = services.batch_run_inline(services.batch_start("test_flaky", 2026, dispatch=False))
    assert client.get(reverse("batches:runs")).status_code == 302  # to the login page
    client.force_login(org.person(Role.SUBDISTRICT_SECRETARY))
    assert client.get(reverse("batches:runs")).status_code == 403
    assert client.get(reverse("batches:run", args=[run.pk])).status_code == 403
    assert client.post(reverse("batches:rerun", args=[run.pk])).status_code == 403
    client.force_login(org.city_admin)
    page = client.get(reverse("batches:runs")).content.decode()
    assert "批量任务" in page and "完成 3 · 失败 1 · 待处理 0 / 共 4" in page and 'class="batch-bar"' in page
    from disclosure.models import deadline
    from fundapp import clock

    heading = "未在12月20日前张贴年终公示的社区" if clock.today() > deadline(clock.today().year) else "尚未张贴年终公示的社区"
    assert heading in page  # none posted yet: every community is listed
    detail = client.get(reverse("batches:run", args=[run.pk])).content.decode()
    assert "东城街道2号社区" in detail and "RuntimeError: 渲染中断（测试）" in detail and "重新运行失败和中断的项" in detail
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("batches:rerun", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == "done"
    detail = client.get(reverse("batches:run", args=[run.pk])).content.decode()
    assert "重新运行失败和中断的项" not in detail.split("<footer")[0].split("</section>")[0]
    # starting a run from the page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("batches:start"), {"kind": "annual_reports", "year": "2026"})
    started = BatchRun.objects.get(kind="annual_reports")
    assert response["Location"] == reverse("batches:run", args=[started.pk])
    assert (started.status, started.requested_by) == ("done", org.city_admin)
    assert client.post(reverse("batches:start"), {"kind": "nope", "year": "2026"}).status_code == 302
    assert BatchItem.objects.filter(run__kind="nope").count() == 0
