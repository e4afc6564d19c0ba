#!/usr/bin/env bash
# test/dump_restore_fallback.sh: pg_restore of a database with time
# accounts while Tempo answers 401 (Jira would answer) does not fill the
# worklog snapshot with Jira fallback rows: its REFRESH fails with the
# guard's ERROR and leaves it unpopulated; the next refresh, with Tempo
# back, restores the accounts exactly.  Needs PGHOST, PGPORT, PGUSER of a
# running cluster with tempo_fdw installed and TEMPO_SIM_URL; prints
# "ok - ..." or "not ok - ..." and exits 0 or 1.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"; dropdb --if-exists tempo_fbdump_src >/dev/null 2>&1; dropdb --if-exists tempo_fbdump_dst >/dev/null 2>&1' EXIT

sim=$TEMPO_SIM_URL
createdb tempo_fbdump_src
psql -qX -v ON_ERROR_STOP=1 -v sim="$sim" -d tempo_fbdump_src <<'SQL' >/dev/null
SET client_min_messages = warning;
CREATE EXTENSION tempo_fdw;
\set t :sim '/@tag=fbdump/4'
CREATE SERVER dr_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', jira_url :'sim', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER dr_srv
  OPTIONS (token 'tempo-test-token', jira_email 'bot@example.com', jira_token 'jira-test-token');
CREATE SCHEMA dr;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs, user_schedules) FROM SERVER dr_srv INTO dr;
SELECT tempo_fdw.create_time_accounts('dr', '2024-03-01', '2024-03-31');
SQL
figures="SELECT format('%s %s %s', (SELECT count(*) FROM dr.worklog_snapshot WHERE source = 'tempo'),
                     (SELECT sum(balance_seconds) FROM dr.time_account_balance),
                     (SELECT count(*) FROM dr.time_account_balance))"
before=$(psql -qXAt -d tempo_fbdump_src -c "$figures")
# Tempo now refuses the token; Jira would answer
psql -qX -v ON_ERROR_STOP=1 -v t="$sim/@tag=fbdump,fault=401,src=tempo/4" -d tempo_fbdump_src \
	<<<"ALTER SERVER dr_srv OPTIONS (SET tempo_url :'t');" >/dev/null
pg_dump -Fc -d tempo_fbdump_src -f "$work/dump"
createdb tempo_fbdump_dst
set +e
pg_restore -d tempo_fbdump_dst "$work/dump" >"$work/restore.out" 2>&1
restore_rc=$?
set -e
populated=$(psql -qXAt -d tempo_fbdump_dst -c "SELECT relispopulated FROM pg_class WHERE oid = 'dr.worklog_snapshot'::regclass")
guard=$(grep -c 'the worklog snapshot of "dr" would take rows from the Jira fallback' "$work/restore.out" || true)
# Tempo is back: the next refresh puts the accounts right
psql -qX -v ON_ERROR_STOP=1 -v t="$sim/@tag=fbdump/4" -d tempo_fbdump_dst \
	<<<"ALTER SERVER dr_srv OPTIONS (SET tempo_url :'t'); CALL tempo_fdw.refresh('dr');" >/dev/null
after=$(psql -qXAt -d tempo_fbdump_dst -c "$figures")
if [ "$restore_rc" -ne 0 ] && [ "$guard" -ge 1 ] && [ "$populated" = "f" ] && [ -n "$before" ] && [ "$before" = "$after" ]; then
	echo "ok - pg_restore during a Tempo 401 leaves the snapshot unpopulated (no fallback rows); the next refresh restores it ($after)"
else
	echo "not ok - pg_restore during a Tempo outage: exit $restore_rc, guard errors $guard, populated [$populated], before [$before] after [$after]"
	sed -n '1,20p' "$work/restore.out"
	exit 1
fi
