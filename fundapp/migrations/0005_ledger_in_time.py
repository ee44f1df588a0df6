"""The ledger is in order in time (SPEC §2, §9, Art. 13): a small-group cap that counts carried-in
reservations apart (FundYear.small_group_carried), and triggers that make the database itself refuse, even
from raw SQL:

- an entry dated outside its fund year (entry_date's year ≠ the fund year's year);
- any entry in a closed year (the close writes its carry-out before it marks the year closed);
- an insert after which the fund year's running balance at the end of some day — inflows (allocation,
  carry_in) minus outflows (expenditure, carry_out, reversal), in date order, all entries of a day
  together — is below zero. Only the days from the earliest new outflow on are checked: inflows never make
  a balance negative, and a day before the new entries is unchanged by them.

PostgreSQL checks the balance once per statement (an AFTER INSERT … REFERENCING NEW TABLE trigger over the
fund years the statement touched), so a COPY of many rows (seed_scale) is checked once, with all its rows
in; SQLite once per row, with a window function, comparing ROUND(balance, 2) because it sums decimals as
floats. These triggers replace 0003's closed-year trigger (which let expenditures and carry-outs into a
closed year) and keep its append-only ones. SQLite drops a table's triggers when a later migration rebuilds
it: such a migration must call this module's remove_triggers/install_triggers around the change, as this
one does with 0003's.
"""
import django.db.models.expressions
import django.db.models.functions.math
import django.db.models.lookups
from decimal import Decimal
from importlib import import_module

from django.db import migrations, models

_0003 = import_module("fundapp.migrations.0003_ledger_append_only")
APPEND_ONLY = _0003.APPEND_ONLY
CLOSED = "该年度已结转，不能再记账（第十三条） / the fund year is closed: it takes no entries"
OUTSIDE = "记账日期不在该年度内 / the entry date lies outside its fund year"
NEGATIVE = "按日期顺序该年度余额将为负数 / the running balance in date order would be negative"
INFLOWS = "('allocation', 'carry_in')"

SQL = {
    "postgresql": {
        "install": [
            *_0003.SQL["postgresql"]["install"][:2],  # append-only: no UPDATE, DELETE, TRUNCATE
            f"""
            CREATE FUNCTION ledger_refuse_outside_open_year() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE fy RECORD;
            BEGIN
                SELECT status, year INTO fy FROM {{fund_year}} WHERE id = NEW.fund_year_id;
                IF fy.status = 'closed' THEN
                    RAISE EXCEPTION '{CLOSED}';
                END IF;
                IF EXTRACT(YEAR FROM NEW.entry_date) <> fy.year THEN
                    RAISE EXCEPTION '{OUTSIDE} (% / %)', NEW.entry_date, fy.year;
                END IF;
                RETURN NEW;
            END; $$
            """,
            """
            CREATE TRIGGER ledger_in_open_year BEFORE INSERT ON {ledger}
            FOR EACH ROW EXECUTE FUNCTION ledger_refuse_outside_open_year()
            """,
            f"""
            CREATE FUNCTION ledger_refuse_negative_balance() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE bad RECORD;
            BEGIN
                SELECT b.fund_year_id, b.entry_date, b.balance INTO bad
                FROM (
                    SELECT l.fund_year_id, l.entry_date,
                           SUM(CASE WHEN l.kind IN {INFLOWS} THEN l.amount ELSE -l.amount END)
                               OVER (PARTITION BY l.fund_year_id ORDER BY l.entry_date
                                     RANGE UNBOUNDED PRECEDING) AS balance
                    FROM {{ledger}} l
                    WHERE l.fund_year_id IN (SELECT fund_year_id FROM new_entries WHERE kind NOT IN {INFLOWS})
                ) b
                JOIN (SELECT fund_year_id, MIN(entry_date) AS first_day FROM new_entries
                      WHERE kind NOT IN {INFLOWS} GROUP BY fund_year_id) n
                  ON n.fund_year_id = b.fund_year_id AND b.entry_date >= n.first_day
                WHERE b.balance < 0
                LIMIT 1;
                IF FOUND THEN
                    RAISE EXCEPTION '{NEGATIVE} (fund year %, %: %)', bad.fund_year_id, bad.entry_date, bad.balance;
                END IF;
                RETURN NULL;
            END; $$
            """,
            """
            CREATE TRIGGER ledger_balance_in_date_order AFTER INSERT ON {ledger}
            REFERENCING NEW TABLE AS new_entries
            FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_negative_balance()
            """,
        ],
        "remove": [
            "DROP TRIGGER IF EXISTS ledger_balance_in_date_order ON {ledger}",
            "DROP FUNCTION IF EXISTS ledger_refuse_negative_balance()",
            "DROP TRIGGER IF EXISTS ledger_in_open_year ON {ledger}",
            "DROP FUNCTION IF EXISTS ledger_refuse_outside_open_year()",
            *_0003.SQL["postgresql"]["remove"][2:],  # append-only
        ],
    },
    "sqlite": {
        "install": [
            *_0003.SQL["sqlite"]["install"][:2],  # append-only: no UPDATE, DELETE
            f"""
            CREATE TRIGGER ledger_in_open_year BEFORE INSERT ON {{ledger}}
            WHEN (SELECT status FROM {{fund_year}} WHERE id = NEW.fund_year_id) = 'closed'
            BEGIN SELECT RAISE(ABORT, '{CLOSED}'); END
            """,
            f"""
            CREATE TRIGGER ledger_in_its_year BEFORE INSERT ON {{ledger}}
            WHEN CAST(strftime('%Y', NEW.entry_date) AS INTEGER)
                 <> (SELECT year FROM {{fund_year}} WHERE id = NEW.fund_year_id)
            BEGIN SELECT RAISE(ABORT, '{OUTSIDE}'); END
            """,
            f"""
            CREATE TRIGGER ledger_balance_in_date_order AFTER INSERT ON {{ledger}}
            WHEN NEW.kind NOT IN {INFLOWS} AND EXISTS (
                SELECT 1 FROM (
                    SELECT entry_date,
                           SUM(CASE WHEN kind IN {INFLOWS} THEN amount ELSE -amount END)
                               OVER (ORDER BY entry_date RANGE UNBOUNDED PRECEDING) AS balance
                    FROM {{ledger}} WHERE fund_year_id = NEW.fund_year_id
                ) WHERE entry_date >= NEW.entry_date AND ROUND(balance, 2) < 0)
            BEGIN SELECT RAISE(ABORT, '{NEGATIVE}'); END
            """,
        ],
        "remove": [
            "DROP TRIGGER IF EXISTS ledger_balance_in_date_order",
            "DROP TRIGGER IF EXISTS ledger_in_its_year",
            "DROP TRIGGER IF EXISTS ledger_in_open_year",
            *_0003.SQL["sqlite"]["remove"][:2],  # append-only
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
        ('fundapp', '0004_money_constraints_rounded_to_the_fen'),
    ]

    operations = [
        # 0003's triggers off (SQLite rebuilds fundyear below), this migration's set on at the end.
        migrations.RunPython(_0003.remove_triggers, _0003.install_triggers),
        migrations.RemoveConstraint(
            model_name='fundyear',
            name='fund_year_amounts_non_negative',
        ),
        migrations.RemoveConstraint(
            model_name='fundyear',
            name='fund_year_small_group_cap',
        ),
        migrations.AddField(
            model_name='fundyear',
            name='small_group_carried',
            field=models.DecimalField(decimal_places=2, db_default=Decimal('0.00'), default=Decimal('0.00'), max_digits=14, verbose_name='上年转入的小群体项目预留'),
        ),
        migrations.AddConstraint(
            model_name='fundyear',
            constraint=models.CheckConstraint(condition=models.Q(('allocated__gte', 0), ('carried_in__gte', 0), ('carried_out__gte', 0), ('reserved__gte', 0), ('settled__gte', 0), ('small_group_carried__gte', 0), ('small_group_committed__gte', 0)), name='fund_year_amounts_non_negative'),
        ),
        migrations.AddConstraint(
            model_name='fundyear',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.math.Round(models.F('small_group_committed'), 2), django.db.models.functions.math.Round(django.db.models.expressions.CombinedExpression(django.db.models.functions.math.Round(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('allocated'), '+', models.F('carried_in')), '*', models.Value(Decimal('0.20'))), 2), '+', models.F('small_group_carried')), 2)), name='fund_year_small_group_cap'),
        ),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
