#!/usr/bin/env bash
# test/bench/sync.sh: the incremental sync on a big history, measured.
#
#   bash test/bench/sync.sh            # 1,000,000 worklogs
#   SYNC_ROWS=200000 bash test/bench/sync.sh
#
# Loads SYNC_ROWS worklogs (the simulator's gen dataset) into a store with
# CALL tempo_fdw.sync, then runs the sync that follows 100 changes and prints
# its requests and time (target: a handful of requests, under 2 s).  The gen
# dataset is read-only in the simulator, so the 100 changes are the 100 most
# recently updated worklogs: the watermark is set back to just before them,
# which makes the sync ask Tempo, and upsert, exactly what it would after
# 100 edits.  Deletions are looked up in the audit log as in every sync.
# A miss is reported, not failed.

. "$(dirname "$0")/../lib.sh"
trap cleanup EXIT

ROWS=${SYNC_ROWS:-1000000}
ensure_packages
build_and_install
start_cluster
start_sim --cache-mb 3072

psql -qX -v ON_ERROR_STOP=1 -d tempo_test -v sim="$TEMPO_SIM_URL" -v rows="$ROWS" <<'SQL'
\set QUIET on
SET client_min_messages = warning;
CREATE EXTENSION tempo_fdw;
\set t :sim '/@tag=bench_sync,ds=gen,n=' :rows '/4'
CREATE SERVER bench FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url :'t', max_requests_per_second '0');
CREATE USER MAPPING FOR PUBLIC SERVER bench OPTIONS (token 'tempo-test-token');
CREATE SCHEMA bs;
IMPORT FOREIGN SCHEMA tempo FROM SERVER bench INTO bs;
SELECT tempo_fdw.create_time_accounts('bs', '2020-01-01', '2040-12-31', mode => 'sync', populate => false) \gset
\echo
\echo '== initial load'
SELECT clock_timestamp() AS t0 \gset
CALL tempo_fdw.sync('bs');
SELECT to_char(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz), 'FM990.00') || ' s' AS time,
       inserted AS worklogs, requests, (SELECT count(*) FROM bs.worklog_store) AS in_store
  FROM tempo_fdw.sync_status WHERE schema_name = 'bs';
-- the 100 changes: the watermark goes back to just before the 100 latest updates
UPDATE tempo_fdw.sync_state
   SET watermark = (SELECT updated_at FROM bs.worklog_store ORDER BY updated_at DESC OFFSET 99 LIMIT 1)
                   + interval '5 minutes'
 WHERE schema_name = 'bs';
\echo
\echo '== a sync after 100 changes'
SELECT clock_timestamp() AS t0 \gset
CALL tempo_fdw.sync('bs');
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 3) AS seconds \gset
SELECT :'seconds' || ' s' AS time, requests, received, inserted, updated, deleted, deletion_source
  FROM tempo_fdw.sync_status WHERE schema_name = 'bs';
SELECT CASE WHEN requests <= 5 THEN 'PASS' ELSE 'MISS' END || ': ' || requests || ' requests (target: a handful)' AS requests_target,
       CASE WHEN :'seconds'::numeric < 2 THEN 'PASS' ELSE 'MISS' END || ': ' || :'seconds' || ' s (target: under 2 s)' AS time_target
  FROM tempo_fdw.sync_status WHERE schema_name = 'bs';
SQL
