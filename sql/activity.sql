-- Live progress: another session sees a running scan in tempo_fdw.activity
-- (state, request path, pages, rows, time waited on the request budget),
-- the request only when it may (a member of the scanning role or of
-- pg_read_all_stats), and the row goes when the scan ends.
\ir sql/include/setup.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
\set t :sim '/@tag=act,ds=gen,n=400,delay_ms=200/4'
CREATE SERVER act_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', max_requests_per_second '2', page_size '100', max_concurrency '1');
CREATE USER MAPPING FOR PUBLIC SERVER act_srv OPTIONS (token 'tempo-test-token');
CREATE FOREIGN TABLE act_w (worklog_id bigint) SERVER act_srv OPTIONS (resource 'worklogs');
CREATE ROLE regress_act_scanner LOGIN;
CREATE ROLE regress_act_watcher;
GRANT USAGE ON FOREIGN SERVER act_srv TO regress_act_scanner;
GRANT SELECT ON act_w TO regress_act_scanner;
SELECT dblink_connect('scanner', format('dbname=%s port=%s host=%s user=regress_act_scanner',
       current_database(), current_setting('port'), current_setting('unix_socket_directories'))) AS connected;
SELECT pid AS scanner FROM dblink('scanner', 'SELECT pg_backend_pid()') AS t(pid int) \gset
SELECT set_config('act.scanner', :'scanner', false) IS NOT NULL AS noted;

-- nothing runs yet
SELECT count(*) AS running FROM tempo_fdw.activity WHERE pid = :scanner;
-- the scanner reads 4 pages (200 ms each, 2 requests per second)
SELECT dblink_send_query('scanner', 'SELECT count(*) FROM act_w') AS sent;
-- watch until it is on its third page at least, and has waited on the budget
CREATE TEMP TABLE seen AS SELECT * FROM tempo_fdw.activity WHERE false;
DO $$
BEGIN
  FOR i IN 1..200 LOOP
    INSERT INTO seen SELECT * FROM tempo_fdw.activity WHERE pid = current_setting('act.scanner')::int;
    EXIT WHEN EXISTS (SELECT 1 FROM seen WHERE pages >= 2 AND budget_wait_ms > 0);
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT DISTINCT role_name, server_name, table_name FROM seen;
SELECT bool_and(state IN ('starting', 'requesting', 'waiting on the request budget', 'converting')) AS known_states,
       bool_or(state = 'waiting on the request budget') OR max(budget_wait_ms) > 0 AS waited_on_budget,
       max(pages) >= 2 AS pages_counted, max(rows) >= 100 AS rows_counted,
       bool_and(request IS NULL OR request ~ '^GET /@tag=act,ds=gen,n=400,delay_ms=200/4/worklogs\?(offset=\d+&)?limit=100$') AS paths_only,
       bool_or(request IS NOT NULL) AS superuser_sees_request
  FROM seen;
-- a role that is not the scanner's member sees the row, not the request
SET ROLE regress_act_watcher;
SELECT count(*) AS rows_seen, count(request) AS requests_seen FROM tempo_fdw.activity WHERE pid = :scanner;
RESET ROLE;
-- the scan ends: its row goes
SELECT * FROM dblink_get_result('scanner') AS t(n bigint);
SELECT count(*) AS running FROM tempo_fdw.activity WHERE pid = :scanner;

SELECT dblink_disconnect('scanner') AS disconnected;
DROP FOREIGN TABLE act_w;
DROP SERVER act_srv CASCADE;
DROP ROLE regress_act_scanner, regress_act_watcher;
