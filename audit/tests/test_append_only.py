import pytest
from django.contrib.admin.sites import site
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from audit.models import AppendOnlyError, AuditRecord
from audit.services import audit_record, verify_chain

TABLE = AuditRecord._meta.db_table


def run_queued_fk_checks():
    # PostgreSQL refuses TRUNCATE while the test's inserts still have deferred FK checks queued,
    # before ever reaching the trigger under test.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.fixture
def record(user):
    return audit_record(actor=user, action="proposal.submit", target=("approvals.proposal", 1))


@pytest.mark.parametrize(
    "sql",
    [f"UPDATE {TABLE} SET note = 'changed'", f"DELETE FROM {TABLE}"],
    ids=["update", "delete"],
)
def test_database_refuses_raw_changes(record, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)

    assert AuditRecord.objects.get(pk=record.pk).note == ""


@pytest.mark.postgres
def test_postgresql_refuses_truncate(record):
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    run_queued_fk_checks()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {TABLE}")

    assert AuditRecord.objects.filter(pk=record.pk).exists()


def test_orm_refuses_changes(record):
    record.note = "changed"
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.delete()
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.filter(pk=record.pk).update(note="changed")
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.filter(pk=record.pk).delete()

    assert AuditRecord.objects.get(pk=record.pk).note == ""


def test_admin_is_read_only(record, user):
    request = RequestFactory().get("/")
    request.user = user
    model_admin = site._registry[AuditRecord]

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, record)
    assert not model_admin.has_delete_permission(request, record)


def test_flush_from_a_shell_does_not_empty_the_trail(record):
    run_queued_fk_checks()
    with pytest.raises(CommandError, match="append-only"):
        call_command("flush", interactive=False, verbosity=0)

    assert AuditRecord.objects.filter(pk=record.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_test_framework_flush_empties_the_trail_and_keeps_the_guard(user):
    audit_record(actor=user, action="proposal.submit", target=("approvals.proposal", 1))

    # What TransactionTestCase runs between tests.
    call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)

    assert not AuditRecord.objects.exists()
    record = audit_record(actor=None, action="proposal.submit", target=("approvals.proposal", 1))
    assert record.seq == 1
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE}")
    assert verify_chain() == []
