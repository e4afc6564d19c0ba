-- Pushdown at its edges: IN lists of dates and instants, keys the API does
-- not know, bounds outside the years 1-9999, many scans reading ahead at
-- once, and one policy for HTTP 500.  Every answer is compared with
-- pushdown off; the requests are read from the simulator's log.
-- (test/equivalence.py checks the same property over random queries.)
\ir sql/include/setup.sql
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set VERBOSITY default
\set turl :sim '/@tag=edge,ds=company/4'
\set jurl :sim '/@tag=edge,ds=company'
CREATE SERVER edge_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'turl', jira_url :'jurl', max_requests_per_second '0', fallback 'off');
CREATE USER MAPPING FOR PUBLIC SERVER edge_srv
  OPTIONS (token 'tempo-test-token', jira_email 'bot@example.com', jira_token 'jira-test-token');
CREATE SCHEMA edge;
IMPORT FOREIGN SCHEMA tempo FROM SERVER edge_srv INTO edge;

\set helpers edge
\ir sql/include/same.sql
-- the requests a query made with pushdown on, from the simulator's log
CREATE FUNCTION edge.requests(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  tag text := 'e' || md5(q);
  sim text := current_setting('edge.sim');
BEGIN
  EXECUTE format('ALTER SERVER edge_srv OPTIONS (SET tempo_url %L, SET jira_url %L)',
                 sim || '/@tag=' || tag || ',ds=company/4', sim || '/@tag=' || tag || ',ds=company');
  EXECUTE q;
  EXECUTE format('ALTER SERVER edge_srv OPTIONS (SET tempo_url %L, SET jira_url %L)',
                 sim || '/@tag=edge,ds=company/4', sim || '/@tag=edge,ds=company');
  RETURN QUERY SELECT e ->> 'method' || ' ' || (e ->> 'path') || coalesce('?' || nullif(e ->> 'query', ''), '')
                 FROM jsonb_array_elements(edge.sim_log(tag)) e;
END $$;
CREATE FUNCTION edge.sim_log(tag text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  log text;
BEGIN
  TRUNCATE edge_log;
  EXECUTE format('COPY edge_log FROM PROGRAM %L WITH (FORMAT csv, QUOTE %L, DELIMITER %L)',
                 'curl -s "' || current_setting('edge.sim') || '/_log?tag=' || tag || '"', E'\x01', E'\x02');
  SELECT string_agg(j, E'\n') INTO log FROM edge_log;
  RETURN log::jsonb;
END $$;
CREATE TEMP TABLE edge_log (j text);
SELECT set_config('edge.sim', :'sim', false) IS NOT NULL AS sim_set;

-- 1. start_date IN (...) / = ANY with several dates: the range from the
-- least to the greatest, and the list still checked locally
SELECT edge.same($$SELECT worklog_id FROM edge.worklogs WHERE start_date IN ('2024-03-01', '2024-03-05')$$);
SELECT count(*) FROM edge.worklogs WHERE start_date IN ('2024-03-01', '2024-03-05');
SELECT count(*) FROM edge.worklogs WHERE start_date = '2024-03-01' OR start_date = '2024-03-05';
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM edge.worklogs WHERE start_date IN ('2024-03-05', '2024-03-01', NULL);
SELECT edge.requests($$SELECT count(*) FROM edge.worklogs WHERE start_date = ANY (ARRAY['2024-03-05', '2024-03-01']::date[])$$);
-- not exact: a LIMIT is not pushed into the page size
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM edge.worklogs WHERE start_date IN ('2024-03-01', '2024-03-05') LIMIT 3;
SELECT count(*) FROM (SELECT worklog_id FROM edge.worklogs WHERE start_date IN ('2024-03-01', '2024-03-05') LIMIT 40) s;
-- a generic plan: = ANY ($1)
PREPARE dates(date[]) AS SELECT count(*) FROM edge.worklogs WHERE start_date = ANY ($1);
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE dates('{2024-03-01,2024-03-05}');
EXECUTE dates('{2024-03-01,2024-03-05}');
RESET plan_cache_mode;
-- a correlated subquery: each outer day asks for [d, d + 1]
SELECT edge.same($$SELECT d, (SELECT count(*) FROM edge.worklogs w WHERE w.start_date IN (d, d + 1)) FROM (VALUES ('2024-03-01'::date), ('2024-03-08')) v(d)$$);
-- jira_worklogs and user_schedules likewise
SELECT edge.same($$SELECT worklog_id FROM edge.jira_worklogs WHERE issue_id = 10005 AND start_date IN ('2024-03-01', '2024-03-05')$$);
SELECT author_account_id AS a1 FROM edge.worklogs WHERE start_date = '2024-03-01' ORDER BY 1 LIMIT 1 \gset
SELECT date, required_seconds FROM edge.user_schedules
 WHERE account_id = :'a1' AND date IN ('2024-03-01', '2024-03-04') ORDER BY date;

-- 2. updated_at IN (...) / = ANY: the least value is the lower bound
SELECT updated_at AS u1 FROM edge.worklogs WHERE start_date = '2024-03-01' ORDER BY updated_at LIMIT 1 \gset
SELECT updated_at AS u2 FROM edge.worklogs WHERE start_date = '2024-03-05' ORDER BY updated_at DESC LIMIT 1 \gset
SELECT edge.same(format('SELECT worklog_id FROM edge.worklogs WHERE updated_at IN (%L, %L)', :'u1', :'u2'));
SELECT count(*) FROM edge.worklogs WHERE updated_at IN (:'u1', :'u2');
SELECT DISTINCT substring(r FROM 'updatedFrom=[^&]*') AS bound
  FROM edge.requests(format('SELECT count(*) FROM edge.worklogs WHERE updated_at = ANY (ARRAY[%L, %L]::timestamptz[])', :'u2', :'u1')) r;
SELECT :'u1' AS least_value;
SELECT edge.same(format('SELECT worklog_id FROM edge.jira_worklogs WHERE updated_at IN (%L::timestamptz + interval ''1 ms'', %L)', :'u1', :'u2'));

-- 3. a key the API does not know: no rows for that key, as without pushdown
-- (Tempo documents 404 "User cannot be found" for /worklogs/user/{accountId},
-- Jira 404 for an issue that does not exist or may not be seen)
SELECT edge.same(format('SELECT worklog_id FROM edge.worklogs WHERE author_account_id IN (%L, ''former-employee'') AND start_date < ''2024-02-01''', :'a1'));
SELECT edge.requests(format('SELECT count(*) FROM edge.worklogs WHERE author_account_id IN (''former-employee'', %L) AND start_date < ''2024-02-01''', :'a1'));
SELECT count(*) FROM edge.worklogs WHERE author_account_id = 'former-employee';
SELECT edge.same('SELECT worklog_id FROM edge.jira_worklogs WHERE issue_id IN (10001, 99999)');
SELECT edge.requests('SELECT count(*) FROM edge.jira_worklogs WHERE issue_id IN (99999, 10001)');
-- account ids go into paths with their ':' as it is (RFC 3986 allows it in a
-- segment), for servers that do not decode %3A; the simulator takes both
SELECT edge.requests($$SELECT count(*) FROM edge.worklogs WHERE author_account_id = '712020:0b0b/ x' AND start_date = '2024-03-01'$$);
\! curl -s -o /dev/null -w '%{http_code}\n' -H 'Authorization: Bearer tempo-test-token' "$TEMPO_SIM_URL/@tag=edge_colon,ds=fixture:equiv/4/worklogs/user/712020:11111111-2222-4333-8444-555555555555?limit=1"
\! curl -s -o /dev/null -w '%{http_code}\n' -H 'Authorization: Bearer tempo-test-token' "$TEMPO_SIM_URL/@tag=edge_colon,ds=fixture:equiv/4/worklogs/user/712020%3A11111111-2222-4333-8444-555555555555?limit=1"
-- ids no issue or person can have are not sent
SELECT edge.requests('SELECT count(*) FROM edge.worklogs WHERE issue_id IN (-1, 0, 10001)');
SELECT edge.requests($$SELECT count(*) FROM edge.worklogs WHERE author_account_id = ''$$);
-- other 404s stay errors: a wrong path (HTML), and user_schedules, whose 404 the API does not document
\set bad :sim '/@tag=edge_404,ds=company,fault=404/4'
ALTER SERVER edge_srv OPTIONS (SET tempo_url :'bad');
SELECT count(*) FROM edge.worklogs WHERE start_date = '2024-03-01';
ALTER SERVER edge_srv OPTIONS (SET tempo_url :'turl');
SELECT count(*) FROM edge.user_schedules WHERE account_id = 'former-employee' AND date = '2024-03-01';

-- 6. bounds outside the years 1-9999: dropped, or no request at all
SELECT edge.requests($$SELECT count(*) FROM edge.worklogs WHERE start_date > '0044-03-15 BC' AND start_date < '2024-01-03'$$);
SELECT edge.requests($$SELECT count(*) FROM edge.worklogs WHERE start_date >= '10000-01-01'$$);
SELECT edge.requests($$SELECT count(*) FROM edge.worklogs WHERE start_date <= '9999-12-31' AND start_date >= '2024-12-30'$$);
SELECT edge.requests($$SELECT count(*) FROM edge.worklogs WHERE updated_at > '0001-01-01 BC' AND start_date = '2024-12-30'$$);
SELECT edge.requests($$SELECT count(*) FROM edge.worklogs WHERE updated_at >= '10000-01-01 00:00Z'$$);
SELECT edge.same($$SELECT worklog_id FROM edge.worklogs WHERE start_date > '0044-03-15 BC' AND start_date < '2024-01-03'$$);
SELECT edge.same($$SELECT worklog_id FROM edge.jira_worklogs WHERE updated_at > '0001-01-01 BC' AND issue_id = 10001$$);
SELECT edge.same($$SELECT worklog_id FROM edge.worklog_deletions WHERE deleted_at > '2000-01-01'$$);

-- 4. many scans reading ahead at once: more transfers than a connection's
-- 64 slots (17 LIMIT 1 subqueries of 4 pages ahead each; a nested loop of
-- two foreign scans with max_concurrency 40)
\set gen :sim '/@tag=edge_gen,ds=gen,n=3000/4'
ALTER SERVER edge_srv OPTIONS (SET tempo_url :'gen');
SELECT count(*) FROM (
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a1 UNION ALL
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a2 UNION ALL
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a3 UNION ALL
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a4 UNION ALL
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a5 UNION ALL
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a6 UNION ALL
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a7 UNION ALL
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a8 UNION ALL
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a9 UNION ALL
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a10 UNION ALL
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a11 UNION ALL
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a12 UNION ALL
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a13 UNION ALL
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a14 UNION ALL
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a15 UNION ALL
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a16 UNION ALL
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a17 UNION ALL
  SELECT * FROM (SELECT worklog_id FROM edge.worklogs LIMIT 1) a18) s;
ALTER SERVER edge_srv OPTIONS (ADD max_concurrency '40', ADD page_size '100');
CREATE TEMP TABLE gen AS SELECT worklog_id, time_spent_seconds FROM edge.worklogs;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM (SELECT * FROM edge.worklogs WHERE worklog_id % 1000 = 7) b
  JOIN edge.worklogs a ON a.time_spent_seconds = b.time_spent_seconds;
SELECT count(*) AS pairs FROM (SELECT * FROM edge.worklogs WHERE worklog_id % 1000 = 7) b
  JOIN edge.worklogs a ON a.time_spent_seconds = b.time_spent_seconds;
SELECT count(*) AS expected FROM (SELECT * FROM gen WHERE worklog_id % 1000 = 7) b
  JOIN gen a ON a.time_spent_seconds = b.time_spent_seconds;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;
ALTER SERVER edge_srv OPTIONS (DROP max_concurrency, DROP page_size, SET tempo_url :'turl');

-- 5. HTTP 500 is retried like 502/503/504, at the first page and later ones,
-- one request at a time or reading ahead; never a silent switch to Jira
ALTER SERVER edge_srv OPTIONS (SET fallback 'jira', ADD max_retries '2');
\set t500 :sim '/@tag=edge500a,ds=company,fault=500,fault_at=0,fault_times=1/4'
ALTER SERVER edge_srv OPTIONS (SET tempo_url :'t500');
SELECT count(*), count(*) FILTER (WHERE source = 'tempo') AS from_tempo FROM edge.worklogs WHERE start_date < '2024-02-01';
SELECT status, count(*) FROM jsonb_to_recordset(edge.sim_log('edge500a')) AS e(status int) GROUP BY 1 ORDER BY 1;
\set t500 :sim '/@tag=edge500b,ds=gen,n=3000,fault=500,fault_at=2,fault_times=1/4'
ALTER SERVER edge_srv OPTIONS (SET tempo_url :'t500', ADD page_size '1000', ADD max_concurrency '1');
SELECT count(*) FROM edge.worklogs;
ALTER SERVER edge_srv OPTIONS (SET max_concurrency '4');
\set t500 :sim '/@tag=edge500c,ds=gen,n=3000,fault=500,fault_at=2,fault_times=1/4'
ALTER SERVER edge_srv OPTIONS (SET tempo_url :'t500');
SELECT count(*) FROM edge.worklogs;
-- 7. the hint counts what was sent: 3 times (max_retries 2), read ahead or not
\set t500 :sim '/@tag=edge500d,ds=gen,n=3000,fault=500,fault_at=2/4'
ALTER SERVER edge_srv OPTIONS (SET tempo_url :'t500', SET max_concurrency '1');
SELECT count(*) FROM edge.worklogs;
SELECT count(*) AS requests_for_page_2 FROM jsonb_to_recordset(edge.sim_log('edge500d')) AS e(query text) WHERE query LIKE '%offset=2000%';
ALTER SERVER edge_srv OPTIONS (SET max_concurrency '4');
\set t500 :sim '/@tag=edge500e,ds=gen,n=3000,fault=500,fault_at=2/4'
ALTER SERVER edge_srv OPTIONS (SET tempo_url :'t500');
SELECT count(*) FROM edge.worklogs;
SELECT count(*) AS requests_for_page_2 FROM jsonb_to_recordset(edge.sim_log('edge500e')) AS e(query text) WHERE query LIKE '%offset=2000%';
ALTER SERVER edge_srv OPTIONS (SET max_retries '0', SET max_concurrency '1');
\set t500 :sim '/@tag=edge500f,ds=gen,n=3000,fault=500,fault_at=1/4'
ALTER SERVER edge_srv OPTIONS (SET tempo_url :'t500');
SELECT count(*) FROM edge.worklogs;

DROP SCHEMA edge CASCADE;
DROP SERVER edge_srv CASCADE;
