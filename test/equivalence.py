#!/usr/bin/python3
"""equivalence.py - pushdown never changes an answer, as a property of random queries.

Generates random WHERE clauses over every pushable column of worklogs, jira_worklogs,
user_schedules and worklog_deletions (=, <>, ranges, BETWEEN, IN / = ANY with constants,
parameters and NULLs, OR, NOT, casts between date, timestamp and timestamptz in several
session time zones, out-of-range values, contradictions, ORDER BY / LIMIT / OFFSET, joins
and correlated subqueries that make parameterised scans, generic plans of prepared
statements, ORDER BY one key that Tempo may sort by), runs each against the test server with
tempo_fdw.enable_pushdown on and off,
and compares both with the same query over a local copy of the source data.  Any
difference fails, printing the seed and the query.

    /usr/bin/python3 test/equivalence.py --seed 1 --count 400

Needs the cluster (PGHOST, PGPORT, PGUSER) with tempo_fdw installed and the simulator
(TEMPO_SIM_URL), as test/run_tests.sh and test/equivalence.sh start them; uses a database
of its own, tempo_equiv.  Ends with "N passed, N failed" (one test per table).
"""
import argparse
import json
import os
import random
import sys
import time
import urllib.request

import psycopg2
import psycopg2.errors

DS = "fixture:equiv"
WINDOW = ("2024-12-01", "2025-03-15")     # the user_schedules copied locally
ZONES = ("UTC", "Europe/Berlin", "America/Santiago", "Pacific/Auckland", "Asia/Kolkata",
         "America/Los_Angeles", "Pacific/Kiritimati")
EXTREME_DATES = ("0044-03-15 BC", "0001-01-01", "0001-01-02", "9999-12-31", "10000-01-01",
                 "infinity", "-infinity")
EXTREME_INSTANTS = ("0001-01-01 00:00:00+00 BC", "0001-01-01 00:00:00+00", "9999-12-31 23:59:59+00",
                    "10000-01-01 00:00:00+00", "infinity", "-infinity")
ODD_AUTHORS = ("former-employee", "", "a b/c?d#e&f", "\u00dcn\u00ef:c\u00f6de")
ODD_ISSUES = (99999, 0, -1, 9223372036854775807)

TABLES = {
    # table: (id columns for a total order, pushable and other columns by kind)
    "worklogs": ("worklog_id", {"date": ["start_date"], "instant": ["updated_at", "started_at", "created_at"],
                                "issue": ["issue_id"], "author": ["author_account_id"],
                                "int": ["time_spent_seconds", "billable_seconds", "worklog_id"]}),
    "jira_worklogs": ("worklog_id", {"date": ["start_date"], "instant": ["updated_at", "started_at"],
                                     "issue": ["issue_id"], "author": ["author_account_id"],
                                     "int": ["time_spent_seconds", "worklog_id"]}),
    "worklog_deletions": ("worklog_id", {"instant": ["deleted_at"], "issue": ["issue_id"],
                                         "author": ["author_account_id", "worker_account_id"],
                                         "int": ["worklog_id"]}),
    "user_schedules": ("account_id, date", {"date": ["date"], "author": ["account_id"],
                                            "int": ["required_seconds"]}),
}


def sim_get(path, body=None):
    url = os.environ["TEMPO_SIM_URL"] + path
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


def lit(v):
    return "'" + str(v).replace("'", "''") + "'"


class Gen:
    """Random clauses.  A clause is a template with {} slots and its values, each value a
    (SQL literal, type); constants are spliced in, or sent as parameters of a generic plan."""

    def __init__(self, rng, data):
        self.rng, self.data = rng, data

    def value(self, kind, col=None):
        r, d = self.rng, self.data
        if kind == "date":
            x = r.random()
            if x < 0.08:
                return (lit(r.choice(EXTREME_DATES)), "date")
            if x < 0.12:
                return ("NULL", "date")
            base = r.choice(d["dates"])
            return (lit(base), "date") if x < 0.8 else ("(%s::date + %d)" % (lit(base), r.randint(-3, 3)), "date")
        if kind == "instant":
            x = r.random()
            if x < 0.08:
                return (lit(r.choice(EXTREME_INSTANTS)), "timestamptz")
            if x < 0.11:
                return ("NULL", "timestamptz")
            base = r.choice(d["instants"].get(col) or d["instants"]["any"])
            shift = r.choice(("0", "0", "1 millisecond", "-1 millisecond", "500 milliseconds",
                              "-1 second", "1 second", "13 hours", "-1 day"))
            if shift == "0":
                return (lit(base), "timestamptz")
            return ("(%s::timestamptz + interval %s)" % (lit(base), lit(shift)), "timestamptz")
        if kind == "issue":
            x = r.random()
            if x < 0.1:
                return (str(r.choice(ODD_ISSUES)), "bigint")
            if x < 0.13:
                return ("NULL", "bigint")
            return (str(r.choice(d["issues"])), r.choice(("bigint", "bigint", "integer")))
        if kind == "author":
            x = r.random()
            if x < 0.1:
                return (lit(r.choice(ODD_AUTHORS)), "text")
            if x < 0.13:
                return ("NULL", "text")
            return (lit(r.choice(d["authors"])), "text")
        return (str(r.choice((0, 900, 1800, 3600, 7200, 28800, 3100, 3300))), "integer")

    def atom(self, cols):
        r = self.rng
        kind = r.choice([k for k in cols if cols[k]])
        col = r.choice(cols[kind])
        v = lambda: self.value(kind, col)   # noqa: E731
        shape = r.random()
        if shape < 0.35:
            op = r.choice(("=", "=", "<", "<=", ">", ">=", "<>"))
            if r.random() < 0.2:
                return ("{} %s %s" % ({"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op), col), [v()])
            return ("%s %s {}" % (col, op), [v()])
        if shape < 0.45:
            return ("%s %sBETWEEN {} AND {}" % (col, r.choice(("", "", "NOT "))), [v(), v()])
        if shape < 0.65:
            vals = [v() for _ in range(r.randint(1, 5))]
            neg = "NOT " if r.random() < 0.15 else ""
            return ("%s %sIN (%s)" % (col, neg, ", ".join("{}" for _ in vals)), vals)
        if shape < 0.8:
            vals = [v() for _ in range(r.randint(0, 5))]
            typ = {"date": "date", "instant": "timestamptz", "issue": "bigint", "author": "text"}.get(kind, "integer")
            return ("%s = ANY ({})" % col, [("ARRAY[%s]::%s[]" % (", ".join(x for x, _ in vals), typ), typ + "[]")])
        if shape < 0.87:
            return ("%s IS %sNULL" % (col, r.choice(("", "NOT "))), [])
        # casts between date, timestamp and timestamptz (evaluated in the session's zone)
        if kind == "date":
            t = r.choice(("%s::timestamptz >= {}", "%s::timestamp < {}::timestamp", "%s > {}::date",
                          "%s = {}::timestamp", "%s <= {}::timestamptz", "%s > {}"))
            return (t % col, [self.value("instant") for _ in range(t.count("{}"))])
        if kind == "instant":
            t = r.choice(("%s::date = {}", "%s >= {}", "%s < {}::timestamp", "%s::date IN ({}, {})",
                          "%s > {}::date"))
            return (t % col, [self.value("date") for _ in range(t.count("{}"))])
        return ("%s %s {}" % (col, r.choice(("=", "<>", ">"))), [v()])

    def clause(self, cols, depth=0):
        r = self.rng
        x = r.random()
        if depth < 2 and x < 0.3:
            parts = [self.clause(cols, depth + 1) for _ in range(r.randint(2, 3))]
            return ("(" + " AND ".join(t for t, _ in parts) + ")", sum((v for _, v in parts), []))
        if depth < 2 and x < 0.42:
            parts = [self.clause(cols, depth + 1) for _ in range(2)]
            return ("(" + " OR ".join(t for t, _ in parts) + ")", sum((v for _, v in parts), []))
        if depth < 2 and x < 0.47:
            t, v = self.clause(cols, depth + 1)
            return ("NOT " + t, v)
        return self.atom(cols)


def schedule_base(gen):
    """user_schedules needs an account and a date range: pushable forms of both."""
    r, d = gen.rng, gen.data
    accs = r.sample(d["authors"], r.randint(1, 3))
    a = sorted(r.sample(d["sched_dates"], 2))
    acc = r.choice((("account_id = {}", [(lit(accs[0]), "text")]),
                    ("account_id IN (%s)" % ", ".join("{}" for _ in accs), [(lit(x), "text") for x in accs]),
                    ("account_id = ANY ({})", [("ARRAY[%s]::text[]" % ", ".join(lit(x) for x in accs), "text[]")])))
    days = r.choice((("date BETWEEN {} AND {}", [(lit(a[0]), "date"), (lit(a[1]), "date")]),
                     ("date >= {} AND date < {}", [(lit(a[0]), "date"), (lit(a[1]), "date")]),
                     ("date IN ({}, {})", [(lit(a[0]), "date"), (lit(a[1]), "date")]),
                     ("date = ANY ({})", [("ARRAY[%s, %s]::date[]" % (lit(a[0]), lit(a[1])), "date[]")])))
    return ("%s AND %s" % (acc[0], days[0]), acc[1] + days[1])


def make_query(gen, table):
    """(SQL template over {T}, values, mode) where mode says how to compare."""
    r = gen.rng
    ids, cols = TABLES[table]
    where, vals = gen.clause(cols)
    if table == "user_schedules":
        bt, bv = schedule_base(gen)
        where, vals = "%s AND %s" % (bt, where), bv + vals
    x = r.random()
    if x < 0.55:
        return ("SELECT t::text FROM (SELECT * FROM {T} WHERE %s) t" % where, vals, "bag")
    if x < 0.65:
        return ("SELECT count(*)::text FROM {T} WHERE %s" % where, vals, "bag")
    if x < 0.8:
        key = r.choice(sum(cols.values(), []))
        order = "%s %s NULLS FIRST, %s" % (key, r.choice(("ASC", "DESC")), ids)
        return ("SELECT t::text FROM (SELECT * FROM {T} WHERE %s ORDER BY %s LIMIT %d OFFSET %d) t"
                % (where, order, r.choice((1, 3, 10, 60)), r.choice((0, 0, 2, 55))), vals, "list")
    if x < 0.84:
        return ("SELECT t::text FROM (SELECT * FROM {T} WHERE %s LIMIT %d) t" % (where, r.choice((1, 7, 51))),
                vals, "limit")
    if x < 0.9:
        # one sort key (the orders Tempo can give among them): the keys in order, as
        # rows tied on the key may come in any order
        key, direction = r.choice((("start_date", "ASC"), ("start_date", "DESC"), ("updated_at", "DESC"),
                                   ("worklog_id", "DESC"), ("updated_at", "ASC")) if table == "worklogs"
                                  else [(k, r.choice(("ASC", "DESC"))) for k in sum(cols.values(), [])])
        tail = r.choice(("", " LIMIT 10", " LIMIT 3 OFFSET 4", " LIMIT 60"))
        return ("SELECT t.k::text FROM (SELECT %s AS k FROM {T} WHERE %s ORDER BY %s %s%s) t"
                % (key, where, key, direction, tail), vals, "list")
    # joins and correlated subqueries: parameterised scans
    d = gen.data
    if "issue" in cols and r.random() < 0.4:
        keys = r.sample(d["issues"], 2) + [r.choice(ODD_ISSUES)]
        return ("SELECT k.i::text || ' ' || w.%s::text FROM (VALUES %s) k(i) JOIN {T} w ON w.issue_id = k.i WHERE %s"
                % (ids.split(",")[0], ", ".join("(%d::bigint)" % i for i in keys), where), vals, "bag")
    if "date" in cols and table != "user_schedules":
        days = r.sample(d["dates"], 3)
        return ("SELECT v.d::text || ' ' || w.%s::text FROM (VALUES %s) v(d), "
                "LATERAL (SELECT * FROM {T} w WHERE w.start_date IN (v.d, v.d + 1) AND %s) w"
                % (ids.split(",")[0], ", ".join("(%s::date)" % lit(x) for x in days), where), vals, "bag")
    if table == "user_schedules":
        accs = r.sample(d["authors"], 2)
        a = sorted(r.sample(d["sched_dates"], 2))
        return ("SELECT a.acc || ' ' || s.date::text FROM (VALUES %s) a(acc) JOIN {T} s ON s.account_id = a.acc "
                "WHERE s.date BETWEEN %s AND %s AND %s"
                % (", ".join("(%s)" % lit(x) for x in accs), lit(a[0]), lit(a[1]), where), vals, "bag")
    return ("SELECT t::text FROM (SELECT * FROM {T} WHERE %s) t" % where, vals, "bag")


def fill(template, vals):
    return template.format(*[v for v, _ in vals])


def params(template, vals):
    return template.format(*["$%d" % (k + 1) for k in range(len(vals))])


class Runner:
    def __init__(self, conn):
        self.conn = conn
        self.cur = conn.cursor()

    def run(self, sql, setup=()):
        """(rows, None) or (None, 'SQLSTATE message')."""
        try:
            for s in setup:
                self.cur.execute(s)
            self.cur.execute(sql)
            return [row[0] for row in self.cur.fetchall()], None
        except psycopg2.Error as e:
            return None, "%s %s" % (e.pgcode, (e.pgerror or "").strip().splitlines()[0] if e.pgerror else "")


def setup(cur):
    sim = os.environ["TEMPO_SIM_URL"]
    sim_get("/_reset?ds=" + DS)
    cur.execute("DROP SCHEMA IF EXISTS equiv CASCADE")
    cur.execute("DROP SERVER IF EXISTS equiv_srv CASCADE")
    cur.execute("CREATE EXTENSION IF NOT EXISTS tempo_fdw")
    cur.execute("CREATE SERVER equiv_srv FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url %s, jira_url %s, "
                "max_requests_per_second '0', page_size '50', fallback 'off')" %
                (lit("%s/@tag=equiv,ds=%s,jira_page=100/4" % (sim, DS)),
                 lit("%s/@tag=equiv,ds=%s,jira_page=100" % (sim, DS))))
    cur.execute("CREATE USER MAPPING FOR PUBLIC SERVER equiv_srv OPTIONS (token 'tempo-test-token', "
                "jira_email 'bot@example.com', jira_token 'jira-test-token')")
    cur.execute("CREATE SCHEMA equiv")
    cur.execute("IMPORT FOREIGN SCHEMA tempo FROM SERVER equiv_srv INTO equiv")
    # deletions in three batches a second apart (deleted_at: now)
    cur.execute("SELECT worklog_id FROM equiv.worklogs ORDER BY worklog_id")
    wids = [r[0] for r in cur.fetchall()]
    for k in range(3):
        sim_get("/_mutate?ds=" + DS, {"delete": wids[k * 7 + 3:(k + 1) * 7 + 3:2]})
        if k < 2:
            time.sleep(1.1)
    # the local copy: every row the API serves, read without conditions
    for t in ("worklogs", "jira_worklogs", "worklog_deletions"):
        cur.execute("CREATE TABLE equiv.t_%s AS SELECT * FROM equiv.%s" % (t, t))
    cur.execute("SELECT DISTINCT author_account_id FROM equiv.t_worklogs ORDER BY 1")
    authors = [r[0] for r in cur.fetchall()]
    cur.execute("CREATE TABLE equiv.t_user_schedules AS SELECT * FROM equiv.user_schedules WHERE false")
    for a in authors:
        cur.execute("INSERT INTO equiv.t_user_schedules SELECT * FROM equiv.user_schedules "
                    "WHERE account_id = %s AND date BETWEEN %s AND %s" % (lit(a), lit(WINDOW[0]), lit(WINDOW[1])))
    cur.execute("ANALYZE")
    data = {"authors": authors}
    cur.execute("SELECT DISTINCT start_date::text FROM equiv.t_worklogs UNION SELECT DISTINCT start_date::text "
                "FROM equiv.t_jira_worklogs ORDER BY 1")
    data["dates"] = [r[0] for r in cur.fetchall()]
    cur.execute("SELECT DISTINCT issue_id FROM equiv.t_worklogs ORDER BY 1")
    data["issues"] = [r[0] for r in cur.fetchall()]
    data["instants"] = {}
    for t, col in (("worklogs", "updated_at"), ("worklogs", "started_at"), ("worklogs", "created_at"),
                   ("jira_worklogs", "updated_at"), ("worklog_deletions", "deleted_at")):
        cur.execute("SELECT DISTINCT %s::text FROM equiv.t_%s ORDER BY 1" % (col, t))
        data["instants"].setdefault(col, []).extend(r[0] for r in cur.fetchall())
    data["instants"]["any"] = sum(data["instants"].values(), [])
    cur.execute("SELECT d::date::text FROM generate_series(%s::date + 1, %s::date - 1, '1 day') d"
                % (lit(WINDOW[0]), lit(WINDOW[1])))
    data["sched_dates"] = [r[0] for r in cur.fetchall()]
    counts = {}
    for t in TABLES:
        cur.execute("SELECT count(*) FROM equiv.t_%s" % t)
        counts[t] = cur.fetchone()[0]
    return data, counts


def compare(mode, on, off, truth, full):
    """None when the answers agree, else what differs."""
    (rows_on, err_on), (rows_off, err_off), (rows_t, err_t) = on, off or (None, None), truth
    if off is not None and (err_on or err_off):
        if (err_on or "")[:5] != (err_off or "")[:5]:
            return "pushdown on: %s / off: %s" % (err_on or "%d rows" % len(rows_on),
                                                   err_off or "%d rows" % len(rows_off))
        return None
    if err_on or err_t:
        return "pushdown on: %s / source data: %s" % (err_on or "%d rows" % len(rows_on),
                                                      err_t or "%d rows" % len(rows_t))
    results = [("on", rows_on)] + ([("off", rows_off)] if off is not None else [])
    for name, rows in results:
        if mode == "list" and rows != rows_t:
            return "%s: %d rows in another order or different, source data: %d" % (name, len(rows), len(rows_t))
        if mode == "bag" and sorted(rows) != sorted(rows_t):
            extra = sorted(set(rows) - set(rows_t))[:2]
            missing = sorted(set(rows_t) - set(rows))[:2]
            return "%s: %d rows, source data: %d (extra %s, missing %s)" % (name, len(rows), len(rows_t),
                                                                            extra, missing)
        if mode == "limit" and (len(rows) != len(rows_t) or not set(rows) <= set(full)):
            return "%s: %d rows under LIMIT, source data: %d, or rows outside the answer" % (
                name, len(rows), len(rows_t))
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=400, help="queries in all, spread over the tables")
    ap.add_argument("--show", type=int, default=10, help="differences printed at most")
    args = ap.parse_args()

    admin = psycopg2.connect(dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as c:
        c.execute("SELECT 1 FROM pg_database WHERE datname = 'tempo_equiv'")
        if c.fetchone() is None:
            c.execute("CREATE DATABASE tempo_equiv")
    admin.close()
    conn = psycopg2.connect(dbname="tempo_equiv")
    conn.autocommit = True
    cur = conn.cursor()
    data, counts = setup(cur)
    print("# source data: %s" % ", ".join("%s %d rows" % kv for kv in counts.items()))
    for t, n in counts.items():
        if n == 0:
            print("not ok - the local copy of %s is empty: the comparison would prove nothing" % t)
            print("0 passed, 1 failed")
            return 1
    runner = Runner(conn)
    rng = random.Random(args.seed)
    gen = Gen(rng, data)
    failures = {t: 0 for t in TABLES}
    done = {t: 0 for t in TABLES}
    shown = 0
    for k in range(args.count):
        table = list(TABLES)[k % len(TABLES)]
        template, vals, mode = make_query(gen, table)
        zone = rng.choice(ZONES)
        generic = vals and rng.random() < 0.25
        nested = rng.random() < 0.5
        base = ["SET timezone = %s" % lit(zone), "SET plan_cache_mode = auto",
                "SET enable_hashjoin = %s" % ("off" if nested else "on"),
                "SET enable_mergejoin = %s" % ("off" if nested else "on")]
        if generic:
            types = ", ".join(t for _, t in vals)
            args_ = ", ".join(v for v, _ in vals)

            def run_foreign(push):
                q = params(template.replace("{T}", "equiv." + table), vals)
                return runner.run("EXECUTE eqp(%s)" % args_,
                                  base + ["SET tempo_fdw.enable_pushdown = %s" % push, "DEALLOCATE ALL",
                                          "SET plan_cache_mode = force_generic_plan",
                                          "PREPARE eqp(%s) AS %s" % (types, q)])
        else:
            def run_foreign(push):
                return runner.run(fill(template.replace("{T}", "equiv." + table), vals),
                                  base + ["SET tempo_fdw.enable_pushdown = %s" % push])
        on = run_foreign("on")
        off = run_foreign("off") if table != "user_schedules" else None
        truth_sql = fill(template.replace("{T}", "equiv.t_" + table), vals)
        truth = runner.run(truth_sql, base)
        full = None
        if mode == "limit" and truth[1] is None:
            full = runner.run(truth_sql.rsplit(" LIMIT ", 1)[0] + ") t", base)[0]
        diff = compare(mode, on, off, truth, full)
        done[table] += 1
        if diff:
            failures[table] += 1
            if shown < args.show:
                shown += 1
                print("# seed %d, query %d (%s, timezone %s%s):\n#   %s\n#   %s"
                      % (args.seed, k, table, zone, ", generic plan" if generic else "",
                         fill(template.replace("{T}", "equiv." + table), vals), diff))
    passed = failed = 0
    for t in TABLES:
        if failures[t]:
            failed += 1
            print("not ok - %s: %d of %d random queries (seed %d) differ with pushdown" % (t, failures[t], done[t], args.seed))
        else:
            passed += 1
            print("ok - %s: %d random queries (seed %d) give the same answer with pushdown on, off and "
                  "over the source data" % (t, done[t], args.seed))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
