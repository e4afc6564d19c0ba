-- The Tempo-to-Jira fallback: never silent.  When Tempo cannot serve a
-- worklogs scan (no token, 401, 403, no connection, 5xx after retries) and
-- fallback is jira, one WARNING names the cause and the consequence, and the
-- rows come from Jira with source = 'jira'.  With fallback 'off' the same
-- cause is an ERROR, and so with the GUC tempo_fdw.fallback off (a role's
-- setting, for BI tools); the WARNING's SQLSTATE is 01T01 and the last
-- fallback of each server is in tempo_fdw.last_fallback; bad requests never
-- fall back; both down names both.
\ir sql/include/setup.sql
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set VERBOSITY default
CREATE SERVER fb_srv FOREIGN DATA WRAPPER tempo_fdw OPTIONS (max_requests_per_second '0', max_concurrency '1', max_retries '1');
CREATE USER MAPPING FOR PUBLIC SERVER fb_srv
  OPTIONS (token 'tempo-test-token', jira_email 'bot@example.com', jira_token 'jira-test-token');
CREATE SCHEMA fb;
\set helpers fb
\ir sql/include/plan.sql
IMPORT FOREIGN SCHEMA tempo FROM SERVER fb_srv INTO fb;
\set helpers fb
\ir sql/include/outcome.sql

-- Tempo answers 401, Jira is fine
\set t :sim '/@tag=fb401,fault=401,src=tempo/4'
\set j :sim '/@tag=fb401'
ALTER SERVER fb_srv OPTIONS (ADD tempo_url :'t', ADD jira_url :'j');
SELECT source, count(*), sum(time_spent_seconds), count(billable_seconds) AS with_billable,
       count(attributes) AS with_attributes, count(DISTINCT author_account_id) AS authors
  FROM fb.worklogs WHERE start_date BETWEEN '2024-03-01' AND '2024-03-31' GROUP BY source;
-- the same rows as the Jira table
SELECT count(*), sum(time_spent_seconds) FROM fb.jira_worklogs
  WHERE start_date BETWEEN '2024-03-01' AND '2024-03-31';
-- columns of a fallback row
SELECT worklog_id, source, issue_id, author_account_id, start_date, start_time, started_at,
       time_spent_seconds, billable_seconds, description, attributes
  FROM fb.worklogs WHERE issue_id = 10000 AND start_date = '2024-03-01' ORDER BY worklog_id;
-- the fallback goes through the same pushdown: the per-issue Jira endpoint
\set log `curl -s "$TEMPO_SIM_URL/_log?tag=fb401"`
SELECT e ->> 'method' AS method, e ->> 'path' AS path, e ->> 'query' AS query, e ->> 'status' AS status
  FROM jsonb_array_elements(:'log'::jsonb) e WHERE e ->> 'path' LIKE '%/issue/%' OR e ->> 'path' LIKE '/4/%';
SELECT fb.plan('EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF)
  SELECT count(*) FROM fb.worklogs WHERE issue_id = 10000 AND start_date = ''2024-03-01''') AS "QUERY PLAN";

-- 503 after retries
\set t :sim '/@tag=fb503,fault=503,src=tempo/4'
ALTER SERVER fb_srv OPTIONS (SET tempo_url :'t');
SELECT source, count(*) FROM fb.worklogs WHERE issue_id = 10000 GROUP BY source;
-- 403
\set t :sim '/@tag=fb403,fault=403,src=tempo/4'
ALTER SERVER fb_srv OPTIONS (SET tempo_url :'t');
SELECT source, count(*) FROM fb.worklogs WHERE issue_id = 10000 GROUP BY source;
-- nothing listens at the Tempo URL
ALTER SERVER fb_srv OPTIONS (SET tempo_url 'http://127.0.0.1:1/4');
SELECT source, count(*) FROM fb.worklogs WHERE issue_id = 10000 GROUP BY source;
-- no Tempo token at all, but Jira credentials
\set t :sim '/@tag=fbok/4'
ALTER SERVER fb_srv OPTIONS (SET tempo_url :'t');
ALTER USER MAPPING FOR PUBLIC SERVER fb_srv OPTIONS (DROP token);
SELECT source, count(*) FROM fb.worklogs WHERE issue_id = 10000 GROUP BY source;
ALTER USER MAPPING FOR PUBLIC SERVER fb_srv OPTIONS (ADD token 'tempo-test-token');
-- Tempo is fine: Tempo rows, no warning
SELECT source, count(*) FROM fb.worklogs WHERE issue_id = 10000 GROUP BY source;

-- one WARNING per scan, also when a nested loop scans again for each key
CREATE TABLE fb.issues (id bigint);
INSERT INTO fb.issues VALUES (10000), (10005);
ANALYZE fb.issues;
\set t :sim '/@tag=fbloop,fault=401,src=tempo/4'
ALTER SERVER fb_srv OPTIONS (SET tempo_url :'t');
SELECT i.id, w.source, count(*) FROM fb.issues i JOIN fb.worklogs w ON w.issue_id = i.id GROUP BY 1, 2 ORDER BY 1;

-- a bad request is our fault or the user's: an ERROR, never a fallback
SELECT f AS fault, fb.outcome(format('ALTER SERVER fb_srv OPTIONS (SET tempo_url %L)', :'sim' || '/@fault=' || f || ',src=tempo/4')) AS alter,
       fb.outcome('SELECT count(*) FROM fb.worklogs WHERE issue_id = 10000') AS outcome
  FROM unnest(ARRAY['400', '404', '429', 'badjson', 'wrongshape']) f;
-- a failure after rows were returned is an ERROR too: sources are never mixed
\set t :sim '/@tag=fbmid,ds=gen,n=3000,fault=503,fault_at=1,src=tempo/4'
ALTER SERVER fb_srv OPTIONS (SET tempo_url :'t', ADD page_size '1000');
SELECT count(*) FROM fb.worklogs;
ALTER SERVER fb_srv OPTIONS (DROP page_size);

-- fallback 'off': the same causes are errors with their SQLSTATE
ALTER SERVER fb_srv OPTIONS (ADD fallback 'off');
SELECT f AS fault, fb.outcome(format('ALTER SERVER fb_srv OPTIONS (SET tempo_url %L)', :'sim' || '/@fault=' || f || ',src=tempo/4')) AS alter,
       fb.outcome('SELECT count(*) FROM fb.worklogs WHERE issue_id = 10000') AS outcome
  FROM unnest(ARRAY['401', '403', '503', 'reset']) f;
ALTER SERVER fb_srv OPTIONS (DROP fallback);

-- the GUC tempo_fdw.fallback off: the same causes are errors, as with the
-- server option fallback 'off' (and no new fallback is recorded)
SET tempo_fdw.fallback = off;
SELECT f AS fault, fb.outcome(format('ALTER SERVER fb_srv OPTIONS (SET tempo_url %L)', :'sim' || '/@fault=' || f || ',src=tempo/4')) AS alter,
       fb.outcome('SELECT count(*) FROM fb.worklogs WHERE issue_id = 10000') AS outcome
  FROM unnest(ARRAY['401', '403', '503', 'reset']) f;
RESET tempo_fdw.fallback;
-- the fallback WARNING has a SQLSTATE of its own, 01T01
\set t :sim '/@tag=fbcode,fault=401,src=tempo/4'
ALTER SERVER fb_srv OPTIONS (SET tempo_url :'t');
\set VERBOSITY sqlstate
SELECT source, count(*) FROM fb.worklogs WHERE issue_id = 10005 GROUP BY source;
\set VERBOSITY default
-- the last fallback of each server, in SQL: this one (the session's record
-- is the cluster's: tempo_fdw is preloaded in the tests)
SELECT server_name, table_name, reason, rows, shared, fell_back_at > now() - interval '1 minute' AS recent
  FROM tempo_fdw.last_fallback WHERE server_name = 'fb_srv';
-- a second server keeps a record of its own; a failed scan (GUC off) adds none
CREATE SERVER fb_srv2 FOREIGN DATA WRAPPER tempo_fdw OPTIONS (max_requests_per_second '0', max_retries '0');
CREATE USER MAPPING FOR PUBLIC SERVER fb_srv2
  OPTIONS (token 'tempo-test-token', jira_email 'bot@example.com', jira_token 'jira-test-token');
\set t :sim '/@tag=fbcode2,fault=503,src=tempo/4'
ALTER SERVER fb_srv2 OPTIONS (ADD tempo_url :'t', ADD jira_url :'j');
CREATE FOREIGN TABLE fb.worklogs2 (worklog_id bigint, source text, issue_id bigint)
  SERVER fb_srv2 OPTIONS (resource 'worklogs');
SET tempo_fdw.fallback = off;
SELECT fb.outcome('SELECT count(*) FROM fb.worklogs2 WHERE issue_id = 10000');
RESET tempo_fdw.fallback;
SELECT count(*) FROM tempo_fdw.last_fallback WHERE server_name = 'fb_srv2';
\set VERBOSITY terse
SELECT source, count(*) FROM fb.worklogs2 WHERE issue_id = 10000 GROUP BY source;
\set VERBOSITY default
SELECT server_name, table_name, reason, rows FROM tempo_fdw.last_fallback
 WHERE server_name IN ('fb_srv', 'fb_srv2') ORDER BY 1;
-- a role whose settings turn the fallback off (as for a BI tool) gets the ERROR
CREATE ROLE regress_fb_bi LOGIN;
ALTER ROLE regress_fb_bi SET tempo_fdw.fallback = off;
GRANT USAGE ON SCHEMA fb TO regress_fb_bi;
GRANT SELECT ON fb.worklogs TO regress_fb_bi;
GRANT USAGE ON FOREIGN SERVER fb_srv TO regress_fb_bi;
\c - regress_fb_bi
SHOW tempo_fdw.fallback;
SELECT count(*) FROM fb.worklogs WHERE issue_id = 10000;
\c - postgres
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set VERBOSITY default
DROP FOREIGN TABLE fb.worklogs2;
DROP SERVER fb_srv2 CASCADE;
REVOKE ALL ON FOREIGN SERVER fb_srv FROM regress_fb_bi;
REVOKE ALL ON SCHEMA fb FROM regress_fb_bi;
REVOKE ALL ON fb.worklogs FROM regress_fb_bi;
DROP ROLE regress_fb_bi;

-- Tempo and Jira both down: the ERROR names both
\set t :sim '/@tag=fbboth,fault=503/4'
\set j :sim '/@tag=fbboth,fault=503'
ALTER SERVER fb_srv OPTIONS (SET tempo_url :'t', SET jira_url :'j');
SELECT count(*) FROM fb.worklogs WHERE issue_id = 10000;
\set j :sim '/@tag=fbboth,fault=401,src=jira'
ALTER SERVER fb_srv OPTIONS (SET jira_url :'j');
SELECT count(*) FROM fb.worklogs;

-- without Jira credentials the default is no fallback
ALTER USER MAPPING FOR PUBLIC SERVER fb_srv OPTIONS (DROP jira_token);
SELECT count(*) FROM fb.worklogs;

DROP SCHEMA fb CASCADE;
DROP SERVER fb_srv CASCADE;
