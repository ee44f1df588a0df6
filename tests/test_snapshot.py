"""tests/snapshot.py writes back exactly what its builder wrote: new rows of every kind, many-to-many rows, rows
pointing at permissions, updated rows; and ids stay clear of rows made before."""
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from audit.models import AuditChainHead, AuditRecord
from audit.services import audit_record, verify_chain
from tests.snapshot import Snapshot

pytestmark = pytest.mark.django_db
User = get_user_model()


def _build():
    user = User.objects.create_user(username="snap", password="x", first_name="快照")
    user.user_permissions.add(Permission.objects.get(codename="view_fund"))
    for n in range(3):
        audit_record(actor=user, action="snapshot.test", target=("test.thing", str(n)), after={"n": n})
    return user


@pytest.fixture(scope="module")
def snapshot(django_db_setup, django_db_blocker):
    taken = Snapshot(_build)
    with django_db_blocker.unblock():
        taken.take()
    return taken


def test_the_builder_left_nothing_behind(snapshot):
    assert not User.objects.filter(username="snap").exists()


def test_a_restore_writes_back_rows_many_to_many_rows_and_chains(snapshot):
    before = User.objects.create_user(username="made-before", password="x")
    user = snapshot.restore()
    try:
        assert User.objects.get(username="snap").pk == user.pk > before.pk
        assert list(Permission.objects.filter(user=user).values_list("codename", flat=True)) == ["view_fund"]
        assert AuditRecord.objects.filter(action="snapshot.test").count() == 3
        head = AuditChainHead.objects.get(chain=AuditRecord.objects.filter(action="snapshot.test").first().chain)
        assert head.seq >= 3
        assert verify_chain() == []
        after = User.objects.create_user(username="made-after", password="x")
        assert after.pk > user.pk
    finally:
        snapshot.forget()


def test_each_restore_hands_out_its_own_copy(snapshot):
    user = snapshot.restore()
    snapshot.forget()
    user.first_name = "changed"
    assert snapshot.result.first_name == "快照" and snapshot.result is not user


def test_a_shared_snapshot_is_built_once_and_loaded_with_its_files(django_db_blocker, tmp_path, monkeypatch,
                                                                    settings):
    """Two workers (two Snapshot objects) asking for the same shared snapshot: the first builds it and
    stores it with the media files it wrote, the second loads both without building."""
    from django.core.files.storage import default_storage

    monkeypatch.setenv("TEST_SNAPSHOT_DIR", str(tmp_path / "shared"))
    (tmp_path / "shared").mkdir()
    builds = []

    def build():
        builds.append(1)
        default_storage.save("snap/paper.pdf", __import__("io").BytesIO(b"%PDF-1.7 shared"))
        return _build()

    first = Snapshot(build, shared_as="snapshot-test")
    with django_db_blocker.unblock():
        first.take()
    settings.MEDIA_ROOT = str(tmp_path / "other-worker-media")  # the second worker's own media directory
    second = Snapshot(build, shared_as="snapshot-test")
    with django_db_blocker.unblock():
        second.take()
    assert builds == [1]
    assert (tmp_path / "other-worker-media" / "snap" / "paper.pdf").read_bytes() == b"%PDF-1.7 shared"
    user = second.restore()
    try:
        assert User.objects.get(username="snap").pk == user.pk == first.result.pk
        assert AuditRecord.objects.filter(action="snapshot.test").count() == 3
    finally:
        second.forget()
