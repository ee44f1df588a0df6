"""Shared plumbing of bench/b3_batch.py and bench/b4_lifecycle.py: the database, Django, processes, memory.

Everything here runs in the benchmark's own process; nothing is imported by the application.
"""
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable


def log(message):
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())} UTC] {message}", flush=True)


def ensure_database(database_url):
    """Create the PostgreSQL database named in the URL if it does not exist (connecting to `postgres`)."""
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    conn = psycopg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone():
                return False
            log(f"creating database {name}")
            cursor.execute(f'CREATE DATABASE "{name}"')
            return True
    finally:
        conn.close()


def manage(env, *args, check=True):
    """Run `manage.py <args>` in a subprocess with `env`; output goes to our stdout."""
    command = [PYTHON, str(ROOT / "manage.py"), *args]
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if check and result.returncode != 0:
        raise SystemExit(f"failed ({result.returncode}): manage.py {' '.join(args)}")
    return time.monotonic() - started


def django_setup(env):
    """Configure this process's Django from `env` (DATABASE_URL, REDIS_URL, MEDIA_ROOT …) and set it up."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundapp.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def machine():
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def write_json(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    log(f"wrote {path}")


# --- how much parallelism the machine gives right now ----------------------------------------------------

def _spin(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def cpu_parallel_speedup(n=20_000_000):
    """A pure-Python CPU loop in 1 process, then the same loop in 2 processes at once: the speed-up 2 processes
    get on this machine at this moment (2.0 on two idle cores; less when other work, or the hypervisor, takes
    CPU). The batch's 1 → 2 worker speed-up cannot exceed it."""
    import multiprocessing

    def timed(processes):
        started = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            pool.map(_spin, [n] * processes)
        return time.perf_counter() - started

    one, two = timed(1), timed(2)
    return round(2 * one / two, 2)


# --- processes and their memory ---------------------------------------------------------------------------

def _children(pid):
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            found += [int(x) for x in text]
    except OSError:
        pass
    return found


def process_tree(pid):
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += _children(current)
    return tree


def _status_kb(pid, field):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _cpu_ticks(pid):
    """utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


class MemoryWatch:
    """Polls the resident memory of a process tree (a Celery worker: its main process and its pool processes)
    every `interval` seconds; `stop()` also reads each live process's kernel high-water mark (VmHWM), which
    catches peaks between polls."""

    def __init__(self, pid, interval=0.1):
        self.pid, self.interval = pid, interval
        self.peak_total_kb = 0
        self.peak_kb = {}
        self.hwm_kb = {}
        self.cpu_start, self.cpu_last = {}, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _sample(self):
        total = 0
        for pid in process_tree(self.pid):
            rss = _status_kb(pid, "VmRSS")
            if rss is None:
                continue
            total += rss
            self.peak_kb[pid] = max(self.peak_kb.get(pid, 0), rss)
            hwm = _status_kb(pid, "VmHWM")
            if hwm is not None:
                self.hwm_kb[pid] = max(self.hwm_kb.get(pid, 0), hwm)
            ticks = _cpu_ticks(pid)
            if ticks is not None:
                self.cpu_start.setdefault(pid, ticks)
                self.cpu_last[pid] = ticks
        self.peak_total_kb = max(self.peak_total_kb, total)

    def _run(self):
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def stop(self):
        self._sample()
        self._stop.set()
        self._thread.join()
        return self.summary()

    def summary(self):
        per_process = {pid: max(self.peak_kb.get(pid, 0), self.hwm_kb.get(pid, 0)) for pid in self.peak_kb}
        main = per_process.get(self.pid, 0)
        pool = [kb for pid, kb in per_process.items() if pid != self.pid]
        return {
            "main_process_peak_mb": round(main / 1024, 1),
            "pool_process_peak_mb": round(max(pool, default=0) / 1024, 1),
            "pool_processes": len(pool),
            "tree_peak_mb": round(self.peak_total_kb / 1024, 1),
        }

    def cpu_seconds(self):
        """CPU time the tree used while watched (pool processes and main process)."""
        ticks = sum(self.cpu_last[pid] - self.cpu_start[pid] for pid in self.cpu_last)
        return ticks / os.sysconf("SC_CLK_TCK")


def stop_process(proc, timeout=60):
    """Warm shutdown (SIGTERM) of a process we started in its own session; SIGKILL its group if it hangs."""
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait(timeout=10)
