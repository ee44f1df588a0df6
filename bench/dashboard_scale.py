"""The dashboards (desk/dashboard_views.py) at a large city's scale: 10,000 communities in 50 subdistricts, a fund
year each and five proposals each (50,000), bulk-loaded; prints each page's status, query count, time and size.

    .venv/bin/python bench/dashboard_scale.py [--communities 10000] [--subdistricts 50]

Needs PostgreSQL on 127.0.0.1:5432 (DATABASE_URL's server); works in a database of its own
(fund_bench_dashboard), created and migrated on first use; the load runs in a transaction that is rolled back.
The query counts must not change with --communities (desk/tests/test_dashboard.py pins them at 10 and 200)."""
import argparse
import datetime
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TODAY = datetime.date(2026, 12, 2)


class _Rollback(Exception):
    pass


def load(communities, subdistricts):
    from django.contrib.auth import get_user_model

    from approvals.models import Proposal, State
    from fundapp.models import Community, FundYear, Role
    from fundapp.services import org as org_services

    start = datetime.date(2025, 1, 1)
    sds = [org_services.subdistrict_create(name=f"规模街道{i:02d}", code=f"s{i:02d}") for i in range(subdistricts)]
    cs = Community.objects.bulk_create([Community(subdistrict=sds[i % subdistricts], name=f"规模社区{i:05d}",
                                                  code=f"c{i:05d}") for i in range(communities)], batch_size=2000)
    fys = FundYear.objects.bulk_create([
        FundYear(community=c, year=TODAY.year, allocated=Decimal("200000.00"), settled=Decimal(i % 150000),
                 reserved=Decimal("10000.00"),
                 small_group_committed=Decimal("35000.00") if i % 7 == 0 else Decimal("0.00"))
        for i, c in enumerate(cs)], batch_size=2000)
    users = get_user_model().objects
    admin = users.create_user(username="bench-city-admin", password="x")
    org_services.post_create(user=admin, role=Role.CITY_ADMIN, start_date=start)
    secretary = users.create_user(username="bench-sd-secretary", password="x")
    org_services.post_create(user=secretary, role=Role.SUBDISTRICT_SECRETARY, subdistrict=sds[0], start_date=start)
    states = [State.UNDER_REVIEW, State.IN_PROGRESS, State.COMPLETED, State.DRAFT, State.APPROVED]
    Proposal.objects.bulk_create([
        Proposal(community_id=fy.community_id, fund_year=fy, title=f"项目{i}-{k}", category=1 + (i + k) % 6,
                 content="—", beneficiaries="broad", beneficiary_count=10, planned_start=datetime.date(2026, 3, 1),
                 planned_end=datetime.date(2026, 11, 1), art4_declaration=True, state=state, created_by=admin,
                 review_received_on=datetime.date(2026, 11, 20) if state == State.UNDER_REVIEW else None,
                 review_deadline=(datetime.date(2026, 11, 20) + datetime.timedelta(days=i % 16)
                                  if state == State.UNDER_REVIEW else None))
        for i, fy in enumerate(fys) for k, state in enumerate(states)], batch_size=5000)
    return admin, secretary


def measure(admin, secretary):
    import time_machine
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    pages = [
        (admin, ["/dashboard/", "/dashboard/?list=overdue", "/dashboard/?list=reports&page=3",
                 "/dashboard/?list=small_group", "/dashboard/?list=spending", "/dashboard/?list=idle&subdistrict=s07",
                 "/dashboard/export.xlsx?list=reports", "/dashboard/export.csv?list=overdue"]),
        (secretary, ["/dashboard/s00/", "/dashboard/s00/?list=spending", "/dashboard/s00/export.csv?list=idle"]),
    ]
    with time_machine.travel(datetime.datetime(2026, 12, 2, 2, 0, tzinfo=datetime.timezone.utc), tick=False):
        for user, urls in pages:
            client = Client()
            client.force_login(user)
            client.get(urls[0])
            for url in urls:
                with CaptureQueriesContext(connection) as queries:
                    began = time.perf_counter()
                    response = client.get(url)
                    took = time.perf_counter() - began
                print(f"{user.username:20} {url:45} {response.status_code} {len(queries.captured_queries):3} queries "
                      f"{took * 1000:7.0f} ms {len(response.content) // 1024:5} KB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=10_000)
    parser.add_argument("--subdistricts", type=int, default=50)
    parser.add_argument("--database", default="fund_bench_dashboard")
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres").rsplit("/", 1)[0]
    os.environ["DATABASE_URL"] = f"{server}/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundapp.settings")
    from _b3_common import ensure_database  # bench/, this script's own folder

    ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    call_command("migrate", verbosity=0)
    try:
        with transaction.atomic():
            began = time.perf_counter()
            people = load(args.communities, args.subdistricts)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            print(f"loaded {args.communities} communities in {time.perf_counter() - began:.1f} s")
            measure(*people)
            raise _Rollback
    except _Rollback:
        pass


if __name__ == "__main__":
    main()
