import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from audit.models import AuditRecord


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user(
        username="zhangsan", password="not-used-here", first_name="张三"
    )


@pytest.fixture
def raw_sql_as_owner(db):
    """Run SQL on the audit table past its triggers, as someone holding the database owner's rights
    could. The trigger change happens inside the test's transaction and is rolled back with it."""
    table = connection.ops.quote_name(AuditRecord._meta.db_table)

    def run(sql, params=()):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # ALTER TABLE refuses while the test's inserts still have deferred FK checks queued.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            else:
                cursor.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                    [AuditRecord._meta.db_table],
                )
                for (name,) in cursor.fetchall():
                    cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
            cursor.execute(sql.format(table=table), params)

    return run
