"""Batches that tell the truth: an item is done only when what it must produce is there (the disclosure's
row, its poster file, the file's checksum); an item whose worker died shows as interrupted once its lease
has passed, and re-running it makes it done, once. In-process (eager): the subject is the bookkeeping, so
the poster's bytes are a fixed stand-in for WeasyPrint's (the real rendering is tested in disclosure/tests
and on a real worker in tests/test_celery_worker.py)."""
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditRecord
from batches import services
from batches.models import BatchItem
from disclosure import services as disclosure_services
from disclosure.models import YearEndDisclosure

YEAR = 2026
PDF = b"%PDF-1.4 stand-in poster\n%%EOF\n"


@pytest.fixture(autouse=True)
def cheap_posters(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(disclosure_services, "poster_pdf", lambda disclosure: PDF)


def _run(org):
    return services.batch_run_inline(services.batch_start("disclosures", YEAR, by=org.city_admin, dispatch=False))


def _runs_page(client, org):
    client.force_login(org.city_admin)
    return client.get(reverse("batches:runs"), {"year": YEAR}).content.decode()


@pytest.mark.django_db
def test_a_row_without_its_file_is_not_counted_done(org, client):
    run = _run(org)
    assert (run.status, run.done_count) == ("done", 4)
    assert "已生成 4 / 4 个社区" in _runs_page(client, org)

    a2 = YearEndDisclosure.objects.get(community=org.community("a2"), year=YEAR)
    a2.pdf.storage.delete(a2.pdf.name)  # the row stays, its poster is gone
    b1 = YearEndDisclosure.objects.get(community=org.community("b1"), year=YEAR)
    with open(b1.pdf.path, "ab") as f:
        f.write(b"tampered")  # the file is there but its checksum no longer matches
    page = _runs_page(client, org)
    assert "已生成 2 / 4 个社区" in page
    assert "海报缺失或校验不符" in page and org.community("a2").name in page and org.community("b1").name in page
    assert disclosure_services.disclosure_missing(a2.community_id, YEAR) != ""
    assert disclosure_services.disclosure_missing(b1.community_id, YEAR) != ""


@pytest.mark.django_db
def test_an_item_whose_handler_returned_without_its_file_fails(org, monkeypatch):
    def forgets_the_file(community_id, year, by=None):
        d = real(community_id, year, by=by)
        d.pdf.storage.delete(d.pdf.name)
        return d

    real = disclosure_services.disclosure_generate
    from batches import registry

    kind = registry.KINDS["disclosures"]
    monkeypatch.setitem(registry.KINDS, "disclosures", registry.Kind(kind.label, forgets_the_file,
                                                                    with_requester=True, verify=kind.verify))
    run = _run(org)
    assert (run.status, run.done_count, run.failed_count) == ("failed", 0, 4)
    assert "海报文件缺失或校验值不符" in run.items.first().error


@pytest.mark.django_db
def test_an_expired_lease_shows_interrupted_and_a_rerun_makes_it_done_once(org, client, django_capture_on_commit_callbacks):
    run = _run(org)
    a2 = run.items.get(community=org.community("a2"))
    # What a worker killed with kill -9 in the middle of a2 leaves: its row, no poster, the item "running".
    YearEndDisclosure.objects.filter(community=org.community("a2")).update(pdf="", sha256="")
    BatchItem.objects.filter(pk=a2.pk).update(status="running", finished_at=None,
                                              lease_until=timezone.now() + datetime.timedelta(minutes=2))
    services._run_recount(run)
    run.refresh_from_db()
    assert run.interrupted_count == 0 and run.is_live  # the lease is live: the worker may still be on it
    assert services.batch_rerun_failures(run) == 0

    BatchItem.objects.filter(pk=a2.pk).update(lease_until=timezone.now() - datetime.timedelta(seconds=1))
    run.refresh_from_db()
    assert run.interrupted_count == 1 and not run.is_live
    client.force_login(org.city_admin)
    page = client.get(reverse("batches:run", args=[run.pk])).content.decode()
    assert "已中断" in page and "重新运行失败和中断的项" in page and "data-live-refresh" not in page
    runs_page = _runs_page(client, org)
    assert "已生成 3 / 4 个社区" in runs_page and "失败和中断的项" in runs_page and "1 项中断" in runs_page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("batches:rerun", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    a2.refresh_from_db()
    assert (run.status, run.done_count, run.interrupted_count) == ("done", 4, 0)
    assert a2.status == "done" and a2.lease_until is None
    assert YearEndDisclosure.objects.filter(year=YEAR).count() == 4
    assert YearEndDisclosure.objects.filter(community=org.community("a2"), year=YEAR).count() == 1
    assert "已生成 4 / 4 个社区" in _runs_page(client, org)
    rerun = AuditRecord.objects.get(action="batch.rerun_failures")
    assert rerun.actor_id == org.city_admin.pk and rerun.after["interrupted"] == 1
    assert services.batch_rerun_failures(run) == 0  # nothing left: a second click sends nothing


@pytest.mark.django_db
def test_a_live_run_page_refreshes_itself_with_a_same_origin_script(org, client):
    run = services.batch_start("disclosures", YEAR, dispatch=False)
    client.force_login(org.city_admin)
    response = client.get(reverse("batches:run", args=[run.pk]))
    page = response.content.decode()
    assert 'data-live-refresh="5"' in page and "js/live_refresh.js" in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert 'data-live-refresh="10"' in _runs_page(client, org)


@pytest.mark.django_db
def test_the_heartbeat_renews_the_lease_of_a_running_item_only(org):
    run = services.batch_start("disclosures", YEAR, dispatch=False)
    item = services._item_claim(run.items.first().pk)
    assert item.lease_until > timezone.now() + datetime.timedelta(seconds=services.LEASE_SECONDS - 5)
    BatchItem.objects.filter(pk=item.pk).update(lease_until=timezone.now() - datetime.timedelta(seconds=1))
    assert services.lease_renew(item.pk)
    item.refresh_from_db()
    assert not item.is_interrupted
    services._item_finish(item.pk, "done", error="")
    assert not services.lease_renew(item.pk)


SEEN = []


def slow(community_id, year):
    """Runs until its item's lease has been renewed by the heartbeat thread (or 3 s)."""
    import time

    item = BatchItem.objects.filter(community_id=community_id, run__kind="test_slow")
    first = item.get().lease_until
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = item.get().lease_until
        if now != first:
            SEEN.append((first, now))
            return


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_running_item_s_lease_is_renewed_by_its_heartbeat_while_the_handler_runs(org, monkeypatch):
    from batches import registry

    SEEN.clear()
    monkeypatch.setitem(registry.KINDS, "test_slow", registry.Kind("测试", slow))
    monkeypatch.setattr(services, "LEASE_SECONDS", 0.3)  # a beat every 0.1 s
    monkeypatch.setattr(services, "_celery_eager", lambda: False)  # as in a worker: the heartbeat runs
    run = services.batch_start("test_slow", YEAR, [org.community("a1").pk], dispatch=False)
    run = services.batch_run_inline(run)
    assert (run.status, run.done_count) == ("done", 1)
    assert len(SEEN) == 1 and SEEN[0][1] > SEEN[0][0]  # renewed while the handler was still running
    assert run.items.get().lease_until is None  # released when the item finished
