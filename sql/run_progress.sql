-- A refresh seen from another session: its refresh_log row (outcome
-- running) is committed as it begins, tempo_fdw.activity shows the run,
-- its schema, its log row and its phase beside the scan's counters; the
-- row goes when the run ends.  A run cancelled half-way leaves no row in
-- activity, and the next run marks what it left running as interrupted.
\ir sql/include/setup.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
SET timezone = 'UTC';
\set t :sim '/@tag=rp,delay_ms=300/4'
CREATE SERVER rp_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', max_requests_per_second '0', max_retries '0', max_concurrency '1');
CREATE USER MAPPING FOR PUBLIC SERVER rp_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA rp;
IMPORT FOREIGN SCHEMA tempo FROM SERVER rp_srv INTO rp;
SELECT tempo_fdw.create_time_accounts('rp', '2024-12-01', '2024-12-31', populate => false) IS NOT NULL AS made;
SELECT dblink_connect('runner', format('dbname=%s port=%s host=%s user=%s',
       current_database(), current_setting('port'), current_setting('unix_socket_directories'), current_user)) AS connected;
SELECT pid AS runner FROM dblink('runner', 'SELECT pg_backend_pid()') AS t(pid int) \gset
SELECT set_config('rp.runner', :'runner', false) IS NOT NULL AS noted;

-- nothing runs yet
SELECT count(*) AS running FROM tempo_fdw.activity WHERE pid = :runner;
-- the run: every request takes 300 ms
SELECT dblink_send_query('runner', 'CALL tempo_fdw.refresh(''rp'')') AS sent;
CREATE TEMP TABLE seen AS SELECT * FROM tempo_fdw.activity WHERE false;
CREATE TEMP TABLE logged AS SELECT run_id, outcome FROM tempo_fdw.refresh_log WHERE false;
DO $$
BEGIN
  FOR i IN 1..300 LOOP
    INSERT INTO seen SELECT * FROM tempo_fdw.activity WHERE pid = current_setting('rp.runner')::int;
    INSERT INTO logged SELECT run_id, outcome FROM tempo_fdw.refresh_log WHERE schema_name = 'rp';
    EXIT WHEN EXISTS (SELECT 1 FROM seen WHERE phase = 'schedules' AND requests > 0);
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT DISTINCT run, run_schema, role_name = current_user AS own_role FROM seen;
-- its log row was there, running, while it ran
SELECT count(DISTINCT s.run_id) AS runs, bool_and(l.outcome = 'running') AS seen_running
  FROM seen s JOIN logged l USING (run_id);
-- phases in their order (starting may be too quick to be seen); the scans'
-- columns while a table is read
SELECT phase FROM seen WHERE phase <> 'starting' GROUP BY phase ORDER BY min(ctid);
SELECT bool_or(table_name::text = 'rp.worklogs' AND phase = 'worklogs') AS worklogs_scanned,
       bool_or(table_name::text = 'rp.user_schedules' AND phase = 'schedules') AS schedules_scanned,
       bool_and(server_name IS NULL = (state IS NULL)) AS scan_columns_together
  FROM seen;
SELECT * FROM dblink_get_result('runner') AS t(r text);
SELECT * FROM dblink_get_result('runner') AS t(r text);
SELECT count(*) AS running FROM tempo_fdw.activity WHERE pid = :runner;
SELECT outcome, error FROM tempo_fdw.refresh_log WHERE schema_name = 'rp' ORDER BY run_id;

-- a run cancelled while it reads: no row in activity after it, its log
-- row stays running until the next run marks it interrupted
SELECT dblink_send_query('runner', 'CALL tempo_fdw.refresh(''rp'')') AS sent;
DO $$
BEGIN
  FOR i IN 1..200 LOOP
    EXIT WHEN EXISTS (SELECT 1 FROM tempo_fdw.activity
                       WHERE pid = current_setting('rp.runner')::int AND requests > 0);
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT pg_cancel_backend(:runner) AS cancelled;
DO $$
BEGIN
  FOR i IN 1..200 LOOP
    EXIT WHEN dblink_is_busy('runner') = 0;
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
-- (the error reaches the client before the backend aborts: take it, and
-- the end of the results, which comes once the abort is over; the backend
-- lives on)
DO $$
BEGIN
  PERFORM * FROM dblink_get_result('runner') AS t(x text);
EXCEPTION WHEN query_canceled THEN
  RAISE NOTICE 'the run was cancelled';
END $$;
SELECT count(*) AS results_left FROM dblink_get_result('runner') AS t(x text);
SELECT count(*) AS running FROM tempo_fdw.activity WHERE pid = :runner;
SELECT dblink_disconnect('runner') AS disconnected;
SELECT outcome FROM tempo_fdw.refresh_log WHERE schema_name = 'rp' ORDER BY run_id;
CALL tempo_fdw.refresh('rp');
SELECT outcome, error FROM tempo_fdw.refresh_log WHERE schema_name = 'rp' ORDER BY run_id;

SELECT count(*) > 0 AS dropped FROM tempo_fdw.drop_time_accounts('rp');
DROP SCHEMA rp CASCADE;
DROP SERVER rp_srv CASCADE;
