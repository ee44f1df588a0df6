"""docs/operations.md's backup and restore, done for real on PostgreSQL."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from approvals import services as chain
from fundapp.models import Role

from .chain import allocate, approve, draft, signed_invoice, to_accepted, to_review, travel

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _url(name):
    s = connection.settings_dict
    user = s["USER"] or "postgres"
    return f"postgres://{user}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _rows(url, sql):
    import psycopg

    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_dump_and_restore_into_a_fresh_database_keeps_ledgers_and_the_audit_chain(org, tmp_path):
    import datetime

    for tool in ("pg_dump", "pg_restore", "createdb", "dropdb"):
        assert shutil.which(tool), f"{tool} missing: apt-get install postgresql-client"
    allocate(org)
    proposal = to_accepted(org, approve(org, to_review(org, draft(org, budget="30000.00"))))
    invoice = signed_invoice(org, proposal, amount="28000.00")
    with travel(datetime.date(2026, 11, 4)):
        chain.invoice_settle(invoice=invoice, by=org.person(Role.FINANCE_OFFICER), paid_on=datetime.date(2026, 11, 4),
                             method="transfer", reference="R1")
    source = _url(connection.settings_dict["NAME"])
    restored_name = f"{connection.settings_dict['NAME']}_restored"
    restored = _url(restored_name)
    dump = tmp_path / "fund.dump"
    host = ["-h", connection.settings_dict["HOST"] or "127.0.0.1", "-U", connection.settings_dict["USER"] or "postgres"]
    subprocess.run(["dropdb", *host, "--if-exists", restored_name], check=True)
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", source], check=True)
    subprocess.run(["createdb", *host, restored_name], check=True)
    try:
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={restored}", str(dump)], check=True)
        ledger = ("SELECT e.id, f.year, c.code, e.kind, e.amount, e.entry_date FROM fundapp_ledgerentry e "
                  "JOIN fundapp_fundyear f ON f.id = e.fund_year_id JOIN fundapp_community c ON c.id = f.community_id "
                  "ORDER BY e.id")
        totals = "SELECT community_id, year, allocated, settled, reserved FROM fundapp_fundyear ORDER BY id"
        assert _rows(restored, ledger) == _rows(source, ledger) and len(_rows(source, ledger)) == 2
        assert _rows(restored, totals) == _rows(source, totals)
        env = {**os.environ, "DATABASE_URL": restored, "AUDIT_HEADS_FILE": str(tmp_path / "no-heads.jsonl")}
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        result = subprocess.run([sys.executable, "manage.py", "verify_audit"], cwd=ROOT, env=env,
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "intact" in result.stdout
        # the restored database still refuses to edit its ledger
        import psycopg

        with pytest.raises(psycopg.Error, match="append-only"):
            _rows(restored, "UPDATE fundapp_ledgerentry SET amount = 1 RETURNING id")
    finally:
        subprocess.run(["dropdb", *host, "--if-exists", restored_name], check=True)
