-- Cumulative statistics: the view tempo_fdw.stats counts what each
-- server's scans did (compared here with the simulator's log), errors
-- and cancels included, and stats_reset() starts again.
\ir sql/include/setup.sql
SET timezone = 'UTC';
\set u :sim '/@tag=sta,ds=gen,n=230/4'
CREATE SERVER sta_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'u', max_requests_per_second '0', max_concurrency '1', max_retries '2', page_size '50');
CREATE USER MAPPING FOR PUBLIC SERVER sta_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA sta;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs) FROM SERVER sta_srv INTO sta;
SELECT tempo_fdw.stats_reset();
SELECT count(*) AS stats_rows FROM tempo_fdw.stats WHERE server_name = 'sta_srv';

-- two whole scans: their rows, and the requests and pages the simulator saw
SELECT count(*) AS worklogs FROM sta.worklogs \gset
SELECT :worklogs AS worklogs;
SELECT count(*) = :worklogs AS same_count FROM sta.worklogs;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=sta"`
SELECT json_array_length(:'log'::json) AS requests_seen \gset
SELECT resource, scans, errors, fallbacks, rows = 2 * :worklogs AS rows_ok,
       requests = :requests_seen AS requests_ok, pages = :requests_seen AS pages_ok, retries,
       bytes > 0 AS has_bytes, shared
  FROM tempo_fdw.stats WHERE server_name = 'sta_srv';

-- a scan ended by an error counts as an error, with its retries: a 503
-- answered to every try (1 + max_retries 2)
\set u :sim '/@tag=sta2,ds=gen,n=230,fault=503,retry_after=0/4'
ALTER SERVER sta_srv OPTIONS (SET tempo_url :'u');
SELECT count(*) FROM sta.worklogs;
SELECT scans, errors, requests - :requests_seen AS new_requests, retries
  FROM tempo_fdw.stats WHERE server_name = 'sta_srv';

-- a scan cut short by a LIMIT is a scan, not an error
\set u :sim '/@tag=sta3,ds=gen,n=230/4'
ALTER SERVER sta_srv OPTIONS (SET tempo_url :'u');
SELECT count(*) FROM (SELECT * FROM sta.worklogs LIMIT 3) q;
SELECT scans, errors FROM tempo_fdw.stats WHERE server_name = 'sta_srv';

-- errors by class: the 503 above (http), a 401 (auth), nothing listening
-- (network), a statement_timeout (other)
\set VERBOSITY terse
\set u :sim '/@tag=sta3b,ds=gen,n=30,fault=401/4'
ALTER SERVER sta_srv OPTIONS (SET tempo_url :'u');
SELECT count(*) FROM sta.worklogs;
ALTER SERVER sta_srv OPTIONS (SET tempo_url 'http://127.0.0.1:1/4');
SELECT count(*) FROM sta.worklogs;
\set u :sim '/@tag=sta3c,ds=gen,n=30,delay_ms=3000/4'
ALTER SERVER sta_srv OPTIONS (SET tempo_url :'u');
SET statement_timeout = '300ms';
SELECT count(*) FROM sta.worklogs;
RESET statement_timeout;
\set VERBOSITY default
SELECT errors, errors_auth, errors_network, errors_http, errors_other
  FROM tempo_fdw.stats WHERE server_name = 'sta_srv';

-- 429s, the time waited before the retry (Retry-After: 1, so at least a
-- second), the time in HTTP and on the budget; EXPLAIN ANALYZE says it too
\set u :sim '/@tag=sta4,ds=gen,n=30,fault=429,fault_times=1,retry_after=1/4'
ALTER SERVER sta_srv OPTIONS (SET tempo_url :'u');
SELECT tempo_fdw.stats_reset();
SELECT count(*) FROM sta.worklogs;
SELECT scans, errors, requests, retries, throttled, retry_wait_ms >= 1000 AS waited_retry_after,
       retry_wait_ms < 10000 AS not_much_longer, http_ms >= 0 AS has_http_ms, budget_wait_ms
  FROM tempo_fdw.stats WHERE server_name = 'sta_srv';
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
CREATE FUNCTION sta_explain(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, VERBOSE) ' || q LOOP
    IF l ~ '(Throttled|Retries|Requests|wait)' THEN
      RETURN NEXT regexp_replace(l, '[0-9]+\.[0-9]+ ms', 'N ms');
    END IF;
  END LOOP;
END $$;
SELECT * FROM sta_explain('SELECT count(*) FROM sta.worklogs');
-- without 429 or waits, EXPLAIN ANALYZE has no such lines
\set u :sim '/@tag=sta5,ds=gen,n=30/4'
ALTER SERVER sta_srv OPTIONS (SET tempo_url :'u');
SELECT * FROM sta_explain('SELECT count(*) FROM sta.worklogs');
-- a budget of 2 requests per second: the second page waits for its slot
\set u :sim '/@tag=sta6,ds=gen,n=100/4'
ALTER SERVER sta_srv OPTIONS (SET tempo_url :'u', SET max_requests_per_second '2');
SELECT tempo_fdw.stats_reset();
SELECT count(*) FROM sta.worklogs;
SELECT requests, throttled, budget_wait_ms >= 300 AS waited_on_budget
  FROM tempo_fdw.stats WHERE server_name = 'sta_srv';
DROP FUNCTION sta_explain(text);

-- the request budgets (shared: tempo_fdw is preloaded here): after 2
-- requests at 2 per second the next slot lies ahead; a 429 with
-- Retry-After pauses the budget (another token's, so that the tests after
-- this one are not paused: a budget is a host and a credential)
SELECT count(*) >= 1 AS budgets, bool_and(shared) AS shared FROM tempo_fdw.rate_budgets;
SELECT rate, slots_ahead, next_slot_at > now() AS slot_ahead, paused_until, waiting, roles_waiting
  FROM tempo_fdw.rate_budgets WHERE rate = 2;
\set u :sim '/@tag=sta7,ds=gen,n=30,fault=429,retry_after=30/4'
ALTER SERVER sta_srv OPTIONS (SET tempo_url :'u', SET max_requests_per_second '0', SET max_retries '0');
ALTER USER MAPPING FOR PUBLIC SERVER sta_srv OPTIONS (SET token 'tempo-test-token-paused');
SELECT count(*) FROM sta.worklogs;
SELECT paused_until > clock_timestamp() + interval '20 seconds' AS paused_after_429
  FROM tempo_fdw.rate_budgets WHERE paused_until IS NOT NULL;

-- stats_reset() belongs to superusers (and roles granted EXECUTE)
CREATE ROLE sta_user;
SET ROLE sta_user;
SELECT count(*) >= 0 AS others_may_read FROM tempo_fdw.stats;
SELECT tempo_fdw.stats_reset();
RESET ROLE;
DROP ROLE sta_user;
SELECT tempo_fdw.stats_reset();
SELECT count(*) AS after_reset FROM tempo_fdw.stats WHERE server_name = 'sta_srv';

DROP SCHEMA sta CASCADE;
DROP SERVER sta_srv CASCADE;
