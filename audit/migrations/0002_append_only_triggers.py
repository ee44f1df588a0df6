"""Make the database itself refuse to change or remove audit records.

The hash chain detects tampering; these triggers stop the accidental kind (a stray UPDATE, a bug in
another app, a hand-typed DELETE). Someone with owner rights can still drop them, which the chain
then exposes.

SQLite drops a table's triggers when a later migration rebuilds that table (any AlterField or
AddField on AuditRecord): such a migration must run install_triggers again.
"""
from django.db import migrations

MESSAGE = "审计记录只能追加 / audit records are append-only"

SQL = {
    "postgresql": {
        "install": [
            f"""
            CREATE FUNCTION audit_record_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP;
            END;
            $$
            """,
            # Statement level: refuses even an UPDATE or DELETE that matches no row, and TRUNCATE,
            # which row triggers never see.
            """
            CREATE TRIGGER audit_record_append_only
            BEFORE UPDATE OR DELETE OR TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION audit_record_refuse_change()
            """,
        ],
        "remove": [
            "DROP TRIGGER IF EXISTS audit_record_append_only ON {table}",
            "DROP FUNCTION IF EXISTS audit_record_refuse_change()",
        ],
    },
    "sqlite": {
        "install": [
            f"""
            CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON {{table}}
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
            """,
            f"""
            CREATE TRIGGER audit_record_no_delete BEFORE DELETE ON {{table}}
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
            """,
        ],
        "remove": [
            "DROP TRIGGER IF EXISTS audit_record_no_update",
            "DROP TRIGGER IF EXISTS audit_record_no_delete",
        ],
    },
}


def _run(step):
    def run(apps, schema_editor):
        # Other backends get no trigger; the hash chain still detects changes there.
        statements = SQL.get(schema_editor.connection.vendor, {}).get(step, [])
        table = schema_editor.quote_name(apps.get_model("audit", "AuditRecord")._meta.db_table)
        for statement in statements:
            # params=None: the plpgsql body contains a literal "%".
            schema_editor.execute(statement.format(table=table), params=None)

    return run


install_triggers = _run("install")
remove_triggers = _run("remove")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(install_triggers, remove_triggers),
    ]
