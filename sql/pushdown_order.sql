-- ORDER BY pushdown: where Tempo's GET /worklogs sorts as PostgreSQL would
-- (start_date ascending: its default order; start_date, updated_at or
-- worklog_id descending: orderBy), the scan promises the order and no Sort
-- runs; with a LIMIT, the page shrinks to it and one request is made.
-- Each case is compared with pushdown off (the sort keys in order: rows tied
-- on the key may come in any order) and the requests read from the log.
\ir sql/include/setup.sql
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set turl :sim '/@tag=ord,ds=company/4'
CREATE SERVER ord_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'turl', max_requests_per_second '0', fallback 'off');
CREATE USER MAPPING FOR PUBLIC SERVER ord_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA ord;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs) FROM SERVER ord_srv INTO ord;
SELECT set_config('ord.sim', :'sim', false) IS NOT NULL AS sim_set;
CREATE TEMP TABLE ord_log (j text);

-- the sort keys of a query's rows, in order, with pushdown on and off
CREATE FUNCTION ord.same(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  on_keys text; off_keys text; n bigint;
BEGIN
  SET LOCAL tempo_fdw.enable_pushdown = off;
  EXECUTE 'SELECT string_agg(k::text, '','') FROM (' || q || ') s(k)' INTO off_keys;
  SET LOCAL tempo_fdw.enable_pushdown = on;
  EXECUTE 'SELECT string_agg(k::text, '',''), count(*) FROM (' || q || ') s(k)' INTO on_keys, n;
  RETURN CASE WHEN on_keys IS NOT DISTINCT FROM off_keys THEN 'same ' || n || ' keys in order'
              ELSE 'keys differ' END;
END $$;
-- the requests of a query with pushdown on, from the simulator's log
CREATE FUNCTION ord.requests(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  tag text := 'o' || md5(q);
BEGIN
  EXECUTE format('ALTER SERVER ord_srv OPTIONS (SET tempo_url %L)',
                 current_setting('ord.sim') || '/@tag=' || tag || ',ds=company/4');
  EXECUTE q;
  EXECUTE format('ALTER SERVER ord_srv OPTIONS (SET tempo_url %L)',
                 current_setting('ord.sim') || '/@tag=ord,ds=company/4');
  TRUNCATE ord_log;
  EXECUTE format('COPY ord_log FROM PROGRAM %L WITH (FORMAT csv, QUOTE %L, DELIMITER %L)',
                 'curl -s "' || current_setting('ord.sim') || '/_log?tag=' || tag || '"', E'\x01', E'\x02');
  RETURN QUERY SELECT e ->> 'path' || '?' || (e ->> 'query')
                 FROM ord_log, jsonb_array_elements(j::jsonb) e;
END $$;

-- ORDER BY start_date DESC LIMIT 10: one request of 10, sorted by Tempo
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id, start_date FROM ord.worklogs ORDER BY start_date DESC LIMIT 10;
SELECT ord.requests('SELECT worklog_id FROM ord.worklogs ORDER BY start_date DESC LIMIT 10');
SELECT ord.same('SELECT start_date FROM ord.worklogs ORDER BY start_date DESC LIMIT 10');
-- the other orders Tempo gives
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM ord.worklogs ORDER BY start_date LIMIT 10;
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM ord.worklogs ORDER BY updated_at DESC LIMIT 10;
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM ord.worklogs WHERE start_date >= '2024-06-01' ORDER BY worklog_id DESC LIMIT 3 OFFSET 2;
SELECT ord.requests('SELECT worklog_id FROM ord.worklogs WHERE start_date >= ''2024-06-01'' ORDER BY worklog_id DESC LIMIT 3 OFFSET 2');
SELECT q, ord.same(q) FROM (VALUES
  ('SELECT start_date FROM ord.worklogs ORDER BY start_date LIMIT 25'),
  ('SELECT start_date FROM ord.worklogs WHERE start_date BETWEEN ''2024-03-01'' AND ''2024-03-31'' ORDER BY start_date DESC'),
  ('SELECT updated_at FROM ord.worklogs ORDER BY updated_at DESC LIMIT 40'),
  ('SELECT updated_at FROM ord.worklogs WHERE updated_at >= ''2024-12-01'' ORDER BY updated_at DESC NULLS LAST'),
  ('SELECT worklog_id FROM ord.worklogs ORDER BY worklog_id DESC LIMIT 7 OFFSET 5000'),
  ('SELECT worklog_id FROM ord.worklogs WHERE time_spent_seconds > 20000 ORDER BY worklog_id DESC LIMIT 7')
) v(q);
-- a whole scan in Tempo's order: no Sort, every row (pages read ahead)
EXPLAIN (COSTS OFF) SELECT worklog_id FROM ord.worklogs ORDER BY worklog_id DESC;
SELECT ord.same('SELECT worklog_id FROM ord.worklogs ORDER BY worklog_id DESC');

-- not pushed: orders Tempo does not give, two sort keys, several request
-- streams (authors, issues), and a server that may fall back to Jira
EXPLAIN (COSTS OFF) SELECT worklog_id FROM ord.worklogs ORDER BY updated_at LIMIT 10;
EXPLAIN (COSTS OFF) SELECT worklog_id FROM ord.worklogs ORDER BY start_date DESC, worklog_id LIMIT 10;
EXPLAIN (COSTS OFF) SELECT worklog_id FROM ord.worklogs ORDER BY start_date::text DESC LIMIT 10;
EXPLAIN (COSTS OFF) SELECT worklog_id FROM ord.worklogs WHERE issue_id IN (10000, 10005) ORDER BY start_date DESC LIMIT 10;
EXPLAIN (COSTS OFF) SELECT worklog_id FROM ord.worklogs WHERE author_account_id = 'x' ORDER BY start_date DESC LIMIT 10;
SELECT ord.same('SELECT start_date FROM ord.worklogs WHERE issue_id IN (10000, 10005) ORDER BY start_date DESC LIMIT 10');
ALTER SERVER ord_srv OPTIONS (ADD jira_url 'http://127.0.0.1:9', SET fallback 'jira');
EXPLAIN (COSTS OFF) SELECT worklog_id FROM ord.worklogs ORDER BY start_date DESC LIMIT 10;
ALTER SERVER ord_srv OPTIONS (DROP jira_url, SET fallback 'off');
SET tempo_fdw.enable_pushdown = off;
EXPLAIN (COSTS OFF) SELECT worklog_id FROM ord.worklogs ORDER BY start_date DESC LIMIT 10;
RESET tempo_fdw.enable_pushdown;

DROP SCHEMA ord CASCADE;
DROP SERVER ord_srv CASCADE;
