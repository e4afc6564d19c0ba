#!/usr/bin/env bash
# test/token_memory.sh: no copy of a credential stays in a backend's memory
# once the statements that used it are over.  Starts its own simulator with
# tokens made for this run, so that no catalog, query text or log of the
# suite holds them; a backend reads worklogs through a server-level
# token_file (Tempo, one request and concurrent ones, a failure with a body)
# and Jira with Basic credentials, then its private memory is searched
# (/proc/PID/mem) for the token, for "Bearer <token>", for "email:token" and
# for its base64 form.  (The jira_token itself is in the user mapping, hence
# in the syscache: only the forms tempo_fdw makes of it are searched.)  A
# marker set with SET proves the search sees the backend's memory.
# Needs PGHOST, PGPORT and PGUSER of a running cluster with tempo_fdw
# installed, and the cluster's OS user (root: tempo_fdw_test); prints
# "ok - ..." or "not ok - ..." and exits 0 or 1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/tempo_hyg.XXXXXX)
chmod 755 "$work"
sim_pid=""
trap '[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; rm -rf "$work"; dropdb --if-exists tempo_hyg >/dev/null 2>&1' EXIT

rand() { python3 -c "import secrets; print(secrets.token_hex($1))"; }
# as long as real ones (a Jira API token has 192 characters): the headers
# are longer than psprintf's first try of 128 bytes
tempo_token="hygT$(rand 60)"
jira_token="hygJ$(rand 94)"
email="hyg@example.com"
printf '%s\n' "$tempo_token" >"$work/token"
chmod 644 "$work/token"

python3 "$ROOT/test/tempo_sim" --port 0 --port-file "$work/sim.port" \
	--tempo-token "$tempo_token" --jira-email "$email" --jira-token "$jira_token" \
	>"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 300); do
	[ -s "$work/sim.port" ] && break
	sleep 0.1
done
sim="http://127.0.0.1:$(cat "$work/sim.port")"

createdb tempo_hyg
psql -qX -v ON_ERROR_STOP=1 -d tempo_hyg -v sim="$sim" -v tf="$work/token" \
	-v email="$email" -v jt="$jira_token" <<'SQL' >/dev/null
CREATE EXTENSION tempo_fdw;
\set t :sim '/@ds=company/4'
\set j :sim ''
\set bad :sim '/@fault=500,src=tempo/4'
CREATE SERVER hyg FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', jira_url :'j', token_file :'tf', max_requests_per_second '0',
           page_size '500', max_concurrency '4');
CREATE USER MAPPING FOR PUBLIC SERVER hyg OPTIONS (jira_email :'email', jira_token :'jt');
CREATE SERVER hyg_bad FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'bad', token_file :'tf', max_requests_per_second '0', max_retries '0',
           fallback 'off');
CREATE SCHEMA h;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs, jira_worklogs) FROM SERVER hyg INTO h;
CREATE FOREIGN TABLE h.bad (worklog_id bigint) SERVER hyg_bad OPTIONS (resource 'worklogs');
SQL

basic=$(printf '%s:%s' "$email" "$jira_token" | base64 -w0)
marker="hygM$(rand 12)"
set +e
/usr/bin/python3 - "$tempo_token" "$email:$jira_token" "$basic" "$marker" >"$work/out" 2>&1 <<'PY'
import re, sys, psycopg2

tempo_token, plain, basic, marker = sys.argv[1:5]
conn = psycopg2.connect(dbname="tempo_hyg")
conn.autocommit = True
cur = conn.cursor()
cur.execute("SELECT pg_backend_pid()")
pid = cur.fetchone()[0]
counts = []
for q in ("SELECT count(*) FROM h.worklogs",                       # pages, concurrent
          "SELECT count(*) FROM h.worklogs WHERE worklog_id = 1",  # one request
          "SELECT count(*) FROM h.jira_worklogs",                   # Basic
          "SELECT ok FROM tempo_fdw.check_connection('hyg')"):
    cur.execute(q)
    counts.append(cur.fetchall())
try:
    cur.execute("SELECT count(*) FROM h.bad")                       # an error with a body
    print("not ok - the failing server did not fail")
    sys.exit(1)
except psycopg2.Error as e:
    if e.pgcode != "HV000":
        print("not ok - the failing server failed with %s, not HV000" % e.pgcode)
        sys.exit(1)
if counts[0][0][0] < 1000 or counts[2][0][0] < 1000 or len(counts[3]) < 2 or not all(r[0] for r in counts[3]):
    print("not ok - the reads did not work: %r" % counts)
    sys.exit(1)
cur.execute("SET tempo_hyg.marker = %s", (marker,))

found = {}
wanted = {"the Tempo token": tempo_token.encode(), "email:jira_token": plain.encode(),
          "the Basic credential": basic.encode(), "the marker": marker.encode()}
regions = 0
with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
    for line in maps:
        f = line.split()
        if f[1][0] != "r" or f[1][3] != "p" or (len(f) > 5 and f[5] in ("[vvar]", "[vsyscall]")):
            continue            # not readable, or shared (shared buffers, not the backend's own)
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        try:
            mem.seek(lo)
            data = mem.read(hi - lo)
        except OSError:
            continue
        regions += 1
        for what, s in wanted.items():
            n = data.count(s)
            if n:
                found.setdefault(what, []).append("%s %s (%d)" % (f[0], f[5] if len(f) > 5 else "anon", n))
if "the marker" not in found:
    print("not ok - the marker was not found in %d regions: the search proves nothing" % regions)
    sys.exit(1)
del found["the marker"]
if found:
    for what, where in found.items():
        print("not ok - %s is in the backend's memory: %s" % (what, "; ".join(where)))
    sys.exit(1)
print("ok - no token, email:token or Basic credential in %d memory regions of a backend after "
      "%d Tempo and %d Jira rows, check_connection and an HTTP 500" % (regions, counts[0][0][0], counts[2][0][0]))
PY
rc=$?
set -e
cat "$work/out"
exit $rc
