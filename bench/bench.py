#!/usr/bin/env python
"""The benchmark runner behind `bench/run` (see bench/README.md and docs/performance.md).

1. database: creates it if missing (default fund_bench), migrates, seeds it with `seed_scale` at full size
   (10,000 communities x 5 years x 20 projects) unless that data is already there (`--quick`: 200 communities,
   in its own database fund_bench_quick);
2. collectstatic; B5 queries: SQL queries per main page with Django's test client against that database,
   which also gives the public page's size for the static-file ceiling;
3. starts gunicorn (gthread workers, production settings, cache and Celery broker on Redis db 9) and runs
   B1 (public community-year page: cached, uncached, and a static file of the same size as the ceiling; 32
   connections) and B2 (a subdistrict secretary's work queue and a finance officer's ledger pages over 50
   communities) with wrk, polling the web workers' memory (B5) all the while; stops gunicorn;
4. B3 and B4: helper scripts bench/b3_batch.py and bench/b4_lifecycle.py, each starting real Celery workers
   and writing their rows as JSON (skipped with a note if missing or with --skip-b3/--skip-b4);
5. storage: bytes per community-year from pg_total_relation_size (the basis of docs/scaling.md);
6. writes bench/results/latest.json and latest.md and rewrites the marked results section of
   docs/performance.md.

On a 2-core machine wrk shares the CPU with gunicorn and PostgreSQL (it runs 2 threads); the static-file
ceiling is measured under the same handicap, so the ratio page/ceiling is fair, the absolute numbers are not
what a separate load generator would see.
"""
import argparse
import datetime
import json
import os
import platform
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "performance.md"
MARK_START, MARK_END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
FULL = {"communities": 10_000, "years": 5, "projects": 20}
QUICK = {"communities": 200, "years": 5, "projects": 20}


def log(message):
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", flush=True)


def parse_args():
    p = argparse.ArgumentParser(description="Run the whole benchmark (B1-B5) and write bench/results/latest.md.")
    p.add_argument("--quick", action="store_true", help="smoke size (200 communities), short runs")
    p.add_argument("--db", help="PostgreSQL database (default fund_bench, or fund_bench_quick with --quick)")
    p.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    p.add_argument("--redis", default="redis://127.0.0.1:6379", help="Redis server URL")
    p.add_argument("--redis-db", type=int, default=9, help="Redis database of the web cache (flushed)")
    p.add_argument("--b3-redis-db", type=int, default=10, help="Redis database given to B3/B4 (flushed by them)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    p.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    p.add_argument("--connections", type=int, default=32, help="B1 concurrent clients")
    p.add_argument("--duration", type=int, help="seconds per B1 measurement (default 20, quick 8)")
    p.add_argument("--b2-connections", type=int, default=4)
    p.add_argument("--skip-b3", action="store_true")
    p.add_argument("--skip-b4", action="store_true")
    p.add_argument("--b3-communities", type=int, help="communities of the B3 batch (default: b3_batch.py's own)")
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md")
    args = p.parse_args()
    args.size = QUICK if args.quick else FULL
    args.db = args.db or ("fund_bench_quick" if args.quick else "fund_bench")
    args.duration = args.duration or (8 if args.quick else 20)
    return args


# --- processes ---------------------------------------------------------------------------------------------

def bench_env(args):
    env = dict(os.environ)
    cache = f"{args.redis}/{args.redis_db}"
    env.update({
        "DATABASE_URL": f"{args.pg}/{args.db}", "FUND_ENV": "production", "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-secret-key-not-for-production-0123456789abcdef",
        "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "0", "TWO_FACTOR_REQUIRED": "0",
        "REDIS_URL": cache, "CACHE_URL": cache, "DB_CONN_MAX_AGE": "60", "LOG_LEVEL": "WARNING",
        "TRUSTED_PROXIES": "none",  # wrk talks to gunicorn directly
        "DJANGO_SETTINGS_MODULE": "fundapp.settings", "PYTHONPATH": str(ROOT),
    })
    return env


def run(cmd, env, **kwargs):
    log("$ " + " ".join(shlex.quote(str(c)) for c in cmd))
    started = time.monotonic()
    subprocess.run([str(c) for c in cmd], env=env, cwd=ROOT, check=True, **kwargs)
    return time.monotonic() - started


def manage(env, *cmd, **kwargs):
    return run([PY, "manage.py", *cmd], env, **kwargs)


def ensure_database(args, env):
    server = args.pg
    exists = subprocess.run(["psql", f"{server}/postgres", "-tAc",
                             f"SELECT 1 FROM pg_database WHERE datname = '{args.db}'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if not exists:
        run(["psql", f"{server}/postgres", "-c", f'CREATE DATABASE "{args.db}"'], env)


def flush_redis(args, db):
    import redis

    redis.Redis.from_url(f"{args.redis}/{db}").flushdb()


def children(pid):
    """Direct children of `pid` (from /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def rss_kb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemoryPoll(threading.Thread):
    """Peak RSS of each child of a master process (the web workers), polled every 0.1 s."""

    def __init__(self, master):
        super().__init__(daemon=True)
        self.master, self.peak, self.peak_total, self.stop_flag = master, {}, 0, threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            pids = children(self.master)
            total = 0
            for pid in pids:
                value = rss_kb(pid)
                total += value
                self.peak[pid] = max(self.peak.get(pid, 0), value)
            self.peak_total = max(self.peak_total, total)
            time.sleep(0.1)

    def result(self):
        return {"worker_peak_mb": round(max(self.peak.values(), default=0) / 1024, 1),
                "workers_total_peak_mb": round(self.peak_total / 1024, 1), "workers": len(self.peak)}


def start_gunicorn(args, env):
    cmd = [str(BIN / "gunicorn"), "fundapp.wsgi", "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers),
           "--worker-class", "gthread", "--threads", str(args.threads), "--keep-alive", "5",
           "--access-logfile", "/dev/null", "--error-logfile", str(RESULTS / "gunicorn.log"), "--log-level", "warning"]
    log("$ " + " ".join(cmd))
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", args.port), timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited ({proc.returncode}); see {RESULTS / 'gunicorn.log'}")
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start listening within 60 s")


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- load ----------------------------------------------------------------------------------------------------

def wrk(args, path, *, connections, duration, cookie=None, paths_file=None, threads=2, timeout=10):
    base = f"http://127.0.0.1:{args.port}"
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", f"{timeout}s",
           "-s", str(ROOT / "bench" / "wrk_report.lua")]
    if cookie:
        cmd += ["-H", f"Cookie: sessionid={cookie}"]
    cmd.append(base + path)
    env = dict(os.environ, WRK_THREADS=str(threads), WRK_PATHS=str(paths_file or ""))
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    match = re.search(r"WRKJSON (\{.*\})", out)
    if not match:
        raise SystemExit(f"wrk gave no report:\n{out}")
    r = json.loads(match.group(1))
    seconds = r["duration_us"] / 1e6
    errors = sum(v for k, v in r.items() if k.startswith("errors_"))
    return {"path": path, "connections": connections, "seconds": round(seconds, 1), "requests": r["requests"],
            "rps": round(r["requests"] / seconds, 1), "p50_ms": r["p50_us"] / 1000, "p90_ms": r["p90_us"] / 1000,
            "p95_ms": r["p95_us"] / 1000, "p99_ms": r["p99_us"] / 1000, "max_ms": r["max_us"] / 1000,
            "errors": errors, "non_2xx": r["errors_status"], "bytes_per_response": round(r["bytes"] / max(r["requests"], 1))}


def get(args, path, cookie=None):
    import urllib.request

    request = urllib.request.Request(f"http://127.0.0.1:{args.port}{path}")
    if cookie:
        request.add_header("Cookie", f"sessionid={cookie}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


# --- steps ---------------------------------------------------------------------------------------------------

def prepare(args, env, timings):
    ensure_database(args, env)
    timings["migrate_s"] = round(manage(env, "migrate", "--no-input", "-v", "0"), 1)
    size = args.size
    timings["seed_s"] = round(manage(env, "seed_scale", "--communities", size["communities"], "--years", size["years"],
                                     "--projects", size["projects"]), 1)
    timings["collectstatic_s"] = round(manage(env, "collectstatic", "--no-input", "-v", "0"), 1)


def queries(args, env):
    out = RESULTS / "queries.json"
    flush_redis(args, args.redis_db)
    run([PY, "bench/queries.py", "--out", out], env)
    return json.loads(out.read_text(encoding="utf-8"))


def sessions(env, usernames):
    out = subprocess.run([PY, "bench/queries.py", "--sessions", ",".join(usernames)], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def write_ceiling(size):
    from_settings = ROOT / "var" / "staticfiles"
    path = from_settings / "bench" / f"ceiling-{size}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(size)
    path.write_text("".join(rng.choice("abcdefghij ") for _ in range(size)), encoding="ascii")
    return f"/static/bench/ceiling-{size}.html"


def b1_b2(args, env, page_bytes, year):
    results = {}
    ceiling = write_ceiling(page_bytes)
    flush_redis(args, args.redis_db)
    gunicorn = start_gunicorn(args, env)
    memory = MemoryPoll(gunicorn.pid)
    memory.start()
    try:
        page = f"/public/zh/c00001/{year}/"
        status, body = get(args, page)
        assert status == 200, status
        status, static = get(args, ceiling)
        assert status == 200 and len(static) == page_bytes, (status, len(static), page_bytes)
        d, c = args.duration, args.connections
        log(f"B1 warm-up and cached page {page} ({len(body)} bytes)")
        wrk(args, page, connections=c, duration=3)
        results["b1_cached"] = wrk(args, page, connections=c, duration=d)
        log("B1 static ceiling")
        wrk(args, ceiling, connections=c, duration=3)
        results["b1_static"] = wrk(args, ceiling, connections=c, duration=d)
        log("B1 uncached: a different community-year page for every request")
        communities, years = args.size["communities"], args.size["years"]
        paths = [f"/public/zh/c{i:05d}/{y}/" for i in range(1, communities + 1) for y in range(year - years + 1, year + 1)]
        random.Random(1).shuffle(paths)
        paths_file = RESULTS / "uncached-paths.txt"
        paths_file.write_text("\n".join(paths) + "\n")
        flush_redis(args, args.redis_db)
        results["b1_uncached"] = wrk(args, page, connections=c, duration=d, paths_file=paths_file)
        results["b1_uncached"]["distinct_pages"] = len(paths)
        results["b1_uncached"]["all_misses"] = results["b1_uncached"]["requests"] <= len(paths)
        # The same at 4 clients: the latency of a miss itself, without 32 requests queueing for 2 cores.
        paths_file.write_text("\n".join(reversed(paths)) + "\n")
        results["b1_uncached_4"] = wrk(args, page, connections=4, duration=d, paths_file=paths_file)
        results["b1_uncached_4"]["distinct_pages"] = len(paths)
        results["b1_uncached_4"]["all_misses"] = (results["b1_uncached"]["requests"]
                                                  + results["b1_uncached_4"]["requests"]) <= len(paths)
        results["b1_memory"] = memory.result()

        cookies = sessions(env, ["sd0001-secretary", "sd0001-finance"])
        b2 = {
            "b2_queue_secretary": ("/", cookies["sd0001-secretary"]),
            "b2_queue_finance": ("/", cookies["sd0001-finance"]),
            "b2_ledgers_finance": ("/ledgers/", cookies["sd0001-finance"]),
            "b2_ledger_finance": (f"/ledgers/c00001/{year}/", cookies["sd0001-finance"]),
            "b2_reconcile_finance": ("/finance/reconcile/", cookies["sd0001-finance"]),
        }
        for key, (path, cookie) in b2.items():
            status, _ = get(args, path, cookie)
            assert status == 200, (path, status)
            log(f"B2 {key} {path}")
            results[key] = wrk(args, path, connections=args.b2_connections, duration=max(d * 3 // 4, 5),
                               cookie=cookie, threads=min(2, args.b2_connections), timeout=30)
        results["web_memory"] = memory.result()
    finally:
        memory.stop_flag.set()
        stop(gunicorn)
    return results


def helper_script(name, args, env, extra):
    script = ROOT / "bench" / name
    if not script.exists():
        return {"skipped": f"{name} not found"}
    out = RESULTS / (name.replace(".py", ".json"))
    cmd = [PY, script, "--out", out, *extra]
    if args.quick:
        cmd.append("--quick")
    try:
        seconds = run(cmd, env)
    except subprocess.CalledProcessError as exc:
        return {"failed": f"{name} exited with {exc.returncode}"}
    data = json.loads(out.read_text(encoding="utf-8"))
    data["runner_seconds"] = round(seconds, 1)
    return data


def storage(args, env):
    sql = """
        SELECT c.relname, pg_total_relation_size(c.oid), c.reltuples::bigint
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY 2 DESC"""
    out = subprocess.run(["psql", f"{args.pg}/{args.db}", "-tA", "-F", "\t", "-c", sql], capture_output=True,
                         text=True, check=True).stdout
    tables = []
    for line in out.strip().splitlines():
        name, size, rows = line.split("\t")
        tables.append({"table": name, "bytes": int(size), "rows": max(int(rows), 0)})
    db_bytes = int(subprocess.run(["psql", f"{args.pg}/{args.db}", "-tAc",
                                   f"SELECT pg_database_size('{args.db}')"], capture_output=True, text=True,
                                  check=True).stdout.strip())
    community_years = args.size["communities"] * args.size["years"]
    return {"database_bytes": db_bytes, "community_years": community_years,
            "bytes_per_community_year": round(db_bytes / community_years),
            "tables": tables[:25]}


# --- report --------------------------------------------------------------------------------------------------

def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    pg = subprocess.run(["psql", "postgres://postgres@127.0.0.1:5432/postgres", "-tAc", "SHOW server_version"],
                        capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": round(mem / 1024 / 1024, 1),
            "os": platform.platform(), "python": platform.python_version(), "postgresql": pg,
            "commit": commit + ("+uncommitted" if dirty else ""),
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def rows_of(results, args):
    rows = []
    ok = lambda good: "✔" if good else "✘"  # noqa: E731
    c, s, u = results.get("b1_cached"), results.get("b1_static"), results.get("b1_uncached")
    if c and s and u:
        ratio = c["rps"] / s["rps"] if s["rps"] else 0
        rows += [
            ("B1", f"public page, cached, {c['connections']} clients", f"{c['rps']:.0f} req/s; p50 {c['p50_ms']:.1f} / "
             f"p95 {c['p95_ms']:.1f} / p99 {c['p99_ms']:.1f} ms", "p95 ≤ 20 ms", ok(c["p95_ms"] <= 20)),
            ("B1", "static file of the same size (ceiling)", f"{s['rps']:.0f} req/s; p50 {s['p50_ms']:.1f} / "
             f"p95 {s['p95_ms']:.1f} / p99 {s['p99_ms']:.1f} ms", "", ""),
            ("B1", "ratio cached page / ceiling", f"{ratio:.0%}", "≥ 50%", ok(ratio >= 0.5)),
            ("B1", f"public page, uncached (every request a different page of {u['distinct_pages']:,})",
             f"{u['rps']:.0f} req/s; p50 {u['p50_ms']:.1f} / p95 {u['p95_ms']:.1f} / p99 {u['p99_ms']:.1f} ms"
             + ("" if u["all_misses"] else " (list wrapped: some hits)"), "p95 ≤ 150 ms", ok(u["p95_ms"] <= 150)),
        ]
        u4 = results.get("b1_uncached_4")
        if u4:
            rows.append(("B1", "public page, uncached, 4 clients (latency of a miss)",
                         f"{u4['rps']:.0f} req/s; p50 {u4['p50_ms']:.1f} / p95 {u4['p95_ms']:.1f} / "
                         f"p99 {u4['p99_ms']:.1f} ms", "", ""))
        errors = sum(results[k]["errors"] for k in ("b1_cached", "b1_static", "b1_uncached", "b1_uncached_4")
                     if k in results)
        rows.append(("B1", "errors / non-2xx responses", str(errors), "0", ok(errors == 0)))
    labels = {"b2_queue_secretary": "work queue, subdistrict secretary (50 communities)",
              "b2_queue_finance": "work queue, finance officer (50 communities)",
              "b2_ledgers_finance": "ledger list, finance officer (50 communities x 5 years)",
              "b2_ledger_finance": "one community's ledger page, finance officer",
              "b2_reconcile_finance": "reconciliation page, finance officer (50 communities)"}
    for key, label in labels.items():
        r = results.get(key)
        if r:
            rows.append(("B2", f"{label}, {r['connections']} clients",
                         f"p95 {r['p95_ms']:.0f} ms (p50 {r['p50_ms']:.0f}, {r['rps']:.1f} req/s, errors {r['errors']})",
                         "", ""))
    m = results.get("b1_memory")
    if m:
        rows.append(("B5", f"web worker peak RSS during B1 ({m['workers']} workers)", f"{m['worker_peak_mb']} MB "
                     f"(all workers {m['workers_total_peak_mb']} MB)", "< 250 MB", ok(m["worker_peak_mb"] < 250)))
    m = results.get("web_memory")
    if m:
        rows.append(("B5", "web worker peak RSS during B1 + B2", f"{m['worker_peak_mb']} MB", "< 250 MB",
                     ok(m["worker_peak_mb"] < 250)))
    for name in ("b3", "b4"):
        data = results.get(name) or {}
        if "rows" in data:
            for r in data["rows"]:
                value = r.get("value")
                value = f"{value:,.3g}" if isinstance(value, float) else str(value)
                rows.append((r.get("benchmark", name.upper()), r.get("metric", ""),
                             f"{value} {r.get('unit', '')}".strip(), r.get("target", ""), r.get("ok", "")
                             if not isinstance(r.get("ok"), bool) else ok(r["ok"])))
        elif data:
            rows.append((name.upper(), "not run", data.get("skipped") or data.get("failed", ""), "", "✘"))
    for q in results.get("queries", []):
        rows.append(("B5", f"SQL queries: {q['page']}", f"{q['queries']} ({q['bytes']:,} bytes)", "constant", ""))
    st = results.get("storage")
    if st:
        rows.append(("size", f"database ({st['community_years']:,} community-years)",
                     f"{st['database_bytes'] / 2**30:.2f} GiB = {st['bytes_per_community_year'] / 1024:.0f} KiB per "
                     "community-year", "", ""))
    return rows


def markdown(results, args, command):
    m = results["machine"]
    lines = [
        f"Run {m['date']} on {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM ({m['os']}; Python {m['python']}, "
        f"PostgreSQL {m['postgresql']}), commit {m['commit']}, load average at start "
        f"{', '.join(str(x) for x in m['load_average_at_start'])}.",
        f"Command: `{command}` — data: {args.size['communities']:,} communities x {args.size['years']} years x "
        f"{args.size['projects']} projects = {args.size['communities'] * args.size['years'] * args.size['projects']:,} "
        f"proposals (database `{args.db}`); gunicorn {args.workers} workers x {args.threads} threads (gthread), "
        "wrk with 2 threads on the same machine.",
        "",
        "| | measurement | result | target | |",
        "|---|---|---|---|---|",
    ]
    for bench, metric, value, target, verdict in rows_of(results, args):
        lines.append(f"| {bench} | {metric} | {value} | {target} | {verdict} |")
    t = results.get("timings", {})
    lines += ["", "Phases (s): " + ", ".join(f"{k} {v}" for k, v in t.items())]
    return "\n".join(lines) + "\n"


def write_reports(results, args, command):
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str) + "\n",
                                         encoding="utf-8")
    table = markdown(results, args, command)
    (RESULTS / "latest.md").write_text("# Benchmark results (bench/run)\n\n" + table, encoding="utf-8")
    if not args.no_docs and DOC.exists():
        text = DOC.read_text(encoding="utf-8")
        if MARK_START in text and MARK_END in text:
            head, rest = text.split(MARK_START, 1)
            _, tail = rest.split(MARK_END, 1)
            DOC.write_text(f"{head}{MARK_START}\n{table}{MARK_END}{tail}", encoding="utf-8")
    log(f"wrote {RESULTS / 'latest.md'} and latest.json")
    print(table)


def main():
    # A SIGTERM (or Ctrl-C) unwinds through the `finally` that stops gunicorn.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    args = parse_args()
    command = "bench/run" + ("".join(f" {a}" for a in sys.argv[1:]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    env = bench_env(args)
    results = {"machine": machine(), "size": args.size, "database": args.db, "timings": {}}
    started = time.monotonic()
    prepare(args, env, results["timings"])
    sys.path.insert(0, str(ROOT))
    year = datetime.date.today().year
    t = time.monotonic()
    results["queries"] = queries(args, env)
    results["timings"]["queries_s"] = round(time.monotonic() - t, 1)
    page = next(q for q in results["queries"] if q["page"] == "public community-year (cached)")
    t = time.monotonic()
    results.update(b1_b2(args, env, page["bytes"], year))
    results["timings"]["b1_b2_s"] = round(time.monotonic() - t, 1)
    b3_env = dict(env, REDIS_URL=f"{args.redis}/{args.b3_redis_db}", CACHE_URL=f"{args.redis}/{args.b3_redis_db}")
    common = ["--database-url", env["DATABASE_URL"], "--redis-url", b3_env["REDIS_URL"]]
    if not args.skip_b3:
        t = time.monotonic()
        extra = common + (["--communities", str(args.b3_communities)] if args.b3_communities else [])
        results["b3"] = helper_script("b3_batch.py", args, b3_env, extra)
        results["timings"]["b3_s"] = round(time.monotonic() - t, 1)
    if not args.skip_b4:
        t = time.monotonic()
        results["b4"] = helper_script("b4_lifecycle.py", args, b3_env, common)
        results["timings"]["b4_s"] = round(time.monotonic() - t, 1)
    results["storage"] = storage(args, env)
    results["timings"]["total_s"] = round(time.monotonic() - started, 1)
    write_reports(results, args, command)


if __name__ == "__main__":
    main()
