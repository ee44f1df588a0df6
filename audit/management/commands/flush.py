"""Django's flush, taught to empty the append-only tables (settings.APPEND_ONLY_MODELS: the audit trail,
the ledger) for the test framework only."""
from contextlib import contextmanager

from django.apps import apps
from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import flush
from django.db import connections, transaction

@contextmanager
def _append_only_guard_lifted(connection):
    # Both backends roll DDL back with the transaction, so a failed flush leaves the guard in place.
    names = [apps.get_model(label)._meta.db_table for label in settings.APPEND_ONLY_MODELS]
    tables = [connection.ops.quote_name(name) for name in names]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            yield
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        elif connection.vendor == "sqlite":
            placeholders = ", ".join(["%s"] * len(names))
            cursor.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({placeholders})",
                names,
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
