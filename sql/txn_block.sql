-- refresh and sync commit as they go: called inside a transaction block
-- (BEGIN, or two statements sent as one, as in a pg_cron command) they
-- refuse at once with 25001 and a hint, before any request; on their own
-- they run.
\ir sql/include/setup.sql
SET timezone = 'UTC';
SET client_min_messages = warning;
\set t :sim '/@tag=txb,ds=gen,n=50/4'
CREATE SERVER txb_srv FOREIGN DATA WRAPPER tempo_fdw OPTIONS (tempo_url :'t', max_requests_per_second '0');
CREATE USER MAPPING FOR PUBLIC SERVER txb_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA txb_snap;
CREATE SCHEMA txb_sync;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs, user_schedules) FROM SERVER txb_srv INTO txb_snap;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs, user_schedules, worklog_deletions) FROM SERVER txb_srv INTO txb_sync;
SELECT tempo_fdw.create_time_accounts('txb_snap', '2020-01-01', '2020-01-31', populate => false) IS NOT NULL AS made;
SELECT tempo_fdw.create_time_accounts('txb_sync', '2020-01-01', '2020-01-31', mode => 'sync', populate => false) IS NOT NULL AS made;
RESET client_min_messages;
\set VERBOSITY default
\set SHOW_CONTEXT never
BEGIN;
CALL tempo_fdw.refresh('txb_snap');
ROLLBACK;
BEGIN;
CALL tempo_fdw.sync('txb_sync');
ROLLBACK;
-- two statements sent as one are an implicit transaction block
SELECT 1 AS one \; CALL tempo_fdw.refresh('txb_snap');
\set VERBOSITY terse
-- not one request went out, and no run was logged
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=txb"`
SELECT json_array_length(:'log'::json) AS requests;
SELECT count(*) AS runs FROM tempo_fdw.refresh_log WHERE schema_name IN ('txb_snap', 'txb_sync');
-- on their own they run
CALL tempo_fdw.refresh('txb_snap');
CALL tempo_fdw.sync('txb_sync');
SELECT schema_name, kind, outcome FROM tempo_fdw.refresh_log
 WHERE schema_name IN ('txb_snap', 'txb_sync') ORDER BY run_id;
SET client_min_messages = warning;
SELECT count(*) AS dropped FROM tempo_fdw.drop_time_accounts('txb_snap');
SELECT count(*) AS dropped FROM tempo_fdw.drop_time_accounts('txb_sync', drop_store => true);
DROP SCHEMA txb_snap, txb_sync CASCADE;
DROP SERVER txb_srv CASCADE;
