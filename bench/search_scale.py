"""The residents' search at a large city's scale: 110,000 communities' search entries (the loader of
public/tests/test_search_scale.py, with the indexes rebuilt after the load), each query run in alternating
rounds; prints the median and range per query and whether its plan uses the index.

    .venv/bin/python bench/search_scale.py [--communities 110000] [--rounds 9]

Needs PostgreSQL on 127.0.0.1:5432 (DATABASE_URL's server); works in a database of its own
(fund_bench_search), created and migrated on first use and emptied of its search city afterwards (the load
runs in a transaction that is rolled back)."""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
QUERIES = ["光明", "梅", "guangming", "gmjsq", "金银铜社区", "xf"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=110_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--database", default="fund_bench_search")
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres").rsplit("/", 1)[0]
    os.environ["DATABASE_URL"] = f"{server}/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundapp.settings")
    from _b3_common import ensure_database  # bench/, this script's own folder

    ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from public.city_selectors import search, search_prefix_queryset, search_substring_queryset
    from public.tests.test_search_scale import _city_of

    call_command("migrate", verbosity=0)
    times = {q: [] for q in QUERIES}
    with transaction.atomic():
        started = time.perf_counter()
        _city_of(args.communities, rebuild_indexes=True)
        print(f"{args.communities} communities loaded and indexed in {time.perf_counter() - started:.1f} s")
        for _ in range(args.rounds):  # the queries alternate within each round
            for query in QUERIES:
                start = time.perf_counter()
                search(query, 2026)
                times[query].append((time.perf_counter() - start) * 1000)
        plans = {q: search_substring_queryset(q).explain() + search_prefix_queryset(q).explain() for q in QUERIES}
        transaction.set_rollback(True)
    print(f"{'query':<12} {'median ms':>9}  range ms      index")
    for query in QUERIES:
        t = times[query]
        used = "trigram" if "grams_trgm" in plans[query] else ("btree" if "_like" in plans[query] else "none")
        print(f"{query:<12} {statistics.median(t):9.1f}  {min(t):5.1f}–{max(t):<6.1f} {used}")


if __name__ == "__main__":
    main()
