-- pgTAP: fallback rows never enter a store, snapshot or account unawares.
-- sync reads with the fallback off, its deletion window too: a window read
-- that hits 5xx/401/403/a timeout changes nothing (it used to count every
-- stored worklog as deleted); refresh fails on a Tempo 401 and logs it; a
-- REFRESH MATERIALIZED VIEW of the snapshot during an outage (as pg_restore
-- runs it) is an ERROR; the next good run puts everything right.  Sync
-- safety: an earlier `since` loads the earlier worklogs, a run that would
-- delete more than max_deletion_share fails unless forced, full => true
-- reloads and reconciles the whole store.  Not one transaction: the
-- procedures commit.
\ir include/setup.sql
DROP SCHEMA IF EXISTS fa, fs CASCADE;
CREATE EXTENSION tempo_fdw;
SELECT plan(31);

-- Jira credentials in the user mapping: the server's fallback is jira
\set t :sim '/@tag=fa/4'
CREATE SERVER fa_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', jira_url :'sim', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER fa_srv
  OPTIONS (token 'tempo-test-token', jira_email 'bot@example.com', jira_token 'jira-test-token');
-- no audit log table: deletions are found by reconciling a window
CREATE SCHEMA fa;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs, user_schedules) FROM SERVER fa_srv INTO fa;
CREATE SCHEMA fs;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs, user_schedules) FROM SERVER fa_srv INTO fs;

-- Tempo's worklogs since a date, counted by a plain scan (Tempo answers)
SET check_function_bodies = off;
CREATE FUNCTION pg_temp.tempo_count(since date) RETURNS bigint LANGUAGE sql AS
  $$SELECT count(*) FROM fa.worklogs WHERE start_date >= since AND source = 'tempo'$$;
CREATE FUNCTION pg_temp.stored() RETURNS bigint LANGUAGE sql AS
  $$SELECT count(*) FROM fa.worklog_store WHERE deleted_at IS NULL$$;

-- 1. an earlier since loads the earlier worklogs
SELECT lives_ok($$SELECT tempo_fdw.create_time_accounts('fa', '2024-06-01', '2024-12-31', mode => 'sync', reconcile_days => 1200)$$,
                'a synchronised store from June');
SELECT is(pg_temp.stored(), pg_temp.tempo_count('2024-06-01'), 'it holds every worklog since June');
SELECT lives_ok($$SELECT tempo_fdw.create_time_accounts('fa', '2024-01-01', '2024-12-31', mode => 'sync', reconcile_days => 1200)$$,
                'the same accounts from January');
SELECT is(pg_temp.stored(), pg_temp.tempo_count('2024-01-01'), 'the store now holds every worklog since January');
SELECT results_eq($$SELECT deletion_source, deleted FROM tempo_fdw.sync_status WHERE schema_name = 'fa'$$,
                  $$VALUES ('full'::text, 0::bigint)$$, 'a whole reading, nothing deleted');
SELECT pg_temp.stored() AS n0 \gset
SELECT sum(time_spent_seconds) AS s0 FROM fa.worklog_store \gset
CALL tempo_fdw.sync('fa');
SELECT results_eq($$SELECT deletion_source, deleted, last_outcome FROM tempo_fdw.sync_status WHERE schema_name = 'fa'$$,
                  $$VALUES ('reconcile'::text, 0::bigint, 'ok'::text)$$, 'a normal run reconciles the window');

-- 2. the reconciliation read fails (the first Tempo requests, the changes
-- and their Jira twins, are answered; the third, the window, is not):
-- nothing changes, no Jira
\set ON_ERROR_STOP off
\set t :sim '/@tag=fa503,fault=503,fault_skip=2,src=tempo/4'
ALTER SERVER fa_srv OPTIONS (SET tempo_url :'t');
CALL tempo_fdw.sync('fa');
SELECT :'LAST_ERROR_SQLSTATE' AS e503 \gset
\set t :sim '/@tag=fa401,fault=401,fault_skip=2,src=tempo/4'
ALTER SERVER fa_srv OPTIONS (SET tempo_url :'t');
CALL tempo_fdw.sync('fa');
SELECT :'LAST_ERROR_SQLSTATE' AS e401 \gset
\set t :sim '/@tag=fa403,fault=403,fault_skip=2,src=tempo/4'
ALTER SERVER fa_srv OPTIONS (SET tempo_url :'t');
CALL tempo_fdw.sync('fa');
SELECT :'LAST_ERROR_SQLSTATE' AS e403 \gset
\set t :sim '/@tag=fahang,fault=hang,slow_ms=4000,fault_skip=2,src=tempo/4'
ALTER SERVER fa_srv OPTIONS (SET tempo_url :'t', ADD timeout_ms '1500');
CALL tempo_fdw.sync('fa');
SELECT :'LAST_ERROR_SQLSTATE' AS ehang \gset
ALTER SERVER fa_srv OPTIONS (DROP timeout_ms);
\set ON_ERROR_STOP on
SELECT is(:'e503' || ' ' || :'e401' || ' ' || :'e403' || ' ' || :'ehang', 'HV000 28000 42501 HV000',
          'each failed window read is the ERROR of its cause');
SELECT results_eq(format($$SELECT count(*), sum(time_spent_seconds) FROM fa.worklog_store WHERE deleted_at IS NULL$$),
                  format($$VALUES (%s::bigint, %s::bigint)$$, :'n0', :'s0'),
                  'the store is unchanged: no worklog counted as deleted');
SELECT results_eq($$SELECT kind, outcome FROM tempo_fdw.refresh_log ORDER BY run_id DESC LIMIT 4$$,
                  $$VALUES ('sync'::text, 'failed'::text), ('sync', 'failed'), ('sync', 'failed'), ('sync', 'failed')$$,
                  'the four runs are logged as failed');
SELECT is((SELECT count(*) FROM fa.worklog_store WHERE source <> 'tempo'), 0::bigint, 'no Jira row in the store');
SELECT is((SELECT count(*) FROM tempo_fdw.last_fallback WHERE server_name = 'fa_srv'), 0::bigint,
          'no scan fell back');
SELECT is(current_setting('tempo_fdw.fallback'), 'on', 'the session''s setting is back after the runs');
-- the requests each run made: the changes answered, the window refused
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=fa401"`
SELECT is((SELECT string_agg(format('%s %s %s', e ->> 'method', e ->> 'path', e ->> 'status'), ', ' ORDER BY (e ->> 'seq')::int)
             FROM jsonb_array_elements(:'log'::jsonb) e),
          'GET /4/worklogs 200, POST /4/worklogs/tempo-to-jira 200, GET /4/worklogs 401',
          'the 401 run: the changes and their twins, then the window refused');

-- 3. a run that would delete more than max_deletion_share (10%) of its
-- window fails and changes nothing, unless forced
\set t :sim '/@tag=fa/4'
ALTER SERVER fa_srv OPTIONS (SET tempo_url :'t');
SELECT count(*) AS k, string_agg(worklog_id::text, ',') AS ids FROM fa.worklog_store WHERE start_date < '2024-03-01' \gset
SELECT ok(:k > 0.1 * :n0 AND :k < 0.5 * :n0, 'January and February: more than 10% of the store');
COPY (SELECT format('{"delete":[%s]}', :'ids')) TO PROGRAM 'cat > /tmp/tempo_fdw_fa_change.json';
\set out `curl -s -X POST --data-binary @/tmp/tempo_fdw_fa_change.json "$TEMPO_SIM_URL/_mutate?ds=company"`
\set ON_ERROR_STOP off
CALL tempo_fdw.sync('fa');
\set ON_ERROR_STOP on
SELECT is(:'LAST_ERROR_SQLSTATE' || ' ' || :'LAST_ERROR_MESSAGE',
          format('22000 sync of the worklogs in "fa" failed: sync of "fa" would delete %s of the %s stored worklogs since 2024-01-01', :k, :n0),
          'the run that would delete them fails');
SELECT is(pg_temp.stored(), :n0::bigint, 'and deleted nothing');
CALL tempo_fdw.sync('fa', force => true);
SELECT results_eq($$SELECT deleted, deletion_source FROM tempo_fdw.sync_status WHERE schema_name = 'fa'$$,
                  format($$VALUES (%s::bigint, 'reconcile'::text)$$, :k), 'forced, it deletes them');
SELECT is(pg_temp.stored(), pg_temp.tempo_count('2024-01-01'), 'and the store equals Tempo');
SELECT is(pg_temp.stored(), (:n0 - :k)::bigint, 'exactly those are gone');

-- 4. full => true: a store that lost rows and holds one Tempo does not
-- have is put right
SELECT count(*) AS lost FROM fa.worklog_store WHERE start_date = '2024-05-06' \gset
DELETE FROM fa.worklog_store WHERE start_date = '2024-05-06';
CALL tempo_fdw.sync('fa');
SELECT is((SELECT count(*) FROM fa.worklog_store WHERE start_date = '2024-05-06'), 0::bigint,
          'an ordinary run does not see the lost rows');
INSERT INTO fa.worklog_store (worklog_id, source, issue_id, author_account_id, start_date, time_spent_seconds,
                              created_at, updated_at, last_seen_at)
VALUES (987654321, 'tempo', 10000, 'nobody', '2024-05-07', 3600, '2024-01-01', '2024-01-01', '2024-01-01');
CALL tempo_fdw.sync('fa', full => true);
SELECT results_eq($$SELECT inserted, deleted, deletion_source FROM tempo_fdw.sync_status WHERE schema_name = 'fa'$$,
                  format($$VALUES (%s::bigint, 1::bigint, 'full'::text)$$, :lost), 'full: the lost rows back, the stray one gone');
SELECT is(pg_temp.stored(), pg_temp.tempo_count('2024-01-01'), 'the store equals Tempo again');

-- 5. refresh of snapshot accounts during a Tempo 401
\set t :sim '/@tag=fs/4'
ALTER SERVER fa_srv OPTIONS (SET tempo_url :'t');
SELECT lives_ok($$SELECT tempo_fdw.create_time_accounts('fs', '2024-03-01', '2024-03-31')$$, 'snapshot accounts for March');
SELECT count(*) AS w0, sum(time_spent_seconds) AS t0 FROM fs.worklog_snapshot \gset
SELECT sum(balance_seconds) AS b0, count(*) AS p0 FROM fs.time_account_balance \gset
\set t :sim '/@tag=fs401,fault=401,src=tempo/4'
ALTER SERVER fa_srv OPTIONS (SET tempo_url :'t');
\set ON_ERROR_STOP off
CALL tempo_fdw.refresh('fs');
\set ON_ERROR_STOP on
SELECT is(:'LAST_ERROR_SQLSTATE'::text, '28000', 'refresh with Tempo answering 401 fails with its SQLSTATE');
SELECT results_eq($$SELECT outcome, error LIKE '%HTTP 401%' FROM tempo_fdw.refresh_log ORDER BY run_id DESC LIMIT 1$$,
                  $$VALUES ('failed'::text, true)$$, 'and is logged as failed, naming the 401');
SELECT results_eq($$SELECT count(*), sum(time_spent_seconds), count(*) FILTER (WHERE source = 'tempo') FROM fs.worklog_snapshot$$,
                  format($$VALUES (%s::bigint, %s::bigint, %s::bigint)$$, :w0, :t0, :w0), 'the snapshot is unchanged');
-- a REFRESH outside refresh (as pg_restore runs it) takes no fallback row
SELECT throws_ok($$REFRESH MATERIALIZED VIEW fs.worklog_snapshot$$, 'HV000',
                 'the worklog snapshot of "fs" would take rows from the Jira fallback',
                 'REFRESH MATERIALIZED VIEW of the snapshot during the outage is an ERROR');
SELECT is((SELECT count(*) FROM tempo_fdw.last_fallback WHERE server_name = 'fa_srv' AND reason = 'HTTP 401'), 1::bigint,
          'the fallback it tried is on record');
-- allowed, the Jira rows are taken and said to be
CALL tempo_fdw.refresh('fs', allow_fallback => true);
SELECT results_eq($$SELECT outcome, worklog_source FROM tempo_fdw.refresh_log ORDER BY run_id DESC LIMIT 1$$,
                  $$VALUES ('ok'::text, 'jira'::text)$$, 'allow_fallback takes the Jira rows, logged as such');
-- the next good run puts everything right
\set t :sim '/@tag=fs/4'
ALTER SERVER fa_srv OPTIONS (SET tempo_url :'t');
CALL tempo_fdw.refresh('fs');
SELECT results_eq($$SELECT count(*), sum(time_spent_seconds), count(*) FILTER (WHERE source = 'tempo') FROM fs.worklog_snapshot$$,
                  format($$VALUES (%s::bigint, %s::bigint, %s::bigint)$$, :w0, :t0, :w0),
                  'after the next good run the snapshot is Tempo''s again');
SELECT results_eq($$SELECT sum(balance_seconds), count(*) FROM fs.time_account_balance$$,
                  format($$VALUES (%s::numeric, %s::bigint)$$, :b0, :p0), 'and so are the balances');

SELECT * FROM finish();
DROP EXTENSION tempo_fdw CASCADE;
DROP SCHEMA IF EXISTS fa, fs CASCADE;
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
