-- The jira_worklogs table: Jira Cloud REST v3 with Basic auth; without an
-- issue filter worklog/updated (paged) then worklog/list (batches of up to
-- 1000 ids); with one, the per-issue endpoint.  ADF comments as text, and
-- the offset of "started" kept for the local date.
\ir sql/include/setup.sql
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set jurl :sim '/@tag=jira'
CREATE SERVER jira_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (jira_url :'jurl', max_requests_per_second '0');
CREATE USER MAPPING FOR PUBLIC SERVER jira_srv
  OPTIONS (jira_email 'bot@example.com', jira_token 'jira-test-token');
CREATE SCHEMA jira;
IMPORT FOREIGN SCHEMA tempo LIMIT TO (jira_worklogs) FROM SERVER jira_srv INTO jira;

-- the whole company: every Tempo worklog has a twin authored by the Tempo
-- app user, plus worklogs made in Jira by people
\! curl -s "$TEMPO_SIM_URL/_reset?tag=jira" >/dev/null
\set stats `curl -s "$TEMPO_SIM_URL/_stats?ds=company"`
CREATE TEMP TABLE jw AS SELECT * FROM jira.jira_worklogs;
SELECT count(*) AS worklogs, count(DISTINCT worklog_id) AS distinct_ids,
       count(*) FILTER (WHERE author_is_app) AS by_app,
       count(*) FILTER (WHERE NOT author_is_app) AS by_people,
       sum(time_spent_seconds) FILTER (WHERE author_is_app) AS app_seconds
  FROM jw;
SELECT (:'stats'::jsonb ->> 'count')::bigint AS tempo_worklogs,
       (:'stats'::jsonb ->> 'sum_time_spent')::bigint AS tempo_seconds;
SELECT DISTINCT author_account_id, author_display_name FROM jw WHERE author_is_app;
-- the requests: worklog/updated pages of 1000 ids, then worklog/list batches
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=jira"`
SELECT e ->> 'method' AS method, e ->> 'path' AS path, count(*) AS requests,
       bool_and(e ->> 'auth' = 'Basic ' || encode('bot@example.com:jira-test-token', 'base64')) AS basic_auth,
       max(jsonb_array_length((e ->> 'body')::jsonb -> 'ids')) AS max_ids_per_list
  FROM jsonb_array_elements(:'log'::jsonb) e GROUP BY 1, 2 ORDER BY 1 DESC, 2;
SELECT e ->> 'query' AS first_updated_query FROM jsonb_array_elements(:'log'::jsonb) e LIMIT 1;

-- small pages of ids: the walk follows nextPage until lastPage
\set jurl :sim '/@tag=jira_small,ds=tiny,jira_page=2'
ALTER SERVER jira_srv OPTIONS (SET jira_url :'jurl');
SELECT worklog_id, issue_id, author_account_id, author_is_app, comment, start_date, started_at,
       time_spent_seconds, created_at, updated_at
  FROM jira.jira_worklogs ORDER BY worklog_id;
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=jira_small"`
SELECT e ->> 'method' AS method, e ->> 'path' AS path, e ->> 'query' AS query
  FROM jsonb_array_elements(:'log'::jsonb) e;

-- a bulk import: runs of 7 worklogs share one update millisecond and pages of
-- 50 ids cut through them; the pages overlap by a millisecond, so that every
-- worklog comes once whether the server reads "since" as "after which" (the
-- OpenAPI's words) or as "from which"
\! curl -s "$TEMPO_SIM_URL/_reset?ds=fixture:equiv" >/dev/null
\set stats `curl -s "$TEMPO_SIM_URL/_stats?ds=fixture:equiv"`
CREATE FUNCTION jira.read_all(scenario text) RETURNS TABLE (worklogs bigint, distinct_ids bigint)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER SERVER jira_srv OPTIONS (SET jira_url %L)', current_setting('jira.sim') || '/@' || scenario);
  RETURN QUERY SELECT count(*), count(DISTINCT worklog_id) FROM jira.jira_worklogs;
END $$;
SELECT set_config('jira.sim', :'sim', false) IS NOT NULL AS sim_set;
SELECT (:'stats'::jsonb ->> 'count')::bigint AS tempo_worklogs;
SELECT s, (jira.read_all('tag=jira_ties' || k || ',ds=fixture:equiv,jira_page=50,' || s)).*
  FROM unnest(ARRAY['jira_ties=1', 'jira_ties=7', 'jira_ties=7,jira_since=from', 'jira_ties=25',
                    'jira_ties=49,jira_since=from']) WITH ORDINALITY u(s, k);
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=jira_ties2"`
SELECT e ->> 'query' AS query, jsonb_array_length((e ->> 'body')::jsonb -> 'ids') AS ids
  FROM jsonb_array_elements(:'log'::jsonb) e LIMIT 5;
-- more worklogs in one millisecond than fit a page: an error, not a short answer
SELECT * FROM jira.read_all('tag=jira_ties_long,ds=fixture:equiv,jira_page=50,jira_ties=51');
\set jurl :sim '/@tag=jira_small,ds=tiny,jira_page=2'
ALTER SERVER jira_srv OPTIONS (SET jira_url :'jurl');

-- an issue filter uses the per-issue endpoint, start_date a window a day wider
\set jurl :sim '/@tag=jira_issue'
ALTER SERVER jira_srv OPTIONS (SET jira_url :'jurl');
EXPLAIN (VERBOSE, COSTS OFF)
  SELECT worklog_id FROM jira.jira_worklogs WHERE issue_id = 10000 AND start_date BETWEEN '2024-03-01' AND '2024-03-31';
SELECT count(*), sum(time_spent_seconds) FROM jira.jira_worklogs
  WHERE issue_id = 10000 AND start_date BETWEEN '2024-03-01' AND '2024-03-31';
SELECT count(*), sum(time_spent_seconds) FROM jw
  WHERE issue_id = 10000 AND start_date BETWEEN '2024-03-01' AND '2024-03-31';
SELECT count(*), sum(time_spent_seconds) FROM jira.jira_worklogs WHERE issue_id IN (10000, 10005);
SELECT count(*), sum(time_spent_seconds) FROM jw WHERE issue_id IN (10000, 10005);
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=jira_issue"`
SELECT e ->> 'path' AS path, e ->> 'query' AS query FROM jsonb_array_elements(:'log'::jsonb) e;
-- an issue Jira does not know (404, documented as "not found or not visible"):
-- no rows, as a scan without pushdown finds (sql/pushdown_edges.sql has more)
SELECT count(*) FROM jira.jira_worklogs WHERE issue_id = 99999;

-- updated_at >= becomes since (epoch milliseconds, exclusive, so minus one)
EXPLAIN (VERBOSE, COSTS OFF) SELECT worklog_id FROM jira.jira_worklogs WHERE updated_at >= '2024-12-30 00:00:00Z';
SELECT count(*) FROM jira.jira_worklogs WHERE updated_at >= '2024-12-30 00:00:00Z';
SELECT count(*) FROM jw WHERE updated_at >= '2024-12-30 00:00:00Z';

-- comments: Atlassian Document Format flattened (mentions, lists, hard breaks, code)
SELECT DISTINCT ON (node_types) node_types, comment
  FROM (SELECT comment, (SELECT string_agg(DISTINCT v #>> '{}', ',')
                           FROM jsonb_path_query(raw -> 'comment', 'strict $.**.type') v) AS node_types
          FROM jw) c
  ORDER BY node_types, comment;

-- started keeps its offset: started_at is the instant, start_date the local
-- date, also just after and before midnight and on the day clocks change
\set jurl :sim '/@tag=jira_boundary,ds=fixture:boundary'
ALTER SERVER jira_srv OPTIONS (SET jira_url :'jurl');
SELECT worklog_id, raw ->> 'started' AS started, started_at, start_date, comment
  FROM jira.jira_worklogs ORDER BY worklog_id;
-- and the per-issue window still finds them at the edges of the range
SELECT worklog_id, start_date FROM jira.jira_worklogs
  WHERE issue_id = 10001 AND start_date BETWEEN '2024-03-31' AND '2024-07-01' ORDER BY worklog_id;

-- without jira_url the table says so
ALTER SERVER jira_srv OPTIONS (DROP jira_url);
SELECT count(*) FROM jira.jira_worklogs;  -- ERROR
-- wrong credentials
ALTER SERVER jira_srv OPTIONS (ADD jira_url :'jurl');
ALTER USER MAPPING FOR PUBLIC SERVER jira_srv OPTIONS (SET jira_token 'wrong');
SELECT count(*) FROM jira.jira_worklogs;  -- ERROR

DROP SCHEMA jira CASCADE;
DROP SERVER jira_srv CASCADE;
