-- Every HTTP failure is an ERROR with its SQLSTATE, the status, a trimmed
-- body and a hint; an answer is never silently short.
\ir sql/include/setup.sql
SET timezone = 'UTC';
\set VERBOSITY default
CREATE SERVER err_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (max_requests_per_second '0', max_concurrency '1', max_retries '0', timeout_ms '3000');
CREATE USER MAPPING FOR PUBLIC SERVER err_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA err;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs) FROM SERVER err_srv INTO err;
\set helpers err
\ir sql/include/outcome.sql

-- the full messages of the common cases
\set u :sim '/@tag=err,fault=401/4'
ALTER SERVER err_srv OPTIONS (ADD tempo_url :'u');
SELECT count(*) FROM err.worklogs;
\set u :sim '/@tag=err,fault=403/4'
ALTER SERVER err_srv OPTIONS (SET tempo_url :'u');
SELECT count(*) FROM err.worklogs;
\set u :sim '/@tag=err,fault=404/4'
ALTER SERVER err_srv OPTIONS (SET tempo_url :'u');
SELECT count(*) FROM err.worklogs;
\set u :sim '/@tag=err,fault=400/4'
ALTER SERVER err_srv OPTIONS (SET tempo_url :'u');
SELECT count(*) FROM err.worklogs;
\set u :sim '/@tag=err,fault=500/4'
ALTER SERVER err_srv OPTIONS (SET tempo_url :'u');
SELECT count(*) FROM err.worklogs;
\set u :sim '/@tag=err,fault=badjson/4'
ALTER SERVER err_srv OPTIONS (SET tempo_url :'u');
SELECT count(*) FROM err.worklogs;
\set u :sim '/@tag=err,fault=wrongshape/4'
ALTER SERVER err_srv OPTIONS (SET tempo_url :'u');
SELECT count(*) FROM err.worklogs;
-- a wrong token, not a simulated fault
\set u :sim '/@tag=err/4'
ALTER SERVER err_srv OPTIONS (SET tempo_url :'u');
ALTER USER MAPPING FOR PUBLIC SERVER err_srv OPTIONS (SET token 'not-the-right-token');
SELECT count(*) FROM err.worklogs;
ALTER USER MAPPING FOR PUBLIC SERVER err_srv OPTIONS (SET token 'tempo-test-token');
-- no token at all
ALTER USER MAPPING FOR PUBLIC SERVER err_srv OPTIONS (DROP token);
SELECT count(*) FROM err.worklogs;
ALTER USER MAPPING FOR PUBLIC SERVER err_srv OPTIONS (ADD token 'tempo-test-token');
-- nothing listens there
ALTER SERVER err_srv OPTIONS (SET tempo_url 'http://127.0.0.1:1/4');
\set VERBOSITY terse
SELECT count(*) FROM err.worklogs;
\set VERBOSITY default
-- its DETAIL is libcurl's text, with the host hidden (a message names a
-- request by its path only)
DO $$
DECLARE d text;
BEGIN
  PERFORM count(*) FROM err.worklogs;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  RAISE NOTICE 'detail names the host: %, says <host>: %', d ~ '127\.0\.0\.1', d LIKE '%<host>%';
END $$;

-- faults on a multi-page scan (page_size 1000 over 3500 worklogs) at the
-- first, a middle and the last page: every run fails with its SQLSTATE,
-- none returns fewer rows
SELECT set_config('err.sim', :'sim', false) IS NOT NULL AS sim_set;
ALTER SERVER err_srv OPTIONS (ADD page_size '1000');
CREATE FUNCTION err.matrix(faults text[], suffix text DEFAULT '', tag text DEFAULT 'err')
RETURNS TABLE (fault text, at text, outcome text) LANGUAGE plpgsql AS $$
BEGIN
  FOREACH fault IN ARRAY faults LOOP
    FOREACH at IN ARRAY ARRAY['0', '1', 'last'] LOOP
      EXECUTE format('ALTER SERVER err_srv OPTIONS (SET tempo_url %L)',
                     current_setting('err.sim') || '/@tag=' || tag || '_' || fault || '_' || at
                     || ',ds=gen,n=3500,fault=' || fault || ',fault_at=' || at || suffix || '/4');
      outcome := err.outcome('SELECT count(*) FROM err.worklogs');
      IF outcome = 'ok' THEN
        SELECT 'ok: ' || count(*) INTO outcome FROM err.worklogs;
      END IF;
      RETURN NEXT;
    END LOOP;
  END LOOP;
END $$;
SELECT * FROM err.matrix(ARRAY['400', '401', '403', '404', '429', '500', '502', '503', '504',
                               'reset', 'truncate', 'badjson', 'wrongshape', 'html',
                               'nextloop', 'foreignnext', 'countmismatch']);

-- transient faults are retried: one fault per scan, then the full answer
ALTER SERVER err_srv OPTIONS (SET max_retries '2');
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
SELECT * FROM err.matrix(ARRAY['429', '502', '503', '504', 'reset', 'truncate'], ',fault_times=1');
-- a 429 with Retry-After: 1 waits that second, then resumes at the same page
SELECT * FROM err.matrix(ARRAY['429'], ',fault_times=1,retry_after=1', 'errra');
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=errra_429_1"`
SELECT string_agg(e ->> 'query' || ' ' || (e ->> 'status'), ', ' ORDER BY (e ->> 'seq')::int) FILTER (WHERE e ->> 'query' LIKE 'offset=1000%') AS page_1,
       min((e ->> 't')::float8) FILTER (WHERE e ->> 'query' LIKE 'offset=1000%' AND e ->> 'status' = '200')
         - min((e ->> 't')::float8) FILTER (WHERE e ->> 'query' LIKE 'offset=1000%' AND e ->> 'status' = '429') >= 0.9
         AS waited_retry_after
  FROM jsonb_array_elements(:'log'::jsonb) e;
-- a slow body (a byte every 200 ms for 600 ms, then the rest) is just slow
SELECT * FROM err.matrix(ARRAY['slow'], ',slow_ms=600');
-- ... and the simulator saw the failed page asked for again, not the scan restarted
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=err_503_1"`
SELECT e ->> 'query' AS query, e ->> 'status' AS status FROM jsonb_array_elements(:'log'::jsonb) e;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=err_reset_last"`
SELECT e ->> 'query' AS query, e ->> 'status' AS status FROM jsonb_array_elements(:'log'::jsonb) e;

-- a response over max_response_bytes is an error, not an out-of-memory crash
ALTER SERVER err_srv OPTIONS (ADD max_response_bytes '1048576');
\set u :sim '/@tag=err,fault=huge/4'
ALTER SERVER err_srv OPTIONS (SET tempo_url :'u');
SELECT count(*) FROM err.worklogs;

-- a server that does not answer in time
\set u :sim '/@tag=err,fault=hang,slow_ms=5000/4'
ALTER SERVER err_srv OPTIONS (SET tempo_url :'u', SET timeout_ms '500');
\set VERBOSITY terse
SELECT count(*) FROM err.worklogs;
\set VERBOSITY default

DROP SCHEMA err CASCADE;
DROP SERVER err_srv CASCADE;
