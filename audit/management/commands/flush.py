"""Django's flush, taught to empty the append-only audit table for the test framework only."""
from contextlib import contextmanager

from django.core.management.base import CommandError
from django.core.management.commands import flush
from django.db import connections, transaction

from audit.models import AuditRecord


@contextmanager
def _append_only_guard_lifted(connection):
    # Both backends roll DDL back with the transaction, so a failed flush leaves the guard in place.
    table = connection.ops.quote_name(AuditRecord._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            yield
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [AuditRecord._meta.db_table],
            )
            triggers = cursor.fetchall()
            for name, _sql in triggers:
                cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
            yield
            for _name, sql in triggers:
                cursor.execute(sql)
        else:
            yield


class Command(flush.Command):
    def handle(self, **options):
        # TransactionTestCase (and pytest-django's transactional tests) flush between tests and
        # always pass the programmatic-only option inhibit_post_migrate. A flush typed at a shell
        # cannot pass it, so there the audit table keeps refusing to be emptied.
        if "inhibit_post_migrate" in options:
            database = options["database"]
            connection = connections[database]
            with transaction.atomic(using=database), _append_only_guard_lifted(connection):
                return super().handle(**options)
        try:
            return super().handle(**options)
        except CommandError as error:
            if "append-only" not in str(error.__cause__):
                raise
            raise CommandError(
                "审计记录只能追加，flush 不会清空它；开发数据库请删除后重新 migrate。 / "
                "The audit trail is append-only and flush will not empty it; "
                "drop and re-create a development database instead."
            ) from error
