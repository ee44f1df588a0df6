"""The database itself keeps the ledger append-only and a closed year closed (SPEC §2, Art. 13, 17).

Entries are never changed or removed (a mistake is corrected by a reversing entry), and a closed year
takes no new allocation, carry-in or reversal — even from raw SQL. Expenditures and carry-outs are still
accepted there: they pay projects the year approved out of their reservations (fundapp.services.ledger).
SQLite drops a table's triggers when a later migration rebuilds it: such a migration must run
install_triggers again.
"""
from django.db import migrations

APPEND_ONLY = "分录只能追加，更正请用冲销 / ledger entries are append-only"
CLOSED = "该年度已结转，不能再记此类分录 / the year is closed to this kind of entry"
CLOSED_KINDS = "('allocation', 'carry_in', 'reversal')"

SQL = {
    "postgresql": {
        "install": [
            f"""
            CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{APPEND_ONLY} (% refused)', TG_OP; END; $$
            """,
            """
            CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {ledger}
            FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()
            """,
            f"""
            CREATE FUNCTION ledger_refuse_closed_year() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.kind IN {CLOSED_KINDS} AND
                   (SELECT status FROM {{fund_year}} WHERE id = NEW.fund_year_id) = 'closed' THEN
                    RAISE EXCEPTION '{CLOSED}';
                END IF;
                RETURN NEW;
            END; $$
            """,
            """
            CREATE TRIGGER ledger_closed_year BEFORE INSERT ON {ledger}
            FOR EACH ROW EXECUTE FUNCTION ledger_refuse_closed_year()
            """,
        ],
        "remove": [
            "DROP TRIGGER IF EXISTS ledger_closed_year ON {ledger}",
            "DROP FUNCTION IF EXISTS ledger_refuse_closed_year()",
            "DROP TRIGGER IF EXISTS ledger_append_only ON {ledger}",
            "DROP FUNCTION IF EXISTS ledger_refuse_change()",
        ],
    },
    "sqlite": {
        "install": [
            f"CREATE TRIGGER ledger_no_update BEFORE UPDATE ON {{ledger}} BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
            f"CREATE TRIGGER ledger_no_delete BEFORE DELETE ON {{ledger}} BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
            f"""
            CREATE TRIGGER ledger_closed_year BEFORE INSERT ON {{ledger}}
            WHEN NEW.kind IN {CLOSED_KINDS} AND
                 (SELECT status FROM {{fund_year}} WHERE id = NEW.fund_year_id) = 'closed'
            BEGIN SELECT RAISE(ABORT, '{CLOSED}'); END
            """,
        ],
        "remove": [
            "DROP TRIGGER IF EXISTS ledger_no_update",
            "DROP TRIGGER IF EXISTS ledger_no_delete",
            "DROP TRIGGER IF EXISTS ledger_closed_year",
        ],
    },
}


def _run(step):
    def run(apps, schema_editor):
        tables = {
            "ledger": schema_editor.quote_name(apps.get_model("fundapp", "LedgerEntry")._meta.db_table),
            "fund_year": schema_editor.quote_name(apps.get_model("fundapp", "FundYear")._meta.db_table),
        }
        for statement in SQL.get(schema_editor.connection.vendor, {}).get(step, []):
            schema_editor.execute(statement.format(**tables), params=None)

    return run


install_triggers = _run("install")
remove_triggers = _run("remove")


class Migration(migrations.Migration):
    dependencies = [
        ("fundapp", "0002_notifications"),
    ]

    operations = [
        migrations.RunPython(install_triggers, remove_triggers),
    ]
