"""B5 (queries): SQL queries and response size per main page, measured with Django's test client and
CaptureQueriesContext against the benchmark database. Prints JSON rows.

    DATABASE_URL=... CACHE_URL=... python bench/queries.py [--out file.json]
    python bench/queries.py --sessions sd0001-secretary,sd0001-finance   # session cookies for wrk (JSON)
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundapp.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from approvals.models import Proposal  # noqa: E402
from fundapp import clock  # noqa: E402
from fundapp.models import Community  # noqa: E402

USERS = {
    "subdistrict secretary (50 communities)": "sd0001-secretary",
    "finance officer (50 communities)": "sd0001-finance",
    "community secretary": "c00001-secretary",
}


def pages():
    year = clock.today().year
    community = Community.objects.order_by("pk").first()
    proposal = Proposal.objects.filter(community=community, fund_year__year=year).order_by("pk").first()
    code = community.code
    public = [
        ("public index", None, "/public/zh/"),
        ("public community-year (uncached)", None, f"/public/zh/{code}/{year}/"),
        ("public community-year (cached)", None, f"/public/zh/{code}/{year}/"),
        ("open data JSON (uncached)", None, f"/public/zh/{code}/{year}.json"),
        ("open data CSV (cached data)", None, f"/public/zh/{code}/{year}.csv"),
    ]
    staff = []
    for who, username in USERS.items():
        staff += [
            (f"home / work queue — {who}", username, "/"),
            (f"proposal list — {who}", username, "/proposals/"),
            (f"proposal detail — {who}", username, f"/proposals/{proposal.pk}/"),
            (f"ledger page — {who}", username, f"/ledgers/{code}/{year}/"),
        ]
    staff += [("finance reconcile — finance officer", "sd0001-finance", "/finance/reconcile/"),
              ("finance summary — finance officer", "sd0001-finance", "/finance/summary/")]
    return public + staff


def measure():
    from django.contrib.auth import get_user_model

    rows = []
    clients = {}
    for name, username, url in pages():
        if "uncached" in name:
            cache.clear()
        client = clients.get(username)
        if client is None:
            client = clients[username] = Client(SERVER_NAME="127.0.0.1")
            if username:
                client.force_login(get_user_model().objects.get(username=username))
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
        rows.append({"page": name, "url": url, "status": response.status_code, "queries": len(ctx.captured_queries),
                     "bytes": len(response.content), "ms": round(elapsed * 1000, 1)})
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    parser.add_argument("--sessions", help="comma-separated usernames: print {username: sessionid} and stop")
    args = parser.parse_args()
    if args.sessions:
        from django.contrib.auth import get_user_model

        cookies = {}
        for username in args.sessions.split(","):
            client = Client(SERVER_NAME="127.0.0.1")
            client.force_login(get_user_model().objects.get(username=username))
            cookies[username] = client.cookies["sessionid"].value
        print(json.dumps(cookies))
        return
    rows = measure()
    failed = [row for row in rows if row["status"] != 200]
    if failed:
        raise SystemExit(f"pages did not answer 200: {failed}")
    text = json.dumps(rows, ensure_ascii=False, indent=1)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    for row in rows:
        print(f"{row['queries']:>4} q {row['status']} {row['bytes']:>8} B {row['ms']:>8} ms  {row['page']}")


if __name__ == "__main__":
    main()
