#!/usr/bin/env python3
"""test/bench/bench.py - the measurements and the table of the tempo_fdw benchmark.

Run by test/bench/run.sh, which installs packages, builds and installs tempo_fdw, starts a
throwaway cluster and the simulator, builds test/bench/bound and exports:

    PGHOST PGPORT PGUSER(superuser) PGDATABASE   the cluster (tempo_fdw installable)
    TEMPO_SIM_URL                                the simulator, http://127.0.0.1:PORT
    BENCH_BOUND                                  path of the built bound program
    BENCH_QUICK=1                                1 repetition, no 1,000,000-row dataset
    BENCH_REPS=N                                 repetitions (default 3)
    BENCH_INFO                                   extra "key: value" lines for the header

Contenders, all against the same simulator URLs (so the same cached pages):
  tempo_fdw   a fresh backend per measurement: SELECT pg_backend_pid(), the query, then
              VmHWM read from /proc/PID/status by this process (the backend's peak RSS).
              SELECT * is measured twice.  As COPY (SELECT * FROM t) TO '/dev/null'
              (superuser): every column of every row is converted and put through its
              output function, as a client fetch would, without the client transfer.  And
              as the scan alone, EXPLAIN (ANALYZE, TIMING OFF) SELECT * FROM t: every
              column of every row is made into a Datum, as the FDW hands rows to the
              executor, and nothing is printed -- what the fetch-and-parse bound compares
              with, since the bound prints nothing either.
  python      test/bench/baseline.py (requests + psycopg2 COPY into a regular table).
  bound       test/bench/bound (libcurl + cJSON with an arena, no database).
Each is run BENCH_REPS times; the median is shown.  The simulator's pages are rendered
once (warm-up) before anything is timed.  Targets are reported as PASS/MISS; a MISS is
not a failure (the exit status is 0 unless something could not be measured).
"""

import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.environ["TEMPO_SIM_URL"]
BOUND = os.environ["BENCH_BOUND"]
QUICK = os.environ.get("BENCH_QUICK") == "1"
REPS = 1 if QUICK else int(os.environ.get("BENCH_REPS", "3"))
SIZES = [50000, 200000] if QUICK else [50000, 200000, 1000000]
TOKEN = "tempo-test-token"
LATENCY_MS = 100
LATENCY_N = 200000


def log(msg):
    print("== " + msg, file=sys.stderr, flush=True)


def api_base(n, delay_ms=0):
    """Tempo API base of the gen dataset of n worklogs (optionally with latency)."""
    extra = ",delay_ms=%d" % delay_ms if delay_ms else ""
    return "%s/@ds=gen,n=%d%s/4" % (SIM, n, extra)


def sim_get(path):
    with urllib.request.urlopen(SIM + path, timeout=60) as r:
        return r.read().decode()


def requests_logged():
    """API requests the simulator logged since the last reset (tag "default")."""
    return len([l for l in sim_get("/_log?tag=default&format=tsv").splitlines() if l.strip()])


def connect():
    conn = psycopg2.connect("")
    conn.autocommit = True
    return conn


def vm_hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM for pid %d" % pid)


# ------------------------------------------------------------------------ set-up --

def setup():
    """One foreign server per dataset (the URL prefix picks the dataset), each with the
    worklogs table imported into schema b<n>; two more servers with 100 ms latency."""
    conn = connect()
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS tempo_fdw")
    servers = [("b%d" % n, api_base(n), {}) for n in SIZES]
    servers += [("lat_default", api_base(LATENCY_N, LATENCY_MS), {}),   # max_concurrency unset
                ("lat_c1", api_base(LATENCY_N, LATENCY_MS), {"max_concurrency": "1"})]
    for name, url, extra in servers:
        opts = {"tempo_url": url, "page_size": "5000", "max_requests_per_second": "0",
                "fallback": "off"}
        opts.update(extra)
        cur.execute("DROP SERVER IF EXISTS %s CASCADE" % name)
        cur.execute("CREATE SERVER %s FOREIGN DATA WRAPPER tempo_fdw OPTIONS (%s)"
                    % (name, ", ".join("%s %%s" % k for k in opts)), list(opts.values()))
        cur.execute("CREATE USER MAPPING FOR PUBLIC SERVER %s OPTIONS (token %%s)" % name, [TOKEN])
        cur.execute("DROP SCHEMA IF EXISTS %s CASCADE" % name)
        cur.execute("CREATE SCHEMA %s" % name)
        cur.execute("IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs) FROM SERVER %s INTO %s"
                    % (name, name))
    cur.execute("SHOW server_version")
    version = cur.fetchone()[0]
    cur.execute("SHOW jit")
    jit = cur.fetchone()[0]
    conn.close()
    return version, jit


# ------------------------------------------------------------------- contenders --

def run_fdw(sql, memory=True):
    """One measurement in a fresh backend: seconds, rows, peak RSS and idle RSS (kB).
    memory=False leaves the peak out (a scan of a local table touches shared buffers,
    which count in the backend's RSS and would be mistaken for its own memory)."""
    conn = connect()
    cur = conn.cursor()
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    idle = vm_hwm_kb(pid)
    t0 = time.monotonic()
    cur.execute(sql)
    seconds = time.monotonic() - t0
    rows = cur.fetchone()[0] if cur.description else cur.rowcount
    if isinstance(rows, str):    # EXPLAIN ANALYZE: the top node's line
        rows = int(re.search(r"actual rows=(\d+)", rows).group(1))
    peak = vm_hwm_kb(pid)        # read while the session is still open
    conn.close()
    if not memory:
        return {"seconds": seconds, "rows": rows, "peak_kb": None, "idle_kb": None}
    return {"seconds": seconds, "rows": rows, "peak_kb": peak, "idle_kb": idle}


def parse_kv(text):
    line = [l for l in text.splitlines() if "rows=" in l][-1]
    return {k: float(v) for k, v in (p.split("=", 1) for p in line.split())}


def run_bound(n, delay_ms=0):
    out = subprocess.run([BOUND, api_base(n, delay_ms) + "/worklogs?limit=5000", TOKEN],
                         check=True, capture_output=True, text=True).stdout
    kv = parse_kv(out)
    return {"seconds": kv["seconds"], "rows": int(kv["rows"]), "peak_kb": None, "idle_kb": None}


def run_python(n, delay_ms=0):
    out = subprocess.run([sys.executable, os.path.join(HERE, "baseline.py"),
                          api_base(n, delay_ms), TOKEN, "baseline_worklogs"],
                         check=True, capture_output=True, text=True).stdout
    kv = parse_kv(out)
    return {"seconds": kv["seconds"], "rows": int(kv["rows"]),
            "peak_kb": int(kv["maxrss_kb"]), "idle_kb": None}


# ------------------------------------------------------------------ measuring --

RESULTS = {}     # key -> summary dict


def measure(key, label, n, fn):
    """Run fn REPS times; keep the median time (and the median run's memory)."""
    runs = []
    for i in range(REPS):
        sim_get("/_reset?tag=default")
        r = fn()
        r["requests"] = requests_logged()
        if r["rows"] != n:
            raise SystemExit("%s: %d rows, expected %d" % (label, r["rows"], n))
        runs.append(r)
        log("%s, run %d/%d: %.3f s" % (label, i + 1, REPS, r["seconds"]))
    times = [r["seconds"] for r in runs]
    med = statistics.median(times)
    peaks = [r["peak_kb"] for r in runs if r["peak_kb"] is not None]
    idles = [r["idle_kb"] for r in runs if r["idle_kb"] is not None]
    RESULTS[key] = {
        "label": label, "n": n, "seconds": med, "min": min(times), "max": max(times),
        "peak_kb": statistics.median(peaks) if peaks else None,
        "idle_kb": statistics.median(idles) if idles else None,
        "requests": runs[-1]["requests"],
    }
    return RESULTS[key]


def diagnostics(n):
    """Where SELECT * spends its time: without the raw column, and PostgreSQL's own cost
    of putting the same rows through COPY's output functions (from a local table)."""
    s = "b%d.worklogs" % n
    conn = connect()
    cur = conn.cursor()
    cur.execute("SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute"
                " WHERE attrelid = %s::regclass AND attnum > 0 AND attname <> 'raw'", [s])
    no_raw = cur.fetchone()[0]
    cur.execute("DROP TABLE IF EXISTS local_worklogs")
    cur.execute("CREATE TABLE local_worklogs AS SELECT * FROM %s" % s)
    cur.execute("VACUUM (FREEZE, ANALYZE) local_worklogs")
    conn.close()
    measure(("fdw_noraw", n), "  diagnostic: tempo_fdw, all columns but raw", n,
            lambda: run_fdw("COPY (SELECT %s FROM %s) TO '/dev/null'" % (no_raw, s)))
    measure(("pg_output", n), "  diagnostic: COPY of a local table (output)", n,
            lambda: run_fdw("COPY (SELECT * FROM local_worklogs) TO '/dev/null'", memory=False))


def warm(n, delay_ms=0):
    """Render and cache the dataset's pages (plain and gzip) in the simulator."""
    t0 = time.monotonic()
    run_bound(n, delay_ms)
    log("warmed ds=gen,n=%d%s in %.1f s" % (n, ",delay_ms=%d" % delay_ms if delay_ms else "",
                                           time.monotonic() - t0))


# -------------------------------------------------------------------- output --

def fmt_int(v):
    return "{:,}".format(int(v))


def fmt_mb(kb):
    return "%.1f" % (kb / 1024) if kb is not None else "-"


def print_table(info):
    print()
    print("tempo_fdw benchmark: %d run%s each, median shown (min-max in brackets)"
          % (REPS, "" if REPS == 1 else "s"))
    for k, v in info:
        print("  %-16s %s" % (k + ":", v))
    print()
    print("  SELECT * (COPY) is COPY (SELECT * FROM t) TO '/dev/null' run by the superuser: every")
    print("  column of every row is converted and passed through its output function, as for a")
    print("  client, without transferring rows.  SELECT * (scan) is EXPLAIN (ANALYZE, TIMING OFF)")
    print("  SELECT * FROM t: every column of every row is made, none is printed (the bound prints")
    print("  nothing either).  peak MB: VmHWM of a fresh backend after the query (idle backend:")
    print("  %s MB); for python: the client's max RSS."
          % fmt_mb(RESULTS[("fdw_count", SIZES[0])]["idle_kb"]))
    print()
    head = "  %-44s %10s %24s %10s %8s %7s %4s" % (
        "contender", "rows", "seconds", "rows/s", "peak MB", "ns/row", "req")
    print(head)
    print("  " + "-" * (len(head) - 2))
    order = []
    for n in SIZES:
        order += [("fdw_count", n), ("fdw_select", n), ("fdw_scan", n), ("bound", n)]
        if n == LATENCY_N:
            order += [("python", n), ("fdw_noraw", n), ("pg_output", n)]
    order += [("lat_default", LATENCY_N), ("lat_c1", LATENCY_N), ("lat_python", LATENCY_N)]
    last_n = None
    for key in order:
        r = RESULTS.get(key)
        if r is None:
            continue
        if key[0].startswith("lat") and last_n != "lat":
            print()
            print("  with %d ms latency per request (delay_ms=%d):" % (LATENCY_MS, LATENCY_MS))
            last_n = "lat"
        elif not key[0].startswith("lat") and last_n not in (None, r["n"]):
            print()
        if not key[0].startswith("lat"):
            last_n = r["n"]
        secs = "%.3f (%.3f-%.3f)" % (r["seconds"], r["min"], r["max"])
        print("  %-44s %10s %24s %10s %8s %7.0f %4d" % (
            r["label"], fmt_int(r["n"]), secs, fmt_int(r["n"] / r["seconds"]),
            fmt_mb(r["peak_kb"]), r["seconds"] / r["n"] * 1e9, r["requests"]))


def print_targets():
    print()
    print("  targets (a MISS is reported, not failed):")
    lines = []

    def target(name, measured, goal, ok):
        lines.append((name, measured, goal, "PASS" if ok else "MISS"))

    sel = RESULTS[("fdw_select", LATENCY_N)]
    py = RESULTS[("python", LATENCY_N)]
    bd = RESULTS[("bound", LATENCY_N)]
    r = py["seconds"] / sel["seconds"]
    target("SELECT * 200k: speed-up over the Python baseline", "%.2fx" % r, ">= 4x", r >= 4)
    scan = RESULTS[("fdw_scan", LATENCY_N)]
    r = scan["seconds"] / bd["seconds"]
    target("SELECT * 200k, the scan: time / fetch-and-parse bound", "%.2fx" % r, "<= 1.3x", r <= 1.3)
    r = sel["seconds"] / bd["seconds"]
    target("  through COPY's output functions too", "%.2fx" % r, "(info)", True)
    lines[-1] = lines[-1][:3] + ("info",)
    d, c1 = RESULTS[("lat_default", LATENCY_N)], RESULTS[("lat_c1", LATENCY_N)]
    r = c1["seconds"] / d["seconds"]
    target("100 ms latency: default concurrency vs '1' (count)", "%.2fx" % r, ">= 3x", r >= 3)
    lp = RESULTS[("lat_python", LATENCY_N)]
    r = lp["seconds"] / d["seconds"]
    target("100 ms latency: default concurrency vs Python", "%.2fx" % r, "(info)", True)
    lines[-1] = lines[-1][:3] + ("info",)

    big = SIZES[-1]
    small = RESULTS[("fdw_select", 50000)]
    large = RESULTS[("fdw_select", big)]
    growth = (large["peak_kb"] - small["peak_kb"]) / 1024
    target("peak memory, SELECT * %s rows minus 50k rows" % ("1M" if big == 1000000 else fmt_int(big)),
           "%+.1f MB" % growth, "<= 64 MB", growth <= 64)
    per_row = {n: RESULTS[("fdw_select", n)]["seconds"] / n * 1e9 for n in SIZES}
    target("SELECT * time per row at " + " / ".join("%dk" % (n // 1000) for n in SIZES),
           " / ".join("%.0f" % per_row[n] for n in SIZES) + " ns", "linear", True)
    mid = SIZES[-2]
    r = per_row[big] / per_row[mid]
    target("  linear: per-row time %dk / %dk" % (big // 1000, mid // 1000), "%.2fx" % r,
           "<= 1.25x", r <= 1.25)
    lines[-2] = lines[-2][:3] + ("",)
    width = max(len(l[0]) for l in lines)
    for name, measured, goal, res in lines:
        print("  %-*s  %-30s %-9s %s" % (width, name, measured, goal, res))
    if QUICK:
        print("  (BENCH_QUICK=1: one run each and no 1,000,000-row dataset; not a real measurement)")


def main():
    info = [l.split(": ", 1) for l in os.environ.get("BENCH_INFO", "").splitlines() if ": " in l]
    log("setting up foreign servers")
    pg_version, jit = setup()
    info.insert(0, ("PostgreSQL", "%s (jit = %s)" % (pg_version, jit)))
    info.append(("python", "%s, requests %s, psycopg2 %s" % (
        sys.version.split()[0], __import__("requests").__version__, psycopg2.__version__.split()[0])))

    for n in SIZES:
        warm(n)
    warm(LATENCY_N, LATENCY_MS)

    for n in SIZES:
        s = "b%d.worklogs" % n
        measure(("fdw_count", n), "tempo_fdw  SELECT count(*)", n,
                lambda: run_fdw("SELECT count(*) FROM %s" % s))
        measure(("fdw_select", n), "tempo_fdw  SELECT * (COPY TO /dev/null)", n,
                lambda: run_fdw("COPY (SELECT * FROM %s) TO '/dev/null'" % s))
        measure(("fdw_scan", n), "tempo_fdw  SELECT * (scan: EXPLAIN ANALYZE)", n,
                lambda: run_fdw("EXPLAIN (ANALYZE, TIMING OFF, SUMMARY OFF) SELECT * FROM %s" % s))
        measure(("bound", n), "bound      libcurl + cJSON arena, no DB", n, lambda: run_bound(n))
        if n == LATENCY_N:
            measure(("python", n), "python     requests + psycopg2 COPY", n, lambda: run_python(n))
            diagnostics(n)

    measure(("lat_default", LATENCY_N), "tempo_fdw  count(*), max_concurrency default", LATENCY_N,
            lambda: run_fdw("SELECT count(*) FROM lat_default.worklogs"))
    measure(("lat_c1", LATENCY_N), "tempo_fdw  count(*), max_concurrency '1'", LATENCY_N,
            lambda: run_fdw("SELECT count(*) FROM lat_c1.worklogs"))
    measure(("lat_python", LATENCY_N), "python     requests + psycopg2 COPY", LATENCY_N,
            lambda: run_python(LATENCY_N, LATENCY_MS))

    print_table(info)
    print_targets()


if __name__ == "__main__":
    main()
