-- Secrets stay secret: no token, Authorization header or Jira password in
-- any error, WARNING, EXPLAIN or generated DDL, even when a server echoes
-- them; redirects are never followed.  This session logs at debug5, and
-- test/run_tests.sh checks afterwards that the server log holds no token.
\ir sql/include/setup.sql
SET log_min_messages = debug5;
\set VERBOSITY default
\set t :sim '/@tag=sec/4'
\set j :sim '/@tag=sec'
CREATE SERVER sec_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', jira_url :'j', max_requests_per_second '0', max_concurrency '1', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER sec_srv
  OPTIONS (token 'tempo-test-token', jira_email 'bot@example.com', jira_token 'jira-test-token');
CREATE SCHEMA sec;
IMPORT FOREIGN SCHEMA tempo FROM SERVER sec_srv INTO sec;
-- everything an error says, checked for the secrets
CREATE FUNCTION sec.clean(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text; msg text; det text; hnt text; ctx text; all_text text := '';
  r record;
BEGIN
  BEGIN
    FOR r IN EXECUTE q LOOP
      all_text := all_text || r::text;
    END LOOP;
    st := 'ok';
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
                            hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
    all_text := concat_ws(' ', msg, det, hnt, ctx);
  END;
  RETURN st || CASE WHEN all_text ~ '(tempo-test-token|jira-test-token|Ym90QGV4YW1wbGUuY29tOmppcmEtdGVzdC10b2tlbg)'
                    THEN ': LEAKS A SECRET' ELSE ': clean' END;
END $$;

-- errors of every kind, EXPLAIN in every form
SELECT set_config('sec.sim', :'sim', false) IS NOT NULL AS sim_set;
CREATE FUNCTION sec.each_fault(faults text[], q text)
RETURNS TABLE (fault text, outcome text) LANGUAGE plpgsql AS $$
BEGIN
  FOREACH fault IN ARRAY faults LOOP
    EXECUTE format('ALTER SERVER sec_srv OPTIONS (SET tempo_url %L, SET jira_url %L)',
                   current_setting('sec.sim') || '/@tag=sec,fault=' || fault || '/4',
                   current_setting('sec.sim') || '/@tag=sec,fault=' || fault);
    outcome := sec.clean(q);
    RETURN NEXT;
  END LOOP;
END $$;
SELECT * FROM sec.each_fault(ARRAY['400', '401', '403', '404', '500', 'badjson', 'echoauth',
                                   'redirect', 'nextloop', 'foreignnext'],
                             'SELECT count(*) FROM sec.worklogs');
SELECT * FROM sec.each_fault(ARRAY['400', '401', '500', 'echoauth', 'redirect'],
                             'SELECT count(*) FROM sec.jira_worklogs');
ALTER SERVER sec_srv OPTIONS (SET tempo_url :'t', SET jira_url :'j');
SELECT sec.clean('EXPLAIN (VERBOSE) SELECT * FROM sec.worklogs WHERE issue_id = 10000');
SELECT sec.clean('EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) SELECT * FROM sec.worklogs WHERE issue_id = 10000');
SELECT sec.clean('EXPLAIN (ANALYZE, VERBOSE) SELECT * FROM sec.jira_worklogs WHERE issue_id = 10000');
SELECT sec.clean('SELECT * FROM tempo_fdw.check_connection(''sec_srv'')');

-- a server that repeats the token in its error body: the excerpt blots it out
\set t :sim '/@tag=sec,fault=echoauth,src=tempo/4'
ALTER SERVER sec_srv OPTIONS (SET tempo_url :'t', ADD fallback 'off');
SELECT count(*) FROM sec.worklogs;
\set j :sim '/@tag=sec,fault=echoauth'
ALTER SERVER sec_srv OPTIONS (SET jira_url :'j');
SELECT count(*) FROM sec.jira_worklogs;

-- a redirect to another host is not followed: the token stays home
\set t :sim '/@tag=sec_redirect,fault=redirect/4'
ALTER SERVER sec_srv OPTIONS (SET tempo_url :'t');
\! curl -s "$TEMPO_SIM_URL/_reset?tag=sec_redirect" >/dev/null
SELECT count(*) FROM sec.worklogs;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=sec_redirect"`
SELECT jsonb_array_length(:'log'::jsonb) AS requests_sent;

-- the fallback WARNING names the cause, not the credentials
\set t :sim '/@tag=sec,fault=401,src=tempo/4'
\set j :sim '/@tag=sec'
ALTER SERVER sec_srv OPTIONS (SET tempo_url :'t', SET jira_url :'j', DROP fallback);
SELECT count(*) FROM sec.worklogs WHERE issue_id = 10000;

-- generated DDL and catalogs readable by everyone hold no credentials
SELECT count(*) AS foreign_tables_with_secrets FROM pg_foreign_table
  WHERE array_to_string(ftoptions, ',') ~ 'token';
SELECT count(*) AS servers_with_secrets FROM pg_foreign_server
  WHERE srvname = 'sec_srv' AND array_to_string(srvoptions, ',') ~ 'token';

-- pg_stat_activity, while a scan waits on Tempo in another backend
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
\set t :sim '/@tag=sec,fault=hang,slow_ms=5000/4'
ALTER SERVER sec_srv OPTIONS (SET tempo_url :'t');
SELECT dblink_connect('sec_waiter', format('dbname=%s port=%s host=%s user=%s', current_database(),
       current_setting('port'), current_setting('unix_socket_directories'), current_user)) AS connected;
SELECT dblink_send_query('sec_waiter', 'SELECT count(*) FROM sec.worklogs') AS sent;
SELECT pg_sleep(0.5);
SELECT count(*) AS waiting_scans,
       bool_and(a::text !~ '(tempo-test-token|jira-test-token|Ym90QGV4YW1wbGUuY29tOmppcmEtdGVzdC10b2tlbg)') AS no_secret_in_pg_stat_activity
  FROM pg_stat_activity a WHERE query LIKE 'SELECT count(*) FROM sec.worklogs%';
SELECT pg_cancel_backend(pid) AS cancelled FROM pg_stat_activity WHERE query LIKE 'SELECT count(*) FROM sec.worklogs%';
SELECT dblink_disconnect('sec_waiter') AS disconnected;

RESET log_min_messages;
DROP SCHEMA sec CASCADE;
DROP SERVER sec_srv CASCADE;
