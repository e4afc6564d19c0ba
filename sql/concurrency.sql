-- Pages ahead: with max_concurrency above 1, a Tempo scan fetches the pages
-- after the first several at once, by offset, and still returns every row
-- once and in the API's order, checks the API's own links, retries a page
-- whose early request failed, and fails loudly on inconsistent paging.
-- (Only correctness here; the speed-up is measured by test/bench/run.sh.)
\ir sql/include/setup.sql
\set VERBOSITY default
CREATE SERVER conc_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (max_requests_per_second '0', max_retries '2', page_size '1000', max_concurrency '4');
CREATE USER MAPPING FOR PUBLIC SERVER conc_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA conc;
\set helpers conc
\ir sql/include/plan.sql
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs) FROM SERVER conc_srv INTO conc;
\set t :sim '/@tag=conc,ds=gen,n=9500/4'
ALTER SERVER conc_srv OPTIONS (ADD tempo_url :'t');

-- every row once, in the API's order (worklog ids ascend in the gen dataset)
\set stats `curl -s "$TEMPO_SIM_URL/_stats?ds=gen&n=9500"`
SELECT count(*) AS worklogs, count(DISTINCT worklog_id) AS distinct_ids, sum(time_spent_seconds) AS seconds,
       bool_and(in_order) AS in_api_order
  FROM (SELECT worklog_id, time_spent_seconds,
               worklog_id > coalesce(lag(worklog_id) OVER (), -1) AS in_order
          FROM conc.worklogs) w;
SELECT (:'stats'::jsonb ->> 'count')::bigint AS sim_worklogs, (:'stats'::jsonb ->> 'sum_time_spent')::bigint AS sim_seconds;
-- the requests: the first page, then offsets ahead (requests past the end,
-- dropped unread, may or may not reach the server: not shown)
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=conc"`
SELECT e ->> 'query' AS query FROM jsonb_array_elements(:'log'::jsonb) e
 WHERE coalesce(substring(e ->> 'query' FROM 'offset=(\d+)')::int, 0) < 9500
 ORDER BY coalesce(substring(e ->> 'query' FROM 'offset=(\d+)')::int, 0);
SELECT conc.plan('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF)
  SELECT count(*) FROM conc.worklogs') AS "QUERY PLAN";

-- a rescan (nested loop) starts again cleanly; the pages ahead of the
-- abandoned pass are dropped
SELECT x, count(*) FROM generate_series(1, 3) x, LATERAL (SELECT * FROM conc.worklogs w WHERE w.worklog_id % 3 = x - 1 OFFSET 0) w
 GROUP BY x ORDER BY x;
-- a LIMIT does not read ahead
SELECT count(*) FROM (SELECT * FROM conc.worklogs LIMIT 1500) s;

-- transient faults on pages read ahead: asked again, full result
SELECT set_config('conc.sim', :'sim', false) IS NOT NULL AS sim_set;
CREATE FUNCTION conc.outcome(scenario text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  n bigint; st text; msg text;
BEGIN
  EXECUTE format('ALTER SERVER conc_srv OPTIONS (SET tempo_url %L)',
                 current_setting('conc.sim') || '/@' || scenario || '/4');
  SELECT count(DISTINCT worklog_id) INTO n FROM conc.worklogs;
  RETURN 'ok: ' || n;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
  RETURN st || ': ' || msg;
END $$;
SELECT f, conc.outcome('tag=conc_' || f || ',ds=gen,n=9500,fault=' || f || ',fault_at=3,fault_times=1') AS outcome
  FROM unnest(ARRAY['429', '502', '503', 'reset', 'truncate']) f;
-- lasting or bad faults on a page read ahead: the documented errors
SELECT f, conc.outcome('ds=gen,n=9500,fault=' || f || ',fault_at=3') AS outcome
  FROM unnest(ARRAY['401', '403', '404', '500', 'badjson', 'wrongshape', 'countmismatch', 'nextloop', 'foreignnext']) f;
-- ... and on the last page
SELECT f, conc.outcome('ds=gen,n=9500,fault=' || f || ',fault_at=last') AS outcome
  FROM unnest(ARRAY['503', 'nextloop']) f;

-- a cancel while pages are in flight
\set t :sim '/@tag=conc,ds=gen,n=9500,fault=hang,fault_at=2,slow_ms=20000/4'
ALTER SERVER conc_srv OPTIONS (SET tempo_url :'t');
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '1s';
SELECT count(*) FROM conc.worklogs;
RESET statement_timeout;
SELECT clock_timestamp() - :'t0'::timestamptz < interval '3 seconds' AS stopped_promptly;
-- and the next scan on the same connection is clean
\set t :sim '/@tag=conc,ds=gen,n=9500/4'
ALTER SERVER conc_srv OPTIONS (SET tempo_url :'t');
SELECT count(*), count(DISTINCT worklog_id) FROM conc.worklogs;

DROP SCHEMA conc CASCADE;
DROP SERVER conc_srv CASCADE;
