-- pgTAP: CALL tempo_fdw.sync keeps a worklog store in step with Tempo:
-- new worklogs, edits to old ones, an edit exactly at the watermark second,
-- deletions (from the audit log, and by reconciling a window when the token
-- may not read the audit log); a failed run changes nothing and the next one
-- completes it.  After each sync the store equals the simulator's data,
-- read independently from its /_data endpoint.  Not one transaction: the
-- procedure commits.
\ir include/setup.sql
DROP SCHEMA IF EXISTS sy CASCADE;
CREATE EXTENSION tempo_fdw;
SELECT plan(26);

\set t :sim '/@tag=sy/4'
CREATE SERVER sy_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER sy_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA sy;
IMPORT FOREIGN SCHEMA tempo FROM SERVER sy_srv INTO sy;

-- the store compared with the simulator's data, column by column
CREATE TEMP TABLE sim_doc (doc jsonb);
CREATE FUNCTION sy.store_differs() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
BEGIN
  TRUNCATE sim_doc;
  EXECUTE format('COPY sim_doc FROM PROGRAM %L WITH (FORMAT csv, QUOTE E''\x01'', DELIMITER E''\x02'')',
                 'curl -s "' || current_setting('sy.sim') || '/_data?ds=company&kind=tempo"');
  WITH sim AS (
    SELECT (w ->> 'tempoWorklogId')::bigint AS worklog_id, (w -> 'issue' ->> 'id')::bigint AS issue_id,
           w -> 'author' ->> 'accountId' AS author, (w ->> 'startDate')::date AS start_date,
           (w ->> 'timeSpentSeconds')::int AS spent, (w ->> 'billableSeconds')::int AS billable,
           w ->> 'description' AS description, (w ->> 'updatedAt')::timestamptz AS updated_at
      FROM sim_doc, jsonb_array_elements(doc) w
     WHERE w ->> 'startDate' >= '2024-01-01'),
  store AS (
    SELECT worklog_id, issue_id, author_account_id, start_date, time_spent_seconds, billable_seconds,
           description, updated_at
      FROM sy.worklog_store WHERE deleted_at IS NULL)
  SELECT count(*) INTO n FROM ((TABLE sim EXCEPT TABLE store) UNION ALL (TABLE store EXCEPT TABLE sim)) d;
  RETURN n;
END $$;
SELECT set_config('sy.sim', :'sim', false) IS NOT NULL AS sim_set \gset

-- first run: the full load
SELECT lives_ok($$SELECT tempo_fdw.create_time_accounts('sy', '2024-01-01', '2024-12-31', mode => 'sync', reconcile_days => 1200)$$,
                'time accounts over a synchronised store');
SELECT is(sy.store_differs(), 0::bigint, 'after the first load the store equals Tempo''s data');
SELECT results_eq($$SELECT inserted, updated, deleted, last_outcome FROM tempo_fdw.sync_status WHERE schema_name = 'sy'$$,
                  $$SELECT count(*), 0::bigint, 0::bigint, 'ok'::text FROM sy.worklog_store$$, 'the state counts the load');
SELECT watermark AS w0 FROM tempo_fdw.sync_status WHERE schema_name = 'sy' \gset

-- a run without changes changes nothing, with a handful of requests
CALL tempo_fdw.sync('sy');
SELECT results_eq(format($$SELECT inserted, updated, deleted, deletion_source, requests <= 3, watermark = %L::timestamptz
                            FROM tempo_fdw.sync_status WHERE schema_name = 'sy'$$, :'w0'),
                  $$VALUES (0::bigint, 0::bigint, 0::bigint, 'audit'::text, true, true)$$,
                  'a repeated run changes nothing');

-- Tempo changes: a new worklog, an edit of a worklog from March, an edit at
-- the watermark second, a deletion
SELECT min(worklog_id) AS march FROM sy.worklog_store WHERE start_date = '2024-03-11' \gset
SELECT max(worklog_id) AS at_mark FROM sy.worklog_store WHERE start_date = '2024-07-01' \gset
SELECT min(worklog_id) AS gone FROM sy.worklog_store WHERE start_date = '2024-06-03' \gset
SELECT author_account_id AS person FROM sy.worklog_store WHERE worklog_id = :'march' \gset
SELECT to_char(:'w0'::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS w0text \gset
SELECT format('{"upsert":[{"tempoWorklogId":990101,"issue":{"id":10000},"timeSpentSeconds":5400,"startDate":"2024-12-02","author":{"accountId":"%s"}},{"tempoWorklogId":%s,"timeSpentSeconds":1800,"description":"corrected in November"},{"tempoWorklogId":%s,"timeSpentSeconds":900,"updatedAt":"%s"}],"delete":[%s]}',
              :'person', :'march', :'at_mark', :'w0text', :'gone') AS change \gset
SELECT set_config('sy.change', :'change', false) IS NOT NULL AS change_set \gset
COPY (SELECT current_setting('sy.change')) TO PROGRAM 'cat > /tmp/tempo_fdw_sync_change.json';
\set out `curl -s -X POST --data-binary @/tmp/tempo_fdw_sync_change.json "$TEMPO_SIM_URL/_mutate?ds=company"`
SELECT is((:'out'::jsonb -> 'deleted' ->> 0)::bigint, :'gone'::bigint, 'the simulator took the changes');
SELECT is(sy.store_differs(), 6::bigint,
          'before the sync the store lags: one new, two edited (old and new row each), one deleted');
CALL tempo_fdw.sync('sy');
SELECT is(sy.store_differs(), 0::bigint, 'after the sync the store equals Tempo''s data again');
SELECT results_eq($$SELECT inserted, updated, deleted, deletion_source FROM tempo_fdw.sync_status WHERE schema_name = 'sy'$$,
                  $$VALUES (1::bigint, 2::bigint, 1::bigint, 'audit'::text)$$,
                  'one new, two edited (one months old, one at the watermark second), one deleted from the audit log');
SELECT is((SELECT time_spent_seconds FROM sy.worklog_store WHERE worklog_id = :'at_mark'), 900,
          'the edit exactly at the watermark second arrived');
SELECT is((SELECT description FROM sy.worklog_store WHERE worklog_id = :'march'), 'corrected in November',
          'the edit of a worklog dated months ago arrived');

-- the time accounts follow the store
SELECT is((SELECT sum(logged_seconds) FROM sy.time_account_daily),
          (SELECT sum(time_spent_seconds)::numeric FROM sy.worklog_store WHERE deleted_at IS NULL AND start_date BETWEEN '2024-01-01' AND '2024-12-31'),
          'the daily view counts what the store holds');
SELECT is((SELECT logged_seconds FROM sy.time_account_daily WHERE account_id = :'person' AND date = '2024-12-02')
            >= 5400, true, 'the new worklog counts in its day');

-- a failed run (Tempo down) leaves store and watermark as they were
SELECT watermark AS w1 FROM tempo_fdw.sync_status WHERE schema_name = 'sy' \gset
SELECT format('{"upsert":[{"tempoWorklogId":990102,"issue":{"id":10000},"timeSpentSeconds":600,"startDate":"2024-12-03","author":{"accountId":"%s"}}]}', :'person') AS change2 \gset
COPY (SELECT :'change2') TO PROGRAM 'cat > /tmp/tempo_fdw_sync_change.json';
\set out `curl -s -X POST --data-binary @/tmp/tempo_fdw_sync_change.json "$TEMPO_SIM_URL/_mutate?ds=company"`
\set t :sim '/@tag=sy,fault=503/4'
ALTER SERVER sy_srv OPTIONS (SET tempo_url :'t');
\set ON_ERROR_STOP off
CALL tempo_fdw.sync('sy');
\set ON_ERROR_STOP on
SELECT results_eq(format($$SELECT last_outcome, watermark = %L::timestamptz FROM tempo_fdw.sync_status WHERE schema_name = 'sy'$$, :'w1'),
                  $$VALUES ('failed'::text, true)$$,
                  'the failed run is recorded and the watermark stays');
SELECT is((SELECT count(*) FROM sy.worklog_store WHERE worklog_id = 990102), 0::bigint, 'nothing of the failed run is in the store');
SELECT results_eq($$SELECT kind, outcome FROM tempo_fdw.refresh_log ORDER BY run_id DESC LIMIT 1$$,
                  $$VALUES ('sync'::text, 'failed'::text)$$, 'the run log has the failure');
-- ... and so does a cancel (statement_timeout while Tempo does not answer)
\set t :sim '/@tag=sy,fault=hang,slow_ms=5000/4'
ALTER SERVER sy_srv OPTIONS (SET tempo_url :'t');
SET statement_timeout = '700ms';
\set ON_ERROR_STOP off
CALL tempo_fdw.sync('sy');
\set ON_ERROR_STOP on
RESET statement_timeout;
SELECT results_eq(format($$SELECT watermark = %L::timestamptz FROM tempo_fdw.sync_status WHERE schema_name = 'sy'$$, :'w1'),
                  $$VALUES (true)$$, 'a cancelled run leaves the watermark');
SELECT is((SELECT count(*) FROM sy.worklog_store WHERE worklog_id = 990102), 0::bigint, 'and the store');
\set t :sim '/@tag=sy/4'
ALTER SERVER sy_srv OPTIONS (SET tempo_url :'t');
CALL tempo_fdw.sync('sy');
SELECT is(sy.store_differs(), 0::bigint, 'the next run completes it');

-- the audit log refused (403): deletions found by reconciling the window
CREATE SERVER sy_noaudit FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', max_requests_per_second '0', max_retries '0');
\set t :sim '/@tag=sy,fault=403/4'
ALTER SERVER sy_noaudit OPTIONS (SET tempo_url :'t');
CREATE USER MAPPING FOR PUBLIC SERVER sy_noaudit OPTIONS (token 'tempo-test-token');
DROP FOREIGN TABLE sy.worklog_deletions;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklog_deletions) FROM SERVER sy_noaudit INTO sy;
SELECT max(worklog_id) AS gone2 FROM sy.worklog_store WHERE start_date = '2024-09-02' \gset
COPY (SELECT format('{"delete":[%s]}', :'gone2')) TO PROGRAM 'cat > /tmp/tempo_fdw_sync_change.json';
\set out `curl -s -X POST --data-binary @/tmp/tempo_fdw_sync_change.json "$TEMPO_SIM_URL/_mutate?ds=company"`
CALL tempo_fdw.sync('sy');
SELECT results_eq($$SELECT deleted, deletion_source FROM tempo_fdw.sync_status WHERE schema_name = 'sy'$$,
                  $$VALUES (1::bigint, 'reconcile'::text)$$, 'without the audit log the window reconciliation finds the deletion');
SELECT is(sy.store_differs(), 0::bigint, 'and the store equals Tempo''s data');

-- deletions marked instead of removed, by option
SELECT lives_ok($$SELECT tempo_fdw.create_time_accounts('sy', '2024-01-01', '2024-12-31', mode => 'sync', reconcile_days => 1200, deletions => 'mark', populate => false)$$,
                'switch to marking deletions (the store stays)');
SELECT min(worklog_id) AS gone3 FROM sy.worklog_store WHERE start_date = '2024-10-01' AND deleted_at IS NULL \gset
COPY (SELECT format('{"delete":[%s]}', :'gone3')) TO PROGRAM 'cat > /tmp/tempo_fdw_sync_change.json';
\set out `curl -s -X POST --data-binary @/tmp/tempo_fdw_sync_change.json "$TEMPO_SIM_URL/_mutate?ds=company"`
CALL tempo_fdw.sync('sy');
SELECT isnt((SELECT deleted_at FROM sy.worklog_store WHERE worklog_id = :'gone3'), NULL, 'the deleted worklog is marked');
SELECT is((SELECT count(*) FROM sy.worklog_snapshot WHERE worklog_id = :'gone3'), 0::bigint, 'and the accounts no longer count it');
SELECT is(sy.store_differs(), 0::bigint, 'the unmarked store equals Tempo''s data');

-- refresh runs a sync in this mode
CALL tempo_fdw.refresh('sy');
SELECT results_eq($$SELECT kind, outcome FROM tempo_fdw.refresh_log ORDER BY run_id DESC LIMIT 1$$,
                  $$VALUES ('refresh'::text, 'ok'::text)$$, 'refresh syncs and refreshes the schedules');
SELECT is((SELECT count(*) FROM tempo_fdw.time_accounts WHERE schema_name = 'sy' AND mode = 'sync'), 1::bigint,
          'the accounts are registered as synchronised');

SELECT * FROM finish();
DROP EXTENSION tempo_fdw CASCADE;
DROP SCHEMA IF EXISTS sy CASCADE;
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
