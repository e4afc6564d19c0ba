-- pgTAP: CALL tempo_fdw.refresh for pg_cron: a log row per run, one run at
-- a time, all or nothing, the Jira fallback refused unless allowed, and a
-- real pg_cron job that refreshes on schedule.  Not one transaction: the
-- procedure commits, and pg_cron's worker must see what this file creates.
\ir include/setup.sql
DROP SCHEMA IF EXISTS rf CASCADE;
CREATE EXTENSION tempo_fdw;
CREATE EXTENSION IF NOT EXISTS pg_cron;
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT plan(20);

\set t :sim '/@tag=rf/4'
CREATE SERVER rf_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', jira_url :'sim', max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER rf_srv
  OPTIONS (token 'tempo-test-token', jira_email 'bot@example.com', jira_token 'jira-test-token');
CREATE SCHEMA rf;
IMPORT FOREIGN SCHEMA tempo FROM SERVER rf_srv INTO rf;
SELECT lives_ok($$SELECT tempo_fdw.create_time_accounts('rf', '2024-12-01', '2024-12-31')$$, 'time accounts for December');
SELECT min(account_id) AS a FROM rf.time_account_balance \gset
SELECT balance_seconds AS a_before FROM rf.time_account_balance WHERE account_id = :'a' \gset

-- a run: a log row with rows and requests (one page of worklogs, their
-- Jira twins; no schedule request: every day of December 2024 was fetched
-- when the accounts were made, and none is within the last 31 days; the
-- names and teams of the people: one user/bulk, one membership search)
CALL tempo_fdw.refresh('rf');
SELECT results_eq($$SELECT outcome, worklog_source = 'tempo', worklog_rows = (SELECT count(*) FROM rf.worklog_snapshot),
                           schedule_rows = (SELECT count(*) FROM rf.schedule_snapshot),
                           requests = 4,
                           error IS NULL, finished_at >= started_at
                      FROM tempo_fdw.refresh_log ORDER BY run_id DESC LIMIT 1$$,
                  $$VALUES ('ok', true, true, true, true, true, true)$$,
                  'a refresh writes a log row: ok, rows, requests, times');

-- Tempo's data changes: the next refresh shows it
\set cmd `printf '{"upsert":[{"tempoWorklogId":990001,"issue":{"id":10000},"timeSpentSeconds":3600,"startDate":"2024-12-02","author":{"accountId":"%s"}}]}' "$(psql -XAtc "SELECT min(account_id) FROM rf.time_account_balance" -d tempo_test)" | curl -s -X POST --data-binary @- "$TEMPO_SIM_URL/_mutate?ds=company"`
SELECT is((:'cmd'::jsonb -> 'upserted' ->> 0)::bigint, 990001::bigint, 'the simulator took a new worklog');
SELECT is((SELECT balance_seconds FROM rf.time_account_balance WHERE account_id = :'a'), :'a_before'::bigint,
          'before the refresh the views show the old data');
CALL tempo_fdw.refresh('rf');
SELECT is((SELECT balance_seconds FROM rf.time_account_balance WHERE account_id = :'a'), :'a_before'::bigint + 3600,
          'after the refresh the balance holds the new hour, to the second');
SELECT balance_seconds AS a_now FROM rf.time_account_balance WHERE account_id = :'a' \gset

-- Tempo down, Jira up: the run reads with the fallback off, so it fails
-- with Tempo's own error; the old data stays
\set t :sim '/@tag=rf,fault=503,src=tempo/4'
ALTER SERVER rf_srv OPTIONS (SET tempo_url :'t');
\set ON_ERROR_STOP off
CALL tempo_fdw.refresh('rf');
\set ON_ERROR_STOP on
SELECT results_eq($$SELECT outcome, error FROM tempo_fdw.refresh_log ORDER BY run_id DESC LIMIT 1$$,
                  $$VALUES ('failed', 'Tempo answered HTTP 503 for GET /@tag=rf,fault=503,src=tempo/4/worklogs?from=2024-12-01&to=2024-12-31&limit=5000')$$,
                  'a refresh with Tempo down fails with Tempo''s error, not a fallback');
SELECT is((SELECT balance_seconds FROM rf.time_account_balance WHERE account_id = :'a'), :'a_now'::bigint,
          'the previous data is untouched');
SELECT is((SELECT count(*) FROM rf.worklog_snapshot WHERE source = 'jira'), 0::bigint, 'no Jira rows slipped in');
-- ... unless the caller allows fallback data
CALL tempo_fdw.refresh('rf', allow_fallback => true);
SELECT results_eq($$SELECT outcome, worklog_source, error FROM tempo_fdw.refresh_log ORDER BY run_id DESC LIMIT 1$$,
                  $$SELECT 'ok', 'jira', format('worklogs from the Jira fallback (allowed): %s attributed from the last good Tempo data, '
                                                '%s unattributed (see time_account_unattributed); schedules kept from the last run; '
                                                'teams kept from the last good read: HV000: Tempo answered HTTP 503 for POST %s',
                                                mapped_rows, unattributed_rows, '/@tag=rf,fault=503,src=tempo/4/team-memberships/search?limit=5000')
                      FROM tempo_fdw.refresh_log ORDER BY run_id DESC LIMIT 1$$,
                  'allow_fallback accepts Jira data, and the log says so');
SELECT ok((SELECT bool_and(source = 'jira') FROM rf.worklog_snapshot), 'the snapshot now holds Jira rows');
-- both down: the refresh fails, the data stays
\set j :sim '/@tag=rf,fault=503'
ALTER SERVER rf_srv OPTIONS (SET jira_url :'j');
SELECT count(*) AS jira_rows FROM rf.worklog_snapshot \gset
\set ON_ERROR_STOP off
CALL tempo_fdw.refresh('rf', allow_fallback => true);
\set ON_ERROR_STOP on
SELECT results_eq($$SELECT outcome, error LIKE 'Tempo failed (HTTP 503), and Jira answered HTTP 503%' FROM tempo_fdw.refresh_log ORDER BY run_id DESC LIMIT 1$$,
                  $$VALUES ('failed', true)$$, 'with both down the run fails and names both');
SELECT is((SELECT count(*) FROM rf.worklog_snapshot), :'jira_rows'::bigint, 'and the data stays');
-- back to normal
\set t :sim '/@tag=rf/4'
ALTER SERVER rf_srv OPTIONS (SET tempo_url :'t', SET jira_url :'sim');
CALL tempo_fdw.refresh('rf');
SELECT is((SELECT balance_seconds FROM rf.time_account_balance WHERE account_id = :'a'), :'a_now'::bigint, 'Tempo data again');

-- one run at a time: while another session holds the run (its row of
-- time_accounts), a second exits at once
SELECT dblink_connect('holder', format('dbname=%s port=%s host=%s user=%s', current_database(),
                      current_setting('port'), current_setting('unix_socket_directories'), current_user)) AS connected \gset
SELECT dblink_exec('holder', 'BEGIN') AS began \gset
SELECT * FROM dblink('holder', $$SELECT 'locked' FROM tempo_fdw.time_accounts WHERE schema_name = 'rf' FOR UPDATE$$) AS t(x text);
CALL tempo_fdw.refresh('rf');
SELECT results_eq($$SELECT outcome, error FROM tempo_fdw.refresh_log ORDER BY run_id DESC LIMIT 1$$,
                  $$VALUES ('skipped', 'another refresh of this schema was running')$$,
                  'a concurrent run is skipped with a log row');
SELECT dblink_exec('holder', 'COMMIT') AS committed \gset
SELECT dblink_disconnect('holder') AS disconnected \gset
SELECT throws_ok($$CALL tempo_fdw.refresh('no_such_schema')$$, '42704', NULL, 'a schema without time accounts is an error');

-- a real pg_cron job: wait for it (once a minute), no faking
CREATE FUNCTION rf.wait_for_run(after bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  o text;
BEGIN
  FOR i IN 1..150 LOOP
    SELECT outcome INTO o FROM tempo_fdw.refresh_log WHERE run_id > after AND outcome <> 'running'
     ORDER BY run_id LIMIT 1;
    IF FOUND THEN RETURN o; END IF;
    PERFORM pg_sleep(1);
  END LOOP;
  RETURN 'no run within 150 s';
END $$;
SELECT max(run_id) AS last_run FROM tempo_fdw.refresh_log \gset
SELECT cron.schedule('tempo-refresh-rf', '* * * * *', $$CALL tempo_fdw.refresh('rf')$$) AS jobid \gset
SELECT is(rf.wait_for_run(:'last_run'), 'ok', 'pg_cron ran the refresh on schedule, and it succeeded');
SELECT max(run_id) AS last_run FROM tempo_fdw.refresh_log \gset
-- a refresh during a Tempo outage (no fallback): pg_cron records the failure
\set t :sim '/@tag=rf,fault=503/4'
ALTER SERVER rf_srv OPTIONS (SET tempo_url :'t', DROP jira_url);
SELECT is(rf.wait_for_run(:'last_run'), 'failed', 'the scheduled refresh during an outage failed and was logged');
SELECT is((SELECT balance_seconds FROM rf.time_account_balance WHERE account_id = :'a'), :'a_now'::bigint,
          'the views still show the data of the last good run');
SELECT ok(EXISTS (SELECT 1 FROM cron.job_run_details WHERE jobid = :'jobid' AND status = 'succeeded'),
          'cron.job_run_details has the successful run');
SELECT ok(EXISTS (SELECT 1 FROM cron.job_run_details WHERE jobid = :'jobid' AND status = 'failed'
                     AND return_message LIKE '%refresh of the time accounts in "rf" failed%'),
          'cron.job_run_details has the failed run with our error');
SELECT cron.unschedule(:'jobid'::bigint) AS unscheduled \gset

SELECT * FROM finish();
DROP EXTENSION tempo_fdw CASCADE;
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
