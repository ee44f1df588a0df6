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
