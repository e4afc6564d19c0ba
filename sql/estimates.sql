-- Row estimates: what the planner expects a foreign table to return, by
-- default, after scans it learned from, and after ANALYZE.  The actual
-- counts are read with pushdown off, PostgreSQL filtering every row.
\ir sql/include/setup.sql
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set turl :sim '/@tag=est,ds=company/4'
CREATE SERVER est_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'turl', max_requests_per_second '0');
CREATE USER MAPPING FOR PUBLIC SERVER est_srv OPTIONS (token 'tempo-test-token');
CREATE SCHEMA est;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (worklogs, user_schedules) FROM SERVER est_srv INTO est;
-- the planner's rows for the top node of a query
CREATE FUNCTION est.planned(q text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
  RETURN (j -> 0 -> 'Plan' ->> 'Plan Rows')::numeric;
END $$;
-- the rows a query returns, PostgreSQL filtering them all
CREATE FUNCTION est.actual(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  SET LOCAL tempo_fdw.enable_pushdown = off;
  EXECUTE 'SELECT count(*) FROM (' || q || ') q' INTO n;
  RETURN n;
END $$;
\set dec 'SELECT * FROM est.worklogs WHERE start_date BETWEEN ''2024-12-01'' AND ''2024-12-31'''
\set nov 'SELECT * FROM est.worklogs WHERE start_date >= ''2024-11-01'' AND start_date < ''2024-12-01'''

-- 1. nothing known: a company-year of 100,000 worklogs, spread evenly
SELECT est.planned(:'dec') AS december_default, round(31 * 100000 / 365.0) AS expected;
SELECT est.planned('SELECT * FROM est.worklogs') AS whole_default;

-- 2. a whole scan of November (pushed) teaches rows per day: December is
--    estimated at 31 days of November's rate, within a factor 2 of its count
SELECT count(*) AS november FROM (:nov) q \gset
SELECT est.planned(:'dec') = round(31 * :november / 30.0) AS december_from_november_rate;
SELECT est.actual(:'dec') AS december \gset
SELECT est.planned(:'dec') BETWEEN :december / 2.0 AND :december * 2.0 AS within_factor_2;

-- 3. scans that do not read all the API holds for a range teach nothing:
--    a LIMIT, a condition on the author, a cursor closed early
SELECT count(*) FROM (SELECT * FROM est.worklogs WHERE start_date >= '2024-01-01' AND start_date < '2024-02-01' LIMIT 5) q;
SELECT count(*) FROM est.worklogs WHERE start_date >= '2024-01-01' AND start_date < '2024-02-01'
  AND author_account_id = 'nobody';
BEGIN;
DECLARE c CURSOR FOR SELECT * FROM est.worklogs WHERE start_date >= '2024-02-01' AND start_date < '2024-03-01';
FETCH 1 FROM c \g /dev/null
CLOSE c;
COMMIT;
SELECT est.planned(:'dec') = round(31 * :november / 30.0) AS december_still_from_november;

-- 4. a whole scan of the table teaches its rows (the pushdown-off count above was one)
SELECT est.actual('SELECT * FROM est.worklogs') AS total \gset
SELECT est.planned('SELECT * FROM est.worklogs') = :total AS whole_table_learned;

-- 5. ANALYZE reads every page, sets reltuples and the columns' statistics;
--    the planner then estimates from them
SELECT reltuples AS before_analyze FROM pg_class WHERE oid = 'est.worklogs'::regclass;
ANALYZE est.worklogs;
SELECT reltuples = :total AS reltuples_is_the_count FROM pg_class WHERE oid = 'est.worklogs'::regclass;
SELECT count(*) AS columns_with_statistics FROM pg_stats
 WHERE schemaname = 'est' AND tablename = 'worklogs' AND attname IN ('start_date', 'issue_id', 'author_account_id');
SELECT est.planned(:'dec') BETWEEN :december / 2.0 AND :december * 2.0 AS december_within_factor_2;
SELECT est.planned(:'nov') BETWEEN :november / 2.0 AND :november * 2.0 AS november_within_factor_2;
-- a resource that cannot be read without conditions is skipped
ANALYZE est.user_schedules;

-- 6. a join of a 10-row local table with worklogs on issue_id asks Tempo
--    for those issues only: a parameterised scan inside a nested loop
CREATE TABLE est.issues AS
  SELECT DISTINCT issue_id AS id FROM est.worklogs WHERE start_date >= '2024-11-01' ORDER BY 1 LIMIT 10;
ANALYZE est.issues;
EXPLAIN (VERBOSE, COSTS OFF) SELECT i.id, w.worklog_id FROM est.issues i JOIN est.worklogs w ON w.issue_id = i.id;
-- and sends one request per issue: 10, each with its issueId, for all the rows
SELECT est.actual('SELECT * FROM est.worklogs WHERE issue_id IN (SELECT id FROM est.issues)') AS joined \gset
\! curl -s "$TEMPO_SIM_URL/_reset" >/dev/null
SELECT count(*) = :joined AS all_rows FROM est.issues i JOIN est.worklogs w ON w.issue_id = i.id;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=est"`
SELECT count(*) AS requests, count(DISTINCT substring(e ->> 'query' from 'issueId=([0-9]+)')) AS issues,
       count(*) FILTER (WHERE e ->> 'query' ~ '^issueId=[0-9]+&limit=5000$') AS only_issue_id
  FROM json_array_elements(:'log'::json) e;

DROP SCHEMA est CASCADE;
DROP SERVER est_srv CASCADE;
