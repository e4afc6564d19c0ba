-- What pg_stat_activity shows while a scan waits in another backend: on 17
-- and later tempo_fdw's own wait events (TempoHttp: a request in flight;
-- TempoRateBudget: waiting for a slot of the request budget; TempoRetryWait:
-- backing off before a retry), on 15 and 16 the generic "Extension".
\ir sql/include/setup.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
CREATE FUNCTION we_expected(event text) RETURNS text LANGUAGE sql AS
$$ SELECT CASE WHEN current_setting('server_version_num')::int >= 170000 THEN event ELSE 'Extension' END $$;
-- has the backend running q waited on event (type Extension) within 10 s?
-- (pg_stat_activity is read once per transaction unless the snapshot is cleared)
CREATE FUNCTION we_seen(q text, event text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..200 LOOP
    PERFORM pg_stat_clear_snapshot();
    IF EXISTS (SELECT FROM pg_stat_activity
                WHERE query = q AND wait_event_type = 'Extension' AND wait_event = event) THEN
      RETURN true;
    END IF;
    PERFORM pg_sleep(0.05);
  END LOOP;
  RETURN false;
END $$;
\set thang :sim '/@tag=we_hang,fault=hang,slow_ms=8000/4'
\set tretry :sim '/@tag=we_retry,fault=503,fault_times=1,retry_after=8/4'
\set trate :sim '/@tag=we_rate,ds=gen,n=800/4'
CREATE SERVER we_hang FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'thang', max_requests_per_second '0', max_retries '0', max_concurrency '1');
CREATE SERVER we_retry FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'tretry', max_requests_per_second '0', max_concurrency '1');
CREATE SERVER we_rate FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'trate', max_requests_per_second '1', page_size '100', max_concurrency '1');
CREATE USER MAPPING FOR PUBLIC SERVER we_hang OPTIONS (token 'tempo-test-token');
CREATE USER MAPPING FOR PUBLIC SERVER we_retry OPTIONS (token 'tempo-test-token');
CREATE USER MAPPING FOR PUBLIC SERVER we_rate OPTIONS (token 'tempo-test-token');
CREATE FOREIGN TABLE we_hang_w (worklog_id bigint) SERVER we_hang OPTIONS (resource 'worklogs');
CREATE FOREIGN TABLE we_retry_w (worklog_id bigint) SERVER we_retry OPTIONS (resource 'worklogs');
CREATE FOREIGN TABLE we_rate_w (worklog_id bigint) SERVER we_rate OPTIONS (resource 'worklogs');
SELECT format('dbname=%s port=%s host=%s user=%s', current_database(), current_setting('port'),
              current_setting('unix_socket_directories'), current_user) AS conn \gset
SELECT dblink_connect('we_a', :'conn') AS a, dblink_connect('we_b', :'conn') AS b,
       dblink_connect('we_c', :'conn') AS c;

-- a request that gets no answer
SELECT dblink_send_query('we_a', 'SELECT count(*) FROM we_hang_w') AS sent;
SELECT we_seen('SELECT count(*) FROM we_hang_w', we_expected('TempoHttp')) AS http_wait;
-- a 503 with Retry-After: 8 s of backing off before the second try
SELECT dblink_send_query('we_b', 'SELECT count(*) FROM we_retry_w') AS sent;
SELECT we_seen('SELECT count(*) FROM we_retry_w', we_expected('TempoRetryWait')) AS retry_wait;
-- 8 pages at one request per second
SELECT dblink_send_query('we_c', 'SELECT count(*) FROM we_rate_w') AS sent;
SELECT we_seen('SELECT count(*) FROM we_rate_w', we_expected('TempoRateBudget')) AS rate_wait;

SELECT count(*) > 0 AS cancelled FROM pg_stat_activity
  WHERE query LIKE 'SELECT count(*) FROM we\_%' AND pg_cancel_backend(pid);
SELECT dblink_disconnect('we_a') AS a, dblink_disconnect('we_b') AS b, dblink_disconnect('we_c') AS c;
SET client_min_messages = warning;
DROP SERVER we_hang, we_retry, we_rate CASCADE;
RESET client_min_messages;
DROP FUNCTION we_expected(text), we_seen(text, text);
