#!/usr/bin/env python3
"""test/bench/baseline.py - the baseline of the tempo_fdw benchmark.

What a user without tempo_fdw would write to get Tempo worklogs into PostgreSQL:
`requests` pages through GET /4/worklogs (limit=5000, following metadata.next, one
keep-alive Session, gzip accepted as requests does by default), each page's JSON is
parsed, its rows are written to a StringIO in COPY text format, and psycopg2's
copy_expert loads them into a regular table with the columns of tempo_fdw's
`worklogs` foreign table.  One transaction, committed at the end.

    baseline.py URL TOKEN TABLE      (connection from the PG* environment variables)

URL is the API base (e.g. http://127.0.0.1:PORT/@ds=gen,n=200000/4).  TABLE is created
if missing and truncated first.  Prints one line:
    rows=N seconds=S maxrss_kb=K
seconds runs from the first request to the commit (imports and connecting excluded,
as the database side of the benchmark excludes connecting).
"""

import io
import json
import resource
import sys
import time

import psycopg2
import requests

COLUMNS = """
    worklog_id bigint, source text, issue_id bigint, author_account_id text,
    start_date date, start_time time, started_at timestamptz,
    time_spent_seconds integer, billable_seconds integer, description text,
    created_at timestamptz, updated_at timestamptz, attributes jsonb, raw jsonb"""

# COPY text format: backslash, tab, newline and carriage return are escaped; NULL is \N.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def field(value):
    if value is None:
        return "\\N"
    return str(value).translate(_ESCAPES)


def copy_line(w):
    """One worklog object as one COPY text line, column for column as tempo_fdw maps it."""
    attributes = {a["key"]: a["value"] for a in (w.get("attributes") or {}).get("values", [])}
    return "\t".join((
        field(w["tempoWorklogId"]),
        "tempo",
        field(w["issue"]["id"]),
        field(w["author"]["accountId"]),
        field(w["startDate"]),
        field(w.get("startTime")),
        field(w.get("startDateTimeUtc")),
        field(w["timeSpentSeconds"]),
        field(w.get("billableSeconds")),
        field(w.get("description")),
        field(w.get("createdAt")),
        field(w.get("updatedAt")),
        field(json.dumps(attributes)),
        field(json.dumps(w)),
    )) + "\n"


def main():
    url, token, table = sys.argv[1:4]
    conn = psycopg2.connect("")          # PGHOST, PGPORT, PGUSER, PGDATABASE
    cur = conn.cursor()
    cur.execute("CREATE TABLE IF NOT EXISTS %s (%s)" % (table, COLUMNS))
    cur.execute("TRUNCATE %s" % table)
    conn.commit()

    session = requests.Session()
    session.headers.update({"Authorization": "Bearer " + token, "Accept": "application/json"})

    t0 = time.monotonic()
    rows = 0
    next_url = url.rstrip("/") + "/worklogs?limit=5000"
    while next_url:
        r = session.get(next_url, timeout=60)
        r.raise_for_status()
        page = r.json()
        buf = io.StringIO()
        for w in page["results"]:
            buf.write(copy_line(w))
        buf.seek(0)
        cur.copy_expert("COPY %s FROM STDIN" % table, buf)
        rows += len(page["results"])
        next_url = page["metadata"].get("next")
    conn.commit()
    seconds = time.monotonic() - t0

    print("rows=%d seconds=%.6f maxrss_kb=%d"
          % (rows, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    conn.close()


if __name__ == "__main__":
    main()
