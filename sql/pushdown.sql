-- Pushdown: conditions become API filters (EXPLAIN VERBOSE shows the request,
-- the simulator's log shows what was sent), and no answer ever changes:
-- every query is compared with the same query with pushdown off.
\ir sql/include/setup.sql
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set turl :sim '/@tag=push,ds=company/4'
CREATE SERVER push_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'turl', max_requests_per_second '0', max_concurrency '1');
CREATE USER MAPPING FOR PUBLIC SERVER push_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA push;
\set helpers push
\ir sql/include/plan.sql
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs) FROM SERVER push_srv INTO push;
SELECT set_config('push.sim', :'sim', false) IS NOT NULL AS sim_set;

\ir sql/include/same.sql
-- the requests a query made, as the simulator logged them
CREATE FUNCTION push.requests_of(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('push.tag', 'p' || md5(q), false);
  EXECUTE format('ALTER SERVER push_srv OPTIONS (SET tempo_url %L)',
                 current_setting('push.sim') || '/@tag=' || current_setting('push.tag') || ',ds=company/4');
  EXECUTE q;
  EXECUTE format('ALTER SERVER push_srv OPTIONS (SET tempo_url %L)',
                 current_setting('push.sim') || '/@tag=push,ds=company/4');
END $$;

-- start_date: =, <, <=, >, >=, BETWEEN, combinations (the tighter bound wins),
-- strict bounds turned into the right inclusive day
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs WHERE start_date = '2024-03-11';
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs WHERE start_date < '2024-03-11';
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs WHERE start_date <= '2024-03-11';
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs WHERE start_date > '2024-03-11';
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs WHERE '2024-03-11' <= start_date;
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs WHERE start_date BETWEEN '2024-03-01' AND '2024-03-31';
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs
  WHERE start_date > '2024-02-01' AND start_date >= '2024-03-01' AND start_date < '2024-04-01' AND start_date <= '2024-05-01';
SELECT q, push.same(q) FROM (VALUES
  ('SELECT * FROM push.worklogs WHERE start_date = ''2024-03-11'''),
  ('SELECT * FROM push.worklogs WHERE start_date < ''2024-01-10'''),
  ('SELECT * FROM push.worklogs WHERE start_date <= ''2024-01-10'''),
  ('SELECT * FROM push.worklogs WHERE start_date > ''2024-12-20'''),
  ('SELECT * FROM push.worklogs WHERE start_date >= ''2024-12-20'''),
  ('SELECT * FROM push.worklogs WHERE start_date BETWEEN ''2024-03-01'' AND ''2024-03-31'''),
  ('SELECT * FROM push.worklogs WHERE start_date > ''2024-02-29'' AND start_date < ''2024-04-01'''),
  ('SELECT * FROM push.worklogs WHERE start_date > ''2024-02-01'' AND start_date >= ''2024-03-01'' AND start_date < ''2024-04-01'' AND start_date <= ''2024-05-01''')
) v(q);

-- a one-month query on a year of data fetches only that month: one page
SELECT push.requests_of('SELECT count(*) FROM push.worklogs WHERE start_date BETWEEN ''2024-03-01'' AND ''2024-03-31''');
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=p$(printf '%s' "SELECT count(*) FROM push.worklogs WHERE start_date BETWEEN '2024-03-01' AND '2024-03-31'" | md5sum | cut -c1-32)"`
SELECT e ->> 'path' AS path, e ->> 'query' AS query FROM jsonb_array_elements(:'log'::jsonb) e;

-- contradictory conditions: no request at all
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM push.worklogs WHERE start_date > '2024-03-31' AND start_date < '2024-03-01';
SELECT push.requests_of('SELECT count(*) FROM push.worklogs WHERE start_date > ''2024-03-31'' AND start_date < ''2024-03-01''');
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=p$(printf '%s' "SELECT count(*) FROM push.worklogs WHERE start_date > '2024-03-31' AND start_date < '2024-03-01'" | md5sum | cut -c1-32)"`
SELECT jsonb_array_length(:'log'::jsonb) AS requests;
SELECT count(*) FROM push.worklogs WHERE issue_id IN (NULL);
SELECT count(*) FROM push.worklogs WHERE start_date = NULL;

-- updated_at >= / > become updatedFrom, a UTC instant floored to the second
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs WHERE updated_at >= '2024-12-30 10:00:00.750+02';
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs WHERE updated_at > '2024-12-30 08:00:00Z';
SELECT q, push.same(q) FROM (VALUES
  ('SELECT * FROM push.worklogs WHERE updated_at >= ''2024-12-30 10:00:00.750+02'''),
  ('SELECT * FROM push.worklogs WHERE updated_at > ''2024-12-30 08:00:00Z''')
) v(q);

-- issue_id = x, IN (...), = ANY (array): repeated issueId
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs WHERE issue_id = 10000;
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs WHERE issue_id IN (10000, 10005, 10000);
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs WHERE issue_id = ANY (ARRAY[10005, 10010]);
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs WHERE issue_id IN (10000, 10005) AND issue_id = 10005;
SELECT q, push.same(q) FROM (VALUES
  ('SELECT * FROM push.worklogs WHERE issue_id = 10000'),
  ('SELECT * FROM push.worklogs WHERE issue_id IN (10000, 10005, 10000)'),
  ('SELECT * FROM push.worklogs WHERE issue_id = ANY (ARRAY[10005, 10010]) AND start_date >= ''2024-06-01''')
) v(q);

-- author_account_id = x: /worklogs/user/{accountId}, URL-encoded; IN: one stream per author
SELECT author_account_id AS a1 FROM push.worklogs GROUP BY 1 ORDER BY 1 LIMIT 1 \gset
SELECT author_account_id AS a2 FROM push.worklogs GROUP BY 1 ORDER BY 1 OFFSET 1 LIMIT 1 \gset
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs WHERE author_account_id = :'a1';
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs WHERE author_account_id = 'a/b c:d' AND start_date >= '2024-03-01';
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs WHERE author_account_id IN (:'a1', :'a2');
SELECT q, push.same(q) FROM (VALUES
  (format('SELECT * FROM push.worklogs WHERE author_account_id = %L', :'a1')),
  (format('SELECT * FROM push.worklogs WHERE author_account_id IN (%L, %L) AND start_date < ''2024-02-01''', :'a1', :'a2')),
  (format('SELECT * FROM push.worklogs WHERE author_account_id = %L AND issue_id = 10000', :'a2'))
) v(q);
SELECT push.plan(format('EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF)
  SELECT count(*) FROM push.worklogs WHERE author_account_id IN (%L, %L) AND start_date < %L', :'a1', :'a2', '2024-02-01')) AS "QUERY PLAN";

-- values from parameters (custom and generic plans) and from stable expressions
PREPARE q1(date, date) AS SELECT count(*), sum(time_spent_seconds) FROM push.worklogs WHERE start_date BETWEEN $1 AND $2;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE q1('2024-03-01', '2024-03-31');
SELECT push.plan('EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) EXECUTE q1(''2024-03-01'', ''2024-03-31'')') AS "QUERY PLAN";
EXECUTE q1('2024-03-01', '2024-03-31');
SET plan_cache_mode = force_custom_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE q1('2024-03-01', '2024-03-31');
EXECUTE q1('2024-03-01', '2024-03-31');
RESET plan_cache_mode;
SET tempo_fdw.enable_pushdown = off;
EXECUTE q1('2024-03-01', '2024-03-31');
RESET tempo_fdw.enable_pushdown;
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs WHERE start_date >= to_date('20241201', 'YYYYMMDD') - 7;
SELECT push.same('SELECT * FROM push.worklogs WHERE start_date >= to_date(''20241201'', ''YYYYMMDD'') - 7');

-- what is not understood stays a local filter only
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM push.worklogs
  WHERE time_spent_seconds > 3600 AND description LIKE 'Code%' AND start_date::text = '2024-03-11';
SELECT push.same('SELECT * FROM push.worklogs WHERE time_spent_seconds > 20000 AND description LIKE ''Code%''');

-- LIMIT: paging stops as soon as enough rows arrived; with every condition
-- pushed exactly and nothing in between, the page itself shrinks
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM push.worklogs LIMIT 10;
SELECT push.requests_of('SELECT * FROM push.worklogs LIMIT 10');
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=p$(printf '%s' "SELECT * FROM push.worklogs LIMIT 10" | md5sum | cut -c1-32)"`
SELECT e ->> 'query' AS query FROM jsonb_array_elements(:'log'::jsonb) e;
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM push.worklogs WHERE start_date >= '2024-06-01' LIMIT 10 OFFSET 5;
-- not with a local condition, a sort, or an aggregate between scan and LIMIT
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM push.worklogs WHERE time_spent_seconds > 3600 LIMIT 10;
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM push.worklogs ORDER BY worklog_id LIMIT 10;
SELECT push.same('SELECT worklog_id FROM push.worklogs WHERE time_spent_seconds > 20000 ORDER BY worklog_id LIMIT 7');
SELECT count(*) FROM (SELECT * FROM push.worklogs WHERE start_date >= '2024-06-01' LIMIT 10 OFFSET 5) s;

-- joins: a nested loop from a small table pushes the key into each request
CREATE TABLE push.issues (id bigint);
INSERT INTO push.issues VALUES (10000), (10005);
ANALYZE push.issues;
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT i.id, w.worklog_id FROM push.issues i JOIN push.worklogs w ON w.issue_id = i.id;
SELECT push.same('SELECT i.id, w.worklog_id, w.time_spent_seconds FROM push.issues i JOIN push.worklogs w ON w.issue_id = i.id');
SELECT push.plan('EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF)
  SELECT count(*) FROM push.issues i JOIN push.worklogs w ON w.issue_id = i.id') AS "QUERY PLAN";
CREATE TABLE push.people (account_id text);
INSERT INTO push.people VALUES (:'a1'), (:'a2');
ANALYZE push.people;
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT p.account_id, w.worklog_id FROM push.people p JOIN push.worklogs w ON w.author_account_id = p.account_id
  WHERE w.start_date BETWEEN '2024-03-01' AND '2024-03-31';
SELECT push.same('SELECT p.account_id, w.worklog_id FROM push.people p JOIN push.worklogs w ON w.author_account_id = p.account_id WHERE w.start_date BETWEEN ''2024-03-01'' AND ''2024-03-31''');

-- row estimates follow the pushed date range, at the rate whole scans above
-- returned (sql/estimates.sql shows how)
EXPLAIN SELECT * FROM push.worklogs WHERE start_date BETWEEN '2024-03-01' AND '2024-03-31';
EXPLAIN SELECT * FROM push.worklogs WHERE start_date = '2024-03-11';
EXPLAIN SELECT * FROM push.worklogs;

DROP SCHEMA push CASCADE;
DROP SERVER push_srv CASCADE;
