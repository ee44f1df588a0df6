"""The year's allocation in one act at a large city's scale: N communities (default 10,000) allocated for a
year through fundapp.services.allocations — the plan, the act, and the act confirmed again (which writes
nothing) — each timed.

    .venv/bin/python bench/year_allocation.py [--communities 10000]

Needs PostgreSQL on 127.0.0.1:5432 (DATABASE_URL's server); works in a database of its own
(fund_bench_allocation), created and migrated on first use; everything runs in a transaction that is rolled
back, so the database stays empty."""
import argparse
import datetime
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Rollback(Exception):
    pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=10_000)
    parser.add_argument("--database", default="fund_bench_allocation")
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres").rsplit("/", 1)[0]
    os.environ["DATABASE_URL"] = f"{server}/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundapp.settings")
    from _b3_common import ensure_database  # bench/, this script's own folder

    ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction

    from fundapp import clock
    from fundapp.models import Community, Post, Role, Subdistrict
    from fundapp.services import allocations

    call_command("migrate", verbosity=0)
    today = clock.today()
    try:
        with transaction.atomic():
            subdistricts = Subdistrict.objects.bulk_create(
                [Subdistrict(name=f"基准街道{i}", code=f"bench-sd-{i}") for i in range(max(1, args.communities // 25))])
            Community.objects.bulk_create(
                [Community(subdistrict=subdistricts[i % len(subdistricts)], name=f"基准社区{i}", code=f"bench-{i}")
                 for i in range(args.communities)], batch_size=2000)
            user = get_user_model().objects.create_user(username="bench-city-admin")
            Post.objects.create(user=user, role=Role.CITY_ADMIN, start_date=datetime.date(2000, 1, 1))
            times = {}
            started = time.perf_counter()
            plan = allocations.year_allocation_plan(year=today.year, entry_date=today, amount="200000", by=user)
            times["plan"] = time.perf_counter() - started
            started = time.perf_counter()
            done = allocations.year_allocation_confirm(year=today.year, entry_date=today, amount="200000", by=user,
                                                       key=plan.key)
            times["confirm"] = time.perf_counter() - started
            started = time.perf_counter()
            again = allocations.year_allocation_confirm(year=today.year, entry_date=today, amount="200000", by=user,
                                                        key=plan.key)
            times["confirm again"] = time.perf_counter() - started
            assert len(done.due) == args.communities and not again.due
            for name, seconds in times.items():
                print(f"{name:>14}: {seconds:6.2f} s ({args.communities} communities)")
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
